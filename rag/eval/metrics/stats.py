"""Statistics over many questions: means, bootstrap intervals, percentiles, cosines.

A value that does not apply is ``None`` and is left out (a mean of nothing is ``None``,
never NaN). Bootstrap intervals use a fixed seed, so the same inputs give the same
interval on every run. :func:`best_cosine` scores semantic similarity with whatever
encoder it is given, in one batch.

Pure functions on numbers (numpy); this module loads no model and reads no file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

BOOTSTRAP_SEED = 20240917
BOOTSTRAP_RESAMPLES = 2000


def mean(values: Sequence[float | None]) -> float | None:
    """Mean of the values that apply (None when none does)."""
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else None


def bootstrap_ci(
    values: Sequence[float | None],
    seed: int = BOOTSTRAP_SEED,
    resamples: int = BOOTSTRAP_RESAMPLES,
    level: float = 0.95,
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the mean; the same inputs give the same interval."""
    present = np.asarray([v for v in values if v is not None], dtype=float)
    if present.size == 0:
        return None
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, present.size, size=(resamples, present.size))
    means = present[picks].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The *q*-th percentile (linear interpolation), None for no values."""
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else None


def best_cosine(
    encode: Callable[[list[str]], np.ndarray],
    texts: Sequence[str],
    references: Sequence[Sequence[str]],
) -> list[float | None]:
    """For each text, its highest cosine with one of its references (rows are normalised).

    One batch for all texts and references, so a whole run costs one encoder call.
    """
    flat = [ref for refs in references for ref in refs]
    if not texts or not flat:
        return [None] * len(texts)
    vectors = encode([*texts, *flat])
    text_vecs, ref_vecs = vectors[: len(texts)], vectors[len(texts) :]
    scores: list[float | None] = []
    offset = 0
    for i, refs in enumerate(references):
        block = ref_vecs[offset : offset + len(refs)]
        offset += len(refs)
        best = float(np.max(block @ text_vecs[i])) if len(refs) else None
        scores.append(None if best is None else max(-1.0, min(1.0, best)))
    return scores
