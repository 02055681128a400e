"""rag.interfaces.rendering: Markdown documents shown rendered, inert, with the cited span exact."""

from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from rag.documents.structure import reflow
from rag.interfaces.highlight import (
    ANSWER_HIGHLIGHT,
    HIGHLIGHT,
    WORD_JOINER,
    highlight_markdown,
    text_markdown,
)
from rag.interfaces.rendering import (
    SENTINELS,
    block_window,
    document_markdown,
    is_markdown,
    markdown_window,
    with_sentinels,
)
from tests.conftest import ROOT

POLICY = (ROOT / "tests" / "newcomer" / "travel-expense-policy.md").read_text(encoding="utf-8")
FAQ = (ROOT / "tests" / "newcomer" / "grinder-faq.txt").read_text(encoding="utf-8")
HOSTILE = (
    "# Zebra <b>notes</b>\n\n"
    "Intro <script>alert(1)</script> and <img src=x onerror=alert(2)>.\n\n"
    "- See [the notes](https://evil.example/steal?q=1) and <https://evil.example/auto>\n"
    "- ![tracking pixel](http://127.0.0.1:9/px.png) www.evil.example me@evil.example\n"
    "- [buy](javascript:alert(3)) $x$ :red[c] &amp;\n\n"
    '<a href="https://evil.example">raw</a>\n'
)
SAFE_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "table", "thead", "tbody", "tr"}
SAFE_TAGS |= {"th", "td", "hr", "blockquote"}


def render(markdown: str) -> str:
    """HTML as a Markdown renderer without raw-HTML support makes it (GFM tables on)."""
    return MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)


def tags(markdown: str) -> set[str]:
    return set(re.findall(r"<([a-z0-9]+)", render(markdown)))


def plain(markdown: str) -> str:
    """What a reader sees of our Markdown: escapes, directives and bold stars removed."""
    text = re.sub(rf":(?:{HIGHLIGHT}|{ANSWER_HIGHLIGHT}|orange-background)\[", "", markdown)
    text = re.sub(r"(?<!\\)\]", "", text)
    text = re.sub(r"(?<!\\)\*", "", text)
    return re.sub(r"\\(.)", r"\1", text).replace(WORD_JOINER, "")


def directive_bodies(markdown: str, style: str = HIGHLIGHT) -> list[str]:
    """The Markdown inside each ``:style[...]`` directive (brackets matched, escapes kept)."""
    bodies, opener = [], f":{style}["
    start = markdown.find(opener)
    while start != -1:
        i, depth = start + len(opener), 1
        while depth:
            if markdown[i] == "\\":
                i += 1
            elif markdown[i] == "[":
                depth += 1
            elif markdown[i] == "]":
                depth -= 1
            i += 1
        bodies.append(markdown[start + len(opener) : i - 1])
        start = markdown.find(opener, i)
    return bodies


def highlighted(markdown: str, style: str = HIGHLIGHT) -> str:
    return " ".join(plain(body) for body in directive_bodies(markdown, style))


def letters(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def test_markdown_is_rendered_not_shown_raw() -> None:
    rendered = render(document_markdown(POLICY, markdown=True))
    assert "<li>London: up to £210 per night</li>" in rendered
    assert "<strong>4. Hotels</strong>" in rendered  # a heading, as a bold line
    assert "<td>Motorcycle</td>" in rendered and "<th>Rate per mile</th>" in rendered
    assert "<strong>Effective date:</strong> 1 March 2026<br />" in rendered
    assert "**" not in html.unescape(rendered) and "##" not in rendered
    # Hard-wrapped prose is one paragraph, its lines joined by spaces.
    assert "travel on company business." in rendered


def test_hostile_markdown_renders_inert_links_as_text_images_as_alt_text() -> None:
    markdown = document_markdown(HOSTILE, markdown=True)
    assert tags(markdown) <= SAFE_TAGS, render(markdown)
    shown = html.unescape(re.sub(r"<[^>]+>", "", render(markdown))).replace(WORD_JOINER, "")
    assert "See the notes and https://evil.example/auto" in shown  # link text, no address
    assert "steal" not in shown and "px.png" not in shown
    assert "tracking pixel" in shown  # an image is its alt text
    assert "<script>alert(1)</script>" in shown and "<img src=x onerror=alert(2)>" in shown
    assert "[buy](javascript:alert(3)) $x$ :red[c] &" in shown  # not a link: text
    assert '<a href="https://evil.example">raw</a>' in shown


def test_plain_text_is_reflowed_and_shown_as_it_is() -> None:
    markdown = document_markdown(FAQ, markdown=False)
    assert "with 18 mm ceramic burrs, which stay sharp" in plain(markdown)
    assert plain(markdown).count("Q: ") == FAQ.count("Q: ")  # question lines keep their line
    hostile = document_markdown(HOSTILE, markdown=False)  # not Markdown: no markup obeyed
    assert hostile == text_markdown(reflow(HOSTILE)) and tags(hostile) <= {"p", "br"}


def test_the_cited_list_item_is_highlighted_exactly_and_stays_a_list_item() -> None:
    start = POLICY.index("London: up to")
    end = POLICY.index("\n", start)
    markdown = document_markdown(POLICY, markdown=True, span=(start, end))
    assert highlighted(markdown) == "London: up to £210 per night"
    assert f"- :{HIGHLIGHT}[London" in markdown  # still a list item
    # A span that starts at the line's marker ("- ") marks the same words.
    from_marker = document_markdown(POLICY, markdown=True, span=(start - 2, end + 1))
    assert from_marker == markdown


def test_the_short_answer_is_marked_inside_the_span() -> None:
    start = POLICY.index("**Owner:**")
    end = POLICY.index("\n", start)
    answer = (POLICY.index("Finance team"), POLICY.index(" (finance"))
    markdown = document_markdown(POLICY, markdown=True, span=(start, end), answer=answer)
    assert highlighted(markdown, ANSWER_HIGHLIGHT) == "Finance team"
    assert highlighted(markdown) == "Owner: Finance team (finance@brightwater.example)"
    assert "<strong>Owner:</strong>" in render(markdown)  # the label keeps its bold


def test_a_span_crossing_blocks_marks_each_block_and_nothing_else() -> None:
    start = POLICY.index("Nightly hotel")
    end = POLICY.index("\n", POLICY.index("- Manchester"))
    markdown = document_markdown(POLICY, markdown=True, span=(start, end))
    assert directive_bodies(markdown) and len(directive_bodies(markdown)) == 3
    assert highlighted(markdown) == (
        "Nightly hotel limits, including taxes: London: up to £210 per night "
        "Manchester: up to £140 per night"
    )


def test_a_table_row_span_marks_its_cells_and_keeps_the_table() -> None:
    start = POLICY.index("| Motorcycle")
    end = POLICY.index("\n", start)
    markdown = document_markdown(POLICY, markdown=True, span=(start, end))
    assert highlighted(markdown) == "Motorcycle 24p"
    assert "<table>" in render(markdown)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, len(POLICY)), st.integers(0, len(POLICY)))
