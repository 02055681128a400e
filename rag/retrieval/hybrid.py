"""Hybrid retrieval: dense (Chroma) + lexical (BM25), fused by reciprocal rank.

:class:`HybridRetriever` is a LangChain ``BaseRetriever``. It returns ranked chunk
``Document`` objects whose metadata carries the exact offsets into the source plus
``score`` (fused), ``dense_score``, ``lexical_score`` and ``rank``. The BM25 index
is built once per store generation, not per query, and saved next to the store
(:mod:`rag.retrieval.lexical_snapshot`): a client rebuilds it when the generation it finds is
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
from rag.retrieval.dedup import Collapsed, Collapser, collapse, stored_mostly_repeats
from rag.retrieval.lexical_snapshot import Snapshot, open_snapshot
from rag.store import DocumentStore
from rag.store.chunks import version_of

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
        >>> store = {"store_dir": folder / "store", "seeds_dir": folder}
        >>> settings = Settings(_env_file=None, store=store)
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

        Each side keeps ``max(settings.retrieval.candidates, k)`` candidates after collapsing
        near-duplicates (one per group, :mod:`rag.retrieval.dedup`) and capping each document at
        ``settings.retrieval.max_per_document``; they are fetched with room to spare, so
        repeats do not shorten the list. When repeats or chunks of removed documents
        crowd the dense answer, the dense query is asked again without the crowding
        documents (see :meth:`_dense`). Keyword hits come from the snapshot.

        Args:
            query: A standalone question (follow-ups are resolved before this).
            k: How many chunks to return.

        Returns:
            Up to *k* chunks (fewer when fewer match), as described on the class.
        """
        snap = self.snapshot()
        settings = self._settings()
        n, cap = max(settings.retrieval.candidates, k), settings.retrieval.max_per_document
        lexical_hits = _repeats_last(self._lexical_hits(query, n, snap), snap, settings)
        dense_hits = _repeats_last(self._dense_hits(query, n, snap, lexical_hits), snap, settings)
        collapser = Collapser(
            settings.retrieval.near_duplicate
        )  # the dense side first: its chunks represent their groups
        dense = collapse(dense_hits, collapser, cap, n)
        lexical = collapse(lexical_hits, collapser, cap, n)
        fused = reciprocal_rank_fusion([dense.keys, lexical.keys], settings.retrieval.rrf_k)[:k]
        return [
            _ranked(
                (dense.docs.get(key) or lexical.docs[key])[0],
                rank,
                score,
                _score(dense, key),
                _score(lexical, key),
            )
            for rank, (key, score) in enumerate(fused, start=1)
        ]

    def _dense_hits(
        self, query: str, n: int, snap: Snapshot, lexical: list[tuple[Document, float]]
    ) -> list[tuple[Document, float]]:
        """Dense hits, nearest first, enough for *n* candidates after collapsing if possible.

        A vector index whose nearest neighbours are thousands of copies of one text,
        or chunks no document vouches for any more (a removal killed halfway), can
        return nothing else however many neighbours are asked for. When the collapsed
        list is short of *n* and such crowding was seen, the query is asked again
        without the crowding documents (and, when untrusted chunks came back, over
        trusted documents only), at most ``retrieval.requeries`` times. A graph of copies can
        fail even then, so if still short, the keyword candidates (and, in a store of
        at most ``retrieval.exact_limit`` chunks, every chunk of the other documents) are scored
        against the question by their stored vectors (exact cosine) and merged in.
        """
        store, retrieval = self._store(), self._settings().retrieval
        cap, near = retrieval.max_per_document, retrieval.near_duplicate
        vector = store.embeddings.embed_query(query)
        fetch = n * retrieval.fetch_factor
        hits = store.dense_search(vector, fetch, snap.owners)
        skip: set[str] = set()
        trusted_only = crowded = False
        for _ in range(retrieval.requeries):
            side = collapse(hits, Collapser(near), cap, n)
            untrusted = not trusted_only and len(hits) < min(fetch, len(snap.chunks))
            crowding = side.crowding - skip
            if len(side.keys) >= n or not (crowding or untrusted):
                break
            crowded, skip, trusted_only = True, skip | crowding, trusted_only or untrusted
            log.info("dense candidates crowded: asking again without %d document(s)", len(skip))
            more = store.dense_search(
                vector, fetch, snap.owners, skip=skip, trusted_only=trusted_only
            )
            hits = _merge(hits, more)
        if crowded and len(collapse(hits, Collapser(near), cap, n).keys) < n:
            unseen = _unseen(snap, skip, lexical, hits, retrieval.exact_limit)
            log.info("dense candidates still crowded: scoring %d chunks exactly", len(unseen))
            hits = _merge(hits, _rescored(store, vector, unseen))
        return hits

    def _lexical_hits(self, query: str, n: int, snap: Snapshot) -> list[tuple[Document, float]]:
        """Keyword hits, best first, looking deeper while repeats leave fewer than *n*."""
        retrieval = self._settings().retrieval
        cap, limit = retrieval.max_per_document, n * retrieval.fetch_factor
        while True:
            hits = snap.search(query, limit)
            enough = len(collapse(hits, Collapser(retrieval.near_duplicate), cap, n).keys) >= n
            if enough or len(hits) < limit or limit >= n * retrieval.lexical_reach:
                return hits
            limit *= 4


