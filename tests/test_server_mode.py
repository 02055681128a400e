"""Server mode: the same behaviour against a real ``chroma run`` server on loopback.

Ingest is idempotent, answers carry checked citations, the lexical (BM25) side
works from the server's collection, and a server restarted on the same data path
has lost nothing. The local ``store_dir`` only holds the ingest lock and the
lexical index cache in this mode.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port, make_settings, stop_process

QUESTION = "How much has the UK pledged towards security?"
CHROMA = Path(sys.executable).with_name("chroma")


class ChromaServer:
    """A ``chroma run`` process on a loopback port, stoppable and restartable."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        cmd = [str(CHROMA), "run", "--path", str(self.data), "--host", "127.0.0.1"]
        cmd += ["--port", str(self.port)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"chroma server did not answer its heartbeat on {self.url}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc:
            stop_process(self.proc, timeout=30)
        self.proc = None


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[ChromaServer]:
    if not CHROMA.exists():
        pytest.skip("the chroma CLI is not installed next to this Python")
    server = ChromaServer(tmp_path / "server-data")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _assistant(tmp: Path, url: str, embeddings):
    from rag.service import Assistant

    return Assistant(make_settings(tmp, chroma_url=url), embeddings=embeddings)


def _check_answer(assistant) -> tuple[str, tuple]:
    answer = assistant.ask(QUESTION)
    assert not answer.refused
    assert "22 million" in answer.answer
    cite = answer.citations[0]
    assert assistant.document_text(cite.source)[cite.start : cite.end] == cite.quote
    assert "22 million" in cite.quote
    return answer.answer, (cite.source, cite.start, cite.end)


@pytest.mark.integration
def test_server_mode_ingests_answers_and_survives_a_restart(
    chroma_server: ChromaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embeddings
):
    monkeypatch.chdir(tmp_path)
    assistant = _assistant(tmp_path, chroma_server.url, embeddings)
    assert assistant.settings.chroma_url == chroma_server.url

    first = assistant.ingest()
    assert (first.documents, first.added) == (1, 1) and first.chunks > 5
    assert first.embedded == first.chunks
    # the data lives in the server's folder, not in the local store_dir
    assert (chroma_server.data / "chroma.sqlite3").exists()
    assert not (tmp_path / "vectorstore" / "chroma.sqlite3").exists()
    before = _check_answer(assistant)

    # hybrid: the BM25 side finds the exact name, from the server's collection
    hits = assistant.retriever.search("Frontex", 3)
    assert hits and hits[0].metadata["lexical_score"] is not None
    assert "Frontex" in hits[0].page_content

    again = assistant.ingest()
    assert (again.added, again.unchanged, again.embedded) == (0, 1, 0)
    assert assistant.store.count_chunks() == first.chunks

    chroma_server.stop()
    chroma_server.start()
    # a new client, as after an app restart; no local lexical cache: rebuilt from the server
    shutil.rmtree(tmp_path / "vectorstore" / "lexical", ignore_errors=True)
    reopened = _assistant(tmp_path, chroma_server.url, embeddings)
    assert reopened.store.count_chunks() == first.chunks
    assert [e.source for e in reopened.documents()] == [e.source for e in assistant.documents()]
    assert _check_answer(reopened) == before
    after = reopened.ingest()
    assert (after.added, after.embedded, after.chunks) == (0, 0, first.chunks)


@pytest.mark.integration
def test_server_mode_cli_end_to_end(chroma_server: ChromaServer, tmp_path: Path):
    """The CLI switches to the server with RAG_CHROMA_URL alone."""
    import json
    import os

    from tests.conftest import ROOT

    make_settings(tmp_path)  # copies the seed article into tmp_path/seeds
    env = {**os.environ, "RAG_CHROMA_URL": chroma_server.url, "HF_HUB_OFFLINE": "1"}
    env["PYTHONPATH"] = str(ROOT)

    def cli(*args: str) -> dict:
        out = subprocess.run(
            [sys.executable, "-m", "rag", *args, "--json"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    first = cli("ingest")
    assert first["added"] == 1
    assert cli("ingest")["embedded"] == 0
    answer = cli("ask", QUESTION)
    assert not answer["refused"] and "22 million" in answer["citations"][0]["quote"]