def test_any_span_highlights_exactly_its_words(a: int, b: int) -> None:
    start, end = sorted((a, b))
    markdown = document_markdown(POLICY, markdown=True, span=(start, end))
    assert letters(highlighted(markdown)) == letters(POLICY[start:end])
    assert tags(markdown) <= SAFE_TAGS
    assert not set(markdown) & set(SENTINELS)


def test_a_documents_own_sentinel_characters_are_not_taken_for_ours() -> None:
    text = "Alpha \ue000beta\ue001 gamma.\n\nDelta epsilon."
    start = text.index("Delta")
    markdown = document_markdown(text, markdown=True, span=(start, len(text)))
    assert highlighted(markdown) == "Delta epsilon."
    assert "\ufffdbeta\ufffd" in plain(markdown)


def test_a_lost_sentinel_falls_back_to_the_text_as_it_is_with_the_exact_span() -> None:
    # The span starts inside a link's address, which the rendering drops.
    text = "Read [the guide](https://example.org/guide) first. Then apply.\n"
    start = text.index("example.org")
    end = text.index(" Then")
    marked, expected = with_sentinels(text, (start, end), None)
    assert len(expected) == 2 and marked.count("\ue000") == 1
    markdown = document_markdown(text, markdown=True, span=(start, end))
    assert markdown == highlight_markdown(text, start, end)
    assert highlighted(markdown) == text[start:end].replace(WORD_JOINER, "")


def test_markdown_files_are_known_by_their_suffix() -> None:
    assert is_markdown("uploads/policy.md") and is_markdown("Notes.MARKDOWN")
    assert not is_markdown("seeds/fortress-calais.txt") and not is_markdown("page.html")


def test_a_window_cut_inside_a_table_or_list_keeps_the_whole_block() -> None:
    row = POLICY.index("| Car")
    lo, hi = block_window(POLICY, row, POLICY.index("| Motorcycle"), row, row + 5)
    assert POLICY[lo:].startswith("| Vehicle")  # the table's header comes with it
    assert POLICY[:hi].endswith("| Bicycle | 20p |")
    between = POLICY.index("## 6.")
    edges = (between, len(POLICY))  # already between blocks: kept
    assert block_window(POLICY, *edges, between, between + 3) == edges
    text = "x" * 3000 + "\n\n- " + "\n- ".join(f"item {n}" for n in range(2000)) + "\n"
    span = text.index("item 300")
    lo, hi = block_window(text, span - 100, span + 100, span, span + 8)
    assert (lo, hi) == (span - 100, span + 100)  # a long list is cut, not shown whole


def test_a_markdown_window_keeps_few_lines_before_the_span_so_it_is_in_view() -> None:
    start = POLICY.index("Expense claims")
    lo, hi = markdown_window(POLICY, 0, len(POLICY), start, start + 20)
    assert POLICY[lo:].startswith("| Vehicle")  # four lines back is a table row: its table
    assert hi == len(POLICY)
    lo, _ = markdown_window(POLICY, 0, len(POLICY), POLICY.index("Alcohol"), len(POLICY))
    assert POLICY[lo:].startswith("## 3. Meals")  # four lines: its list and heading
