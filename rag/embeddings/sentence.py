"""The sentence-transformers backend (torch): the reference implementation.

Loads a local sentence-transformers folder on CPU with the hub switched off and exposes
it as :class:`SentenceTransformerEmbeddings`. Importing this module imports neither
torch nor sentence-transformers; constructing the class (or calling
:func:`load_sentence_transformer`) does. It does not choose between backends.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.config import Settings
from rag.embeddings.bf16 import Bf16Bulk
from rag.embeddings.cache import CachedQueries
from rag.embeddings.model import check_model_folder, offline

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)


def load_sentence_transformer(model_path: Path) -> Any:
    """The SentenceTransformer in *model_path*, on CPU, offline."""
    offline()
    # oneDNN keeps a kernel per tensor shape (1,024 by default); ingest meets
    # hundreds of shapes, and 64 recent ones keep the speed (docs/BENCHMARKS.md).
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "64")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_path), device="cpu")


class SentenceTransformerEmbeddings(CachedQueries):
    """LangChain embeddings backed by a local sentence-transformers model (torch)."""

    backend = "torch"

    def __init__(self, model_path: Path, settings: Settings, bf16: bool = False) -> None:
        check_model_folder(model_path)
        log.info("loading embedding model %s from %s (torch)", settings.embedding.model, model_path)
        self.name = settings.embedding.model
        self.batch_size = settings.embedding.batch_size
        self._model = load_sentence_transformer(model_path)
        self._lock = threading.Lock()
        bulk = Bf16Bulk(lambda: self._model, settings.embedding.bf16_batch, self._lock)
        super().__init__(settings, bulk if bf16 else None)

    def _encode(self, texts: list[str]) -> np.ndarray:
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
