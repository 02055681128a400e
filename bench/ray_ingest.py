"""Ray ingest against the plain ingest on this machine: chunks/s and peak memory.

``python -m bench.ray_ingest --documents 300`` ingests the first N documents of the
benchmark corpus (:mod:`bench.corpus`) into a fresh embedded store three times, each
in its own process: the plain ingest, then Ray ingest with one and with two worker
processes (a private local cluster: 2 CPUs, 200 MB object store, no dashboard). It
prints one JSON line per run: chunks, seconds (the ingest itself; starting the
cluster is reported apart), chunks/s, the driver's peak RSS and each worker's peak
RSS (``VmHWM``), and the CPU. Nothing is written outside a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.corpus import build
from bench.machine import cpu_model


def _peak_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    line = next((x for x in status.splitlines() if x.startswith("VmHWM:")), "VmHWM: 0 kB")
    return int(line.split()[1])


def _worker_pids() -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "cmdline").read_bytes().startswith(b"ray::FileW"):
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def run_one(mode: str, workers: int, folder: Path) -> dict[str, object]:
    """One ingest of *folder* into a fresh store, in this process."""
    from rag.config import Settings
    from rag.service import Assistant

    work = Path(tempfile.mkdtemp(prefix="ray-bench-"))
    settings = Settings(_env_file=None, store={"store_dir": work / "store"})
    assistant = Assistant(settings)
    from rag.embeddings import bulk_precision

    row: dict[str, object] = {"mode": mode, "workers": workers, "cpu": cpu_model()}
    row["precision"] = bulk_precision(settings)
    peaks: dict[int, int] = {}
    if mode == "local":
        report = assistant.ingest([folder])
    else:
        import ray

        from rag.ingest.distributed import _worker_env, ingest_paths_ray

        started = time.perf_counter()
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            object_store_memory=settings.ray.object_store_bytes,
            runtime_env={"env_vars": _worker_env()},
            log_to_driver=False,
        )
        row["cluster_start_s"] = round(time.perf_counter() - started, 1)

        def watch(done: int, total: int) -> None:
            for pid in _worker_pids():
                peaks[pid] = max(peaks.get(pid, 0), _peak_kb(pid))

        report = ingest_paths_ray(
            assistant.store, [folder], "auto", documents=watch, workers=workers
        )
        ray.shutdown()
    row.update(
        documents=report.documents,
        chunks=report.chunks,
        seconds=report.seconds,
        chunks_per_s=round(report.chunks / report.seconds, 1),
        driver_peak_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        worker_peak_mb=sorted(round(kb / 1024) for kb in peaks.values()),
    )
    return row


def main() -> None:
    """Run the three ingests, each in a process of its own; one JSON line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--one", nargs=2, metavar=("MODE", "WORKERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    folder = build(args.documents)
    if args.one:
        print(json.dumps(run_one(args.one[0], int(args.one[1]), folder)))
        return
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    for mode, workers in (("local", 0), ("ray", 1), ("ray", 2)):
        cmd = [sys.executable, "-m", "bench.ray_ingest", "--documents", str(args.documents)]
        subprocess.run([*cmd, "--one", mode, str(workers)], check=True, env=env)


if __name__ == "__main__":
    main()
