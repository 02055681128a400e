"""Server mode: the same behaviour against a real ``chroma run`` server on loopback.

Ingest is idempotent, answers carry checked citations, the lexical (BM25) side
works from the server's collection, and a server restarted on the same data path
has lost nothing. The local ``store_dir`` only holds the ingest lock and the
lexical index cache in this mode; ingests from different machines (different
``store_dir``, so different file locks) take turns through the lease in the server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port, make_settings, run_module, stop_process

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

    def client_env(self) -> dict[str, str]:
        """The environment of a CLI process that uses this server (RAG_CHROMA_URL alone)."""
        return {
            **os.environ,
            "RAG_CHROMA_URL": self.url,
            "HF_HUB_OFFLINE": "1",
            "PYTHONPATH": str(ROOT),
        }

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

    return Assistant(make_settings(tmp, store={"chroma_url": url}), embeddings=embeddings)


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
    assert assistant.settings.store.chroma_url == chroma_server.url

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
    make_settings(tmp_path)  # copies the seed article into tmp_path/seeds
    env = chroma_server.client_env()

    def cli(*args: str) -> dict:
        out = run_module("rag", [*args, "--json"], env, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    first = cli("ingest")
    assert first["added"] == 1
    assert cli("ingest")["embedded"] == 0
    answer = cli("ask", QUESTION)
    assert not answer["refused"] and "22 million" in answer["citations"][0]["quote"]


def _lease(url: str, ttl: float = 30.0):
    """A lease from a client of its own, as another machine would hold it."""
    from rag.config import Settings
    from rag.ingest.lease import ServerLease
    from rag.store import make_client

    return ServerLease(
        make_client(Settings(_env_file=None, store={"chroma_url": url})), "rag", ttl=ttl
    )


@pytest.mark.integration
def test_an_ingest_waits_while_another_machine_is_between_chunks_and_manifest(
    chroma_server: ChromaServer, tmp_path: Path, embeddings
):
    """Machine A has written a group's chunks but not yet its manifest entries (the
    moment a crash-recovery sweep would call them orphans). Machine B, with its own
    store_dir and so its own file lock, starts an ingest: the server lease makes it
    wait, so its start-of-ingest sweep cannot delete A's chunks."""
    import threading

    from rag.errors import StoreLockedError

    a = _assistant(tmp_path / "a", chroma_server.url, embeddings)
    b = _assistant(tmp_path / "b", chroma_server.url, embeddings)
    b_docs = tmp_path / "b" / "notes"
    b_docs.mkdir()
    (b_docs / "quince.txt").write_text("Quince report\n\nThe orchard made 4,200 jars.")
    between, go = threading.Event(), threading.Event()
    write_manifest = a.store._write_manifest

    def paused(docs):
        between.set()
        go.wait(60)
        return write_manifest(docs)

    a.store._write_manifest = paused
    first = threading.Thread(target=a.ingest)
    first.start()
    assert between.wait(120)
    with pytest.raises(StoreLockedError, match="Another ingest"):
        _lease(chroma_server.url).acquire(timeout=1.5)
    second = threading.Thread(target=b.ingest, args=([b_docs],))
    second.start()
    second.join(timeout=3)
    assert second.is_alive()  # waiting for A's lease
    go.set()
    first.join(timeout=120)
    second.join(timeout=120)
    assert not first.is_alive() and not second.is_alive()

    manifest = a.store.manifest()
    assert sorted(Path(source).name for source in manifest) == ["fortress-calais.txt", "quince.txt"]
    assert a.store.count_chunks() == sum(e.chunks for e in manifest.values())
    _check_answer(a)
    assert _lease(chroma_server.url).holder() is None  # both released


