"""How manifest entries are kept as Chroma records, and how records read back.

One record per document *content*: id from the SHA-256, the full text as the record's
document, the entry's fields as metadata (``names`` as a JSON list). A removed
document is first written without names, then deleted; a record left without names
(a crash in between) reads as nothing. Stores written before names existed hold one
record per source with no ``names``: they still read, merged by content, and
:func:`resolve` says which records a tidy-up should rewrite or delete.

This module does not call Chroma; :mod:`rag.store.manifest` does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from rag.store.entries import ManifestEntry, with_names

GENERATION_ID = "__generation__"


def manifest_id(source: str) -> str:
    """Record id of a manifest written before names existed (one record per source)."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:32]


def entry_id(sha256: str) -> str:
    """Record id of a document's manifest entry: one per content."""
    return manifest_id(f"sha256:{sha256}")


def entry_meta(entry: ManifestEntry) -> dict[str, Any]:
    """The record metadata of *entry*."""
    return {**asdict(entry), "names": json.dumps(list(entry.names), ensure_ascii=False)}


def _entry_from_meta(meta: dict[str, Any], names: Sequence[str]) -> ManifestEntry:
    known = {f.name for f in fields(ManifestEntry)} - {"source", "names"}
    values = {key: meta[key] for key in known}
    return ManifestEntry(source=names[0], names=tuple(names), **values)


@dataclass
class Scan:
    """The manifest as read: entries by source, and records a tidy-up should touch."""

    entries: dict[str, ManifestEntry]
    stale: list[str] = field(default_factory=list)  # record ids nothing reads any more
    legacy: dict[str, list[str]] = field(default_factory=dict)  # sha256 -> old-style ids


def resolve(records: Sequence[tuple[str, dict[str, Any]]]) -> Scan:
    """Entries from manifest records, each name in exactly one entry.

    Current records (with ``names``) are authoritative; a record without names is a
    removed document. Old-style records (one per source, no ``names``) are merged by
    content, minus names a current record holds.
    """
    current = [(rid, meta) for rid, meta in records if "names" in meta]
    legacy = [(rid, meta) for rid, meta in records if "names" not in meta]
    scan = Scan(entries={})
    by_sha = _current_entries(current, scan)
    claimed = {name for entry in by_sha.values() for name in entry.names}
    superseded = {meta["sha256"] for _, meta in current}
    _merge_legacy(legacy, superseded, claimed, by_sha, scan)
    scan.entries = {entry.source: entry for entry in by_sha.values()}
    return scan


def _current_entries(
    records: Sequence[tuple[str, dict[str, Any]]], scan: Scan
) -> dict[str, ManifestEntry]:
    """Entries of current records by hash; a name two records hold stays with the newest.

    (One write moves a name, so only a damaged store has such a name.)
    """
    by_sha: dict[str, ManifestEntry] = {}
    rids: dict[str, str] = {}
    owner: dict[str, str] = {}
    for rid, meta in sorted(records, key=lambda r: (r[1].get("ingested_at", ""), r[0])):
        names = json.loads(meta["names"])
        if not names:  # a removed document, its delete interrupted
            scan.stale.append(rid)
            continue
        sha = meta["sha256"]
        by_sha[sha], rids[sha] = _entry_from_meta(meta, names), rid
        owner.update(dict.fromkeys(names, sha))
    for sha, entry in list(by_sha.items()):
        kept = with_names(entry, [n for n in entry.names if owner[n] == sha])
        if kept is None:
            scan.stale.append(rids[sha])
            del by_sha[sha]
        else:
            by_sha[sha] = kept
    return by_sha


def _merge_legacy(
    records: Sequence[tuple[str, dict[str, Any]]],
    superseded: set[str],
    claimed: set[str],
    by_sha: dict[str, ManifestEntry],
    scan: Scan,
) -> None:
    """Add old-style records to *by_sha*, one entry per content, names alphabetical."""
    groups: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for rid, meta in records:
        groups.setdefault(meta["sha256"], []).append((rid, meta))
    for sha, group in groups.items():
        ids = [rid for rid, _ in group]
        names = sorted(m["source"] for _, m in group if m["source"] not in claimed)
        if sha in superseded or not names:
            scan.stale.extend(ids)
            continue
        newest = max((m for _, m in group), key=lambda m: m["ingested_at"])
        by_sha[sha] = _entry_from_meta(newest, names)
        scan.legacy[sha] = ids
