"""Trust metrics: how precise grounded answers would be at each confidence threshold.

For each threshold, :func:`trust_curve` counts a question as answered when its best
sentence passed the rules and its confidence reaches the threshold, and reports
grounded precision (answered questions whose sentence holds a reference), coverage
(answerable questions answered right) and the share of unanswerable questions
answered. Points may carry weights so that every document counts alike.

Pure function; this module does not compute confidences or pick the threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class CurvePoint:
    """One question for the precision/coverage curve."""

    confidence: float
    eligible: bool  # found, and its best sentence passed the rules
    answerable: bool
    correct: bool  # answerable and the best sentence contains a reference
    weight: float = 1.0  # e.g. 1 / questions of its document, so every document counts alike


CURVE_THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(20))


def trust_curve(
    points: Sequence[CurvePoint], thresholds: Sequence[float] = CURVE_THRESHOLDS
) -> list[dict[str, float | int | None]]:
    """Grounded precision, coverage and unanswerable answered if answering at each threshold.

    A question counts as answered at threshold *t* when its best sentence is eligible and
    its confidence is at least *t*; precision is then the share of answered questions
    whose sentence holds a reference. Points may carry weights (rates are then weighted;
    ``answered`` stays a count).
    """
    answerable = sum(p.weight for p in points if p.answerable)
    unanswerable = sum(p.weight for p in points if not p.answerable)
    curve: list[dict[str, float | int | None]] = []
    for t in thresholds:
        answered = [p for p in points if p.eligible and p.confidence >= t]
        shown = sum(p.weight for p in answered)
        right = sum(p.weight for p in answered if p.correct)
        false = sum(p.weight for p in answered if not p.answerable)
        curve.append(
            {
                "threshold": t,
                "answered": len(answered),
                "grounded_precision": _ratio(right, shown),
                "coverage": _ratio(right, answerable),
                "unanswerable_answered": _ratio(false, unanswerable),
            }
        )
    return curve


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None
