"""Hybrid retrieval: dense (Chroma) + lexical (BM25), fused by reciprocal rank.

:class:`HybridRetriever` is a LangChain ``BaseRetriever``. It returns ranked chunk
``Document`` objects whose metadata carries the exact offsets into the source plus
``score`` (fused), ``dense_score``, ``lexical_score`` and ``rank``. The BM25 index
is built once per store generation, not per query, and saved next to the store
(:mod:`rag.lexical_snapshot`): a client rebuilds it when the generation it finds is
new to it. The snapshot holds the chunks too, so keyword hits cost no Chroma call:
a question costs two (the store's generation check and the dense query).

This module does not pick answer sentences and does not rewrite questions.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from rag.config import Settings
from rag.lexical_snapshot import Snapshot, open_snapshot
from rag.store import DocumentStore

log = logging.getLogger(__name__)


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]], k: int = 60
) -> list[tuple[str, float]]:
    """Fuse ranked id lists: score(id) = sum over lists of 1 / (k + rank), rank from 1.

    Ties keep the order in which ids were first seen (first list first).
    """
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: -pair[1])


class HybridRetriever(BaseRetriever):
    """Dense + BM25 retriever over the document store, fused with reciprocal rank.

    A LangChain ``BaseRetriever``: ``invoke(query)`` (or ``ainvoke``; ``k=`` overrides
    the number per call) returns chunk ``Document`` objects, best first, whose
    metadata holds ``source``, ``title``, ``start``/``end`` (offsets into the document
    text), ``index``, ``also_in``, ``rank``, ``score`` (fused), and ``dense_score`` /
    ``lexical_score`` (None when that side did not find the chunk). Only chunks of
    documents in the manifest come back. A question costs two Chroma calls: the
    store's generation check and the dense query.

    Args:
        k: Chunks returned per query.
        settings: Store location, candidates per side, RRF constant; default
            ``Settings()`` (``RAG_*`` variables and ``.env``).
        store: The store to search; default: opened from *settings* with the
            bundled embedding model.

    Raises:
        StoreCorruptError: on first use, when the store cannot be opened
            (StoreUnavailableError when its server cannot be reached).

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from rag.config import Settings
        >>> from rag.service import Assistant
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "harbour.txt").write_text(
        ...     "Kestle harbour\\n\\nThe Kestle harbour wall was rebuilt in 1998 for £4 million. "
        ...     "Fishing boats still land crab there every morning.\\n"
        ... )
        >>> settings = Settings(_env_file=None, store_dir=folder / "store", seeds_dir=folder)
        >>> _ = Assistant(settings).ingest()
        >>> retriever = HybridRetriever(k=1, settings=settings)
        >>> [doc] = retriever.invoke("How much did the harbour wall cost?")
        >>> "£4 million" in doc.page_content, doc.metadata["rank"], doc.metadata["title"]
        (True, 1, 'Kestle harbour')
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    k: int = 4
    settings: Settings | None = None
    store: DocumentStore | None = None

    _snapshot: Snapshot | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def _settings(self) -> Settings:
        if self.settings is None:
            self.settings = Settings()
        return self.settings

    def _store(self) -> DocumentStore:
        if self.store is None:
            from rag.embeddings import load_embeddings

            settings = self._settings()
            self.store = DocumentStore(settings, load_embeddings(settings))
        return self.store

    def snapshot(self) -> Snapshot:
        """The BM25 index and chunks of the store's current generation.

        Loaded from disk or built only when the generation changed; otherwise the
        one held in memory.
        """
        store = self._store()
        view = store.view()
        with self._lock:
            if self._snapshot is None or self._snapshot.generation != view.generation:
                self._snapshot = open_snapshot(store, view)
            return self._snapshot

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
    ) -> list[Document]:
        return self.search(query, k or self.k)

    async def _aget_relevant_documents(
        self,
        query: str,
        *,
        run_manager: AsyncCallbackManagerForRetrieverRun,
        k: int | None = None,
    ) -> list[Document]:
        # Chroma and the model are blocking: run them off the event loop.
        return await asyncio.to_thread(self.search, query, k or self.k)

    def search(self, query: str, k: int) -> list[Document]:
        """Top *k* chunks for *query*, best first, with scores in metadata.

        Both sides take ``max(settings.candidates, k)`` candidates; keyword hits come
        from the snapshot, so the only Chroma call besides the generation check is
        the dense query.

        Args:
            query: A standalone question (follow-ups are resolved before this).
            k: How many chunks to return.

        Returns:
            Up to *k* chunks (fewer when fewer match), as described on the class.
        """
        snap = self.snapshot()
        store = self._store()
        n = max(self._settings().candidates, k)
        dense = store.dense_search(store.embeddings.embed_query(query), n, snap.owners)
        lexical = snap.search(query, n)
        dense_scores = {d.id: s for d, s in dense}
        lexical_scores = {d.id: s for d, s in lexical}
        fused = reciprocal_rank_fusion(
            [[d.id or "" for d, _ in dense], [d.id or "" for d, _ in lexical]],
            self._settings().rrf_k,
        )[:k]
        by_id = {d.id or "": d for d, _ in lexical} | {d.id or "": d for d, _ in dense}
        return [
            _ranked(by_id[cid], rank, score, dense_scores.get(cid), lexical_scores.get(cid))
            for rank, (cid, score) in enumerate(fused, start=1)
            if cid in by_id
        ]


def _ranked(
    doc: Document, rank: int, score: float, dense: float | None, lexical: float | None
) -> Document:
    meta: dict[str, Any] = dict(doc.metadata)
    meta.update(
        rank=rank,
        score=round(score, 6),
        dense_score=None if dense is None else round(dense, 6),
        lexical_score=None if lexical is None else round(lexical, 6),
    )
    return Document(page_content=doc.page_content, metadata=meta, id=doc.id)
