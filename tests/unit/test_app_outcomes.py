"""The page shows each outcome differently, through AppTest over a canned Assistant.

No model and no Chroma store: :class:`tests.fakes.CannedAssistant` replaces the
Assistant the page builds, and answers each question with a fixed
:class:`~rag.answer.Answer` over a hostile document (HTML, script, remote image,
javascript: link, bold stars), so these tests check what a reader sees for answered,
unsure and not-found turns, and that none of the document's markup is obeyed.

Conversations are real: they go to the SQLite file in the temporary store folder, and
a brand-new AppTest after clearing every cached resource stands for a server restart.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.config import REFUSAL, UNSURE
from rag.conversations import DB_NAME, ConversationStore, example_questions
from rag.interfaces.highlight import ANSWER_HIGHLIGHT, HIGHLIGHT, WORD_JOINER, escape_markdown
from tests.conftest import ROOT
from tests.fakes import (
    DOC_SOURCE,
    DOC_TITLE,
    QUOTE,
    SHORT_ANSWER,
    CannedAssistant,
    HashingEmbeddings,
    RemovableAssistant,
    answered,
    asked_as_typed,
    not_found,
    rewritten,
    unsure,
)

APP = str(ROOT / "app.py")
DOCUMENT_HIGHLIGHT = "orange-background"  # the document dialog's highlight (ui/sources.py)
TIMEOUT = 60  # seconds: the first run imports Streamlit and the rag package


def plain(markdown: str) -> str:
    """What a reader sees of our escaped Markdown (escapes and word joiners removed)."""
    return re.sub(r"\\(.)", r"\1", markdown).replace(WORD_JOINER, "")


@pytest.fixture
def canned(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[type[CannedAssistant]]:
    """The page will build a :class:`CannedAssistant` over a store in tmp_path."""
    import streamlit as st

    import rag.embeddings
    import rag.service

    monkeypatch.setenv("RAG_STORE_DIR", str(tmp_path / "vectorstore"))
    monkeypatch.setattr(rag.embeddings, "load_embeddings", lambda settings: HashingEmbeddings())
    monkeypatch.setattr(rag.service, "Assistant", CannedAssistant)
    answers = (answered(), unsure(), not_found(), rewritten())
    CannedAssistant.answers = {a.question: a for a in answers}
    st.cache_resource.clear()  # no Assistant cached by another test may answer here
    yield CannedAssistant
    st.cache_resource.clear()  # nor may ours answer in another test


def restarted(query: dict[str, str] | None = None):
    """A brand-new page after a server restart: every cached resource dropped."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def page(canned) -> Iterator:
    """The page over :class:`CannedAssistant`, first run done."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    yield at


def ask(at, question: str):
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def reply(at):
    """The assistant's message of the last turn."""
    return [m for m in at.chat_message if m.name == "assistant"][-1]


def shown_markdown(at) -> list[str]:
    """Every piece of Markdown the page shows: text, captions, boxes, expander labels."""
    elements = [*at.markdown, *at.caption, *at.info, *at.warning, *at.error]
    return [e.value for e in elements] + [e.label for e in at.expander]


def assert_inert(at) -> None:
    """No document markup is obeyed, even by a renderer that passes raw HTML through."""
    markdown_it = pytest.importorskip("markdown_it")
    for value in shown_markdown(at):
        rendered = markdown_it.MarkdownIt("commonmark", {"html": True}).render(value)
        for tag in ("<script", "<img", "<a ", "<b>"):
            assert tag not in rendered, value
        assert "<strong>4,200</strong>" not in rendered, value  # the document's own stars


def test_answered_shows_grounded_with_confidence_and_the_short_answer_marked(page) -> None:
    ask(page, answered().question)
    assert reply(page).avatar == ":material/verified:"
    assert plain(reply(page).children[0].value) == QUOTE + " [1]"
    assert any("Grounded" in c.value and "confidence 83%" in c.value for c in page.caption)
    [expander] = page.expander
    assert expander.label.startswith("[1] ")
    passage = next(m.value for m in expander.markdown if HIGHLIGHT in m.value)
    # Inside the highlighted sentence, the words that answer: stronger and bold.
    before, after = QUOTE.split(SHORT_ANSWER)
    assert (
        f":{HIGHLIGHT}[{escape_markdown(before)}"
        f":{ANSWER_HIGHLIGHT}[**{escape_markdown(SHORT_ANSWER)}**]"
        f"{escape_markdown(after)}]"
    ) in passage
    assert not page.info and not page.warning
    assert_inert(page)


def show_in_document(at, n: int = 0):
    [b for b in at.button if b.label == "Show in document"][n].click().run()
    assert not at.exception, at.exception
    return at


