"""The document store: the chunk index and the manifest, kept consistent.

:class:`DocumentStore` composes :class:`~rag.store.chunks.ChunkIndex` and
:class:`~rag.store.manifest.Manifest` over one Chroma client and owns the order of
writes that makes ingest crash-safe. It holds no chunking policy, no ranking and no
locking (see :mod:`rag.ingest.pipeline`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from rag.config import Settings
from rag.errors import StoreCorruptError, StoreEmptyError
from rag.store import writes
from rag.store.chunks import ChunkIndex, Items
from rag.store.client import CHROMA_DB, forget_failed_system, looks_like_sqlite, make_client
from rag.store.edit import ManifestEdit
from rag.store.entries import ManifestEntry, Owners, StoreView, name_index, owners_of
from rag.store.manifest import Manifest
from rag.store.views import ViewCache

log = logging.getLogger(__name__)


class DocumentStore:
    """Chunks and manifest in Chroma; all reads filter through the manifest.

    Args:
        settings: Where the store is (``store.store_dir``, or ``store.chroma_url`` for a server),
            the collection prefix and the chunking fingerprint.
        embeddings: Embeds chunk texts on write (question vectors are the caller's).
        client: A raw ``chromadb`` client to share; default: :func:`make_client`.

    Raises:
        StoreCorruptError: an embedded store cannot be opened (a damaged folder); the
            message says how to rebuild it.
        StoreUnavailableError: the Chroma server at ``store.chroma_url`` cannot be reached.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from rag.documents.chunking import chunk_text
        >>> from rag.config import Settings
        >>> from rag.documents import load_file
        >>> from rag.embeddings import load_embeddings
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "lighthouse.txt").write_text(
        ...     "Penhallow light\\n\\nThe Penhallow lighthouse was first lit in 1871. "
        ...     "Its lamp can be seen 18 miles out to sea.\\n"
        ... )
        >>> settings = Settings(_env_file=None, store={"store_dir": folder / "store"})
        >>> store = DocumentStore(settings, load_embeddings(settings))
        >>> doc = load_file(folder / "lighthouse.txt", max_bytes=1_000_000)
        >>> store.upsert_documents([(doc, chunk_text(doc.text))])  # chunks embedded
        1
        >>> vector = store.embeddings.embed_query("When was the lighthouse first lit?")
        >>> [(best, score)] = store.dense_search(vector, n=3)
        >>> text = store.document_text(best.metadata["source"])
        >>> text[best.metadata["start"] : best.metadata["end"]] == best.page_content
        True
        >>> "1871" in best.page_content, 0 < score <= 1
        (True, True)
    """

    def __init__(self, settings: Settings, embeddings: Embeddings, client: Any = None) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self.client = client or make_client(settings)
        self.fingerprint = settings.chunking_fingerprint()
        self._open()

    def _open(self) -> None:
        prefix = self.settings.store.collection
        self.chunk_index = ChunkIndex(self.client, f"{prefix}_chunks", self.embeddings)
        self.manifest_store = Manifest(self.client, f"{prefix}_documents")
        self.chunks = self.chunk_index.collection
        self._manifest = self.manifest_store.collection
        self._views = ViewCache(self.manifest_store)

    # ----- manifest -------------------------------------------------------------
    def manifest(self) -> dict[str, ManifestEntry]:
        """Every document in the store (one per content), by source: a fresh read.

        Returns:
            A new dict the caller may change (the write methods update it in place).
        """
        return self.manifest_store.read().entries

    def generation(self) -> str:
        """A token that changes whenever documents are added, changed or removed.

        Cheap (one lookup by id), so readers can check it on every query.
        """
        return self.manifest_store.generation()

    def view(self) -> StoreView:
        """The documents readers trust now: the cached view, validated by one cheap call.

        The generation token is looked up (one call) and the manifest read again only
        when it changed. The view :meth:`require_documents` has just validated in this
        thread (at the start of a question) is used once without a second lookup, so a
        question checks the store once.
        """
        return self._views.take()

    def document_text(self, source: str) -> str:
        """Full text of an ingested document (the text offsets refer to), by any of its names.

        Raises:
            StoreEmptyError: no document has the name *source*.
        """
        return self.manifest_store.document_text(source)

    # ----- writing --------------------------------------------------------------
    def upsert_documents(
        self,
        items: Items,
        manifest: dict[str, ManifestEntry] | None = None,
        progress: Callable[[int], None] | None = None,
        before_manifest: Callable[[], None] | None = None,
    ) -> int:
        """Store a group of documents: all their chunks first, then their manifest entries.

        Only chunks whose id is not in the store are embedded, and each distinct text
        once. Each document's name joins the entry of its content and leaves any other
        (a changed file under a known name replaces its old content).

        Args:
            items: Documents with their chunks (offsets into ``doc.text``).
            manifest: The caller's copy of :meth:`manifest` (saves a full read per
                group); updated in place.
            progress: Called with the number of chunks written, batch by batch.
            before_manifest: Called between the chunks and the manifest entries; an
                ingest passes its lock check, so one that lost its lock while writing
                chunks stops before vouching for them (they stay unvouched: readers
                ignore them and the next ingest deletes them).

        Returns:
            The number of chunks embedded.
        """
        manifest = self.manifest() if manifest is None else manifest
        todo = self.chunk_index.missing(items, self.fingerprint)
        self.chunk_index.write(todo, self.fingerprint, progress)
        if before_manifest is not None:
            before_manifest()
        edit = ManifestEdit(manifest)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        for doc, chunks in items:
            edit.put(doc, len(chunks), self.fingerprint, now)
        self._commit(edit, manifest)
        return len(todo)

    def add_names(
        self, names: Sequence[tuple[str, str]], manifest: dict[str, ManifestEntry] | None = None
    ) -> list[str]:
        """Attach each ``(name, sha256)`` to the stored document with that content.

        Nothing is embedded or written to the chunks. A name leaves the document it
        named before. *manifest*: as in :meth:`upsert_documents`.

        Returns:
            The names whose content is not in the store (skipped).
        """
        manifest = self.manifest() if manifest is None else manifest
        edit = ManifestEdit(manifest)
        skipped = [name for name, sha in names if not edit.alias(name, sha)]
        self._commit(edit, manifest)
        return skipped

    def drop_names(
        self, names: Collection[str], manifest: dict[str, ManifestEntry] | None = None
    ) -> list[ManifestEntry]:
        """Forget *names*; a document left without any name is removed with its chunks.

        Returns:
            The documents removed, as they were. *manifest*: as in :meth:`upsert_documents`.
        """
        manifest = self.manifest() if manifest is None else manifest
        edit = ManifestEdit(manifest)
        edit.drop(names)
        return self._commit(edit, manifest)[0]

    def remove_document(self, source: str, manifest: dict[str, ManifestEntry] | None = None) -> int:
        """Remove the document *source* names, under every name, and its chunks.

        Manifest entry first, then the chunks. *manifest*: as in :meth:`upsert_documents`.

        Returns:
            The number of chunk records deleted (0 when no document has that name).
        """
        manifest = self.manifest() if manifest is None else manifest
        entry = name_index(manifest).get(source)
        if entry is None:
            return 0
        edit = ManifestEdit(manifest)
        edit.drop(entry.names)
        return self._commit(edit, manifest)[1]

    def _write_manifest(self, edit: ManifestEdit) -> None:
        self.manifest_store.write(edit)

    def _commit(
        self, edit: ManifestEdit, manifest: dict[str, ManifestEntry]
    ) -> tuple[list[ManifestEntry], int]:
        return writes.commit(
            edit,
            manifest,
            self._write_manifest,
            records=self.manifest_store,
            chunks=self.chunk_index,
            views=self._views,
        )

    def reconcile(self) -> int:
        """Delete chunks no manifest entry vouches for (left by an interrupted ingest).

        Also tidies the manifest (records a crash left, old-style records); skips the
        full scan when the chunk count is what the manifest accounts for.

        Returns:
            The number of chunk records deleted.
        """
        return writes.reconcile(self.manifest_store, self.chunk_index)

    def reset(self) -> None:
        """Drop both collections and recreate them empty."""
        for name in (
            f"{self.settings.store.collection}_chunks",
            f"{self.settings.store.collection}_documents",
        ):
            try:
                self.client.delete_collection(name)
            except Exception:  # noqa: BLE001 - absent collection: nothing to drop
                log.debug("collection %s did not exist", name)
        self._open()

    # ----- reading --------------------------------------------------------------
    def owners(self) -> Owners:
        """For each trusted content version (hash, fingerprint): the document holding it.

        Identical files under several names are one document with one set of chunks;
        its first name is shown, the others are listed in ``also_in``.
        """
        return owners_of(self.manifest())

    def all_chunks(self, owners: Owners | None = None) -> list[Document]:
        """Every trusted chunk, in a stable order (source, index).

        *owners* (here and below): what to trust; default: the current :meth:`view`.
        """
        return self.chunk_index.all(owners if owners is not None else self.view().owners)

    def chunks_by_id(self, ids: Sequence[str], owners: Owners | None = None) -> list[Document]:
        """The trusted chunks among *ids*, in the order given (unknown ids skipped)."""
        if not ids:
            return []
        return self.chunk_index.by_id(ids, owners if owners is not None else self.view().owners)

    def dense_search(
        self,
        vector: list[float],
        n: int,
        owners: Owners | None = None,
        *,
        skip: Collection[str] = (),
        trusted_only: bool = False,
    ) -> list[tuple[Document, float]]:
        """Nearest chunks to *vector*, trusted chunks only: one Chroma query.

        Args:
            vector: The query's embedding (``store.embeddings.embed_query(text)``).
            n: How many neighbours to ask Chroma for (fewer come back from a small
                store, or when some are not trusted).
            skip: Content hashes (``doc_sha256``) of documents to leave out.
            trusted_only: Leave untrusted chunks out in the query itself (slower on a
                large store; for when they crowd the neighbours).

        Returns:
            ``(chunk, cosine similarity)`` pairs, nearest first; source and title
            come from the manifest.
        """
        owners = owners if owners is not None else self.view().owners
        return self.chunk_index.nearest(vector, n, owners, skip, trusted_only)

    def chunk_vectors(self, ids: Sequence[str]) -> dict[str, Sequence[float]]:
        """The stored embedding of each chunk among *ids*, by id (unknown ids left out)."""
        return self.chunk_index.vectors(ids)

    def count_chunks(self) -> int:
        """Number of chunk records (including any not yet reconciled)."""
        return self.chunk_index.count()

    def count_documents(self) -> int:
        """Number of documents in the manifest, without reading it (two cheap calls)."""
        records = self.manifest_store.count_records()
        return max(0, records - (self.generation() != "empty"))

    def require_documents(self) -> int:
        """The number of documents, or a clear error when nothing has been ingested.

        Called before every question: one lookup of the generation token validates the
        cached view (the manifest is read only when the store changed), and the
        question's retrieval in this thread reuses that check (see :meth:`view`).

        Raises:
            StoreEmptyError: the store holds no document; the message says to ingest.
        """
        view = self._views.current()
        if not view.manifest:
            raise StoreEmptyError(
                "The document store is empty; run `python -m rag ingest` (or `make run`) first."
            )
        self._views.hand(view)
        return len(view.manifest)


def stored_names(settings: Settings, embeddings: Embeddings) -> list[str] | None:
    """Every document name in an embedded store, read before a rebuild wipes it.

    The client is closed after, so the folder can be deleted. ``[]`` for a server
    store or no store yet; None when the store cannot be read.
    """
    database = settings.store.store_dir / CHROMA_DB
    if settings.store.chroma_url or not database.exists():
        return []
    if not looks_like_sqlite(database):
        return None
    try:
        client = make_client(settings)
    except StoreCorruptError:
        forget_failed_system(settings)
        return None
    try:
        manifest = DocumentStore(settings, embeddings, client).manifest()
    except Exception as exc:  # noqa: BLE001 - a damaged store: the rebuild is the repair
        log.warning("cannot read the documents of %s (%s)", settings.store.store_dir, exc)
        return None
    finally:
        client.close()
    return list(name_index(manifest))
