"""The conversation history's API: create, list, get, append a turn, rename, delete.

:class:`ConversationStore` keeps every conversation of the chat page in one SQLite
file, or, when ``RAG_DATABASE_URL`` is set, in a PostgreSQL database that app replicas
on several machines share (the tables, connections and migrations are in
:mod:`rag.conversations.db`; the schema is brought up to date when a store opens). Each turn
stores the full :class:`~rag.answer.Answer` as JSON (:func:`answer_json`) and
:meth:`Answer.from_dict` rebuilds it; callers get :class:`ConversationSummary` and
:class:`Conversation` records with UTC dates, never rows. Every write is one
transaction (appending a turn, renaming and deleting lock the conversation's row, so
two replicas never give two turns one position), an unknown id raises
:class:`ConversationNotFound`, and a database that cannot be opened or written raises
:class:`ConversationStoreError` saying what to try.

Damage is contained, never fatal to the page: a conversation whose stored dates cannot
be read is listed with ``damaged`` saying so (and the epoch as its dates); a turn whose
stored answer cannot be read is skipped and its number listed in
:attr:`Conversation.damaged`; a file that is not an SQLite database (or a corrupt one)
is renamed ``<name>.damaged-<UTC time>`` with its companions and a fresh history is
started, which :attr:`ConversationStore.moved_aside` reports.

Where the history lives is the caller's choice (or :meth:`ConversationStore.for_settings`);
this module does not answer questions, write example questions or render anything.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from rag.answer import Answer
from rag.config import Settings
from rag.conversations.db import (
    ConversationRow,
    NewerSchemaError,
    TurnRow,
    open_engine,
    open_url_engine,
    upgrade,
)
from rag.errors import RagError

log = logging.getLogger(__name__)

DB_NAME = "conversations.sqlite3"
# The database and its WAL companions: a store rebuild must keep all three.
DB_FILES = (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm")
TITLE_CHARS = 80
_ID = re.compile(r"[0-9a-f]{32}")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the date shown for a date that cannot be read
# SQLite's words for a file that is not a database, or a damaged one: moved aside.
DAMAGED_FILE = {"SQLITE_NOTADB", "SQLITE_CORRUPT"}


class ConversationNotFound(RagError):  # noqa: N818 - the name says what happened
    """No conversation has this id (it never existed, or it was deleted)."""


class ConversationStoreError(RagError):
    """The conversation database cannot be opened or written."""


class _DamagedFile(Exception):  # noqa: N818 - internal signal, never leaves this module
    """The database file is not an SQLite database, or a corrupt one: move it aside."""


# ----- what callers get -----------------------------------------------------------------
@dataclass(frozen=True)
class ConversationSummary:
    """One conversation as a list shows it; ``title`` is '' until the first question."""

    id: str
    title: str
    created_at: datetime  # UTC
    updated_at: datetime  # UTC, the last turn or rename
    turns: int
    damaged: str = ""  # why the stored row cannot be read whole ('' when it can)


@dataclass(frozen=True)
class Conversation:
    """A whole conversation: its summary fields and every answer, in order."""

    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    answers: list[Answer]
    damaged: tuple[int, ...] = ()  # numbers (1 = first) of turns that cannot be read


Summaries = list[ConversationSummary]


# ----- Answer <-> JSON ------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """JSON for the few non-JSON values an answer's info may hold (numpy numbers, sets)."""
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store a {type(value).__name__} in a conversation")


def answer_json(answer: Answer) -> str:
    """The answer as the JSON text a turn stores."""
    return json.dumps(answer.to_dict(), ensure_ascii=False, default=_plain)


