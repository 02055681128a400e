"""bf16 bulk ingest: sentence-transformers under torch bf16 autocast.

Runs bulk ingest in bf16 and gives freed heap pages back to the OS after each group.
Whether it runs at all is decided in :mod:`rag.embeddings.precision`. It never embeds
questions (those are always fp32) and imports torch only when the first bulk batch
arrives.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)


class Bf16Bulk:
    """sentence-transformers under torch bf16 autocast, for bulk ingest only.

    *load* returns the SentenceTransformer (called once, on first use); *lock*
    guards it. When torch cannot be loaded it logs once and returns None, and the
    caller embeds in fp32: precision is an optimisation, never a failure.
    """

    precision = "bf16"

    def __init__(self, load: Any, batch_size: int, lock: threading.Lock | None = None) -> None:
        self._load = load
        self.batch_size = batch_size
        self._model: Any = None
        self._failed = False
        self._lock = lock or threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray | None:
        """Normalised float32 rows, or None when bf16 is unavailable."""
        import numpy as np

        with self._lock:  # also makes concurrent first calls load the model once
            model = self._model_or_none()
            if model is None:
                return None
            import torch

            with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
                vectors = model.encode(
                    texts,
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
        trim_heap()
        return np.asarray(vectors, dtype=np.float32)

    def _model_or_none(self) -> Any:
        if self._model is None and not self._failed:
            try:
                self._model = self._load()
                log.info("bulk ingest embeds in bf16 (torch autocast)")
            except ImportError as exc:
                self._failed = True
                log.warning("bf16 ingest unavailable (%s); embedding in fp32", exc)
        return self._model


@lru_cache(maxsize=1)
def _libc() -> Any:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to trim
        return None


def trim_heap() -> None:
    """Give freed heap pages back to the OS (glibc only).

    Every batch of a long ingest has a different padded length, so torch allocates
    tensors of ever-changing sizes and glibc's heap fragments: without this, a
    20,000-document ingest grew to 3.1 GB (docs/BENCHMARKS.md). Called once per
    ingest group, it costs well under a millisecond.
    """
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
