"""The manifest collection: documents, their full texts and the generation token.

``<prefix>_documents`` holds one record per document content (see
:mod:`rag.store.records`) and one ``__generation__`` record whose token changes
with every committed change, so a reader can tell with one lookup by id whether
what it cached is still current. Records are looked up by id or metadata, never
by vector: their embedding is a constant ``[1.0]``.

This module does not touch chunks and does not decide what a change is
(:class:`~rag.store.edit.ManifestEdit` does).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from rag.errors import StoreEmptyError
from rag.store.client import BATCH, scan
from rag.store.edit import ManifestEdit
from rag.store.entries import name_index
from rag.store.records import GENERATION_ID, Scan, entry_id, entry_meta, resolve

log = logging.getLogger(__name__)

_NO_VECTOR = [1.0]  # manifest records are never searched by vector


class Manifest:
    """Reads and writes of the manifest collection *name* through a raw Chroma client."""

    def __init__(self, client: Any, name: str) -> None:
        self.collection = client.get_or_create_collection(name, embedding_function=None)

    def read(self) -> Scan:
        """Every record, resolved into entries (plus what a tidy-up should touch)."""
        records = [
            (rid, meta)
            for got in scan(self.collection, ["metadatas"])
            for rid, meta in zip(got["ids"], got["metadatas"] or [], strict=True)
            if meta and "generation" not in meta
        ]
        return resolve(records)

    def generation(self) -> str:
        """The current generation token (one lookup by id); ``"empty"`` before any write."""
        got = self.collection.get(ids=[GENERATION_ID], include=["metadatas"])
        metas = got["metadatas"] or []
        return str(metas[0]["generation"]) if metas else "empty"

    def bump_generation(self) -> None:
        """Give the store a new generation token: readers' caches become stale."""
        self.collection.upsert(
            ids=[GENERATION_ID],
            metadatas=[{"generation": uuid.uuid4().hex}],
            embeddings=[_NO_VECTOR],
        )

    def count_records(self) -> int:
        """Records in the collection, the generation record included."""
        return int(self.collection.count())

    def document_text(self, source: str) -> str:
        """Full text of the document *source* names (any of its names).

        Raises :class:`StoreEmptyError` when no document has that name.
        """
        got = self.collection.get(where={"source": source}, include=["documents", "metadatas"])
        for text, meta in zip(got["documents"] or [], got["metadatas"] or [], strict=True):
            if text and meta and "names" in meta:
                return str(text)
        entry = name_index(self.read().entries).get(source)  # another name, or old-style
        text = self.text_of(entry.sha256) if entry else ""
        if not text:
            raise StoreEmptyError(f"{source} is not in the store; ingest it first.")
        return text

    def text_of(self, sha256: str) -> str:
        """Full text stored for content *sha256* ("" when there is none)."""
        got = self.collection.get(where={"sha256": sha256}, include=["documents"])
        return next((str(text) for text in got["documents"] or [] if text), "")

    def write(self, edit: ManifestEdit) -> None:
        """Write every changed entry of *edit* in one upsert, then delete emptied ones.

        A removed document is first written without names (so the one write moves
        names atomically), then deleted; a crash in between leaves a record that
        reads as nothing and the next ingest deletes.
        """
        changes = edit.changes()
        if not changes:
            return
        kept = [entry for entry in changes.values() if entry is not None]
        gone = [sha for sha, entry in changes.items() if entry is None]
        texts = [edit.texts.get(e.sha256) or self.text_of(e.sha256) for e in kept]
        self.collection.upsert(
            ids=[entry_id(e.sha256) for e in kept] + [entry_id(sha) for sha in gone],
            documents=texts + [""] * len(gone),
            metadatas=[entry_meta(e) for e in kept]
            + [{"sha256": sha, "names": "[]"} for sha in gone],
            embeddings=[_NO_VECTOR] * len(changes),
        )
        if gone:
            self.collection.delete(ids=[entry_id(sha) for sha in gone])

    def tidy(self, scan: Scan) -> None:
        """Delete records nothing reads; rewrite old-style ones, one record per content."""
        by_sha = {entry.sha256: entry for entry in scan.entries.values()}
        for sha, ids in scan.legacy.items():
            self.collection.upsert(
                ids=[entry_id(sha)],
                documents=[self.text_of(sha)],
                metadatas=[entry_meta(by_sha[sha])],
                embeddings=[_NO_VECTOR],
            )
            scan.stale.extend(ids)
        for first in range(0, len(scan.stale), BATCH):
            self.collection.delete(ids=scan.stale[first : first + BATCH])
        if scan.legacy:
            log.info("manifest: %d documents rewritten with their names", len(scan.legacy))
