"""Line structure of plain text and Markdown: soft and hard line breaks, headings.

:func:`reflow` returns the text with every *soft* line break (a single ``\\n`` inside a
paragraph of hard-wrapped prose) replaced by a space and every *hard* break kept, so
the result has exactly the same length as its input and every character offset into
one points at the same character in the other. Hard breaks are: blank lines, the
breaks around headings (``#`` or setext), list items, table rows, block quotes,
``key: value`` lines, FAQ ``Q:``/``A:`` lines, rules and fenced or indented code, and
Markdown's own hard breaks (two trailing spaces or a backslash). Blocks are found by a
CommonMark parser (markdown-it-py, tables on), for plain text too: only a paragraph's
inner line breaks can be soft; lines it cannot know (``key: value``, ``Q:``) are read
by the small patterns below.

A break between two prose lines is soft when the next line goes on in lower case, when
the first line stops mid-sentence (a comma, or a lower-case word or a number ending a
line of three words or more), or when it reaches the paragraph's wrap width (the next
word would not have fitted on it, or it is within 80% of the widest line). Short lines
(a paragraph under 40 characters wide: an address, a poem) and a line well short of
the width stay line by line.

:func:`markdown_headings` gives the heading lines (``#`` and setext) with their level.

This module does not split sentences or build chunks (:mod:`rag.documents.chunking`), and
renders nothing.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

# A line that starts a block of its own (the break before it is hard).
_HEADING = re.compile(r" {0,3}#{1,6}(\s|$)")
_LIST_ITEM = re.compile(r"\s*([-*+•‣◦▪]|\d{1,3}[.)]|[a-z]\))\s+\S")
_TABLE_ROW = re.compile(r"\s*\|")
_QUOTE = re.compile(r" {0,3}>")
_FENCE = re.compile(r" {0,3}(```|~~~)")
_RULE = re.compile(r" {0,3}([-*_=])(\s*\1){2,}\s*$")
_FAQ = re.compile(r"\s*(Q|A|Question|Answer)\s*[:.)]\s", re.IGNORECASE)
_FAQ_QUESTION = re.compile(r"(Q|Question)\s*[:.)]\s", re.IGNORECASE)
# ``Key: value`` with a short key (at most five words, optionally **bold**), not a URL.
_KEY_VALUE = re.compile(r"\s*(\*\*|__)?[^\W\d_][^:\n]{0,48}?:(\*\*|__)?[ \t]+\S")
_MAX_KEY_WORDS = 5
# Prose is wrapped at 40 characters or more; a line within 80% of the paragraph's widest
# line was cut by the wrap (hand-wrapped text has a ragged right edge).
_MIN_WRAP_WIDTH = 40
_PROSE_WORDS = 3  # a line of at least three words is prose, not a label or an address line
_RAGGED = 0.8


def reflow(text: str) -> str:
    """*text* with soft line breaks turned into spaces; same length, same offsets."""
    lines = text.split("\n")
    soft = _soft_breaks(lines, _paragraph_lines(text))
    if not soft:
        return text
    chars = list(text)
    position = 0
    for number, line in enumerate(lines[:-1]):
        position += len(line)
        if number in soft:
            chars[position] = " "
        position += 1
    return "".join(chars)


@dataclass(frozen=True)
class Heading:
    """A heading line of a document: ``text[start:end]`` is the line, ``name`` its words."""

    start: int
    end: int
    level: int
    name: str


def markdown_headings(text: str) -> list[Heading]:
    """The headings of Markdown (or plain) *text* (``#`` and setext), as CommonMark reads them."""
    tokens = _parse(text)
    starts = _line_starts(text)
    headings = []
    for opening, inline in itertools.pairwise(tokens):
        if opening.type != "heading_open" or not opening.map:
            continue
        first, last = opening.map
        name = " ".join(_plain(inline).split())
        end = starts[last] - 1 if last < len(starts) else len(text)
        if name:
            headings.append(Heading(starts[first], end, int(opening.tag[1:]), name))
    return headings


@functools.cache
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


def _parse(text: str) -> list[Token]:
    """CommonMark block tokens of *text*, their line numbers those of ``text.split("\\n")``
    (the parser reads a lone ``\\r`` as a line end too: it is read as a space here)."""
    return _parser().parse(text.replace("\r", " "))


def _plain(inline: Token) -> str:
    """The words of an inline token, markup left out (``**Owner:**`` -> ``Owner:``)."""
    return "".join(
        child.content for child in inline.children or [] if child.type in ("text", "code_inline")
    )


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(i + 1 for i, char in enumerate(text) if char == "\n")
    return starts


def _paragraph_lines(text: str) -> list[tuple[int, int]]:
    """``(first, last)`` line numbers of each paragraph CommonMark finds (code, tables,
    headings and HTML blocks are not paragraphs: their breaks are all hard)."""
    return [
        (token.map[0], token.map[1] - 1)
        for token in _parse(text)
        if token.type == "paragraph_open" and token.map
    ]


def is_fence(line: str) -> bool:
    """Whether *line* opens or closes a fenced code block."""
    return bool(_FENCE.match(line))


def is_key_value(line: str) -> bool:
    """Whether *line* reads as ``Key: value`` (a short label starting with a capital, a
    colon, a value); a wrapped line going on in lower case (``reasons: ...``) is not."""
    match = _KEY_VALUE.match(line)
    if not match or "://" in line[: match.end() + 2]:
        return False
    key = line[: match.end()].rsplit(":", 1)[0]
    first = next((char for char in key if char.isalpha()), "")
    return first.isupper() and len(key.split()) <= _MAX_KEY_WORDS


def is_faq_line(line: str) -> bool:
    """Whether *line* starts with ``Q:``, ``A:``, ``Question:`` or ``Answer:``."""
    return bool(_FAQ.match(line))


def is_question(line: str) -> bool:
    """Whether *line* asks: an FAQ's ``Q:``/``Question:`` line, or a line ending in ``?``."""
    stripped = line.strip()
    if not stripped:
        return False
    return stripped.endswith("?") or bool(_FAQ_QUESTION.match(stripped))


def is_table_row(line: str) -> bool:
    """Whether *line* is a row of a pipe table (``| Car | 45p |``)."""
    return bool(_TABLE_ROW.match(line))


def starts_block(line: str) -> bool:
    """Whether *line* begins a block of its own: the break before it is always hard."""
    return (
        any(pattern.match(line) for pattern in (_HEADING, _LIST_ITEM, _TABLE_ROW, _QUOTE, _RULE))
        or is_faq_line(line)
        or is_key_value(line)
        or is_fence(line)
    )


def _ends_block(line: str) -> bool:
    """Whether the break after *line* is always hard (it closes a block of its own)."""
    if line.endswith(("  ", "\\")):  # Markdown's own hard line break
        return True
    return any(pattern.match(line) for pattern in (_HEADING, _TABLE_ROW, _RULE)) or is_fence(line)


def _soft_breaks(lines: list[str], paragraphs: list[tuple[int, int]]) -> set[int]:
    """Numbers of the lines whose ending ``\\n`` is a soft break."""
    soft: set[int] = set()
    for first, final in paragraphs:
        last = min(final, len(lines) - 1)
        width = max((len(line.rstrip()) for line in lines[first : last + 1]), default=0)
        for number in range(first, last):
            if _is_soft(lines[number], lines[number + 1], width, number == 0):
                soft.add(number)
    return soft


def _goes_on(line: str) -> bool:
    """Whether *line* stops mid-sentence: after a comma or semicolon, or after a
    lower-case word or a number ending a line of prose (``... every plot in``)."""
    words = line.split()
    if not words or line.rstrip().endswith((",", ";")):
        return bool(words)
    last = words[-1]
    return len(words) >= _PROSE_WORDS and (last[0].islower() or last.isdigit())


def _is_soft(line: str, following: str, width: int, first: bool) -> bool:
    """Whether the break between *line* and *following* (same paragraph) is soft.

    The *first* line of the text may be the end of a line (a passage starts at a
    sentence), so its length says nothing about the wrap width.
    """
    if _ends_block(line) or starts_block(following) or _RULE.match(following):
        return False
    next_word = (following.split(maxsplit=1) or [""])[0]
    if next_word[:1].islower():
        return True  # the sentence goes on
    if is_key_value(line):
        return False  # a label line followed by a capitalised line: its own line
    if _goes_on(line):
        return True
    if width < _MIN_WRAP_WIDTH:
        return False  # short lines (an address, a poem): written line by line
    length = len(line.rstrip())
    return first or length + 1 + len(next_word) > width or length >= _RAGGED * width
