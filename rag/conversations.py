"""Conversations kept in a local SQLite database, and example questions to start one.

:class:`ConversationStore` keeps every conversation of the chat page in
``settings.store_dir / "conversations.sqlite3"`` through SQLAlchemy 2.x: create,
list (newest first, with the title taken from the first question, dates and turn
count), get (every turn in order), append a turn, rename and delete. Each turn stores
the full :class:`~rag.answer.Answer` as JSON (``Answer.to_dict()``: question,
standalone question, answer, outcome, confidence, citations with offsets and document
hash, passages, mode, timings, info), and :meth:`Answer.from_dict` rebuilds it, so a
conversation reopened after a restart shows every answer and citation as it was.

Crash safety: the database runs in WAL mode with ``synchronous=FULL`` and every write
is one ``BEGIN IMMEDIATE`` transaction (writers take turns, waiting up to
:data:`BUSY_TIMEOUT_S`), so a killed server loses at most the turn being written and
never damages earlier ones. Conversation ids are random (uuid4 hex); an unknown id
raises :class:`ConversationNotFound`.

With a Chroma server (``RAG_CHROMA_URL``) the documents live on the server but the
conversations do not: the SQLite file is always in the local ``store_dir`` of the
machine that runs the page, so each machine (or page replica) has its own history.

:func:`example_questions` builds a few questions from the documents' own text
(headings, and the subject and verb of their sentences), with no rule about any
particular document, for the page to offer on an empty conversation.

This module does not answer questions, render anything or import Streamlit.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import takewhile
from pathlib import Path
from typing import Any

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from rag.answer import Answer
from rag.chunking import split_sentences
from rag.config import Settings
from rag.errors import RagError

log = logging.getLogger(__name__)

DB_NAME = "conversations.sqlite3"
# The database and its WAL companions: a store rebuild must keep all three.
DB_FILES = (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm")
SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another one before giving up
TITLE_CHARS = 80
_ID = re.compile(r"[0-9a-f]{32}")


class ConversationNotFound(RagError):  # noqa: N818 - the name says what happened
    """No conversation has this id (it never existed, or it was deleted)."""


class ConversationStoreError(RagError):
    """The conversation database cannot be opened or written."""


# ----- rows -----------------------------------------------------------------------------
class _Base(DeclarativeBase):
    pass


class _ConversationRow(_Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    turns: Mapped[int] = mapped_column(Integer, default=0)


class _TurnRow(_Base):
    __tablename__ = "turns"
    __table_args__ = (UniqueConstraint("conversation_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    question: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))
    answer_json: Mapped[str] = mapped_column(Text)


# ----- what callers get -----------------------------------------------------------------
@dataclass(frozen=True)
class ConversationSummary:
    """One conversation as a list shows it; ``title`` is '' until the first question."""

    id: str
    title: str
    created_at: datetime  # UTC
    updated_at: datetime  # UTC, the last turn or rename
    turns: int


@dataclass(frozen=True)
class Conversation:
    """A whole conversation: its summary fields and every answer, in order."""

    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    answers: list[Answer]


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


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)


def _now() -> datetime:
    # SQLite keeps no time zone: rows hold naive UTC, callers get aware UTC.
    return datetime.now(UTC).replace(tzinfo=None)


def _summary(row: _ConversationRow) -> ConversationSummary:
    return ConversationSummary(
        row.id, row.title, _utc(row.created_at), _utc(row.updated_at), row.turns
    )


# ----- the store ------------------------------------------------------------------------
def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    """WAL, full sync, foreign keys; SQLAlchemy (not sqlite3) emits BEGIN."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _on_begin(connection: Any) -> None:
    # IMMEDIATE takes the write lock up front: two appends never interleave their
    # read of the turn count with each other's insert.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


