"""Chroma storage: chunks with embeddings, plus a manifest of whole documents.

Two collections live in one Chroma database (embedded folder or server):

* ``<prefix>_chunks``: one record per chunk (langchain-chroma, cosine space), id
  derived from document hash + chunker/model fingerprint + position, metadata
  ``source, title, start, end, index, doc_sha256, fingerprint``.
* ``<prefix>_documents``: the manifest, one record per source with the full text
  (every offset points into it), its hash and chunk count.

Ingest is idempotent and crash-safe: chunks are upserted first, the manifest entries
are written *last*, and stale chunks are deleted after. Documents are written in
groups (:meth:`DocumentStore.upsert_documents`): one presence check, one embedding
call over the group's *distinct* new chunk texts, then the group's manifest entries
in one write, so a large folder costs a few store round trips per group instead of
several per document. Readers only trust chunks
whose document hash is in the manifest, and every ingest starts by deleting chunks
the manifest does not vouch for. Serialising concurrent ingests is the caller's job
(:mod:`rag.ingest`). This module does no chunking policy and no ranking.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from rag.chunking import Chunk
from rag.config import Settings
from rag.documents import SourceDocument
from rag.errors import StoreCorruptError, StoreEmptyError

log = logging.getLogger(__name__)

BATCH = 256
SCAN_PAGE = 5000  # chunk records per read when scanning the whole collection
_GENERATION_ID = "__generation__"


Owners = dict[tuple[str, str], list["ManifestEntry"]]


@dataclass(frozen=True)
class ManifestEntry:
    """What the store knows about one ingested document."""

    source: str
    title: str
    sha256: str
    fingerprint: str
    chunks: int
    chars: int
    ingested_at: str


def chunk_id(doc_sha256: str, fingerprint: str, index: int) -> str:
    """Content-derived chunk id: same file + same settings => same id."""
    return hashlib.sha256(f"{doc_sha256}|{fingerprint}|{index}".encode()).hexdigest()[:32]


def _manifest_id(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:32]


def make_client(settings: Settings) -> Any:
    """A Chroma client: HTTP when ``chroma_url`` is set, else embedded in ``store_dir``."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
    try:
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or 8000,
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        settings.store_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.store_dir), settings=chroma_settings)
    except Exception as exc:  # chromadb raises many unrelated types here
        where = settings.chroma_url or settings.store_dir
        raise StoreCorruptError(
            f"Cannot open the Chroma store at {where} ({type(exc).__name__}: {exc}). "
            "Check that it is reachable, or rebuild it with `python -m rag ingest --reset`."
        ) from exc


KEEP_ON_WIPE = ("uploads", ".ingest.lock")


def wipe_embedded_store(settings: Settings) -> None:
    """Delete an embedded store's database files, even unreadable ones.

    Uploaded documents and the lock file are kept: a rebuild re-ingests the
    uploads instead of losing them. Server stores are reset through the client.
    """
    if settings.chroma_url or not settings.store_dir.is_dir():
        return
    for child in settings.store_dir.iterdir():
        if child.name in KEEP_ON_WIPE:
            continue
        log.warning("rebuild: deleting %s", child)
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()


def owners_of(manifest: dict[str, ManifestEntry]) -> Owners:
    """Group manifest entries by content version (see :meth:`DocumentStore.owners`)."""
    owners: Owners = {}
    for entry in sorted(manifest.values(), key=lambda e: e.source):
        owners.setdefault((entry.sha256, entry.fingerprint), []).append(entry)
    return owners


