"""The SQLite tables of the conversation history, and how a connection to them behaves.

Two tables: ``conversations`` (id, title, dates, turn count) and ``turns`` (one row per
answer, its position in the conversation and the answer as JSON), declared with
SQLAlchemy 2.x. Dates are :class:`LenientDateTime`: a stored date that cannot be read
(a damaged row) loads as None instead of failing the whole query. :func:`open_engine`
makes every connection crash-safe: WAL journal, ``synchronous=FULL``, foreign keys on,
and each transaction a ``BEGIN IMMEDIATE`` that waits up to :data:`BUSY_TIMEOUT_S` for
another writer.

This module declares and connects only; creating, reading and writing conversations is
:class:`rag.conversations.store.ConversationStore`'s job.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCHEMA_VERSION = 1  # kept in PRAGMA user_version; a newer file is refused, not migrated
BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another one before giving up


class LenientDateTime(TypeDecorator[datetime]):
    """SQLite's DATETIME, except that a value that is not a date reads as None.

    One damaged row (a hand edit, a disk error) must not make every list of
    conversations fail; the caller says the row is damaged instead.
    """

    impl = DateTime
    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        inner = super().result_processor(dialect, coltype)

        def process(value: Any) -> datetime | None:
            try:
                return inner(value) if inner else value
            except (ValueError, TypeError):
                return None

        return process


class Base(DeclarativeBase):
    """The tables' metadata (``Base.metadata.create_all`` makes any that are missing)."""


class ConversationRow(Base):
    """One conversation: ``turns`` is the next turn's position, ``title`` '' until set."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime | None] = mapped_column(LenientDateTime, nullable=False)
    updated_at: Mapped[datetime | None] = mapped_column(LenientDateTime, nullable=False, index=True)
    turns: Mapped[int] = mapped_column(Integer, default=0)


class TurnRow(Base):
    """One answer of a conversation, at a position unique within it, as JSON."""

    __tablename__ = "turns"
    __table_args__ = (UniqueConstraint("conversation_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime | None] = mapped_column(LenientDateTime, nullable=False)
    question: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))
    answer_json: Mapped[str] = mapped_column(Text)


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


def open_engine(path: Path) -> Engine:
    """An engine on the SQLite file *path* whose connections behave as described above."""
    engine = create_engine(
        f"sqlite+pysqlite:///{path}",
        connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False},
    )
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    return engine