def test_show_in_document_marks_the_short_answer_in_the_whole_document(page) -> None:
    ask(page, answered().question)
    show_in_document(page)
    marked = f":{ANSWER_HIGHLIGHT}[**{escape_markdown(SHORT_ANSWER)}**]"
    whole = [m.value for m in page.markdown if marked in m.value and "Rain fell" in m.value]
    assert len(whole) == 1
    assert f":{DOCUMENT_HIGHLIGHT}[" in whole[0]  # the stronger highlight of the dialog
    assert plain(whole[0]).startswith("Quince report")  # short: shown whole, no notes
    assert not any("characters before" in c.value for c in page.caption)
    assert_inert(page)


def test_unsure_shows_not_sure_and_the_closest_passages_but_no_answer(page) -> None:
    ask(page, unsure().question)
    assert reply(page).avatar == ":material/help:"
    [box] = page.info
    assert box.proto.title == "Not sure" and plain(box.value) == UNSURE
    assert any("Closest passages — not an answer" in c.value for c in page.caption)
    assert not any("Grounded" in c.value for c in page.caption)
    labels = [plain(e.label) for e in page.expander]
    assert [label.split(" · ")[0] for label in labels] == ["Passage #1", "Passage #2"]
    for expander, passage in zip(page.expander, unsure().passages, strict=True):
        assert "Quince <b>report</b>" in plain(expander.label)
        assert f"characters {passage.start:,}–{passage.end:,}" in expander.label
        assert any(plain(m.value) == passage.text for m in expander.markdown)
    # Nothing is presented as the answer: no citation, no highlighted sentence.
    assert not any(
        HIGHLIGHT in value or ANSWER_HIGHLIGHT in value for value in shown_markdown(page)
    )
    assert not any(label.startswith("[") for label in labels)
    assert_inert(page)


def test_not_found_is_the_refusal_with_no_sources(page) -> None:
    ask(page, not_found().question)
    assert reply(page).avatar == ":material/block:"
    [warning] = page.warning
    assert warning.proto.title == "Not in the documents" and plain(warning.value) == REFUSAL
    assert not page.expander and not page.info


def test_three_turns_keep_their_own_look_after_a_rerun(page) -> None:
    for answer in (answered(), unsure(), not_found()):
        ask(page, answer.question)
    page.run()
    avatars = [m.avatar for m in page.chat_message if m.name == "assistant"]
    assert avatars == [":material/verified:", ":material/help:", ":material/block:"]
    assert len(page.info) == 1 and len(page.warning) == 1
    assert len(page.expander) == 1 + len(unsure().passages)


# ----- stored conversations ---------------------------------------------------------------
def sidebar_button(at, label: str):
    return next(b for b in at.sidebar.button if plain(b.label) == label)


def test_past_conversations_are_listed_and_reopen_after_a_restart(page, tmp_path: Path) -> None:
    ask(page, answered().question)
    ask(page, unsure().question)
    cid = page.session_state["cid"]
    assert page.query_params["c"] == cid
    shown = [e.label for e in page.expander]

    again = restarted()  # no ?c=: a new, empty conversation with the past ones listed
    assert not [m for m in again.chat_message]
    assert any("2 questions" in c.value for c in again.sidebar.caption)
    sidebar_button(again, answered().question).click().run()
    assert not again.exception, again.exception
    assert again.session_state["cid"] == cid and again.query_params["c"] == cid
    assert again.session_state["answers"] == [answered(), unsure()]
    avatars = [m.avatar for m in again.chat_message if m.name == "assistant"]
    assert avatars == [":material/verified:", ":material/help:"]
    assert [e.label for e in again.expander] == shown  # the same citations and passages
    passage = next(m.value for m in again.expander[0].markdown if HIGHLIGHT in m.value)
    assert f":{ANSWER_HIGHLIGHT}[**{escape_markdown(SHORT_ANSWER)}**]" in passage
    assert (tmp_path / "vectorstore" / DB_NAME).is_file()

    by_link = restarted({"c": cid})  # the URL alone reopens it too
    assert by_link.session_state["answers"] == [answered(), unsure()]
    ask(by_link, not_found().question)  # and it goes on where it stopped
    store = ConversationStore(tmp_path / "vectorstore" / DB_NAME)
    assert store.get(cid).answers == [answered(), unsure(), not_found()]
    store.close()


def test_unknown_conversation_link_warns_and_offers_a_new_one(canned) -> None:
    at = restarted({"c": "0123456789abcdef" * 2})
    [warning] = at.warning
    assert "does not exist" in warning.value and "deleted" in warning.value
    assert not at.chat_input  # not silently a new conversation
    next(b for b in at.button if b.label == "Start a new conversation").click().run()
    assert not at.exception and not at.warning
    assert at.chat_input and "c" not in at.query_params
    ask(at, answered().question)
    assert at.query_params["c"] == at.session_state["cid"] != "0123456789abcdef" * 2


