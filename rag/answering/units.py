"""The unit a citation quotes: the smallest piece of the passage that holds an answer span.

A unit is a sentence, or a line where the text is made of lines (a list item, a
``key: value`` line, a table row, a heading): :func:`rag.documents.chunking.split_sentences` ends
sentences at every hard line break (a soft break inside hard-wrapped prose is read as a
space, so a unit of wrapped text is the whole sentence). A span that crosses units is
quoted with all of them.

Two kinds of unit are never answers, whatever the reader says: a heading (it names a
section: ``# ...`` in Markdown, or the document's title line; chunks leave heading lines
out, they are the chunk's heading path) and a question (an FAQ's ``Q:`` line, or any
line ending in ``?``: it restates what was asked). That is the one rule left beside
the reader.

Pure text functions; nothing here scores.
"""

from __future__ import annotations

from rag.documents.chunking import TextSpan, split_sentences
from rag.documents.structure import is_question


def unit_of(text: str, start: int, end: int) -> TextSpan | None:
    """The unit(s) of *text* holding characters ``[start, end)``; None if none does."""
    units = [u for u in split_sentences(text) if u.start < end and start < u.end]
    if not units:
        return None
    first, last = units[0].start, units[-1].end
    return TextSpan(first, last, text[first:last])


def can_answer(unit: str, title: str = "") -> bool:
    """False for a heading (``#`` or the document's title line) or a question line."""
    stripped = unit.strip()
    if not stripped or stripped.startswith("#") or is_question(stripped):
        return False
    return not title or stripped != title.strip()
