"""The chunk index: one Chroma record per chunk, with its embedding (cosine space).

A chunk's id is derived from its document's hash, the chunker/model fingerprint and
its position, so the same file under the same settings always gives the same ids;
its metadata is ``source, title, start, end, index, doc_sha256, fingerprint, heading,
context`` (``heading``: the chunk's heading path, " > "-joined, "" when none).
Reads go through the trust filter: a chunk is returned only when its content
version ``(doc_sha256, fingerprint)`` is in the manifest's owners, with source and
title taken from the manifest (identical files share chunks).

This module does not decide which chunks a document has (the caller chunks) and
does not rank beyond Chroma's nearest neighbours.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from rag.documents import SourceDocument
from rag.documents.chunking import Chunk, indexed_text
from rag.store.client import BATCH, scan
from rag.store.entries import Owners

Todo = dict[str, tuple[SourceDocument, Chunk]]  # chunk id -> what to embed and write
Items = Sequence[tuple[SourceDocument, Sequence[Chunk]]]  # documents with their chunks


def chunk_id(doc_sha256: str, fingerprint: str, index: int) -> str:
    """Content-derived chunk id: same file + same settings => same id."""
    return hashlib.sha256(f"{doc_sha256}|{fingerprint}|{index}".encode()).hexdigest()[:32]


def version_of(meta: dict[str, Any]) -> tuple[str, str]:
    """The content version a chunk belongs to: ``(doc_sha256, fingerprint)``."""
    return (meta.get("doc_sha256", ""), meta.get("fingerprint", ""))


def attributed(doc: Document, owners: Owners) -> Document:
    """*doc* with source and title taken from the manifest (the chunk may be shared)."""
    entries = owners[version_of(doc.metadata)]
    first = entries[0]
    meta = {**doc.metadata, "source": first.source, "title": first.title}
    others = [name for entry in entries for name in entry.names if name != first.source]
    meta["also_in"] = ", ".join(others)
    return Document(page_content=doc.page_content, metadata=meta, id=doc.id)


def _trusted(records: Iterable[tuple[str, str, Any]], owners: Owners) -> list[Document]:
    """``(id, text, metadata)`` records whose version *owners* vouches for, attributed."""
    return [
        attributed(_document(cid, text, meta), owners)
        for cid, text, meta in records
        if version_of(meta) in owners
    ]


def _document(cid: str, text: str, meta: Any) -> Document:
    return Document(page_content=text, metadata=dict(meta or {}), id=cid)


class ChunkIndex:
    """The ``<prefix>_chunks`` collection: writes, presence, deletes and trusted reads."""

    def __init__(self, client: Any, name: str, embeddings: Embeddings) -> None:
        self.embeddings = embeddings
        # No embedding function: vectors are always passed in, so Chroma's default
        # function (which downloads a model) can never run.
        self.collection = client.get_or_create_collection(
            name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )

    def count(self) -> int:
        """Number of chunk records (including any not yet reconciled)."""
        return int(self.collection.count())

    def missing(self, items: Items, fingerprint: str) -> Todo:
        """The chunks of *items* not in the index yet, each id once (one presence check)."""
        planned = [
            (doc, chunks, [chunk_id(doc.sha256, fingerprint, c.index) for c in chunks])
            for doc, chunks in items
        ]
        present = self._present([cid for _, _, ids in planned for cid in ids])
        todo: Todo = {}
        for doc, chunks, ids in planned:
            for cid, chunk in zip(ids, chunks, strict=True):
                if cid not in present:
                    todo.setdefault(cid, (doc, chunk))
        return todo

    def _present(self, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for first in range(0, len(ids), BATCH * 8):
            found.update(self.collection.get(ids=ids[first : first + BATCH * 8], include=[])["ids"])
        return found

    def write(self, todo: Todo, fingerprint: str, progress: Callable[[int], None] | None) -> None:
        """Embed each distinct text of *todo* once, then write the chunks in batches.

        What is embedded is :func:`rag.documents.chunking.indexed_text` (the document's title and
        the chunk's heading path and context before its text); what is stored is the
        chunk's text alone, so every offset stays the document's.
        """
        metadata = {
            cid: chunk_metadata(doc, chunk, fingerprint) for cid, (doc, chunk) in todo.items()
        }
        indexed = {cid: indexed_text(chunk.text, metadata[cid]) for cid, (_, chunk) in todo.items()}
        texts = list(dict.fromkeys(indexed.values()))
        vectors = dict(zip(texts, self.embeddings.embed_documents(texts), strict=True))
        items = list(todo.items())
        for first in range(0, len(items), BATCH):
            batch = items[first : first + BATCH]
            embeddings: list[Sequence[float]] = [vectors[indexed[cid]] for cid, _ in batch]
            self.collection.upsert(
                ids=[cid for cid, _ in batch],
                embeddings=embeddings,
                documents=[chunk.text for _, (_, chunk) in batch],
                metadatas=[metadata[cid] for cid, _ in batch],
            )
            if progress:
                progress(len(batch))

    def delete_version(self, sha256: str, fingerprint: str) -> int:
        """Delete every chunk of one content version; returns how many there were."""
        where: Any = {"$and": [{"doc_sha256": sha256}, {"fingerprint": fingerprint}]}
        stale = self.collection.get(where=where, include=[])["ids"]
        if stale:
            self.collection.delete(ids=stale)
        return len(stale)

    def delete_unowned(self, owners: Owners) -> int:
        """Delete every chunk whose version *owners* does not hold; returns how many."""
        orphans = [
            cid
            for got in scan(self.collection, ["metadatas"])
            for cid, meta in zip(got["ids"], got["metadatas"] or [], strict=True)
            if version_of(meta) not in owners
        ]
        for first in range(0, len(orphans), BATCH * 20):
            self.collection.delete(ids=orphans[first : first + BATCH * 20])
        return len(orphans)

    def all(self, owners: Owners) -> list[Document]:
        """Every trusted chunk, in a stable order (source, index)."""
        docs = _trusted(
            (
                record
                for got in scan(self.collection, ["documents", "metadatas"])
                for record in zip(
                    got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True
                )
            ),
            owners,
        )
        return sorted(docs, key=lambda d: (d.metadata["source"], d.metadata["index"]))

    def by_id(self, ids: Sequence[str], owners: Owners) -> list[Document]:
        """The trusted chunks among *ids*, in the order given (unknown ids skipped)."""
        if not ids:
            return []
        got = self.collection.get(ids=list(ids), include=["documents", "metadatas"])
        records = zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True)
        found = {doc.id: doc for doc in _trusted(records, owners)}
        return [found[cid] for cid in ids if cid in found]

    def vectors(self, ids: Sequence[str]) -> dict[str, Sequence[float]]:
        """The stored embedding of each chunk among *ids* (unknown ids left out)."""
        if not ids:
            return {}
        got = self.collection.get(ids=list(ids), include=["embeddings"])
        vectors = got["embeddings"] if got["embeddings"] is not None else []
        return dict(zip(got["ids"], vectors, strict=True))

    def nearest(
        self,
        vector: list[float],
        n: int,
        owners: Owners,
        skip: Collection[str] = (),
        trusted_only: bool = False,
    ) -> list[tuple[Document, float]]:
        """Nearest chunks to *vector* with cosine similarity, trusted chunks only.

        One query, no count first: Chroma returns fewer than *n* when it holds fewer.
        *skip*: content hashes whose chunks Chroma leaves out; *trusted_only*: Chroma
        itself leaves out chunks *owners* does not vouch for (instead of this method
        after the query), so they cannot take the places of trusted ones.
        """
        if not owners:  # nothing could be trusted: no need to ask
            return []
        got = self.collection.query(
            query_embeddings=[vector],
            n_results=n,
            where=_where(skip, owners if trusted_only else None),
            include=["documents", "metadatas", "distances"],
        )
        hits = zip(
            got["ids"][0],
            (got["documents"] or [[]])[0],
            (got["metadatas"] or [[]])[0],
            (got["distances"] or [[]])[0],
            strict=True,
        )
        return [
            (attributed(_document(cid, text, meta), owners), 1.0 - dist)
            for cid, text, meta, dist in hits
            if text is not None and version_of(meta or {}) in owners
        ]


def _where(skip: Collection[str], owners: Owners | None) -> Any:
    """A Chroma filter leaving out the hashes in *skip*, and keeping only *owners*' ones."""
    clauses: list[dict[str, Any]] = []
    if skip:
        clauses.append({"doc_sha256": {"$nin": sorted(skip)}})
    if owners is not None:
        clauses.append({"doc_sha256": {"$in": sorted({sha for sha, _ in owners})}})
    if len(clauses) > 1:
        return {"$and": clauses}
    return clauses[0] if clauses else None


def chunk_metadata(doc: SourceDocument, chunk: Chunk, fingerprint: str) -> dict[str, Any]:
    """What Chroma stores beside a chunk (and what the Ray ingest indexes with its text)."""
    return {
        "source": doc.source,
        "title": doc.title,
        "start": chunk.start,
        "end": chunk.end,
        "index": chunk.index,
        "doc_sha256": doc.sha256,
        "fingerprint": fingerprint,
        "heading": chunk.heading,
        "context": chunk.context,
    }
