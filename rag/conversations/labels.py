"""Short labels for a list of conversation titles that never read the same.

A narrow list (the page's sidebar) shows about :data:`LABEL_CHARS` characters of a
title, so "What is the hotel limit for a night in London?" and "... in Austin?" both
read "What is the hotel limit for a…". :func:`distinct_labels` keeps a title whole
when that start is its own, and otherwise shows its first words and the words where
it differs: "What is…in London?" and "What is…in Austin?". Titles that are identical
stay identical (their dates tell them apart). This module does not render anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import takewhile

LABEL_CHARS = 24  # characters a sidebar button shows of its label (measured in Chromium)
HEAD_CHARS = 8  # at least this much of the title's start stays, to read as a question


def distinct_labels(titles: Sequence[str], width: int = LABEL_CHARS) -> list[str]:
    """Each title, or a shortening of it that no other title's visible start shares."""
    return [_label(title, [t for t in titles if t != title], width) for title in titles]


def _label(title: str, others: list[str], width: int) -> str:
    shared = max((_shared(title, other) for other in others), default=0)
    if len(title) <= width or shared < width - 1:
        return title  # its visible start is its own (the list cuts the rest)
    where = title.rfind(" ", 0, shared) + 1  # from the word where it differs
    tail = title[where:].strip()
    if len(tail) > width - HEAD_CHARS - 1:
        tail = _words_within(tail, width - HEAD_CHARS - 2) + "…"
    return f"{_words_within(title[:where], width - len(tail) - 1)}…{tail}"


def _shared(a: str, b: str) -> int:
    """How many characters *a* and *b* share from their start."""
    return sum(1 for _ in takewhile(lambda pair: pair[0] == pair[1], zip(a, b, strict=False)))


def _words_within(text: str, chars: int) -> str:
    """The start of *text* in at most *chars* characters, cut after a word if one fits."""
    text = text.strip()
    if len(text) <= chars:
        return text
    cut = text.rfind(" ", 0, chars + 1)
    return (text[:cut] if cut > 0 else text[:chars]).rstrip()
