"""The conversation schema goes through Alembic migrations; older files still open.

Issue 27 item 3. ``tests/snapshots/conversations-v1.sqlite3`` was written by the
version before migrations (commit 43e9ba8, tables made by ``create_all``): it must open,
keep every conversation and turn, and be stamped at the first revision. The same
checks on PostgreSQL are in tests/integration/test_conversations_postgres.py.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from rag.conversations import DB_NAME, ConversationStore, ConversationStoreError
from rag.conversations.db import MIGRATIONS, SCHEMA_VERSION, Base, _alembic
from tests.conftest import ROOT
from tests.fakes import answered, not_found, unsure
from tests.unit.test_conversations import rich_answer

WRITTEN_BEFORE_MIGRATIONS = ROOT / "tests" / "snapshots" / "conversations-v1.sqlite3"
CHAT = "639d6b0196ff487fbe2b588989d4e0af"  # three turns
PIER = "78901474d4a74ae6bd19a8c6773a77e5"  # renamed, one turn


def head_revision() -> str:
    config = _alembic(None)  # the script folder only
    return str(ScriptDirectory.from_config(config).get_current_head())


def revision_of(path: Path) -> tuple[str | None, int]:
    """The Alembic revision stamped in the SQLite file *path*, and its user_version."""
    with sqlite3.connect(path) as raw:
        [(revision,)] = raw.execute("SELECT version_num FROM alembic_version").fetchall()
        return revision, raw.execute("PRAGMA user_version").fetchone()[0]


def schema_differences(url: str) -> list:
    """What Alembic's autogenerate finds between the migrated database and the models."""
    engine = create_engine(url)
    with engine.connect() as connection:
        found = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    return found


@pytest.fixture
def old_file(tmp_path: Path) -> Path:
    copy = tmp_path / "store" / DB_NAME
    copy.parent.mkdir()
    shutil.copy(WRITTEN_BEFORE_MIGRATIONS, copy)
    return copy


def test_a_file_written_before_migrations_opens_with_every_conversation(old_file: Path) -> None:
    conversations = ConversationStore(old_file)
    listed = {c.id: c for c in conversations.list()}
    assert len(listed) == 3
    assert (listed[PIER].title, listed[PIER].turns) == ("Pier history", 1)
    assert listed[CHAT].turns == 3
    assert conversations.get(CHAT).answers == [answered(), rich_answer(), unsure()]
    assert conversations.get(PIER).answers == [not_found("Who rebuilt the pier in 1890?")]
    assert revision_of(old_file) == (head_revision(), SCHEMA_VERSION)
    conversations.append_turn(PIER, answered())  # and it goes on
    conversations.close()
    again = ConversationStore(old_file)  # a second open finds it up to date
    assert again.get(PIER).answers[-1] == answered()
    again.close()


def test_the_old_file_keeps_its_tables_and_rows_untouched_by_the_stamp(old_file: Path) -> None:
    with sqlite3.connect(old_file) as raw:
        before = raw.execute("SELECT * FROM turns ORDER BY id").fetchall()
    ConversationStore(old_file).close()
    with sqlite3.connect(old_file) as raw:
        assert raw.execute("SELECT * FROM turns ORDER BY id").fetchall() == before
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_migrations_build_exactly_the_tables_the_models_declare(tmp_path: Path) -> None:
    fresh = tmp_path / DB_NAME
    ConversationStore(fresh).close()
    assert revision_of(fresh)[0] == head_revision()
    assert schema_differences(f"sqlite:///{fresh}") == []


def test_the_file_written_before_migrations_has_the_first_revisions_tables(old_file: Path) -> None:
    assert schema_differences(f"sqlite:///{old_file}") == []


def test_a_database_migrated_by_a_newer_version_is_refused_untouched(old_file: Path) -> None:
    ConversationStore(old_file).close()
    with sqlite3.connect(old_file) as raw:
        raw.execute("UPDATE alembic_version SET version_num = 'f00d_from_the_future'")
    with pytest.raises(ConversationStoreError, match="written by a newer version"):
        ConversationStore(old_file)
    assert revision_of(old_file)[0] == "f00d_from_the_future"


def test_a_file_with_a_newer_user_version_is_refused(old_file: Path) -> None:
    with sqlite3.connect(old_file) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(ConversationStoreError, match="written by a newer version"):
        ConversationStore(old_file)


def test_every_revision_file_is_in_the_migrations_folder() -> None:
    revisions = list(ScriptDirectory(str(MIGRATIONS)).walk_revisions())
    assert [r.revision for r in revisions][-1] == "0001"  # the base: the pre-Alembic tables
    assert all(Path(r.path).parent == MIGRATIONS / "versions" for r in revisions)
