"""Conversations in a real PostgreSQL database, shared by app replicas (issue 27 item 3).

With ``RAG_DATABASE_URL`` set, :class:`ConversationStore` keeps the history in
PostgreSQL (started by tests/integration/pg.py). Two stores on one database stand for
two app replicas on different machines: what one writes the other lists and reopens,
and their writes never collide. The SQLite unit tests' behaviour is checked here too.
"""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest

from rag.config import Settings
from rag.conversations import ConversationNotFound, ConversationStore, ConversationStoreError
from tests.conftest import free_port
from tests.fakes import answered, not_found
from tests.unit import test_conversation_migrations as migrations
from tests.unit import test_conversations as on_sqlite

pytestmark = pytest.mark.integration

SAME_AS_SQLITE = [
    on_sqlite.test_create_list_get_append_rename_delete,
    on_sqlite.test_answers_round_trip_exactly_with_every_outcome,
    on_sqlite.test_unknown_or_malformed_ids_raise_conversation_not_found,
    on_sqlite.test_an_answer_that_cannot_be_stored_changes_nothing,
    on_sqlite.test_long_first_questions_make_one_line_titles,
    on_sqlite.test_dates_are_utc,
]


@pytest.fixture
def replicas(database_url: str) -> list[ConversationStore]:
    """Two stores on one database, as two app replicas would open it."""
    stores = [ConversationStore(url=database_url) for _ in range(2)]
    yield stores
    for store in stores:
        store.close()


def _query(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url.replace("+psycopg", "")) as connection:
        return connection.execute(sql).fetchall()


@pytest.mark.parametrize("case", SAME_AS_SQLITE, ids=lambda case: case.__name__[5:])
def test_what_the_sqlite_history_does_the_postgresql_one_does(case, database_url: str) -> None:
    store = ConversationStore(url=database_url)
    try:
        case(store)
    finally:
        store.close()


def test_settings_with_a_database_url_keep_nothing_in_the_store_folder(
    database_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        _env_file=None, store={"store_dir": tmp_path / "store", "database_url": database_url}
    )
    store = ConversationStore.for_settings(settings)
    cid = store.create().id
    store.append_turn(cid, answered())
    store.close()
    assert store.path is None and not (tmp_path / "store").exists()
    assert _query(database_url, "SELECT id, turns FROM conversations") == [(cid, 1)]
    assert store.location == database_url  # what messages name: no password to hide here


def test_a_conversation_started_on_one_replica_is_listed_and_reopened_on_the_other(
    replicas: list[ConversationStore],
) -> None:
    one, two = replicas
    cid = one.create().id
    one.append_turn(cid, answered())
    assert [c.id for c in two.list()] == [cid]
    two.append_turn(cid, not_found())  # the conversation goes on over there
    assert one.get(cid).answers == [answered(), not_found()]
    two.rename(cid, "Jam ledger")
    assert one.summary(cid).title == "Jam ledger"
    one.delete(cid)
    with pytest.raises(ConversationNotFound):
        two.get(cid)


def test_appends_from_two_replicas_at_once_keep_every_turn_in_order(
    replicas: list[ConversationStore],
) -> None:
    """Each append reads the turn count and writes the next position: the row lock
    makes the two replicas take turns (without it, one append fails on the unique
    position)."""
    cid = replicas[0].create().id
    start, errors = threading.Barrier(2), []

    def append(store: ConversationStore, prefix: str) -> None:
        start.wait()
        try:
            for i in range(25):
                store.append_turn(cid, answered(f"{prefix} {i}?"))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [
        threading.Thread(target=append, args=pair) for pair in zip(replicas, "ab", strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    questions = [a.question for a in replicas[1].get(cid).answers]
    assert len(questions) == 50 and replicas[1].summary(cid).turns == 50
    assert [q for q in questions if q.startswith("a")] == [f"a {i}?" for i in range(25)]
    assert [q for q in questions if q.startswith("b")] == [f"b {i}?" for i in range(25)]


def test_replicas_opening_a_new_database_together_migrate_it_once(database_url: str) -> None:
    start, opened, errors = threading.Barrier(4), [], []

    def open_store() -> None:
        start.wait()
        try:
            opened.append(ConversationStore(url=database_url))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and len(opened) == 4
    assert _query(database_url, "SELECT version_num FROM alembic_version") == [
        (migrations.head_revision(),)
    ]
    for store in opened:
        store.close()


def test_migrations_build_exactly_the_tables_the_models_declare(database_url: str) -> None:
    ConversationStore(url=database_url).close()
    assert migrations.schema_differences(database_url) == []


def test_a_database_migrated_by_a_newer_version_is_refused(database_url: str) -> None:
    ConversationStore(url=database_url).close()
    with psycopg.connect(database_url.replace("+psycopg", "")) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'f00d_from_the_future'")
    with pytest.raises(ConversationStoreError, match="written by a newer version"):
        ConversationStore(url=database_url)


def test_a_database_server_that_is_down_is_explained_without_the_password() -> None:
    url = f"postgresql+psycopg://rag:s3cret-pw@127.0.0.1:{free_port()}/nowhere"
    with pytest.raises(ConversationStoreError) as caught:
        ConversationStore(url=url)
    message = str(caught.value)
    assert "s3cret-pw" not in message and "rag:***@127.0.0.1" in message
    assert "check the database server is running and RAG_DATABASE_URL is right" in message
