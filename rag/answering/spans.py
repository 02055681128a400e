"""From the reader's logits to answer spans: the best span of every window.

A span is a start token and an end token of one window's passage part, at most
``max_tokens`` apart, scored ``start_logit + end_logit``. Its rival is the window's
"no answer" score (the logits at [CLS]). The answerability logit of the window comes
along. Pure numpy; this module runs no model and decides nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.answering.windows import Window

# Not a setting: the reader was trained and calibrated with it; changing it needs retraining.
MAX_ANSWER_TOKENS = 30


@dataclass(frozen=True)
class SpanScore:
    """One of the best spans of a window, located in its passage's text."""

    window: int
    passage: int
    char_start: int  # in the passage text
    char_end: int
    score: float  # start + end logit
    null: float  # the window's no-answer score (start + end logit at [CLS])
    answerable: float  # the window's answerability logit
    probability: float  # softmax share of this span among the window's spans and "none"


def best_spans(
    window: Window,
    start: np.ndarray,
    end: np.ndarray,
    top: int = 1,
    max_tokens: int = MAX_ANSWER_TOKENS,
) -> list[tuple[int, int, float]]:
    """The *top* (start token, end token, score), start <= end < start + max_tokens."""
    lo, hi = window.first, window.last
    if hi < lo:
        return []
    s, e = start[lo : hi + 1], end[lo : hi + 1]
    n = len(s)
    grid = s[:, None] + e[None, :]
    offsets = np.arange(n)[None, :] - np.arange(n)[:, None]
    grid = np.where((offsets >= 0) & (offsets < max_tokens), grid, -np.inf).ravel()
    count = min(top, n * (n + 1) // 2)
    best = np.argpartition(-grid, count - 1)[:count]
    best = best[np.argsort(-grid[best])]
    return [(lo + int(k // n), lo + int(k % n), float(grid[k])) for k in best]


def _span_probability(start: np.ndarray, end: np.ndarray, window: Window, score: float) -> float:
    """exp(score) over the sum for every (start, end) pair of the window plus none."""
    lo, hi = window.first, window.last
    parts = (
        np.concatenate([[start[0]], start[lo : hi + 1]]),
        np.concatenate([[end[0]], end[lo : hi + 1]]),
    )
    log_z = _logsumexp(parts[0]) + _logsumexp(parts[1])
    return float(np.exp(score - log_z))


def _logsumexp(x: np.ndarray) -> float:
    top = float(np.max(x))
    return top + float(np.log(np.sum(np.exp(x - top))))


def window_spans(
    windows: Sequence[Window],
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    answerable: np.ndarray,
    top: int = 1,
) -> list[SpanScore]:
    """The *top* spans of each window, best first (a window without passage tokens has none)."""
    out = []
    for index, window in enumerate(windows):
        start, end = start_logits[index], end_logits[index]
        for first, last, score in best_spans(window, start, end, top):
            char_start, char_end = window.chars(first, last)
            out.append(
                SpanScore(
                    window=index,
                    passage=window.passage,
                    char_start=char_start,
                    char_end=char_end,
                    score=score,
                    null=float(start[0] + end[0]),
                    answerable=float(answerable[index]),
                    probability=_span_probability(start, end, window, score),
                )
            )
    return out
