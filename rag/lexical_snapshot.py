"""The BM25 index of one store generation, saved under the store folder and loaded back.

A :class:`Snapshot` is the lexical view of one generation of the store: the
:class:`~rag.lexical.LexicalIndex` over its trusted chunks and the chunk id at each
index position. :func:`open_snapshot` loads the one saved under
``<store_dir>/lexical/<collection>/<generation>-t<tokenizer>`` or builds it from the
store and saves it (atomically: a temporary folder renamed into place, older
generations deleted), so the next process (a CLI ``ask``, an app restart) loads it
instead of re-reading and re-tokenising every chunk. In server mode the same folder
is a local cache of the server's current generation.

This module does not rank or fuse results (:mod:`rag.retrieval` does) and does not
decide when a store changed (the store's generation token does).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from rag.config import Settings
from rag.lexical import TOKENIZER_VERSION, LexicalIndex
from rag.store import LEXICAL_DIR, DocumentStore, Owners

log = logging.getLogger(__name__)


@dataclass
class Snapshot:
    """The lexical view of one store generation: chunk ids, by index position."""

    generation: str
    ids: list[str]
    index: LexicalIndex
    owners: Owners


def snapshot_folder(settings: Settings, generation: str) -> Path:
    """Where the snapshot of *generation* is saved."""
    base = settings.store_dir / LEXICAL_DIR / settings.collection
    return base / f"{generation}-t{TOKENIZER_VERSION}"


def open_snapshot(store: DocumentStore, generation: str) -> Snapshot:
    """The snapshot of *generation*: loaded when saved, else built from *store* and saved."""
    owners = store.owners()
    folder = snapshot_folder(store.settings, generation)
    snap = _load(folder, generation, owners)
    if snap is not None:
        log.info("lexical index loaded from %s (%d chunks)", folder, len(snap.ids))
        return snap
    chunks = store.all_chunks(owners)
    index = LexicalIndex(c.page_content for c in chunks)
    snap = Snapshot(generation, [c.id or "" for c in chunks], index, owners)
    log.info("lexical index built over %d chunks", len(chunks))
    if store.generation() == generation:  # not changed while we read: safe to keep
        _save(snap, folder)
    return snap


def _load(folder: Path, generation: str, owners: Owners) -> Snapshot | None:
    """The saved snapshot in *folder*, or None when there is none usable."""
    try:
        ids = json.loads((folder / "ids.json").read_text())
        return Snapshot(generation, ids, LexicalIndex.load(folder), owners)
    except (OSError, ValueError, KeyError) as exc:
        if folder.exists():
            log.warning("ignoring unreadable lexical index %s (%s)", folder, exc)
        return None


def _save(snap: Snapshot, folder: Path) -> None:
    """Write *snap* atomically (temp folder + rename) and drop older generations."""
    partial = folder.with_name(f".{folder.name}.{os.getpid()}.partial")
    try:
        shutil.rmtree(partial, ignore_errors=True)
        snap.index.save(partial)
        (partial / "ids.json").write_text(json.dumps(snap.ids))
        os.rename(partial, folder)
    except OSError as exc:  # a read-only or racing store: the index still works in memory
        log.info("lexical index not saved (%s)", exc)
        shutil.rmtree(partial, ignore_errors=True)
        return
    for old in folder.parent.iterdir():  # older generations, partials of killed processes
        if old != folder:
            shutil.rmtree(old, ignore_errors=True)