class ConversationStore:
    """Conversations in one SQLite file; safe to share between threads and processes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConversationStoreError(
                f"Cannot create the folder for the conversation database {self.path} "
                f"({exc.strerror}). Check RAG_STORE_DIR points at a writable folder."
            ) from exc
        self._engine = self._open()

    @classmethod
    def for_settings(cls, settings: Settings) -> ConversationStore:
        """The store at ``settings.store_dir / DB_NAME`` (always local, see module doc)."""
        return cls(settings.store_dir / DB_NAME)

    def _open(self) -> Engine:
        engine = create_engine(
            f"sqlite+pysqlite:///{self.path}",
            connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False},
        )
        event.listen(engine, "connect", _on_connect)
        event.listen(engine, "begin", _on_begin)
        try:
            with engine.begin() as connection:
                version = connection.exec_driver_sql("PRAGMA user_version").scalar() or 0
                if version > SCHEMA_VERSION:
                    raise ConversationStoreError(
                        f"The conversation database {self.path} was written by a newer "
                        "version of this program; upgrade it, or move the file away."
                    )
                _Base.metadata.create_all(connection)
                connection.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except SQLAlchemyError as exc:
            engine.dispose()
            raise self._failure(exc, "open") from exc
        return engine

    def _failure(self, exc: SQLAlchemyError, doing: str) -> ConversationStoreError:
        reason = getattr(exc, "orig", None) or exc
        return ConversationStoreError(
            f"Could not {doing} the conversation database {self.path} ({reason}). "
            "Try again; if it keeps failing, check the disk, or move the file away "
            "to start a fresh history."
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
    def _row(session: Session, cid: str) -> _ConversationRow:
        row = session.get(_ConversationRow, cid) if _ID.fullmatch(cid or "") else None
        if row is None:
            raise ConversationNotFound(
                "This conversation does not exist (it may have been deleted). "
                "Start a new conversation."
            )
        return row

    def create(self, title: str = "") -> ConversationSummary:
        """A new, empty conversation with a random id."""
        now = _now()
        row = _ConversationRow(
            id=uuid.uuid4().hex, title=title_of(title), created_at=now, updated_at=now, turns=0
        )
        with self._transaction("write to") as session:
            session.add(row)
        return _summary(row)

    def list(self, limit: int = 100) -> Summaries:
        """Up to *limit* conversations, the most recently updated first."""
        newest = _ConversationRow.updated_at.desc(), _ConversationRow.created_at.desc()
        with self._transaction("read") as session:
            rows = session.scalars(select(_ConversationRow).order_by(*newest).limit(limit))
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
                select(_TurnRow.answer_json)
                .where(_TurnRow.conversation_id == cid)
                .order_by(_TurnRow.position)
            ).all()
            head = _summary(row)
        answers = [Answer.from_dict(json.loads(text)) for text in turns]
        return Conversation(head.id, head.title, head.created_at, head.updated_at, answers)

    def append_turn(self, cid: str, answer: Answer) -> int:
        """Store *answer* as the next turn of *cid*; its position (0 for the first)."""
        payload = answer_json(answer)
        with self._transaction("write to") as session:
            row = self._row(session, cid)
            position, now = row.turns, _now()
            session.add(
                _TurnRow(
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
            row = self._row(session, cid)
            row.title, row.updated_at = clean, _now()
            return _summary(row)

    def delete(self, cid: str) -> None:
        """Delete *cid* and all its turns."""
        with self._transaction("write to") as session:
            self._row(session, cid)
            session.execute(delete(_TurnRow).where(_TurnRow.conversation_id == cid))
            session.execute(delete(_ConversationRow).where(_ConversationRow.id == cid))

    def close(self) -> None:
        """Close the database connections (the file stays)."""
        self._engine.dispose()


# ----- conversation starters ------------------------------------------------------------
_AUXILIARIES = frozenset(
    "will would can could should must may might has have had is are was were".split()
)
_DETERMINERS = frozenset("the a an this that these those".split())
_NOT_VERBS = frozenset("be been being not also so already now still just never ever yet".split())
_PRONOUNS = frozenset("it its he she they them his her their there we our you i".split())
_WORD = re.compile(r"[A-Za-z][\w’'.-]*\Z")
_MD_HEADING = re.compile(r"^#{1,6}\s+(.+?)[\s#]*$", re.M)
_TITLE_CUT = re.compile(r"\s*(?::|\s[-–—|]\s)")
MAX_EXAMPLE_CHARS = 120
_SCAN_CHARS = 20_000  # only the start of a long document is looked at


def short_title(title: str) -> str:
    """A title's part before a colon or dash: "Fortress Calais: UK, ..." -> "Fortress Calais"."""
    head = _TITLE_CUT.split(title.strip(), maxsplit=1)[0].strip()
    return head[:60].rstrip() or title.strip()[:60]


