"""Distributed ingest on a real local Ray cluster (loopback, 2 CPUs, a small object store).

Ray is optional (requirements-scale.txt): these tests are skipped when it is not
installed. Each checks what a user would: the store a Ray ingest leaves is the store a
one-machine ingest leaves (same chunk ids, same vectors, same documents); a second run
embeds nothing; a worker killed in the middle of a run is replaced by Ray and the
store still equals a clean one-machine ingest; the CLI reaches a cluster started with
``ray start`` through ``RAG_RAY_ADDRESS``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT, free_port, make_settings, run_module, stop_process

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.integration
OBJECT_STORE = 200_000_000
# Vectors are compared to 1e-5, so both sides embed in fp32 (a bulk precision such as
# int8 quantizes each batch's activations together: results depend on the batching).
FP32 = {"embedding": {"precision": "fp32"}}
DATA = ROOT / "tests" / "data"
NEWCOMER = ROOT / "tests" / "newcomer"


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    """A private Ray cluster for this module (the ingest code uses the open connection)."""
    from rag.ingest.distributed import _worker_env

    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=OBJECT_STORE,
        runtime_env={"env_vars": _worker_env()},
        log_to_driver=False,
    )
    try:
        yield
    finally:
        ray.shutdown()


def write_corpus(folder: Path) -> Path:
    """About 20 documents of every supported text type (none of them the seed article)."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in [*DATA.iterdir(), *NEWCOMER.iterdir()]:
        if source.suffix in (".txt", ".md", ".html"):
            shutil.copy(source, folder / source.name)
    for n in range(8):
        lines = [f"# Ferry timetable {n}", ""]
        lines += [
            f"On day {d} of route {n} the ferry leaves Pier {d % 4 + 1} at {6 + d}:{n}5 "
            f"and carries at most {40 + 7 * d + n} passengers across the estuary."
            for d in range(12)
        ]
        (folder / f"timetable-{n}.md").write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    return folder


