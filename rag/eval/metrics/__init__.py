"""Deterministic, offline metrics for one question, and statistics over many.

* Answers (:mod:`~rag.eval.metrics.answers`): SQuAD's official normalisation (extended
  to Unicode punctuation: the official script strips ASCII only, so ``“tough
  rhetoric”`` would never match ``tough rhetoric``), exact match and token F1, token
  recall and token-boundary containment of the reference in the answer (chat-length
  answers score EM 0 even when right, so the last two sit next to EM/F1).
* Spans and ranks (:mod:`~rag.eval.metrics.retrieval`): relevance by *overlap* of
  character spans with the evidence, so a gold sentence inside a larger chunk still
  counts as found; hit@n, reciprocal rank; citations: precision of a list of relevance
  flags.
* Statistics (:mod:`~rag.eval.metrics.stats`): percentile bootstrap 95% intervals with
  a fixed seed, percentiles, cosine similarity of embedding rows.
* Trust (:mod:`~rag.eval.metrics.trust`): grounded precision, coverage and unanswerable
  questions answered at each confidence threshold.
* Diagnosis (:mod:`~rag.eval.metrics.diagnosis`): which stage failed for a row
  (retrieval, answer, refusal, citation).
* What each metric means, for reports (:mod:`~rag.eval.metrics.catalogue`).

Every function here is pure: no model, no store, no I/O. A metric that does not
apply returns ``None`` (never NaN) and is left out of averages. This module only
gathers the names (callers use ``from rag.eval import metrics as m``).
"""

from __future__ import annotations

from rag.answering.markers import strip_markers
from rag.eval.metrics.answers import (
    containment,
    contains_reference,
    exact_match,
    f1_score,
    normalize_answer,
    token_recall,
)
from rag.eval.metrics.catalogue import METRIC_KEYS, METRICS, SPECS, MetricSpec
from rag.eval.metrics.diagnosis import (
    CITATION_MISS,
    DIAGNOSES,
    ERROR,
    FALSE_ANSWER,
    OK,
    RETRIEVAL_MISS,
    WRONG_ANSWER,
    WRONG_REFUSAL,
    Outcome,
    diagnose,
)
from rag.eval.metrics.retrieval import (
    SourceSpan,
    coverage,
    first_relevant_rank,
    hit_at,
    overlaps_any,
    precision,
    reciprocal_rank,
)
from rag.eval.metrics.stats import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    best_cosine,
    bootstrap_ci,
    mean,
    percentile,
)
from rag.eval.metrics.trust import CURVE_THRESHOLDS, CurvePoint, trust_curve

__all__ = [
    "BOOTSTRAP_RESAMPLES",
    "BOOTSTRAP_SEED",
    "CITATION_MISS",
    "CURVE_THRESHOLDS",
    "DIAGNOSES",
    "ERROR",
    "FALSE_ANSWER",
    "METRICS",
    "METRIC_KEYS",
    "OK",
    "RETRIEVAL_MISS",
    "SPECS",
    "WRONG_ANSWER",
    "WRONG_REFUSAL",
    "CurvePoint",
    "MetricSpec",
    "Outcome",
    "SourceSpan",
    "best_cosine",
    "bootstrap_ci",
    "containment",
    "contains_reference",
    "coverage",
    "diagnose",
    "exact_match",
    "f1_score",
    "first_relevant_rank",
    "hit_at",
    "mean",
    "normalize_answer",
    "overlaps_any",
    "percentile",
    "precision",
    "reciprocal_rank",
    "strip_markers",
    "token_recall",
    "trust_curve",
]
