"""The ingest use case: files and folders in, an :class:`IngestReport` out.

Loads documents, chunks them, and hands them to the store in groups of about
``settings.ingest.batch`` chunks (each group: chunks first, manifest entries last), under an
exclusive lock so two ingests never interleave: a file lock on this machine and,
with a Chroma server, the shared lock :mod:`rag.ingest.lease` chooses (a PostgreSQL advisory
lock when ``RAG_DATABASE_URL`` is set, else a best-effort lease record in the server),
checked before every group and again before its manifest entries, so machines sharing
the server take turns too. A folder is *synced*: names
previously ingested from inside it that no longer exist are dropped, and a document
left without names is removed. A file whose content is already stored (the same file
in ``seeds/`` and in the uploads) only adds its name to that document: nothing is
embedded. A bad file in a folder is reported and skipped; the others are still ingested.
Every folder is listed before anything changes: a folder that cannot be read (or has
gone) is an error, never an empty folder whose sync would remove its documents.
A reset first reads every name the store knew, then rebuilds those whose file still
exists and reports the others. It never loses what it cannot rebuild: the caller
either moved the old store's files aside first (``old_store``, an embedded store), or
the reset is refused, naming the documents it would lose, before anything changes.

Large folders: a first pass reads each file once to skip unchanged documents and
count the chunks still to do (so progress has a total and an ETA); texts are kept
from that pass only up to ``ingest.keep_chars`` characters in all, the rest are read
again when their group comes, so memory does not grow with the folder. An ingest
interrupted at any point resumes without redoing finished documents: each group's
manifest entries vouch for exactly the documents that are complete.

:func:`exclusive` (the file lock and the shared lock together) also guards document removal.

This module does not know how chunks are embedded or stored (see :mod:`rag.store`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from rag.config import Settings
from rag.documents import SourceDocument, iter_files, load_file, source_key
from rag.documents.chunking import Chunk, chunk_text
from rag.errors import DocumentError, ResetRefusedError, StoreLockedError
from rag.retrieval.dedup import distinct_chunks, repetition_warning
from rag.retrieval.lexical_snapshot import open_snapshot
from rag.store import DocumentStore, ManifestEntry, name_index

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total): chunks, or documents


@dataclass
class IngestReport:
    """What an ingest did, in numbers a user can check.

    ``names_added``: files whose content was already stored, now one more name of
    that document (nothing embedded). ``names_removed``: names dropped by a folder
    sync from documents that other names keep. ``missing``: after a reset, names the
    store knew whose file no longer exists, so they were not rebuilt. ``old_store``:
    where a reset kept the old store's files (those documents are still in it).
    ``warnings``: documents ingested that are mostly repetition (:mod:`rag.retrieval.dedup`),
    one line each.
    """

    documents: int = 0
    chunks: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    names_added: int = 0
    names_removed: int = 0
    missing: list[str] = field(default_factory=list)
    old_store: str = ""
    embedded: int = 0
    reconciled: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@contextmanager
def ingest_lock(settings: Settings, timeout: float = 600.0) -> Iterator[None]:
    """Hold an exclusive file lock on the store for the duration of an ingest.

    ``filelock`` (fcntl on POSIX, msvcrt on Windows); a new lock object per call, so
    threads of one process exclude each other too.
    """
    settings.store.store_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(settings.store.store_dir / ".ingest.lock", thread_local=False)
    deadline = time.monotonic() + timeout
    while True:
        try:
            lock.acquire(timeout=0.2)
            break
        except Timeout:
            if time.monotonic() > deadline:
                raise StoreLockedError(
                    "Another ingest has held the store lock for too long; "
                    "wait for it to finish or stop it, then try again."
                ) from None
            log.info("waiting for another ingest to finish")
    try:
        yield
    finally:
        lock.release()


@contextmanager
def server_lease(store: DocumentStore) -> Iterator[Callable[[], None]]:
    """Hold the lock machines sharing the server take turns with (server mode only; see
    :func:`rag.ingest.lease.hold`); yields its renew call."""
    from rag.ingest.lease import hold

    with hold(store.settings, lambda: store.client) as renew:
        yield renew


@contextmanager
def exclusive(store: DocumentStore) -> Iterator[Callable[[], None]]:
    """The ingest lock, and in server mode the server lease: one writer at a time."""
    with ingest_lock(store.settings), server_lease(store) as renew:
        yield renew


@dataclass
class _Planned:
    """A document that needs work; ``doc`` is None when its text was not kept."""

    path: Path | None
    source: str
    chunks: int
    doc: SourceDocument | None


@dataclass
class _FirstPass:
    """What reading every file found: work to do, and names for stored content."""

    plan: list[_Planned] = field(default_factory=list)
    aliases: list[tuple[str, str]] = field(default_factory=list)  # (name, sha256)
    seen: set[str] = field(default_factory=set)


def _plan(
    files: Sequence[Path],
    store: DocumentStore,
    manifest: dict[str, ManifestEntry],
    report: IngestReport,
) -> _FirstPass:
    """First pass: load every file once; skip the unchanged, count chunks of the rest.

    A file whose content is stored (or planned) under another name becomes an alias.
    """
    settings = store.settings
    max_bytes = int(settings.limits.file_mb * 1_000_000)
    names = name_index(manifest)
    stored = {e.sha256 for e in manifest.values() if e.fingerprint == store.fingerprint}
    found = _FirstPass()
    kept = 0
    for path in files:
        try:
            doc = load_file(path, max_bytes)
        except DocumentError as exc:
            report.errors.append({"source": source_key(path), "error": str(exc)})
            found.seen.add(source_key(path))
            continue
        if doc.source in found.seen:  # the same file reached twice
            continue
        found.seen.add(doc.source)
        if _unchanged(doc, names.get(doc.source), store):
            report.unchanged += 1
        elif doc.sha256 in stored:
            found.aliases.append((doc.source, doc.sha256))
        else:
            stored.add(doc.sha256)
            count = len(
                chunk_text(
                    doc.text,
                    settings.ingest.chunk_size,
                    settings.ingest.chunk_overlap,
                    doc.headings,
                )
            )
            keep = kept + len(doc.text) <= settings.ingest.keep_chars
            kept += len(doc.text) if keep else 0
            found.plan.append(_Planned(path, doc.source, count, doc if keep else None))
    return found


def _unchanged(doc: SourceDocument, entry: ManifestEntry | None, store: DocumentStore) -> bool:
    return bool(entry and entry.sha256 == doc.sha256 and entry.fingerprint == store.fingerprint)


def _groups(
    plan: list[_Planned], settings: Settings, report: IngestReport
) -> Iterator[list[tuple[SourceDocument, list[Chunk]]]]:
    """Second pass: documents with their chunks, in groups of about ``ingest.batch`` chunks."""
    max_bytes = int(settings.limits.file_mb * 1_000_000)
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
        chunks = chunk_text(
            doc.text, settings.ingest.chunk_size, settings.ingest.chunk_overlap, doc.headings
        )
        chunks = without_repeats(doc, chunks, report, settings)
        group.append((doc, chunks))
        size += len(chunks)
        if size >= settings.ingest.batch:
            yield group
            group, size = [], 0
    if group:
        yield group


def without_repeats(
    doc: SourceDocument, chunks: list[Chunk], report: IngestReport, settings: Settings
) -> list[Chunk]:
    """*chunks* with each repeated text kept once; a document mostly repeated is reported."""
    kept, repetition = distinct_chunks(chunks)
    if warning := repetition_warning(doc.source, repetition, settings.ingest):
        log.info("%s", warning)  # shown by the caller, from the report
        report.warnings.append(warning)
    return kept


def _is_inside(source: str, folders: list[str]) -> bool:
    return any(source.startswith(folder.rstrip("/") + "/") for folder in folders)


def store_aliases(
    store: DocumentStore,
    aliases: list[tuple[str, str]],
    manifest: dict[str, ManifestEntry],
    report: IngestReport,
) -> None:
    """Add each alias's name to its stored document (a known name counts as updated)."""
    if not aliases:
        return
    known = name_index(manifest)
    skipped = set(store.add_names(aliases, manifest))
    for name, _ in aliases:
        if name in skipped:  # its content was to be stored from another file, which failed
            report.errors.append({"source": name, "error": "its content could not be stored"})
        elif name in known:
            report.updated += 1
        else:
            report.names_added += 1


