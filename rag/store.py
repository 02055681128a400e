"""Chroma storage: chunks with embeddings, plus a manifest of whole documents.

Two collections live in one Chroma database (embedded folder or server):

* ``<prefix>_chunks``: one record per chunk (langchain-chroma, cosine space), id
  derived from document hash + chunker/model fingerprint + position, metadata
  ``source, title, start, end, index, doc_sha256, fingerprint``.
* ``<prefix>_documents``: the manifest, one record per document *content* (SHA-256)
  with the full text (every offset points into it), its chunk count and every name
  (source path) it was ingested under: the same file in ``seeds/`` and in the uploads
  folder is one document with two names, and is embedded once.

Ingest is idempotent and crash-safe: chunks are upserted first, the manifest entries
are written *last* (all of a change in one write, so a name moving from one content to
another never sits in both), and chunks nothing vouches for any more are deleted after.
Documents are written in groups (:meth:`DocumentStore.upsert_documents`): one presence
check, one embedding call over the group's *distinct* new chunk texts, then the group's
manifest entries in one write, so a large folder costs a few store round trips per
group instead of several per document. Readers only trust chunks whose document hash
is in the manifest, and every ingest starts by deleting chunks the manifest does not
vouch for. Stores written before names existed (one manifest record per source) still
load, and are rewritten one record per content by the next ingest.

Serialising concurrent writers is the caller's job (:mod:`rag.ingest`). This module
does no chunking policy and no ranking.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import shutil
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlparse

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from rag.chunking import Chunk
from rag.config import Settings
from rag.documents import SourceDocument, source_key
from rag.errors import RagError, StoreCorruptError, StoreEmptyError

log = logging.getLogger(__name__)

BATCH = 256
SCAN_PAGE = 5000  # chunk records per read when scanning the whole collection
_GENERATION_ID = "__generation__"
CHROMA_DB = "chroma.sqlite3"  # Chroma's database file in an embedded store folder
LEXICAL_DIR = "lexical"  # where rag.retrieval saves BM25 indexes inside the store folder
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


def chunk_id(doc_sha256: str, fingerprint: str, index: int) -> str:
    """Content-derived chunk id: same file + same settings => same id."""
    return hashlib.sha256(f"{doc_sha256}|{fingerprint}|{index}".encode()).hexdigest()[:32]


def _manifest_id(source: str) -> str:
    """Record id of a manifest written before names existed (one record per source)."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:32]


def _entry_id(sha256: str) -> str:
    """Record id of a document's manifest entry: one per content."""
    return _manifest_id(f"sha256:{sha256}")


def _entry_meta(entry: ManifestEntry) -> dict[str, Any]:
    return {**asdict(entry), "names": json.dumps(list(entry.names), ensure_ascii=False)}


def _entry_from_meta(meta: dict[str, Any], names: Sequence[str]) -> ManifestEntry:
    known = {f.name for f in fields(ManifestEntry)} - {"source", "names"}
    values = {key: meta[key] for key in known}
    return ManifestEntry(source=names[0], names=tuple(names), **values)


def _with_names(entry: ManifestEntry, names: Sequence[str]) -> ManifestEntry | None:
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