def _words(sentence: str) -> list[str]:
    return [w.strip(',;:()"“”') for w in sentence.split()]


def _subject_case(subject: list[str], text: str) -> str:
    """The subject as it reads mid-sentence: a capitalised common word is lowered.

    A first word is a name (kept) when the subject goes on in capitals ("Home
    Secretary") or the text capitalises it mid-sentence too ("the British government").
    """
    first, rest = subject[0], subject[1:]
    named = (rest and rest[0][:1].isupper()) or re.search(rf"[\w,;]\s+{re.escape(first)}\b", text)
    common = first.lower() in _DETERMINERS or not named
    return " ".join([first.lower() if common else first, *rest])


def _leading_subject(words: list[str]) -> list[str]:
    """The noun phrase a sentence opens with: a determiner and a noun, or capitalised words."""
    if not words or not _WORD.match(words[0]) or words[0].lower() in _PRONOUNS:
        return []
    if words[0].lower() in _DETERMINERS:
        return words[:2] if len(words) > 2 and _WORD.match(words[1]) else []
    subject = list(takewhile(lambda w: w[:1].isupper() and bool(_WORD.match(w)), words))
    return subject if len(subject) <= 5 else []


def _verb_question(words: list[str], text: str) -> str | None:
    """Subject + auxiliary + verb: 'May will visit Calais' -> 'What will May visit?'.

    Passives ("was mended"), adverbs ("has so far") and pronoun subjects give None.
    """
    for i, word in enumerate(words[1:7], start=1):
        if word not in _AUXILIARIES or i + 1 >= len(words):
            continue
        subject, verb = words[:i], words[i + 1]
        if not all(_WORD.match(w) for w in subject) or subject[0].lower() in _PRONOUNS:
            return None
        if word in {"is", "are", "was", "were"}:  # "is to build" or "is building", not passives
            if verb == "to" and i + 2 < len(words) and _WORD.match(words[i + 2]):
                verb = f"to {words[i + 2]}"
            elif not verb.endswith("ing"):
                return None
        last = verb.split()[-1]
        if not _WORD.match(last) or verb in _NOT_VERBS or last.endswith("ly"):
            return None
        return f"What {word} {_subject_case(subject, text)} {verb}?"
    return None


def _document_questions(title: str, text: str) -> Iterator[str]:
    """Questions a reader could ask of one document, best first."""
    text = text[:_SCAN_CHARS]
    name = short_title(title)
    for heading in _MD_HEADING.findall(text):
        if heading.strip() != title.strip():
            yield f"What does {name} say about {heading.strip()}?"
    first_line = len(text.split("\n", 1)[0])
    sentences = [s.text for s in split_sentences(text) if s.start >= first_line]
    for sentence in sentences:
        question = _verb_question(_words(sentence), text)
        if question:
            yield question
    for sentence in sentences:
        subject = _leading_subject(_words(sentence))
        if subject:
            yield f"What does {name} say about {_subject_case(subject, text)}?"
    yield f"What is {name} about?"


def example_questions(documents: Sequence[tuple[str, str]], n: int = 3) -> list[str]:
    """Up to *n* questions from *documents* (``(title, text)`` pairs), one per document in turn."""
    streams = [_document_questions(title, text) for title, text in documents]
    chosen: list[str] = []
    while streams and len(chosen) < n:
        for stream in list(streams):
            question = next(stream, None)
            if question is None:
                streams.remove(stream)
            elif len(question) <= MAX_EXAMPLE_CHARS and question.lower() not in {
                q.lower() for q in chosen
            }:
                chosen.append(question)
            if len(chosen) == n:
                break
    return chosen
