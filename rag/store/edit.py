"""A change to the manifest, prepared in memory before one write.

:class:`ManifestEdit` starts from the manifest as read and records which names each
content ends up with: a document put, a name added to stored content, names dropped.
Every name stays in exactly one entry, so the write that follows moves names
atomically. This module does not call Chroma.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from rag.documents import SourceDocument
from rag.store.entries import ManifestEntry, with_names


class ManifestEdit:
    """Changes to the manifest being prepared: which names each content ends up with."""

    def __init__(self, manifest: dict[str, ManifestEntry]) -> None:
        self.before = {entry.sha256: entry for entry in manifest.values()}
        self.after: dict[str, ManifestEntry | None] = dict(self.before)
        self.owner = {name: entry.sha256 for entry in manifest.values() for name in entry.names}
        self.texts: dict[str, str] = {}
        self.touched: set[str] = set()

    def put(self, doc: SourceDocument, chunks: int, fingerprint: str, now: str) -> None:
        """*doc*'s content, freshly chunked, with its name added."""
        old = self.after.get(doc.sha256)
        self._set(
            ManifestEntry(
                source=old.source if old else doc.source,
                title=old.title if old else doc.title,
                sha256=doc.sha256,
                fingerprint=fingerprint,
                chunks=chunks,
                chars=len(doc.text),
                ingested_at=now,
                names=(*(old.names if old else ()), doc.source),
            )
        )
        self.texts[doc.sha256] = doc.text
        self._move(doc.source, doc.sha256)

    def alias(self, name: str, sha256: str) -> bool:
        """Add *name* to the stored content *sha256*; False when there is no such content."""
        entry = self.after.get(sha256)
        if entry is None:
            return False
        self._set(replace(entry, names=(*entry.names, name)))
        self._move(name, sha256)
        return True

    def drop(self, names: Collection[str]) -> None:
        """Take *names* off their documents (a document left without names goes)."""
        for name in names:
            self._move(name, None)

    def changes(self) -> dict[str, ManifestEntry | None]:
        """The entries that differ from the manifest, by hash (None: removed)."""
        return {
            sha: self.after[sha] for sha in self.touched if self.after[sha] != self.before.get(sha)
        }

    def apply(self, manifest: dict[str, ManifestEntry]) -> list[ManifestEntry]:
        """Bring *manifest* (the one this edit started from) up to date, in place.

        Returns the entries the edit replaced or removed, as they were.
        """
        changes = self.changes()
        old = [self.before[sha] for sha in changes if sha in self.before]
        for entry in old:
            manifest.pop(entry.source, None)
        manifest.update({e.source: e for e in changes.values() if e is not None})
        return old

    def _set(self, entry: ManifestEntry) -> None:
        self.after[entry.sha256] = entry
        self.touched.add(entry.sha256)

    def _move(self, name: str, sha256: str | None) -> None:
        """Make *sha256* (None: no document) the only holder of *name*."""
        previous = self.owner.get(name)
        if previous is not None and previous != sha256:
            entry = self.after[previous]
            if entry is not None:
                self.after[previous] = with_names(entry, [n for n in entry.names if n != name])
                self.touched.add(previous)
        if sha256 is None:
            self.owner.pop(name, None)
        else:
            self.owner[name] = sha256