def make_client(settings: Settings) -> Any:
    """A Chroma client: HTTP when ``chroma_url`` is set, else embedded in ``store_dir``."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
    try:
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or 8000,
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        settings.store_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.store_dir), settings=chroma_settings)
    except Exception as exc:  # chromadb raises many unrelated types here
        where = settings.chroma_url or settings.store_dir
        raise StoreCorruptError(
            f"Cannot open the Chroma store at {where} ({type(exc).__name__}: {exc}). "
            "Check that it is reachable, or rebuild it with `python -m rag ingest --reset`."
        ) from exc


def stored_names(settings: Settings, embeddings: Embeddings) -> list[str] | None:
    """Every document name in an embedded store, read before a rebuild wipes it.

    The client is closed after, so the folder can be deleted. ``[]`` for a server
    store or no store yet; None when the store cannot be read.
    """
    database = settings.store_dir / CHROMA_DB
    if settings.chroma_url or not database.exists():
        return []
    if not _looks_like_sqlite(database):
        return None
    try:
        client = make_client(settings)
    except StoreCorruptError:
        _forget_failed_system(settings)
        return None
    try:
        manifest = DocumentStore(settings, embeddings, client).manifest()
    except Exception as exc:  # noqa: BLE001 - a damaged store: the rebuild is the repair
        log.warning("cannot read the documents of %s (%s)", settings.store_dir, exc)
        return None
    finally:
        client.close()
    return list(name_index(manifest))


def _looks_like_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def _forget_failed_system(settings: Settings) -> None:
    """Drop the Chroma system a failed open left cached for this folder.

    chromadb (1.5) caches one system per folder and keeps it when starting it fails,
    so every later client on the rebuilt folder in this process would fail too.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_system.pop(str(settings.store_dir), None)  # noqa: SLF001


def _is_store_file(path: Path) -> bool:
    """Whether *path*, in an embedded store folder, was written by Chroma or the lexical index."""
    if path.name == CHROMA_DB or path.name.startswith(f"{CHROMA_DB}-"):  # -wal, -journal
        return True
    return path.is_dir() and (path.name == LEXICAL_DIR or _is_uuid(path.name))


def _is_uuid(name: str) -> bool:
    try:
        return str(uuid.UUID(name)) == name.lower()
    except ValueError:
        return False


def wipe_embedded_store(settings: Settings) -> None:
    """Delete an embedded store's database files, even unreadable ones.

    Only Chroma's files (its database and collection folders) and the lexical
    indexes go: uploaded documents, the lock file and anything else in the folder
    (a tracked ``.gitkeep``) stay. Server stores are reset through the client.
    """
    if settings.chroma_url or not settings.store_dir.is_dir():
        return
    for child in settings.store_dir.iterdir():
        if not _is_store_file(child):
            continue
        log.warning("rebuild: deleting %s", child)
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()


@dataclass
class _Scan:
    """The manifest as read: entries by source, and records a tidy-up should touch."""

    entries: dict[str, ManifestEntry]
    stale: list[str] = field(default_factory=list)  # record ids nothing reads any more
    legacy: dict[str, list[str]] = field(default_factory=dict)  # sha256 -> old-style ids


def _resolve(records: Sequence[tuple[str, dict[str, Any]]]) -> _Scan:
    """Entries from manifest records, each name in exactly one entry.

    Current records (with ``names``) are authoritative; a record without names is a
    removed document. Old-style records (one per source, no ``names``) are merged by
    content, minus names a current record holds.
    """
    current = [(rid, meta) for rid, meta in records if "names" in meta]
    legacy = [(rid, meta) for rid, meta in records if "names" not in meta]
    scan = _Scan(entries={})
    by_sha = _current_entries(current, scan)
    claimed = {name for entry in by_sha.values() for name in entry.names}
    superseded = {meta["sha256"] for _, meta in current}
    _merge_legacy(legacy, superseded, claimed, by_sha, scan)
    scan.entries = {entry.source: entry for entry in by_sha.values()}
    return scan