def test_rename_and_delete_a_conversation_from_the_sidebar(page, tmp_path: Path) -> None:
    ask(page, answered().question)
    cid = page.session_state["cid"]
    page.text_input(key=f"title-{cid}").set_value("Marmalade <b>jars</b>").run()
    assert not page.exception
    assert sidebar_button(page, "Marmalade <b>jars</b>")  # escaped, shown as typed
    page.button(key=f"delete-{cid}").click().run()
    [confirm] = page.sidebar.warning  # a confirmation step first
    assert "Delete" in confirm.value and "cannot be undone" in confirm.value
    next(b for b in page.sidebar.button if b.label == "Cancel").click().run()
    assert not page.sidebar.warning and page.session_state["answers"]
    page.button(key=f"delete-{cid}").click().run()
    next(b for b in page.sidebar.button if b.label == "Delete").click().run()
    assert not page.exception
    assert page.session_state["cid"] is None and page.session_state["answers"] == []
    assert not page.chat_message and "c" not in page.query_params
    assert any("saved here from their first answer" in c.value for c in page.sidebar.caption)
    store = ConversationStore(tmp_path / "vectorstore" / DB_NAME)
    assert store.list() == []
    store.close()


def test_a_rewritten_follow_up_says_what_it_was_understood_as(page) -> None:
    ask(page, answered().question)
    ask(page, rewritten().question)
    understood = [plain(c.value) for c in page.caption if "Understood as" in c.value]
    # Only the rewritten turn: the first was taken as typed.
    assert understood == ["Understood as: How many jars did the orchard make?"]
    assert_inert(page)


def test_a_follow_up_asked_as_typed_says_what_it_was_unsure_of(page, canned) -> None:
    ask(page, answered().question)
    unsure_turn = asked_as_typed()
    canned.answers[unsure_turn.question] = unsure_turn
    ask(page, unsure_turn.question)
    notes = [plain(c.value) for c in page.caption if "as you wrote it" in c.value]
    assert notes and "“he”" in notes[0]
    assert not [c for c in page.caption if "Understood as" in c.value]


def test_an_empty_conversation_offers_only_examples_answered_grounded(
    monkeypatch: pytest.MonkeyPatch, canned
) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    faq = (
        "Quince FAQ\n\nQ: Who mended the press?\nA: A blacksmith.\n\n"
        "Q: How many jars were made?\nA: 4,200.\n\nQ: Is the <b>jam</b> sweet?\nA: Yes.\n\n"
        "Q: When did the rain fall?\nA: In June.\n"
    )
    monkeypatch.setattr(CannedAssistant, "document_text", lambda self, source: faq)
    candidates = example_questions([(DOC_TITLE, faq)], 8)
    assert len(candidates) == 4
    outcomes = (unsure, answered, answered, not_found)  # the page asks each one
    canned.answers = {q: outcome(q) for q, outcome in zip(candidates, outcomes, strict=True)}
    st.cache_data.clear()  # examples are cached per document content
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    examples = [b for b in at.button if b.key and b.key.startswith("example-")]
    assert [plain(b.label) for b in examples] == candidates[1:3]  # the Grounded ones only
    assert plain(examples[1].label) == "Is the <b>jam</b> sweet?"  # shown, not obeyed
    examples[1].click().run()
    assert not at.exception
    assert [plain(m.children[0].value) for m in at.chat_message if m.name == "user"] == [
        candidates[2]
    ]
    assert at.session_state["answers"] == [answered(candidates[2])]
    assert not [b for b in at.button if b.key and b.key.startswith("example-")]
    st.cache_data.clear()  # no other test may see these examples


def test_the_remove_button_removes_the_document_after_confirming(
    monkeypatch: pytest.MonkeyPatch, canned
) -> None:
    import rag.service

    monkeypatch.setattr(rag.service, "Assistant", RemovableAssistant)
    RemovableAssistant.removed = []
    at = restarted()
    assert any("Quince <b>report</b>" in plain(m.value) for m in at.sidebar.markdown)
    [remove] = [b for b in at.sidebar.button if b.key and b.key.startswith("remove-")]
    remove.click().run()
    [confirm] = at.sidebar.warning
    assert "Remove" in confirm.value and DOC_SOURCE in plain(confirm.value)
    assert RemovableAssistant.removed == []  # nothing removed before confirming
    next(b for b in at.sidebar.button if b.label == "Remove").click().run()
    assert not at.exception, at.exception
    assert RemovableAssistant.removed == [DOC_SOURCE]
    [done] = at.sidebar.success
    assert "Removed Quince <b>report</b>: 2 chunks" in plain(done.value)
    assert "Still on disk" in done.value
    assert any("No documents yet" in c.value for c in at.sidebar.caption)
    assert "document store is empty" in at.info[0].value
    assert_inert(at)


def test_a_bad_setting_stops_the_page_naming_the_variable(canned, monkeypatch) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("RAG_ANSWER_THRESHOLD", "nan")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    [error] = at.error
    assert "RAG_ANSWER_THRESHOLD='nan' is not allowed" in plain(error.value)
    assert "Fix it and reload" in plain(error.value)
    assert not at.chat_input  # nothing else runs
