"""The conversation tables, their migrations, and how a connection to them behaves.

Two tables: ``conversations`` (id, title, dates, turn count) and ``turns`` (one row per
answer, its position in the conversation and the answer as JSON), declared with
SQLAlchemy 2.x. Dates are :class:`LenientDateTime`: a stored date that cannot be read
(a damaged row) loads as None instead of failing the whole query.

Where they live: an SQLite file (:func:`open_engine`: every connection crash-safe, WAL
journal, ``synchronous=FULL``, foreign keys on, and each transaction a ``BEGIN
IMMEDIATE`` that waits up to :data:`BUSY_TIMEOUT_S` for another writer) or, for app
replicas on several machines, a PostgreSQL database (:func:`open_url_engine` with a
``postgresql+psycopg://`` URL; connections checked before use).

Schema changes are Alembic revisions in ``migrations/versions``; :func:`upgrade` applies
them when a store opens, on both engines, under a lock so replicas starting together
migrate once. A file written before migrations existed is stamped with the first
revision (its tables are that revision's). A database whose revision this version does
not know (a newer version wrote it) is refused with :class:`NewerSchemaError`.

This module declares, connects and migrates only; creating, reading and writing
conversations is :class:`rag.conversations.store.ConversationStore`'s job.
"""

from __future__ import annotations

import hashlib
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
    inspect,
)
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Kept in SQLite's PRAGMA user_version, which versions before Alembic read: raise it with
# a revision those versions must not open (they refuse a file with a higher number).
SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another one before giving up
MIGRATIONS = Path(__file__).with_name("migrations")
FIRST_REVISION = "0001"  # the tables every file written before migrations has
# pg_advisory_xact_lock keys: "RAG\0", then one for "migrate conversations"
MIGRATE_LOCK = (
    0x52414700,
    int.from_bytes(hashlib.sha256(b"migrate:conversations").digest()[:4]) & 0x7FFF_FFFF,
)


class NewerSchemaError(Exception):
    """The database was migrated by a newer version of this program."""


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


def open_url_engine(url: str) -> Engine:
    """An engine on the PostgreSQL database at the SQLAlchemy *url* (an SQLite file's URL:
    :func:`open_engine` on its path instead)."""
    return create_engine(
        url,
        pool_pre_ping=True,  # a restarted database server costs one retry, not an error
        connect_args={"connect_timeout": 10, "application_name": "rag-conversations"},
    )


def _alembic(connection: Connection | None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(connection: Connection) -> None:
    """Bring the tables on *connection* (inside its transaction) to the latest revision.

    Raises NewerSchemaError when the database is at a revision this version lacks.
    """
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    if connection.dialect.name == "sqlite":
        version = connection.exec_driver_sql("PRAGMA user_version").scalar() or 0
        if version > SCHEMA_VERSION:
            raise NewerSchemaError(version)
    else:  # replicas opening one new database at once: one migrates, the others wait
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(%s, %s)", MIGRATE_LOCK)
    config = _alembic(connection)
    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    current = MigrationContext.configure(connection).get_current_heads()
    if set(current) - known:
        raise NewerSchemaError(*current)
    if not current and inspect(connection).has_table("conversations"):
        command.stamp(config, FIRST_REVISION)  # written before migrations existed
    command.upgrade(config, "head")
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")
