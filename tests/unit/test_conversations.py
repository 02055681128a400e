"""rag.conversations: conversations in a real SQLite file survive restarts, intact.

Every test uses a database in tmp_path. A second :class:`ConversationStore` on the
same file stands for the page after a server restart.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rag.answer import Answer
from rag.answerinfo import AnswerInfo, CandidateNote, Unsupported
from rag.config import Settings
from rag.conversations import (
    DB_NAME,
    TITLE_CHARS,
    ConversationNotFound,
    ConversationStore,
    answer_json,
    example_questions,
    short_title,
)
from rag.errors import RagError
from tests.conftest import ROOT
from tests.fakes import DOC_TEXT, answered, not_found, unsure


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store" / DB_NAME


@pytest.fixture
def store(db: Path):
    conversations = ConversationStore(db)
    yield conversations
    conversations.close()


def rich_answer() -> Answer:
    """A generated-looking answer: follow-up rewrite, timings and nested info."""
    base = answered("And how many jars?")
    return replace(
        base,
        standalone_question="How many jars did the orchard make?",
        mode="llamacpp",
        timings_ms={"retrieve": 3.5, "total": 12.25, "first_token": 9.0},
        info=AnswerInfo(
            model="smol",
            model_settings={"temperature": 0.0},
            unsupported=[Unsupported("x", "no marker")],
            candidates=[CandidateNote("t", "jam.txt", 0, 0.7, 0.6, 0.5, 1, 0.83, "")],
        ),
    )


def test_create_list_get_append_rename_delete(store: ConversationStore) -> None:
    first = store.create()
    assert len(first.id) == 32 and first.turns == 0 and first.title == ""
    assert first.created_at.tzinfo is UTC
    assert store.append_turn(first.id, answered()) == 0
    assert store.append_turn(first.id, not_found()) == 1
    second = store.create()
    store.append_turn(second.id, unsure())

    listed = store.list()
    assert [c.id for c in listed] == [second.id, first.id]  # the newest first
    older = listed[1]
    assert older.title == answered().question  # from the first question
    assert older.turns == 2 and older.updated_at >= older.created_at

    got = store.get(first.id)
    assert got.answers == [answered(), not_found()]  # every turn, in order

    renamed = store.rename(first.id, "  Jars\nof   marmalade ")
    assert renamed.title == "Jars of marmalade"
    assert store.get(first.id).title == "Jars of marmalade"
    assert store.list()[0].id == first.id  # renaming counts as an update
    with pytest.raises(RagError, match="cannot be empty"):
        store.rename(first.id, "   ")

    store.delete(first.id)
    assert [c.id for c in store.list()] == [second.id]
    with pytest.raises(ConversationNotFound):
        store.get(first.id)


def test_answers_round_trip_exactly_with_every_outcome(store: ConversationStore) -> None:
    answers = [answered(), rich_answer(), unsure(), not_found()]
    cid = store.create().id
    for answer in answers:
        store.append_turn(cid, answer)
    back = store.get(cid).answers
    assert back == answers
    cite = back[0].citations[0]
    assert DOC_TEXT[cite.start : cite.end] == cite.quote
    assert cite.short_answer == answered().citations[0].short_answer
    assert (back[2].outcome, back[2].confidence, back[2].refused) == ("unsure", 0.41, True)
    assert back[3].outcome == "not_found" and back[3].citations == []
    assert back[1].standalone_question != back[1].question
    assert back[1].info.unsupported[0].reason == "no marker"


def test_answer_from_dict_ignores_keys_it_does_not_know() -> None:
    data = json.loads(answer_json(answered()))
    data["added_later"] = 1
    data["citations"][0]["also_new"] = "x"
    assert Answer.from_dict(data) == answered()


def test_an_answer_stored_by_an_older_version_loads_with_its_info() -> None:
    # The info of an older version: a plain dict with fewer candidate keys, a key since
    # dropped, and no "unsupported" reasons.
    data = json.loads(answer_json(answered()))
    data["info"] = {
        "best_score": 0.61,
        "best_candidate": "The orchard made 4,200 jars.",
        "candidates": [{"text": "The orchard made 4,200 jars.", "confidence": 0.8}],
        "unsupported": [{"sentence": "Jam is red [3]."}],
        "retired_key": True,
    }
    info = Answer.from_dict(data).info
    assert info.best_score == 0.61 and info.best_candidate_rejected == ""
    assert info.candidates[0].text == "The orchard made 4,200 jars."
    assert info.candidates[0].confidence == 0.8 and info.candidates[0].rejected == ""
    assert info.unsupported[0].sentence == "Jam is red [3]."


def test_a_second_store_on_the_same_file_sees_everything(db: Path) -> None:
    before = ConversationStore(db)
    cid = before.create().id
    before.append_turn(cid, answered())
    before.rename(cid, "Marmalade")
    before.close()

    after = ConversationStore.for_settings(Settings(_env_file=None, store={"store_dir": db.parent}))
    assert after.path == db
    [summary] = after.list()
    assert (summary.id, summary.title, summary.turns) == (cid, "Marmalade", 1)
    assert after.get(cid).answers == [answered()]
    after.close()


def test_the_database_is_sqlite_in_wal_mode(store: ConversationStore, db: Path) -> None:
    store.append_turn(store.create().id, answered())
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        [(stored,)] = raw.execute("SELECT answer_json FROM turns").fetchall()
    assert json.loads(stored) == answered().to_dict()


def test_unknown_or_malformed_ids_raise_conversation_not_found(store: ConversationStore) -> None:
    for cid in ("0" * 32, "not-an-id", "", "../../etc/passwd"):
        with pytest.raises(ConversationNotFound, match="does not exist"):
            store.get(cid)
    with pytest.raises(ConversationNotFound):
        store.append_turn("f" * 32, answered())
    with pytest.raises(ConversationNotFound):
        store.delete("f" * 32)
    assert issubclass(ConversationNotFound, RagError)


def test_concurrent_appends_from_two_threads_keep_every_turn(db: Path) -> None:
    one, two = ConversationStore(db), ConversationStore(db)  # like two server processes
    cid = one.create().id
    errors: list[BaseException] = []

    def append(conversations: ConversationStore, prefix: str) -> None:
        try:
            for i in range(15):
                conversations.append_turn(cid, answered(f"{prefix} {i}?"))
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(s, p)) for s, p in ((one, "a"), (two, "b"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    questions = [a.question for a in one.get(cid).answers]
    assert sorted(questions) == sorted(
        [f"a {i}?" for i in range(15)] + [f"b {i}?" for i in range(15)]
    )
    assert [q for q in questions if q.startswith("a")] == [f"a {i}?" for i in range(15)]
    assert one.list()[0].turns == 30
    one.close()
    two.close()


KILLED_MID_WRITE = """
import os, sys
from datetime import datetime
from pathlib import Path
from rag.conversations import ConversationStore, _TurnRow
from tests.fakes import answered, not_found

