"""The BM25 index of one store generation, saved under the store folder and loaded back.

A :class:`Snapshot` is the lexical view of one generation of the store: the
:class:`~rag.retrieval.lexical.LexicalIndex` over its trusted chunks and, at each index
position, the chunk itself (id, text, metadata), so a keyword hit costs no Chroma
call. :func:`open_snapshot` loads the one saved under
``<store_dir>/lexical/<collection>/<generation>-t<tokenizer>-f<format>`` or builds it
from the store and saves it (atomically: a temporary folder renamed into place, older
generations deleted), so the next process (a CLI ``ask``, an app restart) loads it
instead of re-reading and re-tokenising every chunk. Saved chunks are read through a
memory map (``chunks.jsonl``, one JSON line per position, and the offset of each
line in ``chunks.offsets.json``), not loaded whole. In
server mode the same folder is a local cache of the server's current generation.

A chunk's record never changes under its id (the id is derived from the content),
and the snapshot is bound to one generation token, so what it holds is exactly what
the store would return for that generation.

This module does not rank or fuse results (:mod:`rag.retrieval.hybrid` does) and does not
decide when a store changed (the store's generation token does).
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

from langchain_core.documents import Document

from rag.config import Settings
from rag.documents.chunking import indexed_text
from rag.retrieval.lexical import TOKENIZER_VERSION, LexicalIndex
from rag.store import LEXICAL_DIR, DocumentStore, Owners, StoreView
from rag.store.chunks import attributed

log = logging.getLogger(__name__)

FORMAT = "3"  # bump when the saved files change: older snapshots are rebuilt, not misread
CHUNKS = "chunks.jsonl"


@dataclass
class Snapshot:
    """The lexical view of one store generation: the index and the chunk at each position."""

    generation: str
    index: LexicalIndex
    chunks: Sequence[dict[str, Any]]  # {"id", "text", "metadata"} by index position
    owners: Owners

    def chunk(self, position: int) -> Document:
        """The chunk at index *position*, attributed to its document."""
        record = self.chunks[position]
        doc = Document(page_content=record["text"], metadata=record["metadata"], id=record["id"])
        return attributed(doc, self.owners)

    def search(self, query: str, limit: int) -> list[tuple[Document, float]]:
        """The best *limit* chunks for *query* by BM25, with their scores, best first."""
        return [(self.chunk(i), score) for i, score in self.index.search(query, limit)]


def snapshot_folder(settings: Settings, generation: str) -> Path:
    """Where the snapshot of *generation* is saved."""
    base = settings.store.store_dir / LEXICAL_DIR / settings.store.collection
    return base / f"{generation}-t{TOKENIZER_VERSION}-f{FORMAT}"


def open_snapshot(store: DocumentStore, view: StoreView) -> Snapshot:
    """The snapshot of *view*'s generation: loaded when saved, else built and saved."""
    folder = snapshot_folder(store.settings, view.generation)
    snap = _load(folder, view)
    if snap is not None:
        log.info("lexical index loaded from %s (%d chunks)", folder, len(snap.chunks))
        return snap
    chunks: list[dict[str, Any]] = [
        {"id": c.id or "", "text": c.page_content, "metadata": c.metadata}
        for c in store.all_chunks(view.owners)
    ]
    index = LexicalIndex(indexed_text(c["text"], c["metadata"]) for c in chunks)
    log.info("lexical index built over %d chunks", len(chunks))
    snap = Snapshot(view.generation, index, chunks, view.owners)
    if store.generation() == view.generation:  # not changed while we read: safe to keep
        _save(snap, folder)
    return snap


def _load(folder: Path, view: StoreView) -> Snapshot | None:
    """The saved snapshot in *folder*, or None when there is none usable."""
    try:
        chunks, index = _read_chunks(folder / CHUNKS), LexicalIndex.load(folder)
        if len(chunks) != index.size:
            raise ValueError(f"{len(chunks)} chunks for an index of {index.size}")
        return Snapshot(view.generation, index, chunks, view.owners)
    except (OSError, ValueError, KeyError) as exc:
        if folder.exists():  # complete folders are renamed into place: this one is damaged
            log.warning("rebuilding unreadable lexical index %s (%s)", folder, exc)
            shutil.rmtree(folder, ignore_errors=True)
        return None


def _save(snap: Snapshot, folder: Path) -> None:
    """Write *snap* atomically (temp folder + rename) and drop older generations.

    The in-memory chunks are then swapped for the memory-mapped saved ones.
    """
    partial = folder.with_name(f".{folder.name}.{os.getpid()}.partial")
    try:
        shutil.rmtree(partial, ignore_errors=True)
        snap.index.save(partial)
        _write_chunks(snap.chunks, partial / CHUNKS)
        os.rename(partial, folder)
        snap.chunks = _read_chunks(folder / CHUNKS)
    except OSError as exc:  # a read-only or racing store: the index still works in memory
        log.info("lexical index not saved (%s)", exc)
        shutil.rmtree(partial, ignore_errors=True)
        return
    for old in folder.parent.iterdir():  # older generations, partials of killed processes
        if old != folder:
            shutil.rmtree(old, ignore_errors=True)


def _write_chunks(chunks: Sequence[dict[str, Any]], path: Path) -> None:
    """One JSON line per chunk, and the byte offset where each line starts."""
    offsets = []
    with path.open("wb") as out:
        for chunk in chunks:
            offsets.append(out.tell())
            out.write(json.dumps(chunk, ensure_ascii=False).encode("utf-8") + b"\n")
    path.with_suffix(".offsets.json").write_text(json.dumps(offsets))


def _read_chunks(path: Path) -> Sequence[dict[str, Any]]:
    """The chunks :func:`_write_chunks` saved, read line by line through a memory map."""
    offsets = json.loads(path.with_suffix(".offsets.json").read_text())
    if not offsets:  # no chunks (an empty file cannot be memory-mapped)
        return []
    with path.open("rb") as handle:
        return _Lines(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ), offsets)


class _Lines(Sequence[dict[str, Any]]):
    """JSON lines of a memory-mapped file, by position.

    Slicing the map (not seek + readline) keeps concurrent readers, such as two
    browser sessions asking at once, from moving each other's file position.
    """

    def __init__(self, data: mmap.mmap, offsets: list[int]) -> None:
        self._data, self._starts, self._ends = data, offsets, [*offsets[1:], len(data)]

    def __len__(self) -> int:
        return len(self._starts)

    @overload
    def __getitem__(self, position: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, position: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, position: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(len(self)))]
        line = self._data[self._starts[position] : self._ends[position]]
        record: dict[str, Any] = json.loads(line)
        return record
