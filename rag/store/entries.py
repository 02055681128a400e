"""What the manifest says about documents, and how a name finds one.

A :class:`ManifestEntry` is one ingested document (one per content hash) with every
name (source path) it was ingested under. This module groups entries by content
version (:func:`owners_of`, the trust filter's key) and resolves a user's name for a
document (:func:`find_document`). It does not read or write Chroma.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from rag.documents import source_key
from rag.errors import RagError

CLOSE_MATCHES = 5

Owners = dict[tuple[str, str], list["ManifestEntry"]]


class UnknownDocumentError(RagError):
    """No document, or more than one, answers to the name given."""


@dataclass(frozen=True)
class ManifestEntry:
    """What the store knows about one ingested document (one per content hash).

    ``names`` holds every source path the content was ingested under, ``source``
    first: ``source`` is the name citations show and the folder sync keeps.
    """

    source: str
    title: str
    sha256: str
    fingerprint: str
    chunks: int
    chars: int
    ingested_at: str
    names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(dict.fromkeys((self.source, *self.names))))

    @property
    def display_name(self) -> str:
        """The title, else the file name without its folders (never the uploads path)."""
        return self.title.strip() or PurePosixPath(self.source).name

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with :attr:`display_name`."""
        return {**asdict(self), "names": list(self.names), "display_name": self.display_name}


@dataclass(frozen=True)
class StoreView:
    """What readers trust for one store generation: its documents and their owners.

    Built once per generation token and shared between questions, so it is
    read-only: ``manifest`` is a mapping proxy.
    """

    generation: str
    manifest: Mapping[str, ManifestEntry]
    owners: Owners


def with_names(entry: ManifestEntry, names: Sequence[str]) -> ManifestEntry | None:
    """*entry* under *names* (the first becomes its source); None when there are none."""
    return replace(entry, source=names[0], names=tuple(names)) if names else None


def name_index(manifest: dict[str, ManifestEntry]) -> dict[str, ManifestEntry]:
    """Every name of every document, to its entry."""
    return {name: entry for entry in manifest.values() for name in entry.names}


def owners_of(manifest: dict[str, ManifestEntry]) -> Owners:
    """Group manifest entries by content version (see :meth:`DocumentStore.owners`)."""
    owners: Owners = {}
    for entry in sorted(manifest.values(), key=lambda e: e.source):
        owners.setdefault((entry.sha256, entry.fingerprint), []).append(entry)
    return owners


def find_document(manifest: dict[str, ManifestEntry], name: str) -> ManifestEntry:
    """The one document *name* designates: any name (source path) it was ingested under,
    else a file name, else a title (these two ignoring case).

    Raises :class:`UnknownDocumentError`, listing close matches, when no document or
    several answer to *name*.
    """
    wanted = name.strip()
    if not wanted:
        raise UnknownDocumentError("Give a document's name; `python -m rag docs` lists them.")
    entries = sorted(manifest.values(), key=lambda e: e.source)
    folded = wanted.casefold()
    paths = {wanted, source_key(Path(wanted))}
    for matches in (
        [e for e in entries if paths & set(e.names)],
        [e for e in entries if any(_file_name(n).casefold() == folded for n in e.names)],
        [e for e in entries if e.display_name.casefold() == folded],
    ):
        if len(matches) == 1:
            return matches[0]
        if matches:
            listed = "; ".join(f"{e.source} ({e.display_name})" for e in matches[:CLOSE_MATCHES])
            raise UnknownDocumentError(
                f'"{wanted}" matches {len(matches)} documents: {listed}. Give its full source path.'
            )
    raise UnknownDocumentError(_unknown_message(wanted, entries))


def _file_name(name: str) -> str:
    return PurePosixPath(name).name


def _unknown_message(wanted: str, entries: Sequence[ManifestEntry]) -> str:
    """'No document is called X', with the names that come closest."""
    candidates = {
        label.casefold(): label
        for e in entries
        for label in (e.display_name, *e.names, *map(_file_name, e.names))
    }
    folded = wanted.casefold()
    close = difflib.get_close_matches(folded, list(candidates), n=CLOSE_MATCHES, cutoff=0.6)
    close += [key for key in candidates if folded in key and key not in close]
    hint = ", ".join(f'"{candidates[key]}"' for key in close[:CLOSE_MATCHES])
    return (
        f'No document is called "{wanted}".'
        + (f" Close matches: {hint}." if hint else "")
        + " `python -m rag docs` lists every document."
    )
