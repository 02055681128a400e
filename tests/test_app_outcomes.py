"""The page shows each outcome differently, through AppTest over a canned Assistant.

No model and no store: :class:`tests.fakes.CannedAssistant` replaces the Assistant
the page builds, and answers each question with a fixed :class:`~rag.answer.Answer`
over a hostile document (HTML, script, remote image, javascript: link, bold stars),
so these tests check what a reader sees for answered, unsure and not-found turns,
and that none of the document's markup is obeyed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.config import REFUSAL, UNSURE
from rag.highlight import ANSWER_HIGHLIGHT, HIGHLIGHT, WORD_JOINER, escape_markdown
from tests.conftest import ROOT
from tests.fakes import (
    QUOTE,
    SHORT_ANSWER,
    CannedAssistant,
    HashingEmbeddings,
    answered,
    not_found,
    unsure,
)

APP = str(ROOT / "app.py")
TIMEOUT = 60  # seconds: the first run imports Streamlit and the rag package


def plain(markdown: str) -> str:
    """What a reader sees of our escaped Markdown (escapes and word joiners removed)."""
    return re.sub(r"\\(.)", r"\1", markdown).replace(WORD_JOINER, "")


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator:
    """The page over :class:`CannedAssistant`, first run done; caches cleared around it."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    import rag.embeddings
    import rag.service

    monkeypatch.setenv("RAG_STORE_DIR", str(tmp_path / "vectorstore"))
    monkeypatch.setattr(rag.embeddings, "load_embeddings", lambda settings: HashingEmbeddings())
    monkeypatch.setattr(rag.service, "Assistant", CannedAssistant)
    CannedAssistant.answers = {a.question: a for a in (answered(), unsure(), not_found())}
    st.cache_resource.clear()  # no Assistant cached by another test may answer here
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    yield at
    st.cache_resource.clear()  # nor may ours answer in another test


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


def test_show_in_document_marks_the_short_answer_in_the_whole_document(page) -> None:
    ask(page, answered().question)
    page.toggle[0].set_value(True).run()
    assert not page.exception
    marked = f":{ANSWER_HIGHLIGHT}[**{escape_markdown(SHORT_ANSWER)}**]"
    whole = [m.value for m in page.markdown if marked in m.value and "Rain fell" in m.value]
    assert len(whole) == 1
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
