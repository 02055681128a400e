"""What machine a benchmark figure was measured on: CPU model, vector units, cores.

Every result the benchmarks write carries :func:`describe` so a figure is never
separated from the CPU it came from (an AMX Xeon and an AVX2-only EPYC differ by
2x or more on this model). It reads ``/proc/cpuinfo``, package versions and the
machine id (hashed: only to tell this machine from others of its kind); it
measures nothing.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import socket
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

# The flags that change how fast MiniLM runs, best last; shown in this order.
ISA_FLAGS = {
    "avx2": "AVX2",
    "avx512f": "AVX512",
    "avx512_vnni": "AVX512-VNNI",
    "avx512_bf16": "AVX512-BF16",
    "amx_bf16": "AMX",
}
PACKAGES = ("torch", "onnxruntime", "chromadb", "sentence-transformers", "langchain-chroma")


def _cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def cpu_model(cpuinfo: str | None = None) -> str:
    """The CPU's model name (``platform.processor()`` where there is no /proc)."""
    text = _cpuinfo() if cpuinfo is None else cpuinfo
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    return match.group(1).strip() if match else (platform.processor() or "unknown CPU")


def flags(cpuinfo: str | None = None) -> set[str]:
    """The CPU flags ``/proc/cpuinfo`` (or the *cpuinfo* text given) reports."""
    text = _cpuinfo() if cpuinfo is None else cpuinfo
    match = re.search(r"^flags\s*:\s*(.+)$", text, re.M)
    return set(match.group(1).split()) if match else set()


def isa(cpuinfo: str | None = None) -> list[str]:
    """The vector units of :data:`ISA_FLAGS` this CPU reports, e.g. ``["AVX2", "AMX"]``."""
    present = flags(cpuinfo)
    return [label for flag, label in ISA_FLAGS.items() if flag in present]


def tag(cpuinfo: str | None = None) -> str:
    """A short folder-safe name for this kind of machine: vendor plus best unit.

    ``intel-amx``, ``amd-avx512``, ``amd-avx2``: results of different machine
    kinds are kept apart under this name, so one never overwrites the other.
    """
    model = cpu_model(cpuinfo).lower()
    vendor = next((v for v in ("intel", "amd", "arm") if v in model), "cpu")
    units = isa(cpuinfo)
    best = units[-1].lower().split("-")[0] if units else "baseline"
    return f"{vendor}-{best}"


def host_id() -> str:
    """A short opaque id of this very machine (hash of ``/etc/machine-id`` or hostname).

    Machine kinds (:func:`tag`) are shared by many machines; a cached result is only
    reused on the machine that measured it, so a user's run is never answered with
    figures from ours.
    """
    try:
        key = Path("/etc/machine-id").read_text().strip()
    except OSError:
        key = ""
    return hashlib.sha256((key or socket.gethostname()).encode()).hexdigest()[:12]


def describe(masked: bool = False) -> dict[str, str]:
    """This machine, for a result file and the report header.

    *masked*: the figures come from processes that saw AVX2 only
    (:mod:`bench.avx2only`); the tag says so (``intel-amx-as-avx2``), so they never
    mix with this CPU's own figures nor pass for a real AVX2-only CPU's.
    """
    mem = "?"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = meminfo.read_text().splitlines()[0].split()[1]
        mem = f"{int(kib) / 1024 / 1024:.1f} GiB"
    versions = {}
    for name in PACKAGES:
        try:
            versions[name.replace("-", "_")] = version(name)
        except PackageNotFoundError:
            versions[name.replace("-", "_")] = "?"
    units = " ".join(isa()) or "no AVX2"
    return {
        "tag": f"{tag()}-as-avx2" if masked else tag(),
        "cpu": cpu_model(),
        "isa": f"AVX2 (CPUID masked; the CPU has {units})" if masked else units,
        "nproc": str(os.cpu_count()),
        "ram": mem,
        "python": platform.python_version(),
        **versions,
    }
