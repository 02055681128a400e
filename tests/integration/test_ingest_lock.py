"""Two ingests at once on machines sharing a server take turns through PostgreSQL.

Issue 27 item 2: the Chroma-record lease could let two machines that read "free" at the
same moment both go ahead. With ``RAG_DATABASE_URL`` the ingest lock is a PostgreSQL
advisory lock. Everything here runs against a real PostgreSQL (tests/integration/pg.py)
and, for whole ingests, a real ``chroma run`` server, in separate processes where a
machine would be one.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from rag.errors import StoreLockedError
from rag.ingest.lease import AdvisoryLock
from tests.conftest import ROOT
from tests.integration.test_server_mode import CHROMA, ChromaServer

pytestmark = pytest.mark.integration

HOLD_AND_WAIT = """
import sys, time
from rag.ingest.lease import AdvisoryLock
lock = AdvisoryLock(sys.argv[1], "rag")
lock.acquire(timeout=30)
print(lock.owner, flush=True)
time.sleep(600)
"""


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[ChromaServer]:
    if not CHROMA.exists():
        pytest.skip("the chroma CLI is not installed next to this Python")
    server = ChromaServer(tmp_path / "server-data")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _plain(url: str) -> str:
    return url.replace("+psycopg", "")


def test_of_many_sessions_trying_at_the_same_instant_exactly_one_gets_the_lock(
    database_url: str,
) -> None:
    """Six takers released together by a barrier, 25 rounds: one winner every time."""
    takers = [AdvisoryLock(database_url, "rag") for _ in range(6)]

    def attempt(lock: AdvisoryLock, barrier: threading.Barrier, won: list) -> None:
        barrier.wait()
        if lock._try_take()[0]:
            won.append(lock)

    for round_ in range(25):
        barrier, won = threading.Barrier(len(takers)), []
        threads = [threading.Thread(target=attempt, args=(t, barrier, won)) for t in takers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert len(won) == 1, f"round {round_}: {len(won)} sessions hold the lock"
        won[0].renew()  # it really holds it
        won[0].release()


def test_a_waiting_ingest_says_who_holds_the_lock_and_since_when(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    holder = AdvisoryLock(database_url, "rag")
    taken_at = time.time()
    holder.acquire(timeout=5)
    caplog.set_level(logging.WARNING, logger="rag.ingest.lease")
    with pytest.raises(StoreLockedError, match=f"Another ingest \\({holder.owner}, since 20"):
        AdvisoryLock(database_url, "rag").acquire(timeout=1.5)
    [note] = [r.getMessage() for r in caplog.records if r.name == "rag.ingest.lease"]
    assert note.startswith(f"waiting for the ingest lock in PostgreSQL: held by {holder.owner}")
    assert "freed when that ingest ends" in note
    current = holder.holder()
    assert current is not None and current.owner == holder.owner
    assert current.since is not None and abs(current.since - taken_at) < 5
    assert AdvisoryLock(database_url, "other-prefix")._try_take()[0]  # other collections: free
    holder.release()
    assert holder.holder() is None


def test_a_killed_ingest_frees_the_lock_at_once(database_url: str) -> None:
    """No expiry to wait out: the killed process's connection closes, the lock goes."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_AND_WAIT, database_url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        owner = proc.stdout.readline().strip() if proc.stdout else ""
        assert f":{proc.pid}:" in owner
        with pytest.raises(StoreLockedError, match=owner):
            AdvisoryLock(database_url, "rag").acquire(timeout=1.0)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        started = time.monotonic()
        taker = AdvisoryLock(database_url, "rag")
        taker.acquire(timeout=30)
        assert time.monotonic() - started < 5
        taker.release()
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_a_holder_whose_connection_dropped_stops_writing(database_url: str) -> None:
    holder = AdvisoryLock(database_url, "rag")
    holder.acquire(timeout=5)
    holder.renew()
    with psycopg.connect(_plain(database_url), autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (holder.owner,),
        )
    taker = AdvisoryLock(database_url, "rag")
    taker.acquire(timeout=10)  # the dropped session's lock went with it
    with pytest.raises(StoreLockedError, match="lost its lock in PostgreSQL"):
        holder.renew()
    holder.release()  # must not fail, nor free the taker's lock
    current = taker.holder()
    assert current is not None and current.owner == taker.owner
    taker.release()


