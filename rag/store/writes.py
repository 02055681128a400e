"""The order of writes that keeps chunks and manifest consistent through a crash.

Chunks are written first; then :func:`commit` writes every changed manifest entry in
one upsert, gives the store a new generation token and deletes the chunks nothing
vouches for any more. A crash at any point leaves either chunks no entry vouches for
(readers ignore them, :func:`reconcile` deletes them at the next ingest) or a
record without names (it reads as nothing and the next ingest deletes it).

This module holds no state: :class:`~rag.store.DocumentStore` passes it its parts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from rag.store.chunks import ChunkIndex
from rag.store.edit import ManifestEdit
from rag.store.entries import ManifestEntry, owners_of
from rag.store.manifest import Manifest
from rag.store.views import ViewCache

log = logging.getLogger(__name__)


def commit(
    edit: ManifestEdit,
    manifest: dict[str, ManifestEntry],
    write: Callable[[ManifestEdit], None],
    *,
    records: Manifest,
    chunks: ChunkIndex,
    views: ViewCache,
) -> tuple[list[ManifestEntry], int]:
    """Write *edit* (through *write*), update *manifest* in place, drop unvouched chunks.

    Returns the documents removed and the number of chunk records deleted.
    """
    changes = edit.changes()
    write(edit)
    if not changes:
        return [], 0
    old = edit.apply(manifest)
    records.bump_generation()
    views.forget()
    owners = owners_of(manifest)
    deleted = sum(
        chunks.delete_version(e.sha256, e.fingerprint)
        for e in old
        if (e.sha256, e.fingerprint) not in owners
    )
    return [edit.before[sha] for sha, e in changes.items() if e is None], deleted


def reconcile(records: Manifest, chunks: ChunkIndex) -> int:
    """Tidy the manifest, then delete the chunks it does not vouch for; returns how many.

    When the chunk count is exactly what the manifest accounts for (the usual case)
    nothing can be orphaned and the full scan is skipped.
    """
    scan = records.read()
    records.tidy(scan)
    valid = owners_of(scan.entries)
    if chunks.count() == sum(entries[0].chunks for entries in valid.values()):
        return 0
    orphans = chunks.delete_unowned(valid)
    if orphans:
        log.warning("removed %d chunks left by an interrupted ingest", orphans)
    return orphans