def _repeats_last(
    hits: list[tuple[Document, float]], snap: Snapshot, settings: Settings
) -> list[tuple[Document, float]]:
    """*hits* with the chunks of documents that are mostly repetition moved after the
    others (order kept within each part): a page of "lorem ipsum" stays a candidate
    but never outranks the real documents on meaning it does not have."""

    def repetitive(doc: Document) -> bool:
        entries = snap.owners.get(version_of(doc.metadata))
        if not entries:
            return False
        return stored_mostly_repeats(
            entries[0].chunks, entries[0].chars, settings.ingest.chunk_size
        )

    flags = [repetitive(doc) for doc, _ in hits]
    if not any(flags):
        return hits
    return [h for h, f in zip(hits, flags, strict=True) if not f] + [
        h for h, f in zip(hits, flags, strict=True) if f
    ]


def _unseen(
    snap: Snapshot,
    skip: set[str],
    lexical: list[tuple[Document, float]],
    hits: list[tuple[Document, float]],
    exact_limit: int,
) -> list[Document]:
    """Chunks to score exactly: the keyword hits, and in a store of at most *exact_limit*
    chunks every chunk of a document not in *skip*; those already among *hits* left out."""
    docs = [doc for doc, _ in lexical]
    if len(snap.chunks) <= exact_limit:
        docs += [
            snap.chunk(i)
            for i, record in enumerate(snap.chunks)
            if record["metadata"].get("doc_sha256") not in skip
        ]
    seen = {doc.id for doc, _ in hits}
    unseen = {doc.id: doc for doc in docs if doc.id not in seen}
    return list(unseen.values())


def _rescored(
    store: DocumentStore, vector: list[float], docs: list[Document]
) -> list[tuple[Document, float]]:
    """*docs* with the exact cosine of their stored vectors to *vector*."""
    import numpy as np

    stored = store.chunk_vectors([doc.id or "" for doc in docs])
    query = np.asarray(vector, dtype=np.float32)
    scored = []
    for doc in docs:
        if (found := stored.get(doc.id or "")) is not None:
            other = np.asarray(found, dtype=np.float32)
            norm = float(np.linalg.norm(query) * np.linalg.norm(other)) or 1.0
            scored.append((doc, float(query @ other) / norm))
    return scored


def _merge(
    first: list[tuple[Document, float]], second: list[tuple[Document, float]]
) -> list[tuple[Document, float]]:
    """Hits of two dense queries, each chunk once, nearest first."""
    seen = {doc.id for doc, _ in first}
    merged = first + [(doc, score) for doc, score in second if doc.id not in seen]
    return sorted(merged, key=lambda pair: -pair[1])


def _score(side: Collapsed, key: str) -> float | None:
    hit = side.docs.get(key)
    return None if hit is None else hit[1]


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
