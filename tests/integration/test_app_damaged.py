"""The page with a damaged conversation history (issue 29 item 6), through ``AppTest``.

One damaged row (an answer cut short, a date that is not a date) used to crash the
page on every load, and a conversation file that is not a database stopped the page,
documents included. Now the damaged turn is named and skipped, the damaged
conversation is listed as such, the file is moved aside with a message, and questions
are still answered. The damage is made with plain ``sqlite3``, as a disk error or a
hand edit would leave it; the store is the real one of the ``ingested`` fixture.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.conversations import DB_FILES, ConversationStore
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

APP = str(ROOT / "app.py")
TIMEOUT = 180  # seconds: the first run loads the model
QUESTION = "Who will visit Calais on Thursday?"


def plain(markdown: str) -> str:
    """What a reader sees of our escaped Markdown."""
    return re.sub(r"\\(.)", r"\1", markdown)


@pytest.fixture
def store_dir(ingested, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The ingested store, with no conversation history before or after the test."""
    folder = ingested.settings.store.store_dir
    monkeypatch.setenv("RAG_STORE_DIR", str(folder))
    monkeypatch.setenv("RAG_SEEDS_DIR", str(ingested.settings.store.seeds_dir))
    clear_history(folder)
    yield folder
    clear_history(folder)


def clear_history(folder: Path) -> None:
    for path in folder.iterdir():
        if path.name in DB_FILES or ".damaged-" in path.name:
            path.unlink()


def run_page(cid: str | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if cid:
        at.query_params["c"] = cid
    at.run()
    assert not at.exception, at.exception
    return at


def answers_shown(at) -> list[str]:
    return [plain(m.children[0].value) for m in at.chat_message if m.name == "assistant"]


def ask(at, question: str = QUESTION) -> list[str]:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return answers_shown(at)


def test_a_damaged_turn_and_a_bad_date_are_shown_as_damaged_and_the_page_still_answers(
    ingested, store_dir: Path
) -> None:
    conversations = ConversationStore.for_settings(ingested.settings)
    cid = conversations.create().id
    for question in (QUESTION, "What has the UK pledged?"):
        conversations.append_turn(cid, ingested.ask(question))
    conversations.close()
    with sqlite3.connect(conversations.path) as raw:
        raw.execute("UPDATE turns SET answer_json = substr(answer_json, 1, 50) WHERE position = 0")
        raw.execute("UPDATE conversations SET updated_at = 'not a date', created_at = 'x'")

    at = run_page(cid)
    assert any("Question 1 of this conversation is damaged" in w.value for w in at.warning)
    assert [plain(m.value) for m in at.chat_message[0].children.values()] == [
        "What has the UK pledged?"  # the readable turn, and only it
    ]
    assert any("damaged" in c.value for c in at.sidebar.caption)
    assert "Theresa May" in ask(at)[-1]  # a new question is answered, and stored
    assert len(ConversationStore.for_settings(ingested.settings).get(cid).answers) == 2


def test_a_damaged_conversation_file_is_moved_aside_and_documents_still_answer(
    store_dir: Path,
) -> None:
    """As a page (re)started on the damaged file: its cached resources are cleared."""
    import streamlit as st

    history = store_dir / DB_FILES[0]
    history.write_bytes(b"this is not a database" * 200)
    st.cache_resource.clear()  # the page opens the history once per server process

    at = run_page()
    [moved] = [p for p in store_dir.iterdir() if ".damaged-" in p.name]
    assert moved.read_bytes() == b"this is not a database" * 200
    [note] = [plain(w.value) for w in at.warning]
    assert "conversation history was damaged" in note and str(moved) in note
    assert "Theresa May" in ask(at)[0]
    assert [c.title for c in ConversationStore(history).list()] == [QUESTION]


def test_an_answer_that_cannot_be_saved_is_still_shown(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A history that fails on write (a disk error mid-session) must not hide the answer."""
    from rag.conversations import ConversationStoreError

    def fail(*args, **kwargs):
        raise ConversationStoreError("Could not write to the conversation database (disk I/O).")

    at = run_page()
    monkeypatch.setattr(ConversationStore, "append_turn", fail)
    assert "Theresa May" in ask(at)[0]
    assert any("Could not write to the conversation database" in e.value for e in at.error)
