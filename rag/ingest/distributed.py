"""Distributed ingest: load, chunk and embed on a Ray cluster's workers.

``python -m rag ingest --ray ADDRESS`` (or ``RAG_RAY_ADDRESS``) runs the expensive
part of an ingest (parsing files, chunking them, embedding the chunks: ~87% of the
time is embedding) on a pool of Ray actors, each holding one copy of the ONNX
embedder, and keeps everything that writes on this process (the *driver*):

1. the driver takes the same ingest lock as a local ingest (:func:`rag.ingest.pipeline.exclusive`),
   sweeps chunks nothing vouches for and reads the manifest;
2. it reads each file's bytes and sends them, a few files per task, to the actors, with
   the hash each name is stored under: a worker parses the file (so workers need no
   shared filesystem), skips it when its content is already stored, otherwise chunks
   it exactly as :mod:`rag.ingest.pipeline` does and embeds each chunk's indexed text;
3. as results come back, the driver writes them in groups of about
   ``settings.ingest.batch`` chunks through :meth:`DocumentStore.upsert_documents`
   (chunks first, then the manifest entries that vouch for them: the same crash-safe
   path, fed the workers' vectors instead of embedding again), then adds names of
   content already stored and syncs folders, as a local ingest does.

A worker process that dies is restarted by Ray and its unfinished task run again
(``max_restarts`` / ``max_task_retries``): tasks only compute, the driver alone writes,
and each task's result is received once, so nothing is lost or written twice.

``ADDRESS`` is what :func:`ray.init` takes (``auto``: the cluster started on this
machine with ``ray start``; ``host:6379``; ``ray://host:10001``), or ``local`` for a
private cluster started for this run only. Ray is optional: it is imported only here,
inside the functions that need it. This module does not decide how documents are
chunked or stored (:mod:`rag.ingest.pipeline`, :mod:`rag.store`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from rag.config import Settings
from rag.documents import SourceDocument, iter_files, parse_bytes, read_file, source_key
from rag.documents.chunking import Chunk, chunk_text, indexed_text
from rag.errors import DocumentError, RagError
from rag.ingest.pipeline import (
    IngestReport,
    Progress,
    exclusive,
    prepare_lexical_index,
    remove_missing,
    reset_documents,
    store_aliases,
    without_repeats,
)
from rag.store import DocumentStore, ManifestEntry, name_index
from rag.store.chunks import chunk_metadata

log = logging.getLogger(__name__)


class RayUnavailableError(RagError):
    """``--ray`` was asked for but Ray is not installed, or the cluster cannot be reached."""


@dataclass(frozen=True)
class FileTask:
    """One file sent to a worker: its bytes, and the content hash its name is stored under."""

    name: str
    source: str
    data: bytes
    known_sha: str = ""


@dataclass
class FileResult:
    """What a worker made of one file.

    ``kind``: ``error`` (``error`` says why), ``unchanged`` (stored under this name),
    ``stored`` (its content is stored under another name: only ``sha256`` is set) or
    ``new`` (``doc``, its ``chunks`` and a ``vectors`` entry per indexed text).
    """

    source: str
    kind: str
    sha256: str = ""
    error: str = ""
    doc: SourceDocument | None = None
    chunks: list[Chunk] = field(default_factory=list)
    vectors: dict[str, list[float]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def chunk_document(doc: SourceDocument, settings: Settings) -> tuple[list[Chunk], list[str]]:
    """*doc*'s chunks as a local ingest stores them (repeats dropped), and any warning."""
    chunks = chunk_text(
        doc.text, settings.ingest.chunk_size, settings.ingest.chunk_overlap, doc.headings
    )
    report = IngestReport()
    kept = without_repeats(doc, chunks, report, settings)
    return kept, report.warnings


def indexed_texts(doc: SourceDocument, chunks: Sequence[Chunk], fingerprint: str) -> list[str]:
    """What the chunk index embeds for each chunk (:meth:`rag.store.ChunkIndex.write`)."""
    return [indexed_text(c.text, chunk_metadata(doc, c, fingerprint)) for c in chunks]


class FileWorker:
    """Parses, chunks and embeds files; one per Ray actor, the model loaded once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.fingerprint = settings.chunking_fingerprint()
        self._embeddings: Embeddings | None = None

    def pid(self) -> int:
        """This worker's process id (tests kill it)."""
        return os.getpid()

    def process(self, tasks: list[FileTask], stored: frozenset[str]) -> list[FileResult]:
        """One result per file of *tasks*; *stored*: content hashes already in the store."""
        results = [self._one(task, stored) for task in tasks]
        new = [r for r in results if r.kind == "new"]
        texts = list(
            dict.fromkeys(
                t for r in new if r.doc for t in indexed_texts(r.doc, r.chunks, self.fingerprint)
            )
        )
        vectors = dict(zip(texts, self._embed(texts), strict=True)) if texts else {}
        for result in new:
            assert result.doc is not None
            mine = indexed_texts(result.doc, result.chunks, self.fingerprint)
            result.vectors = {text: vectors[text] for text in mine}
        return results

    def _one(self, task: FileTask, stored: frozenset[str]) -> FileResult:
        try:
            doc = parse_bytes(task.data, task.name, task.source)
        except DocumentError as exc:
            return FileResult(task.source, "error", error=str(exc))
        if doc.sha256 == task.known_sha:
            return FileResult(task.source, "unchanged", sha256=doc.sha256)
        if doc.sha256 in stored:
            return FileResult(task.source, "stored", sha256=doc.sha256)
        chunks, warnings = chunk_document(doc, self.settings)
        return FileResult(
            task.source, "new", sha256=doc.sha256, doc=doc, chunks=chunks, warnings=warnings
        )

    def _embed(self, texts: list[str]) -> list[list[float]]:
        if self._embeddings is None:
            from rag.embeddings import load_embeddings

            self._embeddings = load_embeddings(self.settings)
        return self._embeddings.embed_documents(texts)


