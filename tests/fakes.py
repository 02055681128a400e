"""Fakes for fast unit tests: real subclasses with deterministic, correctly shaped output."""

from __future__ import annotations

import hashlib

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.lexical import tokenize


class HashingEmbeddings(Embeddings):
    """Bag-of-words vectors (feature hashing), L2-normalised; same text, same vector."""

    name = "hashing-fake"

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        for token in tokenize(text, keep_stopwords=True):
            slot = int(hashlib.md5(token.encode()).hexdigest()[:8], 16) % self.dim
            vec[slot] += 1.0
        norm = np.linalg.norm(vec)
        if norm == 0:
            vec[0] = 1.0
            norm = 1.0
        return vec / norm

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text).tolist()
