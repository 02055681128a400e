"""What every embedding backend shares: batched documents, cached queries and sentences.

:class:`CachedQueries` is the LangChain :class:`~langchain_core.embeddings.Embeddings`
surface on top of one method a backend implements, ``_encode`` (normalised float32
rows, no cache). It remembers questions and answer sentences, and hands large
``embed_documents`` calls to a bulk encoder when one is set. It knows no model and
runs none itself.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

from langchain_core.embeddings import Embeddings

from rag.config import Settings

if TYPE_CHECKING:
    import numpy as np


class Encoder(Protocol):
    """What answerers need from the model: normalised vectors for many texts."""

    def encode(self, texts: list[str]) -> np.ndarray:
        """One L2-normalised row per text."""
        ...


class BulkEncoder(Protocol):
    """A faster, slightly less exact encoder for ingest; None means 'use fp32'."""

    precision: str

    def encode(self, texts: list[str]) -> np.ndarray | None:
        """Normalised float32 rows, or None when this precision is unavailable."""
        ...


class CachedQueries(Embeddings):
    """Shared surface: batched documents, cached queries, cached sentence vectors.

    :meth:`encode` (what the extractive answerer calls for every sentence of the
    retrieved passages) remembers the last ``embedding.sentence_cache`` texts it
    embedded: the same passages come back question after question, and their sentences
    are then not embedded again. :meth:`embed_documents` (ingest) bypasses the cache.
    """

    name: str
    backend: str

    def __init__(self, settings: Settings, bulk: BulkEncoder | None = None) -> None:
        self.bulk = bulk
        self.sentence_cache = settings.embedding.sentence_cache
        self.bulk_min_texts = settings.embedding.bulk_min_texts
        self._cached_query = lru_cache(maxsize=1024)(self._embed_one)
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._vectors_lock = threading.Lock()

    def _encode(self, texts: list[str]) -> np.ndarray:
        """Normalised float32 matrix, one row per text (no cache)."""
        raise NotImplementedError

    def encode(self, texts: list[str]) -> np.ndarray:
        """Normalised float32 matrix, one row per text; known texts come from the cache."""
        import numpy as np

        with self._vectors_lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
            for text in known:
                self._vectors.move_to_end(text)
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            fresh = dict(zip(missing, self._encode(missing), strict=True))
            with self._vectors_lock:
                self._vectors.update(fresh)
                while len(self._vectors) > self.sentence_cache:
                    self._vectors.popitem(last=False)
            known.update(fresh)
        if not texts:
            return self._encode([])
        return np.stack([known[t] for t in texts])

    def _embed_one(self, text: str) -> tuple[float, ...]:
        return tuple(float(x) for x in self._encode([text])[0])

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages in batches (bulk precision for large batches when enabled)."""
        if not texts:
            return []
        if self.bulk is not None and len(texts) >= self.bulk_min_texts:
            vectors = self.bulk.encode(list(texts))
            if vectors is not None:
                return vectors.tolist()
        return self._encode(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        """Embed one question (cached: follow-ups and reruns repeat questions)."""
        return list(self._cached_query(text))
