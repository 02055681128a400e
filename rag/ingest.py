"""The ingest use case: files and folders in, an :class:`IngestReport` out.

Loads documents, chunks them, and hands them to the store in groups of about
``settings.ingest_batch`` chunks (each group: chunks first, manifest entries last), under an
exclusive lock so two ingests never interleave: a file lock on this machine and,
with a Chroma server, a lease in the server (:mod:`rag.lease`) renewed before every
group, so machines sharing the server take turns too. A folder is *synced*: documents
previously ingested from inside it that no longer exist are removed. A bad file in
a folder is reported and skipped; the others are still ingested.

Large folders: a first pass reads each file once to skip unchanged documents and
count the chunks still to do (so progress has a total and an ETA); texts are kept
from that pass only up to ``KEEP_CHARS`` characters in all, the rest are read
again when their group comes, so memory does not grow with the folder. An ingest
interrupted at any point resumes without redoing finished documents: each group's
manifest entries vouch for exactly the documents that are complete.

This module does not know how chunks are embedded or stored (see :mod:`rag.store`).
"""

from __future__ import annotations

import fcntl
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rag.chunking import Chunk, chunk_text
from rag.config import Settings
from rag.documents import SourceDocument, iter_files, load_file, source_key
from rag.errors import DocumentError, StoreLockedError
from rag.store import DocumentStore, ManifestEntry

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total): chunks, or documents
KEEP_CHARS = 20_000_000  # document text kept between the two passes, at most


@dataclass
class IngestReport:
    """What an ingest did, in numbers a user can check."""

    documents: int = 0
    chunks: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    embedded: int = 0
    reconciled: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@contextmanager
def ingest_lock(settings: Settings, timeout: float = 600.0) -> Iterator[None]:
    """Hold an exclusive file lock on the store for the duration of an ingest."""
    settings.store_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.store_dir / ".ingest.lock", "w") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreLockedError(
                        "Another ingest has held the store lock for too long; "
                        "wait for it to finish or stop it, then try again."
                    ) from None
                log.info("waiting for another ingest to finish")
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def server_lease(store: DocumentStore) -> Iterator[Callable[[], None]]:
    """Hold the Chroma server's ingest lease (server mode only); yields its renew call."""
    if not store.settings.chroma_url:
        yield lambda: None
        return
    from rag.lease import ServerLease

    lease = ServerLease(store.client, store.settings.collection)
    lease.acquire()
    try:
        yield lease.renew
    finally:
        lease.release()


@dataclass
class _Planned:
    """A document that needs work; ``doc`` is None when its text was not kept."""

    path: Path | None
    source: str
    chunks: int
    doc: SourceDocument | None


def _plan(
    paths: Sequence[Path],
    store: DocumentStore,
    manifest: dict[str, ManifestEntry],
    report: IngestReport,
    seen: set[str],
) -> list[_Planned]:
    """First pass: load every file once; skip the unchanged, count chunks of the rest."""
    settings = store.settings
    max_bytes = int(settings.max_file_mb * 1_000_000)
    plan: list[_Planned] = []
    kept = 0
    for path in iter_files(paths):
        try:
            doc = load_file(path, max_bytes)
        except DocumentError as exc:
            report.errors.append({"source": source_key(path), "error": str(exc)})
            seen.add(source_key(path))
            continue
        seen.add(doc.source)
        if _unchanged(doc, manifest, store):
            report.unchanged += 1
            continue
        count = len(chunk_text(doc.text, settings.chunk_size, settings.chunk_overlap))
        keep = kept + len(doc.text) <= KEEP_CHARS
        kept += len(doc.text) if keep else 0
        plan.append(_Planned(path, doc.source, count, doc if keep else None))
    return plan


def _unchanged(
    doc: SourceDocument, manifest: dict[str, ManifestEntry], store: DocumentStore
) -> bool:
    entry = manifest.get(doc.source)
    return bool(entry and entry.sha256 == doc.sha256 and entry.fingerprint == store.fingerprint)


