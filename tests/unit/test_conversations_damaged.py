"""rag.conversations with damaged rows: one bad row is reported and skipped, never fatal.

Issue 29 item 6: an ``answer_json`` cut short, or a date that is not a date, used to
raise out of ``get``/``list`` (so the page crashed on every load); a file that is not
a database used to stop the page. The damage is made with plain ``sqlite3``, as a disk
error or a hand edit would leave it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rag.conversations import DB_NAME, ConversationStore
from rag.conversations.store import EPOCH
from tests.fakes import answered, not_found, unsure


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store" / DB_NAME


def _damage(db: Path, sql: str, *params: object) -> None:
    with sqlite3.connect(db) as raw:
        raw.execute(sql, params)


def _three_turns(db: Path) -> str:
    conversations = ConversationStore(db)
    cid = conversations.create().id
    for answer in (answered(), not_found(), unsure()):
        conversations.append_turn(cid, answer)
    conversations.close()
    return cid


def test_a_turn_cut_short_is_skipped_and_named(db: Path) -> None:
    cid = _three_turns(db)
    _damage(
        db,
        "UPDATE turns SET answer_json = substr(answer_json, 1, 40) WHERE position = 1",
    )
    conversation = ConversationStore(db).get(cid)
    assert conversation.damaged == (2,)
    assert [a.outcome for a in conversation.answers] == [answered().outcome, unsure().outcome]


@pytest.mark.parametrize("payload", ["", "null", "[1, 2]", '{"question": 3}'])
def test_a_turn_that_is_not_an_answer_is_skipped(db: Path, payload: str) -> None:
    cid = _three_turns(db)
    _damage(db, "UPDATE turns SET answer_json = ? WHERE position = 0", payload)
    conversation = ConversationStore(db).get(cid)
    assert conversation.damaged == (1,) and len(conversation.answers) == 2


@pytest.mark.parametrize("column", ["created_at", "updated_at"])
@pytest.mark.parametrize("value", ["not a date", "2026-13-45 99:99:99", 12345, ""])
def test_a_bad_date_is_listed_as_damaged_and_the_others_as_they_are(
    db: Path, column: str, value: object
) -> None:
    cid = _three_turns(db)
    conversations = ConversationStore(db)
    other = conversations.create()
    conversations.append_turn(other.id, answered())
    _damage(db, f"UPDATE conversations SET {column} = ? WHERE id = ?", value, cid)
    listed = {c.id: c for c in conversations.list()}
    assert listed[cid].damaged and getattr(listed[cid], column) == EPOCH
    assert listed[other.id].damaged == "" and listed[other.id].turns == 1
    assert len(conversations.get(cid).answers) == 3  # its turns still open
    conversations.rename(cid, "Still mine")  # and it can be renamed or deleted
    conversations.delete(cid)
    assert [c.id for c in conversations.list()] == [other.id]


def test_a_bad_turn_date_does_not_stop_the_conversation_opening(db: Path) -> None:
    cid = _three_turns(db)
    _damage(db, "UPDATE turns SET created_at = 'yesterday-ish'")
    conversations = ConversationStore(db)
    assert len(conversations.get(cid).answers) == 3
    conversations.append_turn(cid, answered())
    assert len(conversations.get(cid).answers) == 4


def test_a_corrupt_database_file_is_moved_aside_with_its_companions(db: Path) -> None:
    _three_turns(db)
    data = bytearray(db.read_bytes())
    data[:16] = b"garbage garbage!"  # the header SQLite checks first
    db.write_bytes(bytes(data))
    conversations = ConversationStore(db)
    aside = conversations.moved_aside
    assert aside is not None and aside.exists() and aside.parent == db.parent
    assert conversations.list() == []
    assert sorted(p.name for p in db.parent.iterdir() if ".damaged-" in p.name)[0] == aside.name


def test_a_database_that_cannot_be_opened_for_another_reason_is_not_moved(
    tmp_path: Path,
) -> None:
    folder_in_the_way = tmp_path / DB_NAME
    folder_in_the_way.mkdir()
    with pytest.raises(Exception, match="conversation database"):
        ConversationStore(folder_in_the_way)
    assert folder_in_the_way.is_dir()
    assert not [p for p in tmp_path.iterdir() if ".damaged-" in p.name]
