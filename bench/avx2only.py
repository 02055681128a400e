"""Run benchmark processes as if this CPU had AVX2 only (``bench.run --as-avx2``).

ONNX Runtime, oneDNN, MKL and PyTorch choose their kernels from CPUID, and none of
them can be told to ignore AVX-512, VNNI or AMX. On a CPU whose kernel supports CPUID
faulting (the ``cpuid_fault`` flag), ``avx2only.c`` preloaded into a process answers
CPUID itself with those bits removed, so the libraries run their AVX2 kernels at this
CPU's native speed. This module compiles that library (once, with the system's C
compiler, into the benchmark cache) and gives the environment that preloads it.

It does not make this CPU an AVX2-only EPYC: clocks, caches and the number of vector
ports stay this CPU's, so a figure measured this way is labelled as masked and is no
substitute for one measured on the real CPU. It changes nothing in this process.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from bench import machine as host

SOURCE = Path(__file__).with_name("avx2only.c")
LABEL = "CPUID masked to AVX2 only (bench/avx2only.c)"
# glibc picks its string functions before the library loads; keep those on AVX2 too.
GLIBC_TUNABLES = "glibc.cpu.hwcaps=-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX512CD,-AMX_BF16"


class MaskUnavailableError(RuntimeError):
    """This machine cannot run the AVX2 mask (no CPUID faulting, no C compiler)."""


def why_unavailable(cpuinfo: str | None = None) -> str | None:
    """None when the mask can run here; else what is missing, said for a person."""
    flags = host.flags(cpuinfo)
    if "cpuid_fault" not in flags:
        return "this CPU or its hypervisor does not offer CPUID faulting (no cpuid_fault flag)"
    if "avx2" not in flags:
        return "this CPU has no AVX2 to run"
    if shutil.which("gcc") is None and shutil.which("cc") is None:
        return "no C compiler (Debian: apt-get install gcc)"
    return None


def library(cache: Path) -> Path:
    """The compiled mask under *cache*, built now if its source changed (atomic)."""
    problem = why_unavailable()
    if problem:
        raise MaskUnavailableError(f"cannot mask CPUID to AVX2: {problem}")
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:12]
    target = cache / f"avx2only-{digest}.so"
    if target.exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    compiler = shutil.which("gcc") or "cc"
    cmd = [compiler, "-O2", "-shared", "-fPIC", "-o", str(partial), str(SOURCE), "-ldl"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise MaskUnavailableError(f"compiling {SOURCE.name} failed:\n{done.stderr[-2000:]}")
    os.replace(partial, target)
    return target


def environment(lib: Path) -> dict[str, str]:
    """Variables that make a child process see AVX2 only (add them to its environment)."""
    preload = " ".join(p for p in (str(lib), os.environ.get("LD_PRELOAD", "")) if p)
    return {"LD_PRELOAD": preload, "GLIBC_TUNABLES": GLIBC_TUNABLES}
