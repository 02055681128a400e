"""Opening Chroma, reading a collection page by page, wiping an embedded store.

:func:`make_client` gives the one raw ``chromadb`` client everything in
:mod:`rag.store` talks through: HTTP when ``settings.store.chroma_url`` is set, else
embedded in ``settings.store.store_dir``; it offers ``--reset`` only when the store's
database is damaged, never for a store that is merely not readable or writable (a
reset cannot fix permissions, and would rebuild only what it can find on disk).
:func:`move_embedded_store_aside`, the first step of a reset, moves an embedded
store's files (even unreadable ones) into a dated backup folder beside them, so a
reset keeps what it cannot rebuild; nothing else in the folder is touched.
:func:`server_gone` recognises a Chroma server that cannot be reached (or stopped
answering during a command) and says so as a :class:`~rag.errors.StoreUnavailableError`.
This module knows nothing of chunks or the manifest.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from rag.config import Settings
from rag.errors import StoreCorruptError, StoreUnavailableError

log = logging.getLogger(__name__)

BATCH = 256  # records per write
SCAN_PAGE = 5000  # records per read when scanning a whole collection
CHROMA_DB = "chroma.sqlite3"  # Chroma's database file in an embedded store folder
LEXICAL_DIR = "lexical"  # where the BM25 indexes are saved inside the store folder
BACKUP_PREFIX = "reset-backup-"  # a reset moves the old store's files into such a folder
# Words of SQLite and chromadb for a database that is damaged (not merely locked or
# read-only): only then is a rebuild the repair.
DAMAGED_WORDS = ("not a database", "malformed", "corrupt", "no such table")


def make_client(settings: Settings) -> Any:
    """A Chroma client: HTTP when ``store.chroma_url`` is set, else in ``store.store_dir``."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
    try:
        if settings.store.chroma_url:
            url = urlparse(settings.store.chroma_url)
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or 8000,
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        settings.store.store_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(
            path=str(settings.store.store_dir), settings=chroma_settings
        )
    except Exception as exc:  # chromadb raises many unrelated types here
        if settings.store.chroma_url:
            raise StoreUnavailableError(_unreachable(settings.store.chroma_url, exc)) from exc
        raise StoreCorruptError(_cannot_open(settings.store.store_dir, exc)) from exc


def _cannot_open(folder: Path, exc: BaseException) -> str:
    """What to say when the embedded store in *folder* cannot be opened."""
    said = f"Cannot open the Chroma store at {folder} ({type(exc).__name__}: {exc})."
    database = folder / CHROMA_DB
    damaged = any(word in str(exc).lower() for word in DAMAGED_WORDS)
    if damaged or (database.is_file() and not looks_like_sqlite(database)):
        return (
            f"{said} It is damaged: `python -m rag ingest --reset` rebuilds it from seeds/, "
            "the uploads and every file it was ingested from that still exists, and keeps "
            f"the old store in {folder}/{BACKUP_PREFIX}<time>."
        )
    return (
        f"{said} Check that the folder and its files can be read and written by this "
        "user and that the disk is not full, then try again; the documents in it are "
        "probably intact (do not reset it)."
    )


def _unreachable(url: str, exc: BaseException) -> str:
    """What to say when the Chroma server at *url* does not answer; *exc* says how."""
    return (
        f"Cannot reach the Chroma server at {url} ({type(exc).__name__}: {exc}). "
        "Check that it is running and that RAG_CHROMA_URL points at it, then run the "
        "command again (an ingest that was cut short resumes where it stopped)."
    )


def server_gone(exc: BaseException) -> StoreUnavailableError | None:
    """*exc* as a :class:`StoreUnavailableError` when it is a Chroma client losing its server.

    That is a network failure (refused, reset, timed out) raised inside ``chromadb``'s
    HTTP client; anything else (an Ollama server down, a bug) gives None, so it keeps
    its own message and traceback.
    """
    import httpx

    if not isinstance(exc, httpx.TransportError) or not _raised_in_chromadb(exc):
        return None
    try:
        url = exc.request.url
        where = f"{url.scheme}://{url.netloc.decode()}"
    except RuntimeError:  # httpx raises this when the error has no request attached
        where = "RAG_CHROMA_URL"
    error = StoreUnavailableError(_unreachable(where, exc))
    error.__cause__ = exc
    return error


def _raised_in_chromadb(exc: BaseException) -> bool:
    """Whether *exc* passed through a ``chromadb`` frame on its way up."""
    frame = exc.__traceback__
    while frame is not None:
        if str(frame.tb_frame.f_globals.get("__name__", "")).startswith("chromadb."):
            return True
        frame = frame.tb_next
    return False


def scan(collection: Any, include: list[str]) -> Iterator[dict[str, Any]]:
    """Every record of *collection*, ``SCAN_PAGE`` at a time.

    One unpaged ``get`` of a large collection fails inside Chroma ("too many SQL
    variables", from about 32,000 records), so full reads go page by page.
    """
    offset = 0
    while True:
        got = collection.get(include=include, limit=SCAN_PAGE, offset=offset)
        if not got["ids"]:
            return
        yield got
        if len(got["ids"]) < SCAN_PAGE:
            return
        offset += SCAN_PAGE


def looks_like_sqlite(path: Path) -> bool:
    """Whether *path* starts like an SQLite database."""
    try:
        with path.open("rb") as handle:
            return handle.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def forget_failed_system(settings: Settings) -> None:
    """Drop the Chroma system a failed open left cached for this folder.

    chromadb (1.5) caches one system per folder and keeps it when starting it fails,
    so every later client on the rebuilt folder in this process would fail too.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_system.pop(str(settings.store.store_dir), None)  # noqa: SLF001


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


def move_embedded_store_aside(settings: Settings) -> Path | None:
    """Move an embedded store's database files into ``store_dir/reset-backup-<UTC time>``.

    Only Chroma's files (its database and collection folders) and the lexical indexes
    move: uploaded documents, the lock file, earlier backups and anything else in the
    folder (a tracked ``.gitkeep``) stay. Returns the backup folder, or None when
    there was nothing to move (a server store, or no store yet). Server stores are
    reset through the client.
    """
    if settings.store.chroma_url or not settings.store.store_dir.is_dir():
        return None
    children = [child for child in settings.store.store_dir.iterdir() if _is_store_file(child)]
    if not children:
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    backup = settings.store.store_dir / f"{BACKUP_PREFIX}{stamp}"
    backup.mkdir()
    for child in children:
        child.rename(backup / child.name)
    log.warning("rebuild: the old store's files were moved to %s", backup)
    return backup
