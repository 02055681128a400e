"""Chroma calls per question in server mode, counted on the wire.

``python -m bench.chroma_calls [--documents FOLDER --dataset FILE] [--questions N]`` starts
a real ``chroma run`` server on a loopback port (data in a temporary folder), ingests
FOLDER (default ``seeds/``, with the Calais questions) into it, then opens
a fresh :class:`~rag.service.Assistant` (as a new CLI process or app start would) and
counts the HTTP requests each ``Assistant.ask`` sends to the server: the first
question (which reads the manifest and loads the keyword index) and the following
ones (the steady state). The seed article has fewer chunks than the retriever's
candidates, so every keyword hit is also a dense hit there; the SQuAD dev articles
(``--documents eval/squad2/dev --dataset eval/squad2/dev.json``) are large enough for
keyword-only hits to reach the answer. It prints one JSON object with the counts and the endpoints
hit; the figures go into docs/BENCHMARKS.md by hand.

Requests are counted by wrapping ``httpx.Client.send``, the one call every chromadb
HTTP request goes through, so nothing in the store is patched. This script does
not time anything.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from rag.config import Settings
from rag.eval.dataset import load_dataset
from rag.service import Assistant

ROOT = Path(__file__).resolve().parent.parent
CHROMA = Path(sys.executable).with_name("chroma")
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f-]{27}")  # collection ids in request paths


@contextmanager
def chroma_server(data: Path) -> Iterator[str]:
    """A ``chroma run`` server on a free loopback port; yields its URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [str(CHROMA), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _wait_for(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the chroma server did not answer its heartbeat on {url}")


@contextmanager
def counted() -> Iterator[list[str]]:
    """Record ``METHOD /path`` of every HTTP request sent while inside."""
    calls: list[str] = []
    send = httpx.Client.send

    def counting(client: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        calls.append(f"{request.method} {_ID.sub('{id}', request.url.path)}")
        return send(client, request, **kwargs)

    httpx.Client.send = counting  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        httpx.Client.send = send  # type: ignore[method-assign]


def measure(url: str, store_dir: Path, folder: Path, questions: list[str]) -> dict[str, Any]:
    """Ingest *folder* into the server at *url*, then count requests per question."""
    settings = Settings(
        _env_file=None, store={"chroma_url": url, "store_dir": store_dir, "seeds_dir": folder}
    )
    report = Assistant(settings).ingest()
    assistant = Assistant(settings)  # a fresh process's view: nothing cached yet
    with counted() as first:
        assistant.ask(questions[0])
    steady: list[list[str]] = []
    for question in questions[1:]:
        with counted() as calls:
            assistant.ask(question)
        steady.append(calls)
    return {
        "documents": str(folder),
        "chunks": report.chunks,
        "first_question": {"calls": len(first), "endpoints": Counter(first)},
        "later_questions": {
            "questions": len(steady),
            "questions_by_calls": dict(sorted(Counter(map(len, steady)).items())),
            "endpoints": Counter(call for calls in steady for call in calls),
        },
    }


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=Path, default=Path("seeds"), help="folder ingested")
    parser.add_argument("--dataset", type=Path, default=ROOT / "eval" / "qa_calais.jsonl")
    parser.add_argument("--questions", type=int, default=20, help="questions asked (>= 2)")
    args = parser.parse_args(argv)
    rows = load_dataset(args.dataset)
    questions = [row.question for row in rows][: max(2, args.questions)]
    with tempfile.TemporaryDirectory() as tmp, chroma_server(Path(tmp) / "server") as url:
        result = measure(url, Path(tmp) / "vectorstore", args.documents, questions)
    result["machine"] = {"cpu": _cpu(), "python": platform.python_version()}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
