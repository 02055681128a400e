"""Chroma storage: chunks with embeddings, plus a manifest of whole documents.

Two collections live in one Chroma database (embedded folder or server):

* ``<prefix>_chunks`` (:mod:`rag.store.chunks`): one record per chunk (cosine space),
  id derived from document hash + chunker/model fingerprint + position, metadata
  ``source, title, start, end, index, doc_sha256, fingerprint, heading, context``
  (the heading path and what the chunk continues: see :mod:`rag.documents.chunking`).
* ``<prefix>_documents`` (:mod:`rag.store.manifest`): the manifest, one record per
  document *content* (SHA-256) with the full text (every offset points into it), its
  chunk count and every name (source path) it was ingested under: the same file in
  ``seeds/`` and in the uploads folder is one document with two names, and is
  embedded once.

Ingest is idempotent and crash-safe: chunks are upserted first, the manifest entries
are written *last* (all of a change in one write, so a name moving from one content to
another never sits in both), and chunks nothing vouches for any more are deleted after.
Documents are written in groups (:meth:`DocumentStore.upsert_documents`): one presence
check, one embedding call over the group's *distinct* new chunk texts, then the group's
manifest entries in one write, so a large folder costs a few store round trips per
group instead of several per document. Readers only trust chunks whose document hash
is in the manifest, and every ingest starts by deleting chunks the manifest does not
vouch for. Stores written before names existed (one manifest record per source) still
load, and are rewritten one record per content by the next ingest.

Modules: :mod:`~rag.store.entries` (entries, name lookups), :mod:`~rag.store.records`
(how entries are kept as records), :mod:`~rag.store.edit` (a change being prepared),
:mod:`~rag.store.manifest` and :mod:`~rag.store.chunks` (the two collections),
:mod:`~rag.store.views` (what readers trust, cached per generation token),
:mod:`~rag.store.writes` (the crash-safe order of writes, reconciliation),
:mod:`~rag.store.client` (opening Chroma, moving an embedded store aside) and
:mod:`~rag.store.store` (:class:`DocumentStore`, composing them).

Serialising concurrent writers is the caller's job (:mod:`rag.ingest.pipeline`). This package
does no chunking policy and no ranking.
"""

from rag.store.chunks import ChunkIndex, chunk_id
from rag.store.client import (
    BATCH,
    CHROMA_DB,
    LEXICAL_DIR,
    SCAN_PAGE,
    make_client,
    move_embedded_store_aside,
)
from rag.store.client import _is_store_file as _is_store_file
from rag.store.edit import ManifestEdit
from rag.store.entries import (
    ManifestEntry,
    Owners,
    StoreView,
    UnknownDocumentError,
    find_document,
    name_index,
    owners_of,
)
from rag.store.manifest import Manifest
from rag.store.records import entry_id as _entry_id
from rag.store.records import manifest_id as _manifest_id
from rag.store.records import resolve as _resolve
from rag.store.store import DocumentStore, stored_names

__all__ = [
    "BATCH",
    "CHROMA_DB",
    "LEXICAL_DIR",
    "SCAN_PAGE",
    "ChunkIndex",
    "DocumentStore",
    "Manifest",
    "ManifestEdit",
    "ManifestEntry",
    "Owners",
    "StoreView",
    "UnknownDocumentError",
    "_entry_id",
    "_is_store_file",
    "_manifest_id",
    "_resolve",
    "chunk_id",
    "find_document",
    "make_client",
    "move_embedded_store_aside",
    "name_index",
    "owners_of",
    "stored_names",
]
