"""int8 bulk ingest: a dynamically quantized copy of the ONNX export.

:func:`quantize_int8` makes ``model.int8.onnx`` next to the fp32 export (made once, on
first use, from the local file: never downloaded) with ONNX Runtime's dynamic
quantization: int8 weights per output channel, activations quantized per batch at run
time. :class:`Int8Bulk` runs it for large ``embed_documents`` calls. It never embeds
questions or answer sentences (those stay fp32), and it does not decide when int8 is
used (:mod:`rag.embeddings.precision` does).
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rag.embeddings.onnx import OnnxRunner

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

# Part of the file name: a new recipe writes a new file instead of reusing an old one.
INT8_VERSION = "v1"


def int8_file(fp32_file: Path, per_channel: bool = True, reduce_range: bool = True) -> Path:
    """Where the int8 copy of *fp32_file* lives (same folder, named by its recipe)."""
    recipe = ("pc" if per_channel else "pt") + ("-rr" if reduce_range else "")
    return fp32_file.with_name(f"model.int8-{recipe}-{INT8_VERSION}.onnx")


def quantize_int8(
    fp32_file: Path,
    target: Path,
    per_channel: bool = True,
    reduce_range: bool = True,
    exclude: Sequence[str] = (),
) -> Path:
    """Write the int8 copy of *fp32_file* to *target*, atomically (needs ``onnx``).

    Per-channel weights: per-tensor scales lost too much (cosine to fp32 p1 0.92
    against 0.99, docs/QUANTIZATION.md). *reduce_range* (7-bit weights) keeps the
    int16 sums of ONNX Runtime's AVX2 int8 kernels (``VPMADDUBSW``, CPUs without VNNI)
    from saturating: on AVX2 kernels (emulated) full 8-bit weights lost accuracy
    (cosine p1 0.984 against 0.988 natively, same chunks) and 7-bit ones did not
    (0.989 both), so the vectors agree across x86 CPUs. *exclude* names graph nodes
    left in fp32 (for ``bench.quantize``).
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    log.info("quantizing %s to int8 (once) at %s", fp32_file, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    # The quantizer writes a shape-inferred copy next to its input under a fixed name;
    # a private folder (on the target's file system) keeps concurrent runs apart.
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".int8-") as work:
        source, partial = Path(work) / "model.onnx", Path(work) / "int8.onnx"
        source.symlink_to(fp32_file.resolve())
        with _quiet_quantizer():
            quantize_dynamic(
                source,
                partial,
                weight_type=QuantType.QInt8,
                per_channel=per_channel,
                reduce_range=reduce_range,
                nodes_to_exclude=list(exclude),
            )
        os.replace(partial, target)  # readers never see half a file
    return target


class _DropHint(logging.Filter):
    """Drops the quantizer's 'consider pre-processing' hint (pre-processing fails here)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Please consider")


@contextmanager
def _quiet_quantizer() -> Iterator[None]:
    """The quantizer logs on the root logger, which would configure logging for us."""
    root = logging.getLogger()
    hint, placeholder = _DropHint(), logging.NullHandler()
    bare = not root.handlers  # logging.warning() calls basicConfig() on a bare root
    root.addFilter(hint)
    if bare:
        root.addHandler(placeholder)
    try:
        yield
    finally:
        root.removeFilter(hint)
        if bare:
            root.removeHandler(placeholder)


class Int8Bulk:
    """The int8 copy of the ONNX export, for bulk ingest only.

    The file is made and the session opened on the first bulk call. When either
    fails (no ``onnx`` package, a read-only cache) it logs once and returns None, and
    the caller embeds in fp32: precision is an optimisation, never a failure.
    """

    precision = "int8"

    def __init__(
        self, fp32_file: Path, model_path: Path, batch_size: int, workers: int = 0
    ) -> None:
        self.file = int8_file(fp32_file)
        self._fp32_file = fp32_file
        self._model_path = model_path
        self.batch_size = batch_size
        self.workers = workers
        self._runner: OnnxRunner | None = None
        self._failed = False
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray | None:
        """Normalised float32 rows, or None when int8 is unavailable."""
        with self._lock:  # concurrent first calls quantize once
            runner = self._runner_or_none()
        return None if runner is None else runner.encode(texts)

    def _runner_or_none(self) -> OnnxRunner | None:
        if self._runner is None and not self._failed:
            try:
                if not self.file.is_file():
                    quantize_int8(self._fp32_file, self.file)
                self._runner = OnnxRunner(
                    self.file, self._model_path, self.batch_size, self.workers
                )
                log.info("bulk ingest embeds in int8 (%s)", self.file.name)
            except (ImportError, OSError, RuntimeError) as exc:
                self._failed = True
                log.warning("int8 ingest unavailable (%s); embedding in fp32", exc)
        return self._runner
