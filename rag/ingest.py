"""The ingest use case: files and folders in, an :class:`IngestReport` out.

Loads documents, chunks them, and hands them to the store one document at a time,
under an exclusive lock so two ingests never interleave. A folder is *synced*:
documents previously ingested from inside it that no longer exist are removed.
A bad file in a folder is reported and skipped; the others are still ingested.

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

from rag.chunking import chunk_text
from rag.config import Settings
from rag.documents import SourceDocument, iter_files, load_file, source_key
from rag.errors import DocumentError, StoreLockedError
from rag.store import DocumentStore

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (chunks done, chunks total)


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


def _load_all(
    paths: Sequence[Path], settings: Settings, report: IngestReport
) -> list[SourceDocument]:
    docs: list[SourceDocument] = []
    max_bytes = int(settings.max_file_mb * 1_000_000)
    for path in iter_files(paths):
        try:
            docs.append(load_file(path, max_bytes))
        except DocumentError as exc:
            report.errors.append({"source": source_key(path), "error": str(exc)})
    return docs


def _is_inside(source: str, folders: list[str]) -> bool:
    return any(source.startswith(folder.rstrip("/") + "/") for folder in folders)


def _remove_missing(
    store: DocumentStore, paths: Sequence[Path], seen: set[str], report: IngestReport
) -> None:
    folders = [source_key(p) for p in paths if p.is_dir()]
    for source in store.manifest():
        if source not in seen and _is_inside(source, folders):
            store.remove_document(source)
            report.removed += 1


def ingest_documents(
    store: DocumentStore,
    docs: Sequence[SourceDocument],
    report: IngestReport,
    progress: Progress | None = None,
) -> None:
    """Upsert *docs* into *store*, counting added/updated/unchanged in *report*."""
    settings, manifest = store.settings, store.manifest()
    todo: list[tuple[SourceDocument, list]] = []
    for doc in docs:
        entry = manifest.get(doc.source)
        if entry and entry.sha256 == doc.sha256 and entry.fingerprint == store.fingerprint:
            report.unchanged += 1
            continue
        todo.append((doc, chunk_text(doc.text, settings.chunk_size, settings.chunk_overlap)))
    total, done = sum(len(chunks) for _, chunks in todo), 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, total)

    for doc, chunks in todo:
        report.embedded += store.upsert_document(doc, chunks, advance)
        report.updated += doc.source in manifest
        report.added += doc.source not in manifest
        log.info("ingested %s (%d chunks)", doc.source, len(chunks))


def ingest_paths(
    store: DocumentStore,
    paths: Sequence[Path],
    reset: bool = False,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest files and folders into *store*; the whole run holds the ingest lock."""
    started = time.perf_counter()
    report = IngestReport()
    with ingest_lock(store.settings):
        if reset:
            store.reset()
        report.reconciled = store.reconcile()
        docs = _load_all(paths, store.settings, report)
        ingest_documents(store, docs, report, progress)
        seen = {d.source for d in docs} | {e["source"] for e in report.errors}
        _remove_missing(store, paths, seen, report)
    manifest = store.manifest()
    report.documents = len(manifest)
    report.chunks = sum(entry.chunks for entry in manifest.values())
    report.seconds = round(time.perf_counter() - started, 3)
    return report