class Precomputed(Embeddings):
    """The workers' vectors, by text, for :meth:`DocumentStore.upsert_documents`.

    A text no worker embedded (none is expected) is embedded here by *fallback*.
    """

    def __init__(self, fallback: Embeddings) -> None:
        self.vectors: dict[str, list[float]] = {}
        self.fallback = fallback

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Each text's worker vector; any missing ones embedded here, in one call."""
        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if missing:
            log.warning("embedding %d chunk texts on the driver", len(missing))
            self.vectors.update(zip(missing, self.fallback.embed_documents(missing), strict=True))
        return [self.vectors[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        """Questions are never embedded here; delegated."""
        return self.fallback.embed_query(text)


def check_ray() -> Any:
    """The ``ray`` module; :class:`RayUnavailableError` (one line) when it is not installed."""
    try:
        import ray
    except ImportError:
        raise RayUnavailableError(
            "--ray needs Ray, which is not installed: "
            "`.venv/bin/pip install -r requirements-scale.txt`."
        ) from None
    return ray


@contextmanager
def connected(address: str, object_store_bytes: int) -> Iterator[Any]:
    """Ray, connected to the cluster at *address* (``local``: a private one with an object
    store of *object_store_bytes*, stopped after).

    A connection this process already has is used as it is and left open.
    """
    ray = check_ray()
    if ray.is_initialized():
        yield ray
        return
    env = {"env_vars": _worker_env()}
    kwargs: dict[str, Any] = {
        "runtime_env": env,
        "log_to_driver": False,
        "logging_level": logging.WARNING,
    }
    if address == "local":
        kwargs.update(object_store_memory=object_store_bytes, include_dashboard=False)
    else:
        kwargs["address"] = address
    try:
        ray.init(**kwargs)
    except ConnectionError as exc:
        raise RayUnavailableError(f"cannot reach the Ray cluster at {address}: {exc}") from None
    try:
        yield ray
    finally:
        ray.shutdown()


def _worker_env() -> dict[str, str]:
    """Environment of the workers: this project importable, no model download."""
    root = str(Path(__file__).resolve().parent.parent)
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def start_pool(ray: Any, settings: Settings, workers: int | None = None) -> list[Any]:
    """One :class:`FileWorker` actor per cluster CPU (or *workers*), single-threaded each."""
    count = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
    # One core each; bulk precision for every call, as a local ingest's full groups get.
    one_core = settings.updated(embedding={"onnx_workers": 1, "bulk_min_texts": 1})
    restarts = settings.ray.max_restarts
    actor = ray.remote(num_cpus=1, max_restarts=restarts, max_task_retries=-1)(FileWorker)
    pool = [actor.remote(one_core) for _ in range(count)]
    log.info("ingesting on %d Ray workers", count)
    return pool


def _tasks(
    files: Sequence[Path],
    known: dict[str, str],
    settings: Settings,
    report: IngestReport,
) -> Iterator[list[FileTask]]:
    """The files as tasks of a few files each, read lazily; unreadable ones reported."""
    batch: list[FileTask] = []
    size, max_bytes = 0, int(settings.limits.file_mb * 1_000_000)
    for path in files:
        source = source_key(path)
        try:
            data = read_file(path, max_bytes)
        except DocumentError as exc:
            report.errors.append({"source": source, "error": str(exc)})
            continue
        batch.append(FileTask(path.name, source, data, known.get(source, "")))
        size += len(data)
        if len(batch) >= settings.ray.task_files or size >= settings.ray.task_bytes:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


@dataclass
class _Job:
    """The driver's running state: what is written, what is waiting, what to report."""

    store: DocumentStore
    writer: DocumentStore
    vectors: Precomputed
    manifest: dict[str, ManifestEntry]
    report: IngestReport
    renew: Callable[[], None]
    known: set[str]
    planned: set[str] = field(default_factory=set)
    aliases: list[tuple[str, str]] = field(default_factory=list)
    progress: Progress | None = None
    documents: Progress | None = None
    group: list[tuple[SourceDocument, list[Chunk]]] = field(default_factory=list)
    chunks_done: int = 0
    files_done: int = 0
    bytes_done: int = 0
    bytes_total: int = 0

    def tell(self, files: int, finished: bool = False) -> None:
        """Progress: chunks written of an estimate (the chunks per byte parsed so far,
        times all the bytes), files parsed of *files*."""
        done = self.chunks_done + self.group_size()
        estimate = done if finished else done * self.bytes_total // max(self.bytes_done, 1)
        if self.progress:
            self.progress(self.chunks_done, max(estimate, self.chunks_done))
        if self.documents:
            self.documents(files if finished else self.files_done, files)

    def take(self, result: FileResult) -> None:
        """Record one file's result; a new document joins the group being built."""
        self.files_done += 1
        if result.kind == "error":
            self.report.errors.append({"source": result.source, "error": result.error})
        elif result.kind == "unchanged":
            self.report.unchanged += 1
        elif result.kind == "stored" or result.sha256 in self.planned:
            self.aliases.append((result.source, result.sha256))
        elif result.doc is not None:
            self.planned.add(result.sha256)
            self.report.warnings.extend(result.warnings)
            self.vectors.vectors.update(result.vectors)
            self.group.append((result.doc, result.chunks))

    def group_size(self) -> int:
        return sum(len(chunks) for _, chunks in self.group)

    def flush(self) -> None:
        """Write the group: chunks, then the manifest entries that vouch for them."""
        if not self.group:
            return
        self.renew()
        existed = [doc.source in self.known for doc, _ in self.group]
        self.known.update(doc.source for doc, _ in self.group)
        self.report.embedded += self.writer.upsert_documents(
            self.group, self.manifest, before_manifest=self.renew
        )
        self.report.updated += sum(existed)
        self.report.added += len(existed) - sum(existed)
        self.chunks_done += self.group_size()
        self.group = []
        self.vectors.vectors.clear()


def _run_pool(ray: Any, pool: list[Any], files: Sequence[Path], job: _Job) -> None:
    """Send every file to the pool, write results as they come, report progress."""
    manifest, fingerprint = job.manifest, job.store.fingerprint
    current = {e.sha256 for e in manifest.values() if e.fingerprint == fingerprint}
    names = name_index(manifest).items()
    known = {name: e.sha256 for name, e in names if e.fingerprint == fingerprint}
    stored = ray.put(frozenset(current))
    job.bytes_total = sum(_size(p) for p in files)
    pending: dict[Any, int] = {}  # result ref -> its file bytes
    tasks = _tasks(files, known, job.store.settings, job.report)
    in_flight = job.store.settings.ray.in_flight
    turn = 0
    job.tell(len(files))
    while True:
        while len(pending) < in_flight * len(pool) and (batch := next(tasks, None)):
            ref = pool[turn % len(pool)].process.remote(batch, stored)
            pending[ref] = sum(len(t.data) for t in batch)
            turn += 1
        if not pending:
            break
        [ready], _ = ray.wait(list(pending), num_returns=1)
        job.bytes_done += pending.pop(ready)
        for result in ray.get(ready):
            job.take(result)
        if job.group_size() >= job.store.settings.ingest.batch:
            job.flush()
        job.tell(len(files))
    job.flush()
    job.tell(len(files), finished=True)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def ingest_paths_ray(
    store: DocumentStore,
    paths: Sequence[Path],
    address: str,
    *,
    reset: bool = False,
    progress: Progress | None = None,
    documents: Progress | None = None,
    workers: int | None = None,
) -> IngestReport:
    """:func:`rag.ingest.pipeline.ingest_paths` with load, chunk and embed on Ray workers.

    Same lock, same sweep, same order of writes, same report; *progress* gets
    (chunks written, chunks estimated), *documents* (files done, files). *workers*:
    actors in the pool (default: one per CPU of the cluster).

    Raises:
        RayUnavailableError: Ray is not installed or the cluster cannot be reached.
    """
    started = time.perf_counter()
    report = IngestReport()
    with exclusive(store) as renew:
        files = list(dict.fromkeys(iter_files(paths)))
        if reset:
            files += reset_documents(store, paths, (), report)
        report.reconciled = store.reconcile()
        manifest = store.manifest()
        vectors = Precomputed(store.embeddings)
        writer = DocumentStore(store.settings, vectors, client=store.client)
        job = _Job(store, writer, vectors, manifest, report, renew, set(name_index(manifest)))
        job.progress, job.documents = progress, documents
        with connected(address, store.settings.ray.object_store_bytes) as ray:
            pool = start_pool(ray, store.settings, workers)
            try:
                _run_pool(ray, pool, _distinct(files), job)
            finally:
                for actor in pool:
                    ray.kill(actor)
        renew()
        store_aliases(store, job.aliases, manifest, report)
        seen = {source_key(p) for p in files}
        remove_missing(store, paths, seen, manifest, report)
    if (
        reset
        or report.added
        + report.updated
        + report.removed
        + report.names_added
        + report.names_removed
    ):
        prepare_lexical_index(store)
    report.documents = len(manifest)
    report.chunks = sum(entry.chunks for entry in manifest.values())
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _distinct(files: Sequence[Path]) -> list[Path]:
    """Each file once, by its source name (a file reached twice is ingested once)."""
    return list({source_key(p): p for p in files}.values())