@pytest.mark.integration
def test_a_stalled_holder_loses_its_lease_and_stops_writing(chroma_server: ChromaServer):
    from rag.errors import StoreLockedError

    stalled = _lease(chroma_server.url, ttl=1.0)
    stalled.acquire()
    time.sleep(1.2)  # past its expiry: another machine may take over
    taker = _lease(chroma_server.url)
    taker.acquire(timeout=5)
    assert taker.holder()[0] == taker.owner
    with pytest.raises(StoreLockedError, match="lost its lease"):
        stalled.renew()
    stalled.release()  # not ours any more: must leave the taker's lease alone
    assert taker.holder()[0] == taker.owner
    taker.renew()
    taker.release()
    assert taker.holder() is None


@pytest.mark.integration
def test_two_cli_ingests_at_once_into_one_server_both_land_whole(
    chroma_server: ChromaServer, tmp_path: Path
):
    """Two processes with separate folders and store_dirs, started together.

    Sources are named relative to each process's working folder, so the folders have
    different names: a folder ingest syncs every document under that name.
    """
    env = chroma_server.client_env()
    procs = []
    for name in ("alpha", "beta"):
        folder = tmp_path / name / f"{name}-docs"
        folder.mkdir(parents=True)
        for i in range(3):
            line = f"The {name} depot shipped {i + 7} crates. "
            (folder / f"{i}.txt").write_text(f"{name} ledger {i}\n\n" + line * 40)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "rag", "ingest", folder.name, "--json"],
                cwd=folder.parent,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-2000:] for _, err in outs]
    assert sorted(json.loads(out)["added"] for out, _ in outs) == [3, 3]

    from rag.config import Settings
    from rag.store import DocumentStore

    store = DocumentStore(
        Settings(_env_file=None, store={"chroma_url": chroma_server.url}), embeddings=None
    )
    manifest = store.manifest()
    assert len(manifest) == 6
    assert store.count_chunks() == sum(e.chunks for e in manifest.values())


@pytest.mark.integration
def test_an_ingest_waiting_for_a_killed_ingests_lease_says_whom_it_waits_for(
    chroma_server: ChromaServer, caplog: pytest.LogCaptureFixture
):
    """Issue 29 item 7: the lease of an ingest killed in server mode blocks the next one
    until it expires; the next one says who holds it, since when and how long it waits."""
    import logging

    killed = _lease(chroma_server.url, ttl=2.0)
    killed.acquire()  # and never renewed or released, as after a SIGKILL
    caplog.set_level(logging.WARNING, logger="rag.ingest.lease")
    waiting = _lease(chroma_server.url)
    waiting.acquire(timeout=60)
    assert waiting.holder().owner == waiting.owner
    waiting.release()
    notes = [r.getMessage() for r in caplog.records if r.name == "rag.ingest.lease"]
    assert notes and killed.owner in notes[0] and " since 20" in notes[0]
    assert "expires in" in notes[0] and "waiting up to 60 s" in notes[0]


@pytest.mark.integration
def test_a_server_reset_that_would_lose_a_document_is_refused_and_changes_nothing(
    chroma_server: ChromaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embeddings
):
    """Issue 29 item 3: a server store cannot be moved aside, so a reset that cannot
    rebuild a document (its file is gone) is refused, naming it; a reset that can
    rebuild everything still runs."""
    from rag.errors import ResetRefusedError

    monkeypatch.chdir(tmp_path)
    assistant = _assistant(tmp_path, chroma_server.url, embeddings)
    assistant.ingest()
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "quince.txt").write_text("Quince report\n\nThe orchard made 4,200 jars.")
    assistant.ingest([notes])
    (notes / "quince.txt").unlink()
    with pytest.raises(ResetRefusedError, match=r"lose 1 document name.*notes/quince\.txt"):
        assistant.ingest(reset=True)
    assert sorted(e.source for e in assistant.documents()) == [
        "notes/quince.txt",
        "seeds/fortress-calais.txt",
    ]
    assistant.remove_document("notes/quince.txt")
    rebuilt = assistant.ingest(reset=True)
    assert (rebuilt.documents, rebuilt.missing, rebuilt.old_store) == (1, [], "")
    _check_answer(assistant)
