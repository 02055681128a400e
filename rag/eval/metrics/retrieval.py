"""Retrieval and citation relevance: character spans, their overlap, and rank metrics.

A passage or citation is relevant when its character :class:`SourceSpan` *overlaps* the
evidence, so a gold sentence inside a larger chunk still counts as found;
:func:`coverage` is the share of evidence characters a set of spans covers. Over a
ranked list of relevance flags: hit@n, reciprocal rank, the first relevant rank, and
precision (used for citations).

Pure functions; this module does not decide which spans are the evidence (that is
:mod:`rag.eval.scoring`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class SourceSpan:
    """Characters ``[start, end)`` of the document named ``source``."""

    source: str
    start: int
    end: int

    def overlaps(self, other: SourceSpan) -> bool:
        """True when both spans share at least one character of the same document."""
        return self.source == other.source and self.start < other.end and other.start < self.end


def overlaps_any(span: SourceSpan, targets: Sequence[SourceSpan]) -> bool:
    """Whether *span* overlaps one of *targets*."""
    return any(span.overlaps(t) for t in targets)


def coverage(targets: Sequence[SourceSpan], covering: Sequence[SourceSpan]) -> float:
    """Share of the characters of *targets* that lie inside some span of *covering*."""
    total = covered = 0
    for target in _merge(targets):
        total += target.end - target.start
        inside = [c for c in _merge(covering) if c.overlaps(target)]
        covered += sum(min(c.end, target.end) - max(c.start, target.start) for c in inside)
    return covered / total if total else 0.0


def _merge(spans: Sequence[SourceSpan]) -> list[SourceSpan]:
    merged: list[SourceSpan] = []
    for span in sorted(spans):
        last = merged[-1] if merged else None
        if last and last.source == span.source and span.start <= last.end:
            merged[-1] = SourceSpan(last.source, last.start, max(last.end, span.end))
        else:
            merged.append(span)
    return merged


def first_relevant_rank(flags: Sequence[bool]) -> int | None:
    """1-based rank of the first relevant item, or None when none is relevant."""
    return next((rank for rank, flag in enumerate(flags, start=1) if flag), None)


def hit_at(flags: Sequence[bool], n: int) -> float:
    """1.0 when one of the first *n* items is relevant."""
    return float(any(flags[:n]))


def reciprocal_rank(flags: Sequence[bool]) -> float:
    """1/rank of the first relevant item (0.0 when none is)."""
    rank = first_relevant_rank(flags)
    return 1.0 / rank if rank else 0.0


def precision(flags: Sequence[bool]) -> float | None:
    """Share of relevant items; None for an empty list (nothing to be precise about)."""
    return sum(flags) / len(flags) if flags else None
