"""Sentence splitting and structure-aware chunking with exact character offsets.

Every span returned satisfies ``text[start:end] == span_text``: the document text is
never rewritten. Sentences are found on the text *re-flowed*
(:func:`rag.documents.structure.reflow`: a soft line break of hard-wrapped prose reads as a space,
same length), so no sentence ends at a wrap; every hard break (a list item, a
``key: value`` line, a table row, a heading, an FAQ's ``Q:`` line) still ends one.

Chunks are built from whole units (a sentence is only cut when it alone exceeds the
chunk size, at a word boundary); neighbouring chunks share ``overlap`` units. Given the
document's headings, a chunk never crosses one, leaves the heading lines out (a heading
is never an answer) and carries its heading path (``4. Hotels > London``) as
:attr:`Chunk.heading`. An FAQ's question line stays in one chunk with its answer (the
rest of its paragraph), a lead-in line ending in ``:`` with what follows and a table's
header with its first row; a chunk that starts inside a table or an answer carries the
header row or the question line as :attr:`Chunk.context`. A question line is never an
answer (:func:`rag.answering.units.can_answer`); it guides retrieval.
:func:`indexed_text` is what retrieval embeds and indexes: the document's title, the
heading path and context, then the text (the chunk's text and offsets are the text's).

This module knows nothing about embeddings, stores or documents' metadata.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rag.documents.structure import Heading, is_question, is_table_row, reflow

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


HEADING_SEPARATOR = " > "
_CACHED_CHARS = 5000  # passages (not whole documents) keep their sentences cached
_CONTEXT_REACH = 40  # units looked back for a chunk's table header or question line
_TABLE_RULE = re.compile(r"\s*\|?[\s:|-]+$")  # a pipe table's |---|---| line


@dataclass(frozen=True)
class Chunk:
    """A run of whole units, located in the source, with its position number.

    ``heading`` is the path of headings above it (" > "-joined, "" when none);
    ``context`` the lines that make its first unit readable when they are not inside
    it (a table's header row, an answer's question line), "" when none.
    """

    index: int
    start: int
    end: int
    text: str
    heading: str = ""
    context: str = ""


def indexed_text(text: str, metadata: Mapping[str, Any]) -> str:
    """What retrieval embeds and indexes for a chunk: its document's title, heading path
    and context (from its *metadata*), each on a line of its own, before its *text*."""
    keys = ("title", "heading", "context")
    parts = [str(metadata.get(key) or "") for key in keys]
    return "\n".join(part for part in [*parts, text] if part)


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
    """Split *text* into sentence spans with exact offsets (soft line breaks read as spaces)."""
    if len(text) <= _CACHED_CHARS:
        return list(_cached_sentences(text))
    return _sentences(text)


@functools.lru_cache(maxsize=2048)
def _cached_sentences(text: str) -> tuple[TextSpan, ...]:
    return tuple(_sentences(text))


def _sentences(text: str) -> list[TextSpan]:
    flowed = reflow(text)
    spans: list[TextSpan] = []
    start = 0
    for match in _BOUNDARY.finditer(flowed):
        end = match.end()
        if match.group() != "\n" and _is_abbreviation(flowed, match.start()):
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


@dataclass(frozen=True)
class _Section:
    """The text between two headings, with the path of headings above it."""

    start: int
    end: int
    heading: str


def chunk_text(
    text: str, size: int = 600, overlap: int = 1, headings: Sequence[Heading] = ()
) -> list[Chunk]:
    """Pack whole units into chunks of about *size* characters, section by section.

    Consecutive chunks of a section share the last *overlap* units (or glued groups:
    a question line and its answer, a lead-in line and what follows, a table's header
    and its first row) of the previous chunk, never the whole chunk, so packing always
    advances. *headings* (a document's heading lines) cut the text into sections and
    are left out of every chunk; without them the text is one section.
    """
    units = _units(text, size)
    lines = sorted((h for h in headings if h.end > h.start), key=lambda h: h.start)
    line_starts = [h.start for h in lines]
    body = [u for u in units if not _inside_any(u.start, lines, line_starts)]
    units = body or units  # a document of headings only is still searchable
    starts = [u.start for u in units]
    chunks: list[Chunk] = []
    for section in _sections(text, headings):
        first, last = bisect_left(starts, section.start), bisect_left(starts, section.end)
        inside, inside_starts = units[first:last], starts[first:last]
        for start, end in _pack(_blocks(text, inside, size), size, overlap):
            context = _context(text, inside, inside_starts, start)
            chunks.append(Chunk(len(chunks), start, end, text[start:end], section.heading, context))
    return chunks


def _inside_any(position: int, spans: Sequence[Heading], starts: Sequence[int]) -> bool:
    """Whether *position* lies in one of *spans* (sorted by their *starts*, apart)."""
    number = bisect_right(starts, position) - 1
    return number >= 0 and position < spans[number].end


def _sections(text: str, headings: Sequence[Heading]) -> list[_Section]:
    """The sections between *headings*; an only ``h1`` is the title, not part of paths.

    A heading of level 0 (a page part: header, footer, aside) starts a path of its own;
    an unnamed one ends it.
    """
    ordered = sorted(headings, key=lambda h: h.start)
    titled = sum(1 for h in ordered if h.level == 1) == 1
    sections = [_Section(0, ordered[0].start if ordered else len(text), "")]
    path: list[Heading] = []
    for number, heading in enumerate(ordered):
        path = [h for h in path if h.level < heading.level]
        if heading.name and not (titled and heading.level == 1):
            path.append(heading)
        end = ordered[number + 1].start if number + 1 < len(ordered) else len(text)
        names = HEADING_SEPARATOR.join(h.name for h in path)
        sections.append(_Section(heading.end, end, names))
    return sections


def _is_whole_line(text: str, span: TextSpan) -> bool:
    """Whether *span* is its line(s) alone: only blanks between it and the line ends.

    Walks the blanks only (never the rest of the line), so a document that is one long
    line costs no more per unit than a short one (a search for the line's ends made
    chunking quadratic: 12 s for 800 KB without a line break).
    """
    before = span.start
    while before > 0 and text[before - 1] in " \t":
        before -= 1
    after = span.end
    while after < len(text) and text[after] in " \t":
        after += 1
    starts_line = before == 0 or text[before - 1] == "\n"
    return starts_line and (after == len(text) or text[after] == "\n")


def _glued(text: str, unit: TextSpan) -> bool:
    """Whether *unit* must stay in one chunk with the unit after it."""
    if not _is_whole_line(text, unit):
        return False
    return unit.text.endswith(":") or _is_table_head(text, unit)


def _is_table_head(text: str, unit: TextSpan) -> bool:
    """A table's first row or its ``|---|`` rule (both lead the rows below them)."""
    if not is_table_row(unit.text):
        return False
    return not is_table_row(_previous_line(text, unit.start)) or bool(_TABLE_RULE.match(unit.text))


def _previous_line(text: str, start: int) -> str:
    """The line before the one starting at *start* ("" when *start* does not start a
    line, after blanks, or on the first line); reads that line only."""
    end = start
    while end > 0 and text[end - 1] in " \t":
        end -= 1
    if end == 0 or text[end - 1] != "\n":
        return ""
    first = text.rfind("\n", 0, end - 1) + 1
    return text[first : end - 1]


def _blocks(text: str, units: list[TextSpan], size: int) -> list[TextSpan]:
    """*units* with glued ones joined (each block is packed whole), when they fit *size*:
    a lead-in line or a table's head with the unit after it, an FAQ's question line with
    its answer (the rest of its paragraph)."""
    blocks: list[TextSpan] = []
    glue = question = False
    for unit in units:
        last = blocks[-1] if blocks else None
        same_paragraph = last is not None and "\n\n" not in text[last.end : unit.start]
        joined = glue or (question and same_paragraph)
        if joined and last is not None and unit.end - last.start <= size:
            blocks[-1] = TextSpan(last.start, unit.end, text[last.start : unit.end])
        else:
            blocks.append(unit)
            question = _is_whole_line(text, unit) and is_question(unit.text)
        glue = _glued(text, unit)
    return blocks


def _pack(blocks: list[TextSpan], size: int, overlap: int) -> list[tuple[int, int]]:
    """``(start, end)`` of each chunk of *blocks*: as many whole blocks as fit in *size*."""
    spans: list[tuple[int, int]] = []
    first = 0
    while first < len(blocks):
        last = first
        while last + 1 < len(blocks) and blocks[last + 1].end - blocks[first].start <= size:
            last += 1
        spans.append((blocks[first].start, blocks[last].end))
        if last + 1 >= len(blocks):
            break
        first = max(first + 1, last + 1 - overlap)
    return spans


def _context(text: str, units: list[TextSpan], starts: Sequence[int], start: int) -> str:
    """What the chunk starting at *start* continues, if it does not hold it: the header
    row of its table, or the question line of its answer (*starts*: the units' starts)."""
    number = bisect_left(starts, start)
    if number >= len(units) or number == 0:
        return ""
    table = is_table_row(units[number].text)
    lead = ""
    for unit in reversed(units[max(0, number - _CONTEXT_REACH) : number]):
        if "\n\n" in text[unit.end : start] or (table and not is_table_row(unit.text)):
            break  # the paragraph or the table ends here
        if table:
            lead = unit.text  # the earliest row so far: the header at the end
        elif _is_whole_line(text, unit) and is_question(unit.text):
            return unit.text
    return lead