def _current_entries(
    records: Sequence[tuple[str, dict[str, Any]]], scan: _Scan
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
        kept = _with_names(entry, [n for n in entry.names if owner[n] == sha])
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
    scan: _Scan,
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


class _ManifestEdit:
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

    def _set(self, entry: ManifestEntry) -> None:
        self.after[entry.sha256] = entry
        self.touched.add(entry.sha256)

    def _move(self, name: str, sha256: str | None) -> None:
        """Make *sha256* (None: no document) the only holder of *name*."""
        previous = self.owner.get(name)
        if previous is not None and previous != sha256:
            entry = self.after[previous]
            if entry is not None:
                self.after[previous] = _with_names(entry, [n for n in entry.names if n != name])
                self.touched.add(previous)
        if sha256 is None:
            self.owner.pop(name, None)
        else:
            self.owner[name] = sha256


class DocumentStore:
    """Chunks and manifest in Chroma; all reads filter through the manifest."""

    def __init__(self, settings: Settings, embeddings: Embeddings, client: Any = None) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self.client = client or make_client(settings)
        self.fingerprint = settings.chunking_fingerprint()
        self._open()

    def _open(self) -> None:
        from langchain_chroma import Chroma

        settings = self.settings
        self.chunks = Chroma(
            collection_name=f"{settings.collection}_chunks",
            embedding_function=self.embeddings,
            client=self.client,
            collection_configuration={"hnsw": {"space": "cosine"}},
        )
        self._manifest = self.client.get_or_create_collection(
            f"{settings.collection}_documents", embedding_function=None
        )

    # ----- manifest -------------------------------------------------------------
    def manifest(self) -> dict[str, ManifestEntry]:
        """Every document in the store (one per content), by source."""
        return self._read_manifest().entries

    def _read_manifest(self) -> _Scan:
        records = [
            (rid, meta)
            for got in self._scan(["metadatas"], self._manifest)
            for rid, meta in zip(got["ids"], got["metadatas"] or [], strict=True)
            if meta and "generation" not in meta
        ]
        return _resolve(records)

    def generation(self) -> str:
        """A token that changes whenever documents are added, changed or removed.

        Cheap (one lookup by id), so readers can check it on every query.
        """
        got = self._manifest.get(ids=[_GENERATION_ID], include=["metadatas"])
        metas = got["metadatas"] or []
        return str(metas[0]["generation"]) if metas else "empty"

    def _bump_generation(self) -> None:
        self._manifest.upsert(
            ids=[_GENERATION_ID],
            metadatas=[{"generation": uuid.uuid4().hex}],
            embeddings=[[1.0]],
        )

    def document_text(self, source: str) -> str:
        """Full text of an ingested document (the text offsets refer to), by any of its names."""
        got = self._manifest.get(where={"source": source}, include=["documents", "metadatas"])
        for text, meta in zip(got["documents"] or [], got["metadatas"] or [], strict=True):
            if text and meta and "names" in meta:
                return text
        entry = name_index(self.manifest()).get(source)  # another name, or an old-style store
        text = self._text_of(entry.sha256) if entry else ""
        if not text:
            raise StoreEmptyError(f"{source} is not in the store; ingest it first.")
        return text

    def _text_of(self, sha256: str) -> str:
        got = self._manifest.get(where={"sha256": sha256}, include=["documents"])
        return next((text for text in got["documents"] or [] if text), "")

    def _write_manifest(self, edit: _ManifestEdit) -> None:
        """Write every changed entry of *edit* in one upsert, then delete emptied ones.

        A removed document is first written without names (so the one write moves
        names atomically), then deleted; a crash in between leaves a record that
        reads as nothing and the next ingest deletes.
        """
        changes = edit.changes()
        if not changes:
            return
        kept = [entry for entry in changes.values() if entry is not None]
        gone = [sha for sha, entry in changes.items() if entry is None]
        texts = [edit.texts.get(e.sha256) or self._text_of(e.sha256) for e in kept]
        self._manifest.upsert(
            ids=[_entry_id(e.sha256) for e in kept] + [_entry_id(sha) for sha in gone],
            documents=texts + [""] * len(gone),
            metadatas=[_entry_meta(e) for e in kept]
            + [{"sha256": sha, "names": "[]"} for sha in gone],
            embeddings=[[1.0]] * len(changes),  # the manifest is looked up by id, never by vector
        )
        if gone:
            self._manifest.delete(ids=[_entry_id(sha) for sha in gone])

    def _commit(
        self, edit: _ManifestEdit, manifest: dict[str, ManifestEntry]
    ) -> tuple[list[ManifestEntry], int]:
        """Write *edit*, update *manifest* in place, drop chunks nothing vouches for.

        Returns the documents removed and the number of chunk records deleted.
        """
        changes = edit.changes()
        self._write_manifest(edit)
        if not changes:
            return [], 0
        for sha in changes:
            if sha in edit.before:
                manifest.pop(edit.before[sha].source, None)
        manifest.update({e.source: e for e in changes.values() if e is not None})
        self._bump_generation()
        owners = owners_of(manifest)
        old = [edit.before[sha] for sha in changes if sha in edit.before]
        deleted = sum(self._drop_if_unused(e.sha256, e.fingerprint, owners) for e in old)
        return [edit.before[sha] for sha, e in changes.items() if e is None], deleted

    def _tidy_manifest(self, scan: _Scan) -> None:
        """Delete records nothing reads; rewrite old-style ones, one record per content."""
        by_sha = {entry.sha256: entry for entry in scan.entries.values()}
        for sha, ids in scan.legacy.items():
            entry = by_sha[sha]
            self._manifest.upsert(
                ids=[_entry_id(sha)],
                documents=[self._text_of(sha)],
                metadatas=[_entry_meta(entry)],
                embeddings=[[1.0]],
            )
            scan.stale.extend(ids)
        for first in range(0, len(scan.stale), BATCH):
            self._manifest.delete(ids=scan.stale[first : first + BATCH])
        if scan.legacy:
            log.info("manifest: %d documents rewritten with their names", len(scan.legacy))

    # ----- writing --------------------------------------------------------------
    def upsert_documents(
        self,
        items: Sequence[tuple[SourceDocument, Sequence[Chunk]]],
        manifest: dict[str, ManifestEntry] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Store a group of documents: all their chunks first, then their manifest entries.

        Only chunks whose id is not in the store are embedded, and each distinct text
        once. Each document's name joins the entry of its content and leaves any other
        (a changed file under a known name replaces its old content). *manifest* (the
        caller's copy of :meth:`manifest`, saving a full read per group) is updated in
        place. Returns the number of chunks embedded.
        """
        manifest = self.manifest() if manifest is None else manifest
        planned = [
            (doc, chunks, [chunk_id(doc.sha256, self.fingerprint, c.index) for c in chunks])
            for doc, chunks in items
        ]
        present = self._present([cid for _, _, ids in planned for cid in ids])
        todo: dict[str, tuple[SourceDocument, Chunk]] = {}
        for doc, chunks, ids in planned:
            for cid, chunk in zip(ids, chunks, strict=True):
                if cid not in present:
                    todo.setdefault(cid, (doc, chunk))
        self._add(todo, progress)
        edit = _ManifestEdit(manifest)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        for doc, chunks in items:
            edit.put(doc, len(chunks), self.fingerprint, now)
        self._commit(edit, manifest)
        return len(todo)

    def add_names(
        self, names: Sequence[tuple[str, str]], manifest: dict[str, ManifestEntry] | None = None
    ) -> list[str]:
        """Attach each ``(name, sha256)`` to the stored document with that content.

        Nothing is embedded or written to the chunks. A name leaves the document it
        named before. Returns the names whose content is not in the store (skipped).
        """
        manifest = self.manifest() if manifest is None else manifest
        edit = _ManifestEdit(manifest)
        skipped = [name for name, sha in names if not edit.alias(name, sha)]
        self._commit(edit, manifest)
        return skipped

    def drop_names(
        self, names: Collection[str], manifest: dict[str, ManifestEntry] | None = None
    ) -> list[ManifestEntry]:
        """Forget *names*; a document left without any name is removed with its chunks.

        Returns the documents removed (as they were).
        """
        manifest = self.manifest() if manifest is None else manifest
        edit = _ManifestEdit(manifest)
        edit.drop(names)
        return self._commit(edit, manifest)[0]

    def remove_document(self, source: str, manifest: dict[str, ManifestEntry] | None = None) -> int:
        """Remove the document *source* names, under every name, and its chunks.

        Manifest entry first, then the chunks. *manifest*, when given, is the caller's
        copy and is updated in place. Returns the number of chunk records deleted.
        """
        manifest = self.manifest() if manifest is None else manifest
        entry = name_index(manifest).get(source)
        if entry is None:
            return 0
        edit = _ManifestEdit(manifest)
        edit.drop(entry.names)
        return self._commit(edit, manifest)[1]

    def _present(self, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for first in range(0, len(ids), BATCH * 8):
            found.update(self.chunks.get(ids=ids[first : first + BATCH * 8], include=[])["ids"])
        return found

    def _add(
        self,
        todo: dict[str, tuple[SourceDocument, Chunk]],
        progress: Callable[[int], None] | None,
    ) -> None:
        """Embed each distinct text of *todo* once, then write the chunks in batches."""
        texts = list(dict.fromkeys(chunk.text for _, chunk in todo.values()))
        vectors = dict(zip(texts, self.embeddings.embed_documents(texts), strict=True))
        items = list(todo.items())
        collection = self.chunks._collection  # noqa: SLF001 - add with precomputed vectors
        for first in range(0, len(items), BATCH):
            batch = items[first : first + BATCH]
            embeddings: list[Sequence[float]] = [vectors[chunk.text] for _, (_, chunk) in batch]
            collection.upsert(
                ids=[cid for cid, _ in batch],
                embeddings=embeddings,
                documents=[chunk.text for _, (_, chunk) in batch],
                metadatas=[self._chunk_metadata(doc, chunk) for _, (doc, chunk) in batch],
            )
            if progress:
                progress(len(batch))

    def _chunk_metadata(self, doc: SourceDocument, chunk: Chunk) -> dict[str, Any]:
        return {
            "source": doc.source,
            "title": doc.title,
            "start": chunk.start,
            "end": chunk.end,
            "index": chunk.index,
            "doc_sha256": doc.sha256,
            "fingerprint": self.fingerprint,
        }

    def _drop_if_unused(self, sha256: str, fingerprint: str, owners: Owners | None = None) -> int:
        """Delete a content version's chunks unless a document still has that content.

        Returns the number of chunk records deleted.
        """
        owners = self.owners() if owners is None else owners
        if (sha256, fingerprint) in owners:
            return 0
        where: Any = {"$and": [{"doc_sha256": sha256}, {"fingerprint": fingerprint}]}
        stale = self.chunks.get(where=where, include=[])["ids"]
        if stale:
            self.chunks.delete(ids=stale)
        return len(stale)

    def reconcile(self) -> int:
        """Delete chunks no manifest entry vouches for (left by an interrupted ingest).

        Also tidies the manifest (records a crash left, old-style records). When the
        chunk count is exactly what the manifest accounts for (the usual case) nothing
        can be orphaned and the full scan is skipped.
        """
        scan = self._read_manifest()
        self._tidy_manifest(scan)
        valid = owners_of(scan.entries)
        if self.count_chunks() == sum(entries[0].chunks for entries in valid.values()):
            return 0
        orphans = [
            cid
            for got in self._scan(["metadatas"])
            for cid, meta in zip(got["ids"], got["metadatas"] or [], strict=True)
            if self._key(meta) not in valid
        ]
        for first in range(0, len(orphans), BATCH * 20):
            self.chunks.delete(ids=orphans[first : first + BATCH * 20])
        if orphans:
            log.warning("removed %d chunks left by an interrupted ingest", len(orphans))
        return len(orphans)

    def reset(self) -> None:
        """Drop both collections and recreate them empty."""
        for name in (f"{self.settings.collection}_chunks", f"{self.settings.collection}_documents"):
            try:
                self.client.delete_collection(name)
            except Exception:  # noqa: BLE001 - absent collection: nothing to drop
                log.debug("collection %s did not exist", name)
        self._open()

    # ----- reading --------------------------------------------------------------
    def owners(self) -> Owners:
        """For each trusted content version (hash, fingerprint): the document holding it.

        Identical files under several names are one document with one set of chunks;
        its first name is shown, the others are listed in ``also_in``.
        """
        return owners_of(self.manifest())

    @staticmethod
    def _key(meta: dict[str, Any]) -> tuple[str, str]:
        return (meta.get("doc_sha256", ""), meta.get("fingerprint", ""))

    def _attributed(self, doc: Document, owners: Owners) -> Document:
        """*doc* with source and title taken from the manifest (the chunk may be shared)."""
        entries = owners[self._key(doc.metadata)]
        first = entries[0]
        meta = {**doc.metadata, "source": first.source, "title": first.title}
        others = [name for entry in entries for name in entry.names if name != first.source]
        meta["also_in"] = ", ".join(others)
        return Document(page_content=doc.page_content, metadata=meta, id=doc.id)

    def _scan(self, include: list[str], collection: Any = None) -> Iterator[dict[str, Any]]:
        """Every record of *collection* (default: the chunks), ``SCAN_PAGE`` at a time.

        One unpaged ``get`` of a large collection fails inside Chroma ("too many SQL
        variables", from about 32,000 records), so full reads go page by page.
        """
        offset = 0
        while True:
            source = self.chunks if collection is None else collection
            got = source.get(include=include, limit=SCAN_PAGE, offset=offset)
            if not got["ids"]:
                return
            yield got
            if len(got["ids"]) < SCAN_PAGE:
                return
            offset += SCAN_PAGE

    def all_chunks(self, owners: Owners | None = None) -> list[Document]:
        """Every trusted chunk, in a stable order (source, index)."""
        owners = owners if owners is not None else self.owners()
        docs = [
            self._attributed(Document(page_content=text, metadata=meta, id=cid), owners)
            for got in self._scan(["documents", "metadatas"])
            for cid, text, meta in zip(
                got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True
            )
            if self._key(meta) in owners
        ]
        return sorted(docs, key=lambda d: (d.metadata["source"], d.metadata["index"]))

    def chunks_by_id(self, ids: Sequence[str], owners: Owners | None = None) -> list[Document]:
        """The trusted chunks among *ids*, in the order given (unknown ids skipped)."""
        if not ids:
            return []
        owners = owners if owners is not None else self.owners()
        got = self.chunks.get(ids=list(ids), include=["documents", "metadatas"])
        found = {
            cid: self._attributed(Document(page_content=text, metadata=meta, id=cid), owners)
            for cid, text, meta in zip(
                got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True
            )
            if self._key(meta) in owners
        }
        return [found[cid] for cid in ids if cid in found]

    def dense_search(
        self, vector: list[float], n: int, owners: Owners | None = None
    ) -> list[tuple[Document, float]]:
        """Nearest chunks to *vector* with cosine similarity, trusted chunks only."""
        count = self.count_chunks()
        if not count:
            return []
        owners = owners if owners is not None else self.owners()
        hits = self.chunks.similarity_search_by_vector_with_relevance_scores(
            vector, k=min(n, count)
        )
        return [
            (self._attributed(doc, owners), 1.0 - dist)
            for doc, dist in hits
            if self._key(doc.metadata) in owners
        ]

    def count_chunks(self) -> int:
        """Number of chunk records (including any not yet reconciled)."""
        return self.chunks._collection.count()  # noqa: SLF001 - no public count in langchain-chroma

    def count_documents(self) -> int:
        """Number of documents in the manifest, without reading it (two cheap calls)."""
        records = self._manifest.count()
        return max(0, records - (self.generation() != "empty"))

    def require_documents(self) -> int:
        """The number of documents, or a clear error when nothing has been ingested.

        Called before every question, so it counts instead of reading the whole
        manifest, whose cost grows with the number of documents.
        """
        count = self.count_documents()
        if not count:
            raise StoreEmptyError(
                "The document store is empty; run `python -m rag ingest` (or `make run`) first."
            )
        return count