class DocumentStore:
    """Chunks and manifest in Chroma; all reads filter through the manifest."""

    def __init__(self, settings: Settings, embeddings: Embeddings, client: Any = None) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self.client = client or make_client(settings)
        self.fingerprint = settings.chunking_fingerprint()
        self._open()

    def _open(self) -> None:
        from langchain_chroma import Chroma

        settings = self.settings
        self.chunks = Chroma(
            collection_name=f"{settings.collection}_chunks",
            embedding_function=self.embeddings,
            client=self.client,
            collection_configuration={"hnsw": {"space": "cosine"}},
        )
        self._manifest = self.client.get_or_create_collection(
            f"{settings.collection}_documents", embedding_function=None
        )

    # ----- manifest -------------------------------------------------------------
    def manifest(self) -> dict[str, ManifestEntry]:
        """Every document in the store, by source."""
        metas = (
            meta
            for got in self._scan(["metadatas"], self._manifest)
            for meta in got["metadatas"] or []
            if "generation" not in meta
        )
        entries = (ManifestEntry(**meta) for meta in metas)
        return {entry.source: entry for entry in entries}

    def generation(self) -> str:
        """A token that changes whenever documents are added, changed or removed.

        Cheap (one lookup by id), so readers can check it on every query.
        """
        got = self._manifest.get(ids=[_GENERATION_ID], include=["metadatas"])
        metas = got["metadatas"] or []
        return str(metas[0]["generation"]) if metas else "empty"

    def _bump_generation(self) -> None:
        self._manifest.upsert(
            ids=[_GENERATION_ID],
            metadatas=[{"generation": uuid.uuid4().hex}],
            embeddings=[[1.0]],
        )

    def document_text(self, source: str) -> str:
        """Full text of an ingested document (the text offsets refer to)."""
        got = self._manifest.get(ids=[_manifest_id(source)], include=["documents"])
        if not got["documents"]:
            raise StoreEmptyError(f"{source} is not in the store; ingest it first.")
        return got["documents"][0]

    def _write_manifest(self, docs: Sequence[tuple[SourceDocument, int]]) -> list[ManifestEntry]:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        entries = [
            ManifestEntry(
                source=doc.source,
                title=doc.title,
                sha256=doc.sha256,
                fingerprint=self.fingerprint,
                chunks=chunks,
                chars=len(doc.text),
                ingested_at=now,
            )
            for doc, chunks in docs
        ]
        self._manifest.upsert(
            ids=[_manifest_id(doc.source) for doc, _ in docs],
            documents=[doc.text for doc, _ in docs],
            metadatas=[entry.__dict__ for entry in entries],
            embeddings=[[1.0]] * len(docs),  # the manifest is looked up by id, never by vector
        )
        return entries

    # ----- writing --------------------------------------------------------------
    def upsert_document(
        self,
        doc: SourceDocument,
        chunks: Sequence[Chunk],
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Store *doc*'s chunks (embedding only new ones), then its manifest entry.

        Returns the number of chunks that had to be embedded.
        """
        return self.upsert_documents([(doc, chunks)], progress=progress)

    def upsert_documents(
        self,
        items: Sequence[tuple[SourceDocument, Sequence[Chunk]]],
        manifest: dict[str, ManifestEntry] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Store a group of documents: all their chunks first, then their manifest entries.

        Only chunks whose id is not in the store are embedded, and each distinct text
        once. *manifest* (the caller's copy of :meth:`manifest`, saving a full read
        per group) is updated in place. Returns the number of chunks embedded.
        """
        manifest = self.manifest() if manifest is None else manifest
        planned = [
            (doc, chunks, [chunk_id(doc.sha256, self.fingerprint, c.index) for c in chunks])
            for doc, chunks in items
        ]
        present = self._present([cid for _, _, ids in planned for cid in ids])
        todo: dict[str, tuple[SourceDocument, Chunk]] = {}
        for doc, chunks, ids in planned:
            for cid, chunk in zip(ids, chunks, strict=True):
                if cid not in present:
                    todo.setdefault(cid, (doc, chunk))
        self._add(todo, progress)
        previous = [manifest[doc.source] for doc, _ in items if doc.source in manifest]
        entries = self._write_manifest([(doc, len(chunks)) for doc, chunks in items])
        manifest.update({entry.source: entry for entry in entries})
        self._bump_generation()
        owners = owners_of(manifest)
        for old in previous:
            self._drop_if_unused(old.sha256, old.fingerprint, owners)
        return len(todo)

    def _present(self, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for first in range(0, len(ids), BATCH * 8):
            found.update(self.chunks.get(ids=ids[first : first + BATCH * 8], include=[])["ids"])
        return found

    def _add(
        self,
        todo: dict[str, tuple[SourceDocument, Chunk]],
        progress: Callable[[int], None] | None,
    ) -> None:
        """Embed each distinct text of *todo* once, then write the chunks in batches."""
        texts = list(dict.fromkeys(chunk.text for _, chunk in todo.values()))
        vectors = dict(zip(texts, self.embeddings.embed_documents(texts), strict=True))
        items = list(todo.items())
        collection = self.chunks._collection  # noqa: SLF001 - add with precomputed vectors
        for first in range(0, len(items), BATCH):
            batch = items[first : first + BATCH]
            embeddings: list[Sequence[float]] = [vectors[chunk.text] for _, (_, chunk) in batch]
            collection.upsert(
                ids=[cid for cid, _ in batch],
                embeddings=embeddings,
                documents=[chunk.text for _, (_, chunk) in batch],
                metadatas=[self._chunk_metadata(doc, chunk) for _, (doc, chunk) in batch],
            )
            if progress:
                progress(len(batch))

    def _chunk_metadata(self, doc: SourceDocument, chunk: Chunk) -> dict[str, Any]:
        return {
            "source": doc.source,
            "title": doc.title,
            "start": chunk.start,
            "end": chunk.end,
            "index": chunk.index,
            "doc_sha256": doc.sha256,
            "fingerprint": self.fingerprint,
        }

    def _drop_if_unused(self, sha256: str, fingerprint: str, owners: Owners | None = None) -> None:
        """Delete a content version's chunks unless another source still has that content."""
        owners = self.owners() if owners is None else owners
        if (sha256, fingerprint) in owners:
            return
        where: Any = {"$and": [{"doc_sha256": sha256}, {"fingerprint": fingerprint}]}
        stale = self.chunks.get(where=where, include=[])["ids"]
        if stale:
            self.chunks.delete(ids=stale)

    def remove_document(
        self, source: str, manifest: dict[str, ManifestEntry] | None = None
    ) -> None:
        """Forget a document: manifest entry first, then its chunks (if unshared).

        *manifest*, when given, is the caller's copy and is updated in place.
        """
        manifest = self.manifest() if manifest is None else manifest
        entry = manifest.pop(source, None)
        self._manifest.delete(ids=[_manifest_id(source)])
        self._bump_generation()
        if entry:
            self._drop_if_unused(entry.sha256, entry.fingerprint, owners_of(manifest))

    def reconcile(self) -> int:
        """Delete chunks no manifest entry vouches for (left by an interrupted ingest).

        When the chunk count is exactly what the manifest accounts for (the usual
        case) nothing can be orphaned and the full scan is skipped.
        """
        valid = self.owners()
        if self.count_chunks() == sum(entries[0].chunks for entries in valid.values()):
            return 0
        orphans = [
            cid
            for got in self._scan(["metadatas"])
            for cid, meta in zip(got["ids"], got["metadatas"] or [], strict=True)
            if self._key(meta) not in valid
        ]
        for first in range(0, len(orphans), BATCH * 20):
            self.chunks.delete(ids=orphans[first : first + BATCH * 20])
        if orphans:
            log.warning("removed %d chunks left by an interrupted ingest", len(orphans))
        return len(orphans)

    def reset(self) -> None:
        """Drop both collections and recreate them empty."""
        for name in (f"{self.settings.collection}_chunks", f"{self.settings.collection}_documents"):
            try:
                self.client.delete_collection(name)
            except Exception:  # noqa: BLE001 - absent collection: nothing to drop
                log.debug("collection %s did not exist", name)
        self._open()

    # ----- reading --------------------------------------------------------------
    def owners(self) -> Owners:
        """For each trusted content version (hash, fingerprint): the sources holding it.

        Identical files under several names share one set of chunks; the first
        source (alphabetically) is shown, the others are listed in ``also_in``.
        """
        return owners_of(self.manifest())

    @staticmethod
    def _key(meta: dict[str, Any]) -> tuple[str, str]:
        return (meta.get("doc_sha256", ""), meta.get("fingerprint", ""))

    def _attributed(self, doc: Document, owners: Owners) -> Document:
        """*doc* with source and title taken from the manifest (the chunk may be shared)."""
        entries = owners[self._key(doc.metadata)]
        meta = {**doc.metadata, "source": entries[0].source, "title": entries[0].title}
        meta["also_in"] = ", ".join(e.source for e in entries[1:])
        return Document(page_content=doc.page_content, metadata=meta, id=doc.id)

    def _scan(self, include: list[str], collection: Any = None) -> Iterator[dict[str, Any]]:
        """Every record of *collection* (default: the chunks), ``SCAN_PAGE`` at a time.

        One unpaged ``get`` of a large collection fails inside Chroma ("too many SQL
        variables", from about 32,000 records), so full reads go page by page.
        """
        offset = 0
        while True:
            source = self.chunks if collection is None else collection
            got = source.get(include=include, limit=SCAN_PAGE, offset=offset)
            if not got["ids"]:
                return
            yield got
            if len(got["ids"]) < SCAN_PAGE:
                return
            offset += SCAN_PAGE

    def all_chunks(self, owners: Owners | None = None) -> list[Document]:
        """Every trusted chunk, in a stable order (source, index)."""
        owners = owners if owners is not None else self.owners()
        docs = [
            self._attributed(Document(page_content=text, metadata=meta, id=cid), owners)
            for got in self._scan(["documents", "metadatas"])
            for cid, text, meta in zip(
                got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True
            )
            if self._key(meta) in owners
        ]
        return sorted(docs, key=lambda d: (d.metadata["source"], d.metadata["index"]))

    def chunks_by_id(self, ids: Sequence[str], owners: Owners | None = None) -> list[Document]:
        """The trusted chunks among *ids*, in the order given (unknown ids skipped)."""
        if not ids:
            return []
        owners = owners if owners is not None else self.owners()
        got = self.chunks.get(ids=list(ids), include=["documents", "metadatas"])
        found = {
            cid: self._attributed(Document(page_content=text, metadata=meta, id=cid), owners)
            for cid, text, meta in zip(
                got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True
            )
            if self._key(meta) in owners
        }
        return [found[cid] for cid in ids if cid in found]

    def dense_search(
        self, vector: list[float], n: int, owners: Owners | None = None
    ) -> list[tuple[Document, float]]:
        """Nearest chunks to *vector* with cosine similarity, trusted chunks only."""
        count = self.count_chunks()
        if not count:
            return []
        owners = owners if owners is not None else self.owners()
        hits = self.chunks.similarity_search_by_vector_with_relevance_scores(
            vector, k=min(n, count)
        )
        return [
            (self._attributed(doc, owners), 1.0 - dist)
            for doc, dist in hits
            if self._key(doc.metadata) in owners
        ]

    def count_chunks(self) -> int:
        """Number of chunk records (including any not yet reconciled)."""
        return self.chunks._collection.count()  # noqa: SLF001 - no public count in langchain-chroma

    def count_documents(self) -> int:
        """Number of documents in the manifest, without reading it (two cheap calls)."""
        records = self._manifest.count()
        return max(0, records - (self.generation() != "empty"))

    def require_documents(self) -> int:
        """The number of documents, or a clear error when nothing has been ingested.

        Called before every question, so it counts instead of reading the whole
        manifest, whose cost grows with the number of documents.
        """
        count = self.count_documents()
        if not count:
            raise StoreEmptyError(
                "The document store is empty; run `python -m rag ingest` (or `make run`) first."
            )
        return count
