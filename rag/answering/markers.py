"""The ``[n]`` citation marker: its one grammar, and reading or removing markers in text.

An answer cites passage or citation *n* with a marker in square brackets. We write
one number per marker, ``[1]``, several in a row for several citations (``[1] [2]``,
see :func:`rag.answering.citecheck.renumber`); a language model writes what it likes, so
:data:`MARKER` also reads ``[1][2]``, ``[ 1 ]``, ``[1, 2]``, ``[1 and 2]``,
``[1 & 2]``, ``[Passage 1]`` and ``[passages 1 and 3]`` (any case). Every module that
looks for markers (checking, condensing, scoring, judging) uses this grammar, so they
all see the same markers in the same text. Not markers: ranges (``[1-2]``), words
other than "passage" (``[see 1]``, ``[ref 1]``), ``[1.]``, ``[]``.

Document text can hold marker-like footnotes ("...the world had yet seen.[8]"): quoted
in an answer, :func:`defuse` puts an invisible word joiner after their "[" so that they
are never read as citation markers.

This module does not say what a marker points to (:mod:`rag.answering.citecheck` checks that).
"""

from __future__ import annotations

import logging
import re

log = logging.getLogger(__name__)

MARKER = re.compile(r"\[\s*(?:passages?\s*)?\d+(?:\s*(?:,|and|&)\s*\d+)*\s*\]", re.I)
_NUMBER = re.compile(r"\d+")


def marker_numbers(text: str) -> list[int]:
    """Every number of every marker in *text*, in reading order (repeats kept)."""
    return [int(n) for match in MARKER.finditer(text) for n in _NUMBER.findall(match.group())]


WORD_JOINER = "\u2060"  # invisible; "[\u20608]" is no marker


def defuse(text: str) -> str:
    """*text* with every marker-like sequence made inert (a word joiner after its "[")."""
    return MARKER.sub(lambda m: "[" + WORD_JOINER + m.group()[1:], text)


def strip_markers(text: str) -> str:
    """*text* without its markers (each becomes a space), whitespace collapsed."""
    return " ".join(MARKER.sub(" ", text).split())
