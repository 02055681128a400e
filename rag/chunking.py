"""Sentence splitting and sentence-aware chunking with exact character offsets.

Every span returned satisfies ``text[start:end] == span_text``. Chunks are built
from whole sentences (a sentence is only cut when it alone exceeds the chunk size,
at a word boundary) and neighbouring chunks share ``overlap`` sentences.

This module knows nothing about embeddings, stores or documents' metadata.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A sentence ends at . ! ? or … followed by optional closing quotes/brackets and
# whitespace; a blank line or a line break also ends one (titles, list items).
_BOUNDARY = re.compile(r"(?<=[.!?…])[\"'”’)\]]*(?=\s)|\n")
_ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof st jr sr vs etc inc ltd co corp gen col lt sgt rep sen gov no
    fig jan feb mar apr jun jul aug sep sept oct nov dec e.g i.e u.s u.k u.n
    """.split()
)
_WORD_BEFORE = re.compile(r"([\w.]+)\.$")


@dataclass(frozen=True)
class TextSpan:
    """A piece of text located by character offsets into its source."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences, located in the source, with its position number."""

    index: int
    start: int
    end: int
    text: str


def _is_abbreviation(text: str, end: int) -> bool:
    match = _WORD_BEFORE.search(text, max(0, end - 12), end)
    if not match:
        return False
    word = match.group(1).lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _trimmed(text: str, start: int, end: int) -> TextSpan | None:
    """The span with surrounding whitespace removed, or None when it is blank."""
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return None
    left = start + (len(piece) - len(piece.lstrip()))
    return TextSpan(left, left + len(stripped), stripped)


def split_sentences(text: str) -> list[TextSpan]:
    """Split *text* into sentence spans with exact offsets."""
    spans: list[TextSpan] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        if match.group() != "\n" and _is_abbreviation(text, match.start()):
            continue
        span = _trimmed(text, start, end)
        if span:
            spans.append(span)
        start = end
    tail = _trimmed(text, start, len(text))
    if tail:
        spans.append(tail)
    return spans


def _split_long(text: str, span: TextSpan, limit: int) -> list[TextSpan]:
    """Cut an over-long sentence at whitespace into pieces of at most *limit* chars."""
    pieces: list[TextSpan] = []
    start = span.start
    while span.end - start > limit:
        cut = text.rfind(" ", start + 1, start + limit)
        cut = cut if cut > start else start + limit
        piece = _trimmed(text, start, cut)
        if piece:
            pieces.append(piece)
        start = cut
    tail = _trimmed(text, start, span.end)
    return pieces + ([tail] if tail else [])


def _units(text: str, size: int) -> list[TextSpan]:
    units: list[TextSpan] = []
    for sentence in split_sentences(text):
        long = sentence.end - sentence.start > size
        units.extend(_split_long(text, sentence, size) if long else [sentence])
    return units


def chunk_text(text: str, size: int = 600, overlap: int = 1) -> list[Chunk]:
    """Pack whole sentences into chunks of about *size* characters.

    Consecutive chunks share the last *overlap* sentences of the previous chunk
    (never the whole chunk, so packing always advances).
    """
    units = _units(text, size)
    chunks: list[Chunk] = []
    first = 0
    while first < len(units):
        last = first
        while last + 1 < len(units) and units[last + 1].end - units[first].start <= size:
            last += 1
        start, end = units[first].start, units[last].end
        chunks.append(Chunk(len(chunks), start, end, text[start:end]))
        if last + 1 >= len(units):
            break
        first = max(first + 1, last + 1 - overlap)
    return chunks