# ----- whole ingests ------------------------------------------------------------------------
PAUSED_INGEST = """
import sys, time
from pathlib import Path
from rag.config import Settings
from rag.service import Assistant

folder, gate = Path(sys.argv[1]), Path(sys.argv[2])
assistant = Assistant(Settings(store={"store_dir": folder.parent / "vectorstore"}))
write_manifest = assistant.store._write_manifest

def paused(docs):
    print("between", flush=True)  # this group's chunks are written, not yet vouched for
    while not gate.exists():
        time.sleep(0.05)
    return write_manifest(docs)

assistant.store._write_manifest = paused
report = assistant.ingest([folder])
print(report.added, flush=True)
"""


def _ledger(folder: Path, name: str, files: int = 3) -> Path:
    folder.mkdir(parents=True)
    for i in range(files):
        line = f"The {name} depot shipped {i + 7} crates of quince jam. "
        (folder / f"{i}.txt").write_text(f"{name} ledger {i}\n\n" + line * 40)
    return folder


def _wait_for_text(log: Path, text: str, proc: subprocess.Popen, timeout: float = 180) -> str:
    """The first line of *log* holding *text*, once *proc* has written it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        found = [line for line in log.read_text().splitlines() if text in line]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never written (exit {proc.poll()}): {log.read_text()[-2000:]}")


def _env(chroma: ChromaServer, database_url: str) -> dict[str, str]:
    return {**chroma.client_env(), "RAG_DATABASE_URL": database_url}


def _stored(chroma: ChromaServer) -> tuple[dict, int]:
    from rag.config import Settings
    from rag.store import DocumentStore

    store = DocumentStore(
        Settings(_env_file=None, store={"chroma_url": chroma.url}), embeddings=None
    )
    return store.manifest(), store.count_chunks()


def test_an_ingest_started_while_another_is_mid_write_waits_and_both_land_whole(
    chroma: ChromaServer, database_url: str, tmp_path: Path
) -> None:
    """Machine A (a process) has written a group's chunks and not yet the manifest
    entries that vouch for them. Machine B (another process, its own store_dir and so
    its own file lock) starts an ingest: it waits on PostgreSQL's lock, saying for
    whom, instead of sweeping A's unvouched chunks as orphans."""
    env = _env(chroma, database_url)
    a_docs = _ledger(tmp_path / "a" / "alpha-docs", "alpha")
    b_docs = _ledger(tmp_path / "b" / "beta-docs", "beta")
    gate = tmp_path / "go"
    first = subprocess.Popen(
        [sys.executable, "-c", PAUSED_INGEST, str(a_docs), str(gate)],
        cwd=a_docs.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    second = None
    try:
        assert first.stdout and first.stdout.readline().strip() == "between", first.stderr
        b_log = tmp_path / "b.stderr"
        with b_log.open("w") as b_stderr:
            second = subprocess.Popen(
                [sys.executable, "-m", "rag", "ingest", b_docs.name, "--json"],
                cwd=b_docs.parent,
                env=env,
                stdout=subprocess.PIPE,
                stderr=b_stderr,
                text=True,
            )
        # B loads its model, then waits for A's lock and says so (A is still paused)
        waited = _wait_for_text(b_log, "waiting for the ingest lock in PostgreSQL", second)
        assert second.poll() is None and first.poll() is None
        gate.touch()
        a_out, a_err = first.communicate(timeout=300)
        b_out, _ = second.communicate(timeout=300)
    finally:
        gate.touch()
        for proc in (first, second):
            if proc and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
    b_err = b_log.read_text()
    assert first.returncode == 0, a_err[-2000:]
    assert second.returncode == 0, b_err[-2000:]
    assert a_out.split()[-1] == "3" and json.loads(b_out)["added"] == 3
    assert "waiting for the ingest lock in PostgreSQL: held by " in waited
    assert f":{first.pid}:" in waited and " since 20" in waited  # names A, and since when
    manifest, chunks = _stored(chroma)
    assert (
        sorted(Path(source).parent.name for source in manifest)
        == ["alpha-docs"] * 3 + ["beta-docs"] * 3
    )
    assert chunks == sum(entry.chunks for entry in manifest.values())


def test_two_cli_ingests_started_together_both_land_whole(
    chroma: ChromaServer, database_url: str, tmp_path: Path
) -> None:
    env = _env(chroma, database_url)
    procs = []
    for name in ("alpha", "beta"):
        folder = _ledger(tmp_path / name / f"{name}-docs", name)
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
    outs = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], [err[-2000:] for _, err in outs]
    assert sorted(json.loads(out)["added"] for out, _ in outs) == [3, 3]
    manifest, chunks = _stored(chroma)
    assert len(manifest) == 6 and chunks == sum(entry.chunks for entry in manifest.values())
    with psycopg.connect(_plain(database_url)) as check:  # both released it
        held = check.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
        assert held.fetchone() == (0,)
