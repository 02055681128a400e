"""The page shows a Markdown document's passages rendered, inert, under their heading path.

AppTest over :class:`tests.fakes.CannedAssistant`, with the canned hostile document
(HTML, a script, a remote image, a javascript: link, bold stars) cited as a Markdown
upload whose passages sit under "Harvest > Jars".
"""

from __future__ import annotations

from dataclasses import replace

from markdown_it import MarkdownIt

from rag.answer import Answer
from rag.interfaces.highlight import ANSWER_HIGHLIGHT, HIGHLIGHT
from tests.fakes import CannedAssistant, answered, unsure
from tests.unit.test_app_outcomes import (  # noqa: F401 - fixtures used by name
    DOCUMENT_HIGHLIGHT,
    ask,
    canned,
    page,
    plain,
    show_in_document,
)

SOURCE = "vectorstore/uploads/quince.md"
HEADING = "Harvest > Jars"


def as_markdown_upload(answer: Answer) -> Answer:
    """*answer* with its citations and passages in a Markdown upload, under HEADING."""
    moved = {"source": SOURCE, "heading": HEADING}
    return replace(
        answer,
        citations=[replace(c, **moved) for c in answer.citations],
        passages=[replace(p, **moved) for p in answer.passages],
    )


def rendered(markdown: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).render(markdown)


def assert_inert(markdown: str) -> None:
    html = rendered(markdown)
    for tag in ("<script", "<img", "<a ", "<b>"):
        assert tag not in html, markdown


def test_a_cited_markdown_passage_is_rendered_under_its_heading_path(page) -> None:  # noqa: F811 - the fixture
    question = "How many jars did the orchard make (markdown)?"
    CannedAssistant.answers[question] = as_markdown_upload(answered(question))
    ask(page, question)
    [expander] = page.expander
    assert any(plain(c.value).endswith("Harvest › Jars") for c in expander.caption)
    passage = next(m.value for m in expander.markdown if HIGHLIGHT in m.value)
    # The document's **4,200** is bold now (rendered), and still the marked answer.
    assert f":{ANSWER_HIGHLIGHT}[**4\\,200 jars**]" in passage
    assert "\\*\\*" not in passage
    assert "[x](http" not in plain(passage) and "evil" not in passage  # image: its alt text
    assert "<script>alert(1)</script>" in plain(passage)  # shown as text
    assert_inert(passage)

    show_in_document(page)
    whole = next(m.value for m in page.markdown if f":{DOCUMENT_HIGHLIGHT}[" in m.value)
    assert "Rain fell in \\[June\\]\\(javascript" in whole  # not a link: shown as written
    assert_inert(whole)


def test_closest_passages_of_a_markdown_document_show_their_heading_too(page) -> None:  # noqa: F811 - the fixture
    question = "Who mended the press (markdown)?"
    CannedAssistant.answers[question] = as_markdown_upload(unsure(question))
    ask(page, question)
    assert page.expander
    for expander in page.expander:
        assert any(plain(c.value).endswith("Harvest › Jars") for c in expander.caption)
        [text] = [m.value for m in expander.markdown]
        assert HIGHLIGHT not in text  # nothing presented as the answer
        assert_inert(text)


def test_an_answer_quoting_a_markdown_document_shows_its_markup_rendered(page) -> None:  # noqa: F811 - the fixture
    question = "How many jars (markdown answer)?"
    CannedAssistant.answers[question] = as_markdown_upload(answered(question))
    ask(page, question)
    [reply] = [m for m in page.chat_message if m.name == "assistant"]
    text = reply.children[0].value
    assert "<strong>4,200</strong>" in rendered(text)  # the document's bold, not its stars
    assert plain(text).endswith("of marmalade. [1]")
    assert_inert(text)


def test_an_answer_quoting_hard_wrapped_text_reads_as_one_line(page) -> None:  # noqa: F811 - the fixture
    question = "How many jars (wrapped)?"
    answer = answered(question)
    wrapped = "The orchard made 4,200 jars of marmalade, which\nwere sold at the market. [1]"
    CannedAssistant.answers[question] = replace(answer, answer=wrapped)
    ask(page, question)
    [reply] = [m for m in page.chat_message if m.name == "assistant"]
    assert "which were sold" in plain(reply.children[0].value)