def _groups(
    plan: list[_Planned], settings: Settings, report: IngestReport
) -> Iterator[list[tuple[SourceDocument, list[Chunk]]]]:
    """Second pass: documents with their chunks, in groups of about ``ingest_batch`` chunks."""
    max_bytes = int(settings.max_file_mb * 1_000_000)
    group: list[tuple[SourceDocument, list[Chunk]]] = []
    size = 0
    for item in plan:
        doc = item.doc
        if doc is None and item.path is not None:
            try:
                doc = load_file(item.path, max_bytes)
            except DocumentError as exc:  # changed or vanished since the first pass
                report.errors.append({"source": item.source, "error": str(exc)})
                continue
        if doc is None:
            continue
        item.doc = None  # let the text go once it is stored
        chunks = chunk_text(doc.text, settings.chunk_size, settings.chunk_overlap)
        group.append((doc, chunks))
        size += len(chunks)
        if size >= settings.ingest_batch:
            yield group
            group, size = [], 0
    if group:
        yield group


def _is_inside(source: str, folders: list[str]) -> bool:
    return any(source.startswith(folder.rstrip("/") + "/") for folder in folders)


def _remove_missing(
    store: DocumentStore,
    paths: Sequence[Path],
    seen: set[str],
    manifest: dict[str, ManifestEntry],
    report: IngestReport,
) -> None:
    folders = [source_key(p) for p in paths if p.is_dir()]
    for source in list(manifest):
        if source not in seen and _is_inside(source, folders):
            store.remove_document(source, manifest)
            report.removed += 1


def _store_plan(
    store: DocumentStore,
    plan: list[_Planned],
    manifest: dict[str, ManifestEntry],
    report: IngestReport,
    *,
    progress: Progress | None,
    documents: Progress | None,
    renew: Callable[[], None],
) -> None:
    """Embed and write the planned documents group by group, reporting progress.

    *renew* runs before each group: it raises when this ingest may no longer write.
    """
    total_chunks, total_docs = sum(p.chunks for p in plan), len(plan)
    done_chunks = done_docs = 0
    if progress:
        progress(0, total_chunks)
    if documents:
        documents(0, total_docs)
    for group in _groups(plan, store.settings, report):
        renew()
        existed = [doc.source in manifest for doc, _ in group]
        report.embedded += store.upsert_documents(group, manifest)
        report.updated += sum(existed)
        report.added += len(existed) - sum(existed)
        done_docs += len(group)
        done_chunks = min(total_chunks, done_chunks + sum(len(c) for _, c in group))
        log.info("ingested %d/%d documents (%d chunks)", done_docs, total_docs, done_chunks)
        if progress:
            progress(done_chunks, total_chunks)
        if documents:
            documents(done_docs, total_docs)


def ingest_paths(
    store: DocumentStore,
    paths: Sequence[Path],
    reset: bool = False,
    progress: Progress | None = None,
    documents: Progress | None = None,
) -> IngestReport:
    """Ingest files and folders into *store*; the whole run holds the ingest lock.

    *progress* is called with (chunks done, chunks to do), *documents* with
    (documents done, documents to do); unchanged documents are not counted.
    """
    started = time.perf_counter()
    report = IngestReport()
    with ingest_lock(store.settings), server_lease(store) as renew:
        if reset:
            store.reset()
        report.reconciled = store.reconcile()
        manifest = store.manifest()
        seen: set[str] = set()
        plan = _plan(paths, store, manifest, report, seen)
        _store_plan(
            store, plan, manifest, report, progress=progress, documents=documents, renew=renew
        )
        renew()
        _remove_missing(store, paths, seen, manifest, report)
    if reset or report.added or report.updated or report.removed:
        _prepare_lexical_index(store)
    report.documents = len(manifest)
    report.chunks = sum(entry.chunks for entry in manifest.values())
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _prepare_lexical_index(store: DocumentStore) -> None:
    """Build and save the BM25 index of the new generation now, so the next ``ask``
    (or app start) loads it instead of building it (~20 s per 100,000 chunks)."""
    from rag.retrieval import HybridRetriever

    HybridRetriever(settings=store.settings, store=store).snapshot()