def remove_missing(
    store: DocumentStore,
    paths: Sequence[Path],
    seen: set[str],
    manifest: dict[str, ManifestEntry],
    report: IngestReport,
) -> None:
    """Sync the folders in *paths*: drop the names inside them that were not seen."""
    folders = [source_key(p) for p in paths if p.is_dir()]
    gone = [name for name in name_index(manifest) if name not in seen and _is_inside(name, folders)]
    if not gone:
        return
    removed = store.drop_names(gone, manifest)
    report.removed += len(removed)
    report.names_removed += len(gone) - sum(len(entry.names) for entry in removed)


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

    *renew* runs before each group and again between its chunks and its manifest
    entries: it raises when this ingest may no longer write.
    """
    total_chunks, total_docs = sum(p.chunks for p in plan), len(plan)
    planned = {p.source: p.chunks for p in plan}  # before repeats are dropped
    known = set(name_index(manifest))
    done_chunks = done_docs = 0
    if progress:
        progress(0, total_chunks)
    if documents:
        documents(0, total_docs)
    for group in _groups(plan, store.settings, report):
        renew()
        existed = [doc.source in known for doc, _ in group]
        known.update(doc.source for doc, _ in group)
        report.embedded += store.upsert_documents(group, manifest, before_manifest=renew)
        report.updated += sum(existed)
        report.added += len(existed) - sum(existed)
        done_docs += len(group)
        done_chunks = min(total_chunks, done_chunks + sum(planned[d.source] for d, _ in group))
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
    *,
    remembered: Sequence[str] = (),
    old_store: Path | None = None,
) -> IngestReport:
    """Ingest files and folders into *store*; the whole run holds the ingest lock.

    *progress* is called with (chunks done, chunks to do), *documents* with
    (documents done, documents to do); unchanged documents are not counted. A
    *reset* empties the store first and also re-ingests every name it held, plus
    *remembered* (names read by the caller before it moved the store's files to
    *old_store*); those whose file is gone are listed in ``report.missing``. Without
    *old_store*, a reset that would lose documents raises :class:`ResetRefusedError`.
    """
    started = time.perf_counter()
    report = IngestReport(old_store=str(old_store or ""))
    with exclusive(store) as renew:
        files = list(iter_files(paths))  # an unreadable folder fails here, before any change
        if reset:
            files += reset_documents(store, paths, remembered, report)
        report.reconciled = store.reconcile()
        manifest = store.manifest()
        found = _plan(files, store, manifest, report)
        _store_plan(
            store, found.plan, manifest, report, progress=progress, documents=documents, renew=renew
        )
        renew()
        store_aliases(store, found.aliases, manifest, report)
        remove_missing(store, paths, found.seen, manifest, report)
    changes = (report.added, report.updated, report.removed, report.names_added)
    if reset or sum(changes) + report.names_removed:
        prepare_lexical_index(store)
    report.documents = len(manifest)
    report.chunks = sum(entry.chunks for entry in manifest.values())
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def reset_documents(
    store: DocumentStore, paths: Sequence[Path], remembered: Sequence[str], report: IngestReport
) -> list[Path]:
    """Empty *store*; the files of its names that *paths* do not cover, to ingest again.

    Without a copy of the old store (``report.old_store``), refuses when a name's file
    is gone or the names cannot be read: those documents would be lost.
    """
    names = _names_before_reset(store)
    extra = _with_known(paths, [*remembered, *(names or [])], report)
    if not report.old_store and (names is None or report.missing):
        raise ResetRefusedError(_refusal(report.missing if names is not None else None))
    store.reset()
    return extra


def _refusal(missing: list[str] | None) -> str:
    """Why a reset was refused: what it would lose."""
    if missing is None:
        what = "the store's documents cannot be read, so a reset would delete them unseen"
    else:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        what = f"a reset would lose {len(missing)} document name(s) whose file is gone: {shown}"
    return (
        f"Nothing was reset: {what}. Restore those files, or remove those documents "
        "(`python -m rag remove NAME`), then reset again."
    )


def _names_before_reset(store: DocumentStore) -> list[str] | None:
    """Every name in the store about to be reset (None when it cannot be read)."""
    try:
        return list(name_index(store.manifest()))
    except Exception as exc:  # noqa: BLE001 - a damaged store: the caller decides
        log.warning("cannot read the documents of the store before the reset (%s)", exc)
        return None


def _with_known(paths: Sequence[Path], known: Sequence[str], report: IngestReport) -> list[Path]:
    """The files of *known* names that *paths* do not cover; gone ones go to the report."""
    folders = [source_key(p) for p in paths if p.is_dir()]
    files = {source_key(p) for p in paths if p.is_file()}
    extra: list[Path] = []
    for name in dict.fromkeys(known):
        path = Path(name)
        if not path.is_file():
            report.missing.append(name)
        elif (key := source_key(path)) not in files and not _is_inside(key, folders):
            extra.append(path)
            files.add(key)
    return extra


def prepare_lexical_index(store: DocumentStore) -> None:
    """Build and save the BM25 index of the new generation now, so the next ``ask``
    (or app start) loads it instead of building it (~20 s per 100,000 chunks)."""
    open_snapshot(store, store.view())