def title_of(question: str) -> str:
    """A conversation title from its first question: one line, at most TITLE_CHARS."""
    line = " ".join(question.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


def _utc(moment: datetime | None) -> datetime:
    return EPOCH if moment is None else moment.replace(tzinfo=UTC)


def _now() -> datetime:
    # SQLite keeps no time zone: rows hold naive UTC, callers get aware UTC.
    return datetime.now(UTC).replace(tzinfo=None)


def _summary(row: ConversationRow) -> ConversationSummary:
    unreadable = None in (row.created_at, row.updated_at)
    damaged = "its stored date cannot be read" if unreadable else ""
    return ConversationSummary(
        row.id, row.title or "", _utc(row.created_at), _utc(row.updated_at), row.turns, damaged
    )


def _answers(turns: list[str]) -> tuple[list[Answer], tuple[int, ...]]:
    """The answers stored as *turns* (JSON), and the numbers of those that cannot be read."""
    answers, damaged = [], []
    for number, text in enumerate(turns, start=1):
        try:
            answers.append(Answer.from_dict(json.loads(text)))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("turn %d of a conversation cannot be read, skipped (%r)", number, exc)
            damaged.append(number)
    return answers, tuple(damaged)


def _shown(url: str) -> str:
    """*url* as messages show it: the password hidden."""
    return make_url(url).render_as_string(hide_password=True)


def _is_damaged_file(exc: SQLAlchemyError) -> bool:
    """Whether *exc* says the file is not an SQLite database, or a corrupt one."""
    orig = getattr(exc, "orig", None)
    return isinstance(orig, sqlite3.DatabaseError) and (
        getattr(orig, "sqlite_errorname", "") in DAMAGED_FILE
    )


class ConversationStore:
    """Conversations in one SQLite file or PostgreSQL database; safe to share between
    threads, processes and (with PostgreSQL) machines.

    Give *path* (an SQLite file) or *url* (an SQLAlchemy URL, as ``RAG_DATABASE_URL``).
    """

    def __init__(self, path: Path | None = None, *, url: str | None = None) -> None:
        if (path is None) == (url is None):
            raise TypeError("give a path or a url")
        if url is not None and url.startswith("sqlite"):
            path, url = Path(make_url(url).database or ""), None
        self.url = url
        self.path = Path(path) if path is not None else None
        # What messages call the database: the file, or the URL without its password.
        self.location = str(self.path) if url is None else _shown(url)
        self.moved_aside: Path | None = None  # where a damaged file went, if one did
        if self.path is not None:
            self._make_folder(self.path)
        try:
            self._engine = self._open()
        except _DamagedFile:
            self.moved_aside = self._move_aside()
            self._engine = self._open()

    @staticmethod
    def _make_folder(path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConversationStoreError(
                f"Cannot create the folder for the conversation database {path} "
                f"({exc.strerror}). Check RAG_STORE_DIR points at a writable folder."
            ) from exc

    @staticmethod
    def path_for(settings: Settings) -> Path:
        """Where the conversations of *settings* live without a database URL."""
        return settings.store.store_dir / DB_NAME

    @classmethod
    def location_for(cls, settings: Settings) -> str:
        """Where *settings* keep conversations: ``store.database_url``, else :meth:`path_for`."""
        if settings.store.database_url is not None:
            return settings.store.database_url.get_secret_value()
        return str(cls.path_for(settings))

    @classmethod
    def at(cls, location: str) -> ConversationStore:
        """The store at *location*: an SQLAlchemy URL (it has ``://``) or an SQLite file."""
        return cls(url=location) if "://" in location else cls(Path(location))

    @classmethod
    def for_settings(cls, settings: Settings) -> ConversationStore:
        """The store at :meth:`location_for` *settings*."""
        return cls.at(cls.location_for(settings))

    def _open(self) -> Engine:
        engine = open_engine(self.path) if self.path is not None else open_url_engine(str(self.url))
        try:
            with engine.begin() as connection:
                upgrade(connection)
        except NewerSchemaError as exc:
            engine.dispose()
            raise ConversationStoreError(
                f"The conversation database {self.location} was written by a newer "
                "version of this program; upgrade it, or move the file away."
            ) from exc
        except SQLAlchemyError as exc:
            engine.dispose()
            if _is_damaged_file(exc) and self.moved_aside is None and self.path is not None:
                raise _DamagedFile from exc
            raise self._failure(exc, "open") from exc
        return engine

    def _move_aside(self) -> Path:
        """Rename the damaged database (and its companions) out of the way; the new name."""
        assert self.path is not None  # only a file can be damaged this way
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        aside = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        try:
            for suffix in ("", "-wal", "-shm"):
                old = self.path.with_name(self.path.name + suffix)
                if old.exists():
                    old.rename(aside.with_name(aside.name + suffix))
        except OSError as exc:
            raise ConversationStoreError(
                f"The conversation database {self.path} is damaged and could not be moved "
                f"aside ({exc.strerror}); move it away by hand to start a fresh history."
            ) from exc
        log.warning("the conversation database %s was damaged; moved to %s", self.path, aside)
        return aside

    def _failure(self, exc: SQLAlchemyError, doing: str) -> ConversationStoreError:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        advice = (
            "check the disk, or move the file away to start a fresh history"
            if self.path is not None
            else "check the database server is running and RAG_DATABASE_URL is right"
        )
        return ConversationStoreError(
            f"Could not {doing} the conversation database {self.location} ({reason}). "
            f"Try again; if it keeps failing, {advice}."
        )

    @contextmanager
    def _transaction(self, doing: str) -> Iterator[Session]:
        """One transaction: committed whole when the block ends, else rolled back."""
        try:
            with Session(self._engine, expire_on_commit=False) as session, session.begin():
                yield session
        except SQLAlchemyError as exc:
            raise self._failure(exc, doing) from exc

    @staticmethod
    def _row(session: Session, cid: str, lock: bool = False) -> ConversationRow:
        """The row of *cid*; *lock*: held until the transaction ends (PostgreSQL; SQLite's
        BEGIN IMMEDIATE already serialises writers)."""
        known = _ID.fullmatch(cid or "")
        row = session.get(ConversationRow, cid, with_for_update=lock) if known else None
        if row is None:
            raise ConversationNotFound(
                "This conversation does not exist (it may have been deleted). "
                "Start a new conversation."
            )
        return row

    def create(self, title: str = "") -> ConversationSummary:
        """A new, empty conversation with a random id."""
        now = _now()
        row = ConversationRow(
            id=uuid.uuid4().hex, title=title_of(title), created_at=now, updated_at=now, turns=0
        )
        with self._transaction("write to") as session:
            session.add(row)
        return _summary(row)

    def list(self, limit: int = 100) -> Summaries:
        """Up to *limit* conversations, the most recently updated first."""
        newest = ConversationRow.updated_at.desc(), ConversationRow.created_at.desc()
        with self._transaction("read") as session:
            rows = session.scalars(select(ConversationRow).order_by(*newest).limit(limit))
            return [_summary(row) for row in rows]

    def summary(self, cid: str) -> ConversationSummary:
        """One conversation's title, dates and turn count."""
        with self._transaction("read") as session:
            return _summary(self._row(session, cid))

    def get(self, cid: str) -> Conversation:
        """The conversation *cid* with every answer, in the order they were given."""
        with self._transaction("read") as session:
            row = self._row(session, cid)
            turns = session.scalars(
                select(TurnRow.answer_json)
                .where(TurnRow.conversation_id == cid)
                .order_by(TurnRow.position)
            ).all()
            head = _summary(row)
        answers, damaged = _answers(list(turns))
        return Conversation(head.id, head.title, head.created_at, head.updated_at, answers, damaged)

    def append_turn(self, cid: str, answer: Answer) -> int:
        """Store *answer* as the next turn of *cid*; its position (0 for the first)."""
        payload = answer_json(answer)
        with self._transaction("write to") as session:
            row = self._row(session, cid, lock=True)
            position, now = row.turns, _now()
            session.add(
                TurnRow(
                    conversation_id=cid,
                    position=position,
                    created_at=now,
                    question=answer.question,
                    outcome=answer.outcome,
                    answer_json=payload,
                )
            )
            row.turns, row.updated_at = position + 1, now
            if not row.title:
                row.title = title_of(answer.question)
        return position

    def rename(self, cid: str, title: str) -> ConversationSummary:
        """Give *cid* a new title (one line, at most TITLE_CHARS); blank is refused."""
        clean = title_of(title)
        if not clean:
            raise RagError("A conversation title cannot be empty; type a few words.")
        with self._transaction("write to") as session:
            row = self._row(session, cid, lock=True)
            row.title, row.updated_at = clean, _now()
            return _summary(row)

    def delete(self, cid: str) -> None:
        """Delete *cid* and all its turns."""
        with self._transaction("write to") as session:
            self._row(session, cid, lock=True)
            session.execute(delete(TurnRow).where(TurnRow.conversation_id == cid))
            session.execute(delete(ConversationRow).where(ConversationRow.id == cid))

    def close(self) -> None:
        """Close the database connections (the data stays)."""
        self._engine.dispose()
