"""A large-folder ingest killed part way resumes without redoing finished documents.

Runs the real CLI in a subprocess with the real model, kills it (SIGKILL) as soon
as it reports a finished group of documents, then ingests again and checks with
``ingest --json`` that exactly the unfinished documents are embedded.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ARTICLE, ROOT, make_settings, run_module

DOCS = 12


def _make_folder(folder: Path) -> None:
    """DOCS distinct documents built from the article's paragraphs, a few chunks each."""
    paragraphs = [p for p in ARTICLE.read_text().split("\n\n") if p.strip()]
    folder.mkdir(parents=True)
    for i in range(DOCS):
        start = i % len(paragraphs)
        chosen = (paragraphs[start:] + paragraphs[:start])[:6]
        (folder / f"doc-{i:02d}.txt").write_text(f"Document {i}\n\n" + "\n\n".join(chosen))


def _env(settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(
        RAG_STORE_DIR=str(settings.store.store_dir),
        RAG_INGEST_BATCH="8",  # a group every few documents: many points to resume from
        HF_HUB_OFFLINE="1",
        PYTHONPATH=str(ROOT),
    )
    return env


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> dict:
    out = run_module("rag", args, env, cwd=cwd)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.integration
def test_killed_folder_ingest_resumes_with_only_the_unfinished_documents(tmp_path: Path):
    settings = make_settings(tmp_path)
    folder = tmp_path / "corpus"
    _make_folder(folder)
    env = _env(settings)

    proc = subprocess.Popen(
        [sys.executable, "-m", "rag", "-v", "ingest", "corpus"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    progress = re.compile(r"ingested (\d+)/(\d+) documents")
    killed_after = None
    assert proc.stderr is not None
    for line in proc.stderr:
        match = progress.search(line)
        if match and 0 < int(match.group(1)) < int(match.group(2)):
            proc.send_signal(signal.SIGKILL)
            killed_after = int(match.group(1))
            break
    proc.wait(timeout=120)
    assert killed_after is not None, "the ingest finished before it could be interrupted"
    assert proc.returncode == -signal.SIGKILL

    finished = _cli(["docs", "--json"], env, tmp_path)["documents"]
    assert killed_after <= len(finished) < DOCS, "finished groups are kept, the rest is not"
    finished_chunks = sum(doc["chunks"] for doc in finished)

    resumed = _cli(["ingest", "corpus", "--json"], env, tmp_path)
    assert resumed["unchanged"] == len(finished)
    assert resumed["added"] == DOCS - len(finished)
    assert resumed["documents"] == DOCS
    assert resumed["embedded"] == resumed["chunks"] - finished_chunks

    again = _cli(["ingest", "corpus", "--json"], env, tmp_path)
    assert (again["unchanged"], again["embedded"], again["chunks"]) == (
        DOCS,
        0,
        resumed["chunks"],
    )