def stored(settings) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Every chunk's vector by id, and every document name's content hash."""
    from rag.service import Assistant

    store = Assistant(settings).store
    got = store.chunks.get(include=["embeddings"])
    vectors = dict(zip(got["ids"], np.asarray(got["embeddings"]), strict=True))
    names = {name: e.sha256 for e in store.manifest().values() for name in e.names}
    return vectors, names


def assert_same_store(ray_settings, local_settings) -> None:
    ray_vectors, ray_names = stored(ray_settings)
    local_vectors, local_names = stored(local_settings)
    assert ray_names == local_names
    assert sorted(ray_vectors) == sorted(local_vectors)
    for cid, vector in local_vectors.items():
        assert np.allclose(ray_vectors[cid], vector, atol=1e-5), cid


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # source names are relative to the working folder
    return write_corpus(tmp_path / "team-docs")


def one_machine(tmp_path: Path, corpus: Path):
    from rag.service import Assistant

    settings = make_settings(tmp_path / "local", **FP32)
    report = Assistant(settings).ingest([corpus])
    assert not report.errors
    return settings, report


def test_a_ray_ingest_stores_what_one_machine_stores_and_skips_unchanged_documents(
    cluster, corpus: Path, tmp_path: Path
) -> None:
    from rag.ingest.distributed import ingest_paths_ray
    from rag.service import Assistant

    settings = make_settings(tmp_path / "ray", **FP32)
    progress: list[tuple[int, int]] = []
    report = ingest_paths_ray(
        Assistant(settings).store,
        [corpus],
        "auto",
        progress=lambda done, total: progress.append((done, total)),
    )
    local_settings, local = one_machine(tmp_path, corpus)
    assert (report.added, report.chunks, report.embedded) == (
        local.added,
        local.chunks,
        local.embedded,
    )
    assert report.added == len(list(corpus.iterdir())) and not report.errors
    assert_same_store(settings, local_settings)
    assert progress[-1] == (report.chunks, report.chunks)  # the bar ends full
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)

    (corpus / "timetable-3.md").write_text("# Ferry timetable 3\n\nCancelled all winter.\n")
    again = ingest_paths_ray(Assistant(settings).store, [corpus], "auto")
    assert (again.unchanged, again.updated, again.added) == (report.added - 1, 1, 0)
    assert again.embedded == 1  # only the changed document's one chunk


def worker_pids() -> set[int]:
    """Process ids of the live FileWorker actors (Ray titles them ``ray::FileWorker``)."""
    pids = set()
    for proc in Path("/proc").iterdir():
        try:
            title = (proc / "cmdline").read_bytes()
        except OSError:  # not a process, or gone
            continue
        if proc.name.isdigit() and title.startswith(b"ray::FileWorker"):
            pids.add(int(proc.name))
    return pids


def test_a_worker_killed_mid_run_is_restarted_and_nothing_is_lost_or_doubled(
    cluster, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rag.ingest.distributed
    from rag.service import Assistant

    # One file per task (RAG_RAY_TASK_FILES=1): many tasks.
    settings = make_settings(tmp_path / "ray", ingest={"batch": 16}, ray={"task_files": 1}, **FP32)
    killed: list[tuple[int, int, int]] = []  # (pid, files done, files)
    before: set[int] = set()  # worker processes up to the kill
    after: set[int] = set()  # and after it

    def kill_one(done: int, total: int) -> None:
        pids = worker_pids()
        (after if killed else before).update(pids)
        if not killed and 2 <= done < total - 4 and pids:
            victim = min(pids)
            os.kill(victim, signal.SIGKILL)
            killed.append((victim, done, total))

    report = rag.ingest.distributed.ingest_paths_ray(
        Assistant(settings).store, [corpus], "auto", documents=kill_one
    )
    assert killed, "the run ended before a worker could be killed"
    assert after - before, "Ray did not start a worker in place of the killed one"
    assert killed[0][0] not in after
    local_settings, local = one_machine(tmp_path, corpus)
    assert not report.errors and report.added == local.added
    assert_same_store(settings, local_settings)  # nothing lost, nothing twice
    assert Assistant(settings).store.count_chunks() == local.chunks


@pytest.fixture
def ray_head(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``ray start --head --block`` on a free loopback port; stopped (with its workers) after.

    Its token (Ray authenticates every client) is a fresh one in the environment, which
    the CLI under test inherits: nothing is read from or written to ~/.ray.
    """
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    monkeypatch.setenv("RAY_AUTH_TOKEN", secrets.token_hex(16))
    ray_cli = Path(sys.executable).with_name("ray")
    port = free_port()
    cmd = [str(ray_cli), "start", "--head", "--block", "--node-ip-address=127.0.0.1"]
    cmd += [f"--port={port}", "--num-cpus=2", "--include-dashboard=false"]
    temp = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))  # short: Ray's socket paths
    cmd += [f"--object-store-memory={OBJECT_STORE}", f"--temp-dir={temp}"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    address = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while not (temp / "session_latest").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_process(proc)
            pytest.fail("ray start did not come up")
        time.sleep(0.5)
    time.sleep(3)
    try:
        yield address
    finally:
        stop_process(proc, timeout=60)
        shutil.rmtree(temp, ignore_errors=True)


def test_the_cli_ingests_on_a_cluster_named_by_rag_ray_address(
    ray_head: str, corpus: Path, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "RAG_RAY_ADDRESS": ray_head,
        "RAG_STORE_DIR": str(tmp_path / "cli-store"),
        "RAG_EMBEDDING_PRECISION": "fp32",
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(ROOT),
    }
    done = run_module("rag", ["ingest", "--json", str(corpus)], env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    local_settings, local = one_machine(tmp_path, corpus)
    assert (report["added"], report["chunks"]) == (local.added, local.chunks)
    from rag.config import Settings

    cli_settings = Settings(_env_file=None, store={"store_dir": tmp_path / "cli-store"})
    assert_same_store(cli_settings, local_settings)


def test_a_ray_ingest_into_a_chroma_server_equals_a_one_machine_ingest(
    cluster, corpus: Path, tmp_path: Path
) -> None:
    from rag.ingest.distributed import ingest_paths_ray
    from rag.service import Assistant
    from tests.integration.test_server_mode import CHROMA, ChromaServer

    if not CHROMA.exists():
        pytest.skip("the chroma CLI is not installed next to this Python")
    server = ChromaServer(tmp_path / "server-data")
    server.start()
    try:
        settings = make_settings(tmp_path / "client", store={"chroma_url": server.url}, **FP32)
        report = ingest_paths_ray(Assistant(settings).store, [corpus], "auto")
        local_settings, local = one_machine(tmp_path, corpus)
        assert (report.added, report.chunks) == (local.added, local.chunks)
        assert_same_store(settings, local_settings)
    finally:
        server.stop()


def test_a_ray_reset_rebuilds_every_document_and_refuses_to_lose_one(
    cluster, corpus: Path, tmp_path: Path
) -> None:
    from rag.errors import ResetRefusedError
    from rag.ingest.distributed import ingest_paths_ray
    from rag.service import Assistant

    settings = make_settings(tmp_path / "ray", **FP32)
    first = ingest_paths_ray(Assistant(settings).store, [corpus], "auto")
    rebuilt = ingest_paths_ray(Assistant(settings).store, [corpus], "auto", reset=True)
    assert rebuilt.embedded == first.chunks == rebuilt.chunks  # everything embedded again
    local_settings, _ = one_machine(tmp_path, corpus)
    assert_same_store(settings, local_settings)

    lone = tmp_path / "lone.md"
    lone.write_text("# Lone note\n\nThe boathouse key hangs behind the red door.\n")
    ingest_paths_ray(Assistant(settings).store, [lone], "auto")
    lone.unlink()
    with pytest.raises(ResetRefusedError, match=r"lone\.md"):
        ingest_paths_ray(Assistant(settings).store, [corpus], "auto", reset=True)
    assert "lone.md" in stored(settings)[1]  # nothing was reset
