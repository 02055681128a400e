"""The AVX2 mask (bench/avx2only.c) really hides AVX-512/AMX from the libraries.

Real processes under the compiled library: PyTorch must report AVX2 as its best
kernel set, /proc/cpuinfo must lose the hidden flags but keep AVX2, our ``auto``
ingest precision must then not pick bf16, ONNX Runtime must run its AVX2 int8
kernels (vectors with full 8-bit weights change, as AVX2's int16 pair sums saturate;
the shipped 7-bit weights cannot saturate and keep theirs), and a real crash must
still end the process with SIGSEGV, also when Python's faulthandler has installed its
own handler. Skipped where the CPU cannot fault on CPUID or there is nothing to hide.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bench import avx2only
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

if avx2only.why_unavailable():
    pytest.skip(f"AVX2 mask unavailable: {avx2only.why_unavailable()}", allow_module_level=True)
if "avx512f" not in Path("/proc/cpuinfo").read_text():
    pytest.skip("this CPU has no AVX-512 to hide", allow_module_level=True)


@pytest.fixture(scope="module")
def lib(tmp_path_factory) -> Path:
    return avx2only.library(tmp_path_factory.mktemp("mask"))


def _python(code: str, lib: Path | None, *flags: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    if lib is not None:
        env.update(avx2only.environment(lib))
    cmd = [sys.executable, *flags, "-c", code]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)


SEES = """
import pathlib, torch
from rag.config import Settings
from rag.embeddings.precision import bulk_precision
text = pathlib.Path("/proc/cpuinfo").read_text()
flags = next(l for l in text.splitlines() if l.startswith("flags")).split(":")[1].split()
print(torch.backends.cpu.get_cpu_capability(), "avx2" in flags, "avx512f" in flags,
      "amx_bf16" in flags, bulk_precision(Settings(_env_file=None)))
"""


def test_libraries_see_avx2_only_under_the_mask(lib: Path) -> None:
    plain = _python(SEES, None)
    masked = _python(SEES, lib)
    assert plain.returncode == 0 and masked.returncode == 0, masked.stderr[-2000:]
    capability, avx2, avx512, amx, precision = masked.stdout.split()
    assert (capability, avx2, avx512, amx) == ("AVX2", "True", "False", "False")
    assert precision == "fp32"  # no bf16 hardware as far as the process can tell
    assert plain.stdout.split()[0] != "AVX2"  # the same CPU unmasked offers more


ONNX_INT8 = """
import sys, numpy as np
from rag.config import Settings
from rag.embeddings import bundled_model_path, onnx_file
from rag.embeddings.int8 import int8_file
from rag.embeddings.onnx import OnnxRunner
fp32 = onnx_file(Settings(_env_file=None), bundled_model_path())
texts = ["The ferry left Dover at noon with 40 lorries on board.",
         "Maria Sanchez chairs the water board's audit committee."]
out = [OnnxRunner(int8_file(fp32, reduce_range=r), bundled_model_path(), 4, 1).encode(texts)
       for r in (True, False)]
np.save(sys.argv[1], np.stack(out))
"""


def test_onnx_runtime_runs_avx2_int8_kernels_under_the_mask(lib: Path, tmp_path) -> None:
    """Full 8-bit weights saturate AVX2's int16 pair sums: different vectors prove the
    kernels changed. The shipped 7-bit weights cannot saturate, so they agree."""
    from rag.config import Settings
    from rag.embeddings import bundled_model_path, onnx_file
    from rag.embeddings.int8 import int8_file, quantize_int8

    fp32 = onnx_file(Settings(_env_file=None), bundled_model_path())
    if not fp32.exists():
        pytest.skip("no ONNX export cached yet (made by the embedding tests)")
    for reduce_range in (True, False):
        if not int8_file(fp32, reduce_range=reduce_range).exists():
            quantize_int8(
                fp32, int8_file(fp32, reduce_range=reduce_range), reduce_range=reduce_range
            )
    import numpy as np

    outs = []
    for name, mask in (("plain", None), ("masked", lib)):
        out = tmp_path / f"{name}.npy"
        done = _python(ONNX_INT8.replace("sys.argv[1]", repr(str(out))), mask)
        assert done.returncode == 0, done.stderr[-2000:]
        outs.append(np.load(out))
    (shipped, eight_bit), (shipped_avx2, eight_bit_avx2) = outs
    assert not np.array_equal(eight_bit, eight_bit_avx2)  # VPMADDUBSW saturated
    assert (eight_bit * eight_bit_avx2).sum(axis=1).min() > 0.98  # ... a little
    assert (shipped * shipped_avx2).sum(axis=1).min() > 0.9999  # 7-bit: no saturation


CRASH = "import ctypes; import torch; ctypes.string_at(0)"


@pytest.mark.parametrize("flags", [(), ("-X", "faulthandler")])
def test_a_real_crash_still_ends_the_process(lib: Path, flags: tuple[str, ...]) -> None:
    done = _python(CRASH, lib, *flags)
    assert done.returncode == -signal.SIGSEGV
    if flags:  # faulthandler's own handler ran (chained behind the mask), after torch's CPUID
        assert "Fatal Python error: Segmentation fault" in done.stderr