store = ConversationStore(Path(sys.argv[1]))
cid = store.create().id
store.append_turn(cid, answered())
print(cid, flush=True)
with store._transaction("write to") as session:  # the next turn, never committed
    row = _TurnRow(conversation_id=cid, position=1, created_at=datetime.now(),
                   question="half", outcome="answered", answer_json="{")
    session.add(row)
    session.flush()
    os._exit(9)  # the server is killed in the middle of the write
"""


def test_a_server_killed_mid_write_loses_only_that_turn(db: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", KILLED_MID_WRITE, str(db)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 9, done.stderr
    cid = done.stdout.strip()
    store = ConversationStore(db)
    assert store.get(cid).answers == [answered()]
    assert store.list()[0].turns == 1
    store.append_turn(cid, not_found())  # and the conversation goes on
    assert store.get(cid).answers == [answered(), not_found()]
    store.close()
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_an_answer_that_cannot_be_stored_changes_nothing(store: ConversationStore) -> None:
    cid = store.create().id
    with pytest.raises(TypeError):
        bad = AnswerInfo(model_settings={"bad": object()})
        store.append_turn(cid, replace(answered(), info=bad))
    assert store.get(cid).answers == [] and store.list()[0].turns == 0


def test_long_first_questions_make_one_line_titles(store: ConversationStore) -> None:
    cid = store.create().id
    store.append_turn(cid, answered("why " * 60))
    title = store.list()[0].title
    assert len(title) == TITLE_CHARS and title.endswith("…") and "\n" not in title


def test_a_file_that_is_not_a_database_is_moved_aside_and_a_new_history_starts(
    tmp_path: Path,
) -> None:
    """Issue 29 item 6 (it used to be an error that stopped the page)."""
    broken = tmp_path / DB_NAME
    junk = b"this is not sqlite" * 100
    broken.write_bytes(junk)
    conversations = ConversationStore(broken)
    assert conversations.moved_aside is not None
    assert conversations.moved_aside.name.startswith(f"{DB_NAME}.damaged-")
    assert conversations.moved_aside.read_bytes() == junk  # kept, for whoever wants it
    assert conversations.list() == []
    conversations.append_turn(conversations.create().id, answered())
    assert len(conversations.list()) == 1
    conversations.close()


# ----- example questions ----------------------------------------------------------------
ARTICLE_TITLE = "Harbour works: town to rebuild the old pier"
ARTICLE = (
    f"{ARTICLE_TITLE}\n\n"
    "The town council is to rebuild the old pier before the summer. "
    "Mayor Ada Lovelace will open the works on Monday, with the harbour master.\n\n"
    "It was damaged in a storm. The pier was closed in March.\n\n"
    "Local fishermen have asked for a wider slipway."
)


def test_example_questions_come_from_the_sentences_subjects_and_verbs() -> None:
    assert example_questions([(ARTICLE_TITLE, ARTICLE)]) == [
        "What is the town council to rebuild?",
        "What will Mayor Ada Lovelace open?",
        "What have local fishermen asked?",
    ]


def test_example_questions_take_turns_between_documents() -> None:
    # More in tests/unit/test_starters.py (FAQ lines, label lines, other documents).
    guide = "Guide\n\nHow do I install the tool?\n\nRun make.\n\nWhere do proxy settings go?\n"
    questions = example_questions([("Guide", guide), (ARTICLE_TITLE, ARTICLE)], n=4)
    assert questions == [
        "How do I install the tool?",
        "What is the town council to rebuild?",
        "Where do proxy settings go?",
        "What will Mayor Ada Lovelace open?",
    ]
    assert example_questions([]) == []
    assert short_title(ARTICLE_TITLE) == "Harbour works"


def test_dates_are_utc(store: ConversationStore) -> None:
    before = datetime.now(UTC)
    summary = store.create()
    assert before <= summary.created_at <= datetime.now(UTC)


def test_settings_choose_the_file_or_the_database_url(tmp_path: Path) -> None:
    plain = Settings(_env_file=None, store={"store_dir": tmp_path / "s"})
    assert ConversationStore.location_for(plain) == str(tmp_path / "s" / DB_NAME)
    shared = Settings(
        _env_file=None, store={"store_dir": tmp_path / "s", "database_url": "postgres://u:pw@db/r"}
    )
    assert ConversationStore.location_for(shared) == "postgresql+psycopg://u:pw@db/r"
    elsewhere = tmp_path / "elsewhere.sqlite3"
    by_url = ConversationStore.at(f"sqlite:///{elsewhere}")
    assert by_url.path == elsewhere and by_url.url is None
    by_url.append_turn(by_url.create().id, answered())
    by_url.close()
    by_path = ConversationStore.at(str(elsewhere))  # the same file, named as a path
    assert [c.turns for c in by_path.list()] == [1]
    by_path.close()
