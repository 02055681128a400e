"""Line structure of plain text and Markdown: which line breaks are soft, which are hard.

:func:`reflow` returns the text with every *soft* line break (a single ``\\n`` inside a
paragraph of hard-wrapped prose) replaced by a space and every *hard* break kept, so
the result has exactly the same length as its input and every character offset into
one points at the same character in the other. Hard breaks are: blank lines, the
breaks around headings (``#`` or setext), list items, table rows, block quotes,
``key: value`` lines, FAQ ``Q:``/``A:`` lines, rules and fenced or indented code, and
Markdown's own hard breaks (two trailing spaces or a backslash).

A break between two prose lines is soft when the next line goes on in lower case, or
when the first line reaches the paragraph's wrap width (the next word would not have
fitted on it, or it is within 80% of the widest line); short lines (a paragraph under
40 characters wide: an address, a poem) and a line well short of the width stay line by
line.

This module reads lines only; it does not split sentences (:mod:`rag.chunking`) or
parse Markdown blocks.
"""

from __future__ import annotations

import re

# A line that starts a block of its own (the break before it is hard).
_HEADING = re.compile(r" {0,3}#{1,6}(\s|$)")
_LIST_ITEM = re.compile(r"\s*([-*+•‣◦▪]|\d{1,3}[.)]|[a-zA-Z][.)])\s+\S")
_TABLE_ROW = re.compile(r"\s*\|")
_QUOTE = re.compile(r" {0,3}>")
_FENCE = re.compile(r" {0,3}(```|~~~)")
_RULE = re.compile(r" {0,3}([-*_=])(\s*\1){2,}\s*$")
_FAQ = re.compile(r"\s*(Q|A|Question|Answer)\s*[:.)]\s", re.IGNORECASE)
# ``Key: value`` with a short key (at most five words, optionally **bold**), not a URL.
_KEY_VALUE = re.compile(r"\s*(\*\*|__)?[^\W\d_][^:\n]{0,48}?:(\*\*|__)?[ \t]+\S")
_MAX_KEY_WORDS = 5
# Prose is wrapped at 40 characters or more; a line within 80% of the paragraph's widest
# line was cut by the wrap (hand-wrapped text has a ragged right edge).
_MIN_WRAP_WIDTH = 40
_RAGGED = 0.8


def reflow(text: str) -> str:
    """*text* with soft line breaks turned into spaces; same length, same offsets."""
    lines = text.split("\n")
    soft = _soft_breaks(lines)
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


def is_fence(line: str) -> bool:
    """Whether *line* opens or closes a fenced code block."""
    return bool(_FENCE.match(line))


def is_key_value(line: str) -> bool:
    """Whether *line* reads as ``Key: value`` (a short label, a colon, a value)."""
    match = _KEY_VALUE.match(line)
    if not match or "://" in line[: match.end() + 2]:
        return False
    key = line[: match.end()].rsplit(":", 1)[0]
    return len(key.split()) <= _MAX_KEY_WORDS


def is_faq_line(line: str) -> bool:
    """Whether *line* starts with ``Q:``, ``A:``, ``Question:`` or ``Answer:``."""
    return bool(_FAQ.match(line))


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


def _paragraphs(lines: list[str]) -> list[tuple[int, int]]:
    """``(first, last)`` line numbers of each run of non-blank lines outside code."""
    runs: list[tuple[int, int]] = []
    in_fence = False
    first: int | None = None
    for number, line in enumerate(lines):
        fence = is_fence(line)
        code = in_fence or fence
        if fence:
            in_fence = not in_fence
        blank = not line.strip()
        if first is not None and (blank or code):
            runs.append((first, number - 1))
            first = None
        if first is None and not blank and not code:
            indented = line.startswith(("    ", "\t"))
            previous_blank = number == 0 or not lines[number - 1].strip()
            if not (indented and previous_blank):  # an indented code block stays as is
                first = number
    if first is not None:
        runs.append((first, len(lines) - 1))
    return runs


def _soft_breaks(lines: list[str]) -> set[int]:
    """Numbers of the lines whose ending ``\\n`` is a soft break."""
    soft: set[int] = set()
    for first, last in _paragraphs(lines):
        width = max(len(line.rstrip()) for line in lines[first : last + 1])
        for number in range(first, last):
            if _is_soft(lines[number], lines[number + 1], width):
                soft.add(number)
    return soft


def _is_soft(line: str, following: str, width: int) -> bool:
    """Whether the break between *line* and *following* (same paragraph) is soft."""
    if _ends_block(line) or starts_block(following) or _RULE.match(following):
        return False
    next_word = (following.split(maxsplit=1) or [""])[0]
    if next_word[:1].islower():
        return True  # the sentence goes on
    if is_key_value(line):
        return False  # a label line followed by a capitalised line: its own line
    if width < _MIN_WRAP_WIDTH:
        return False  # short lines (an address, a poem): written line by line
    length = len(line.rstrip())
    return length + 1 + len(next_word) > width or length >= _RAGGED * width
