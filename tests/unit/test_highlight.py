"""rag.interfaces.highlight: document text becomes inert Markdown; the cited span is marked."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.interfaces.highlight import (
    ANSWER_HIGHLIGHT,
    HIGHLIGHT,
    WORD_JOINER,
    escape_markdown,
    highlight_markdown,
    split_span,
    stream_pieces,
    text_markdown,
)

markdown_it = pytest.importorskip("markdown_it")
ALLOWED_TAGS = {"p", "/p", "br", "br /"}
OPENERS = (f":{HIGHLIGHT}[", f":{ANSWER_HIGHLIGHT}[")
# Markup-heavy text: every ASCII punctuation mark, letters, digits, spaces, newlines.
MARKUPISH = st.lists(
    st.sampled_from(
        [*"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", *"abcwW x1\n", "www.", "http://", "a@b.c"]
    ),
    max_size=60,
).map("".join)


def render(markdown: str) -> str:
    """CommonMark HTML, as a Markdown renderer without raw-HTML support produces it."""
    return markdown_it.MarkdownIt("commonmark", {"html": False}).render(markdown)


def visible_text(rendered: str) -> str:
    text = html.unescape(re.sub(r"<[^>]+>", " ", rendered)).replace(WORD_JOINER, "")
    return " ".join(text.split())


@given(MARKUPISH)
def test_escaped_text_renders_as_itself_with_no_markup(text: str) -> None:
    rendered = render(text_markdown(text))
    tags = set(re.findall(r"<(/?[a-z0-9]+(?: /)?)", rendered))
    assert tags <= ALLOWED_TAGS, rendered
    assert visible_text(rendered) == " ".join(text.split())


def test_hostile_document_text_stays_text() -> None:
    hostile = (
        "<script>alert(1)</script> <img src=x onerror=alert(2)> ![px](http://evil/p.png) "
        "[click](javascript:alert(3)) # head **bold** `code` &amp; $x$ :red[c] <b>b</b>"
    )
    rendered = render(escape_markdown(hostile))
    assert "<script" not in rendered and "<img" not in rendered and "<a " not in rendered
    assert "<strong" not in rendered and "<code" not in rendered and "<h1" not in rendered
    assert visible_text(rendered) == hostile


def test_bare_urls_and_emails_get_an_invisible_break() -> None:
    escaped = escape_markdown("see https://evil.example/x, www.evil.example or me@evil.example")
    assert "https\\:" + WORD_JOINER + "\\/\\/" in escaped
    assert "www" + WORD_JOINER + "\\." in escaped
    assert "\\@" + WORD_JOINER + "evil" in escaped
    assert escape_markdown("at 10:30, awww.") == "at 10\\:30\\, awww\\."


def test_split_span_cuts_exactly_and_clamps() -> None:
    seg = split_span("abcdef", 2, 4)
    assert (seg.before, seg.quote, seg.after) == ("ab", "cd", "ef")
    assert split_span("abc", -5, 99).quote == "abc"
    assert split_span("abc", 2, 1).quote == ""


def test_highlight_marks_only_the_span() -> None:
    text = "First [1] sentence. The *cited* one (here). Last."
    start = text.index("The")
    end = text.index("Last") - 1
    markdown = highlight_markdown(text, start, end)
    assert markdown == (
        f"First \\[1\\] sentence\\. :{HIGHLIGHT}[The \\*cited\\* one \\(here\\)\\.] Last\\."
    )
    # Without our directive the text is exactly the escaped text.
    unmarked = markdown.replace(f":{HIGHLIGHT}[", "", 1).replace("\\.] Last", "\\. Last")
    assert unmarked == text_markdown(text)


def test_highlight_spanning_lines_marks_each_line() -> None:
    text = "Title line\n\nBody one.\nBody two."
    markdown = highlight_markdown(text, 0, text.index("two"))
    assert markdown.count(f":{HIGHLIGHT}[") == 3
    assert markdown.startswith(f":{HIGHLIGHT}[Title line]\n\n:{HIGHLIGHT}[Body one\\.]  \n")


def test_an_empty_span_does_not_cut_a_url_in_two() -> None:
    text = "see www.example.com"
    cut = text.index(".")
    assert highlight_markdown(text, cut, cut) == text_markdown(text)


def test_line_breaks_kept_and_indentation_cannot_make_code() -> None:
    assert text_markdown("a\nb\n\n    c") == "a  \nb\n\nc"
    assert "<pre" not in render(text_markdown("para\n\n        indented"))


def test_stream_pieces_rejoin_and_keep_markers() -> None:
    text = "Theresa May will visit Calais. [1] She meets Cazeneuve. [2]"
    pieces = stream_pieces(text)
    assert "".join(pieces) == text
    assert " [1]" in pieces and " [2]" in pieces


def without_our_markup(markdown: str) -> str:
    """*markdown* minus the directives and bold we add (document text is all escaped)."""
    out, i = [], 0
    while i < len(markdown):
        opener = next((o for o in OPENERS if markdown.startswith(o, i)), "")
        if markdown[i] == "\\":
            out.append(markdown[i : i + 2])
            i += 2
        elif opener or markdown.startswith("**", i) or markdown[i] == "]":
            i += len(opener) or (2 if markdown[i] == "*" else 1)
        else:
            out.append(markdown[i])
            i += 1
    return "".join(out)


def test_short_answer_is_bold_and_stronger_inside_the_cited_span() -> None:
    text = "Intro. The UK pledged $22 million (about £17m) towards it. End."
    start, end = text.index("The"), text.index(" End")
    answer = (text.index("$22"), text.index(" (about"))
    # Nested, so the sentence stays one highlight and keeps the blank before the answer.
    assert highlight_markdown(text, start, end, answer=answer) == (
        f"Intro\\. :{HIGHLIGHT}[The UK pledged :{ANSWER_HIGHLIGHT}[**\\$22 million**]"
        f" \\(about £17m\\) towards it\\.] End\\."
    )
    rendered = render(highlight_markdown(text, start, end, answer=answer))
    assert "<strong>$22 million</strong>" in rendered


def test_short_answer_outside_the_span_is_clipped_and_blank_is_ignored() -> None:
    text = "One. Two three. Four."
    start, end = text.index("Two"), text.index(" Four")
    plain = highlight_markdown(text, start, end)
    assert highlight_markdown(text, start, end, answer=None) == plain
    assert highlight_markdown(text, start, end, answer=(0, 3)) == plain  # before the span
    assert highlight_markdown(text, start, end, answer=(start + 3, start + 4)) == plain  # " "
    clipped = highlight_markdown(text, start, end, answer=(0, start + 3))
    assert f":{ANSWER_HIGHLIGHT}[**Two**]" in clipped and "One\\." in clipped


def test_hostile_short_answer_stays_text_and_cannot_end_our_bold() -> None:
    text = "x **4** <script>alert(1)</script> ![i](http://evil/i.png) y."
    answer = (text.index("**4**"), text.index(" y."))
    rendered = render(highlight_markdown(text, 0, len(text), answer=answer))
    assert "<script" not in rendered and "<img" not in rendered
    assert rendered.count("<strong>") == 1  # ours; the document's stars are literal
    strong = re.search(r"<strong>(.*)</strong>", rendered).group(1)
    assert html.unescape(strong).replace(WORD_JOINER, "") == text[answer[0] : answer[1]]


@given(MARKUPISH, st.lists(st.integers(-2, 62), min_size=4, max_size=4))
def test_marks_add_nothing_but_our_markup(text: str, cuts: list[int]) -> None:
    start, a, b, end = sorted(cuts)
    markdown = highlight_markdown(text, start, end, answer=(a, b))
    # Word joiners depend on the neighbours a piece has, so compare without them.
    unmarked = without_our_markup(markdown).replace(WORD_JOINER, "")
    assert unmarked == text_markdown(text).replace(WORD_JOINER, "")
    tags = set(re.findall(r"<(/?[a-z0-9]+(?: /)?)", render(markdown)))
    assert tags <= ALLOWED_TAGS | {"strong", "/strong"}, markdown
