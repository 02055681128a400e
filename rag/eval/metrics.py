"""Deterministic, offline metrics for one question, and statistics over many.

* Answers: SQuAD's official normalisation (extended to Unicode punctuation: the
  official script strips ASCII only, so ``“tough rhetoric”`` would never match
  ``tough rhetoric``), exact match and token F1, token recall
  and token-boundary containment of the reference in the answer (chat-length
  answers score EM 0 even when right, so the last two sit next to EM/F1).
* Spans: relevance by *overlap* of character spans with the evidence, so a gold
  sentence inside a larger chunk still counts as found.
* Ranks: hit@n, reciprocal rank; citations: precision of a list of relevance flags.
* Statistics: percentile bootstrap 95% intervals with a fixed seed, percentiles,
  cosine similarity of embedding rows.
* Diagnosis: which stage failed for a row (retrieval, answer, refusal, citation).

Every function here is pure: no model, no store, no I/O. A metric that does not
apply returns ``None`` (never NaN) and is left out of averages.
"""

from __future__ import annotations

import logging
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from rag.answer import MARKER

log = logging.getLogger(__name__)

BOOTSTRAP_SEED = 20240917
BOOTSTRAP_RESAMPLES = 2000
_PUNCTUATION = frozenset(string.punctuation)  # the official set (ASCII; has $ ^ ` + < = > | ~)
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b")


@dataclass(frozen=True)
class MetricSpec:
    """What a metric means, for reports and baseline comparisons."""

    key: str
    label: str
    group: str
    description: str
    higher_is_better: bool = True


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("hit@1", "Hit@1", "retrieval", "Top passage overlaps the evidence."),
    MetricSpec("hit@3", "Hit@3", "retrieval", "One of the top 3 passages overlaps the evidence."),
    MetricSpec("hit@k", "Hit@k", "retrieval", "One of the k retrieved passages overlaps it."),
    MetricSpec("mrr", "MRR", "retrieval", "Mean of 1/rank of the first relevant passage."),
    MetricSpec("recall@k", "Recall@k", "retrieval", "Share of evidence characters retrieved."),
    MetricSpec("exact_match", "Exact match", "answer", "SQuAD EM: normalised answer = reference."),
    MetricSpec("f1", "Token F1", "answer", "SQuAD token F1 between answer and reference."),
    MetricSpec(
        "token_recall", "Token recall", "answer", "Share of reference tokens in the answer."
    ),
    MetricSpec(
        "containment", "Containment", "answer", "Normalised reference occurs in the answer."
    ),
    MetricSpec(
        "semantic_similarity",
        "Semantic sim.",
        "answer",
        "Cosine of answer and reference embeddings.",
    ),
    MetricSpec(
        "citation_precision",
        "Citation precision",
        "citation",
        "Share of citations on the evidence.",
    ),
    MetricSpec(
        "citation_recall", "Citation recall", "citation", "Share of evidence characters cited."
    ),
    MetricSpec(
        "marker_validity",
        "Valid markers",
        "citation",
        "Answer has [n] markers and each maps to a checked span in a retrieved passage.",
    ),
    MetricSpec(
        "refusal_accuracy", "Refusal accuracy", "refusal", "Unanswerable questions refused."
    ),
    MetricSpec(
        "wrong_refusal_rate",
        "Wrong refusals",
        "refusal",
        "Answerable questions refused.",
        higher_is_better=False,
    ),
    MetricSpec(
        "decision_accuracy", "Answer/refuse acc.", "refusal", "Right choice to answer or refuse."
    ),
    MetricSpec(
        "grounded_precision",
        "Grounded precision",
        "trust",
        "Share of answers shown as grounded that contain a reference answer.",
    ),
    MetricSpec(
        "coverage",
        "Coverage",
        "trust",
        "Share of answerable questions answered (grounded) with a reference in the answer.",
    ),
    MetricSpec(
        "unanswerable_answered",
        "Unanswerable answered",
        "trust",
        "Share of unanswerable questions given a grounded answer (not sure counts as not).",
        higher_is_better=False,
    ),
    MetricSpec("faithfulness", "Faithfulness", "judge", "Judge: answer supported by passages."),
    MetricSpec(
        "answer_relevance", "Answer relevance", "judge", "Judge: answer addresses question."
    ),
)
METRIC_KEYS = tuple(spec.key for spec in METRICS)
SPECS = {spec.key: spec for spec in METRICS}


# ----- answers -------------------------------------------------------------------
def strip_markers(text: str) -> str:
    """The answer text without its ``[n]`` citation markers."""
    return " ".join(MARKER.sub(" ", text).split())


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation: lower case, no punctuation, articles or extra space.

    Identical to the official script on ASCII text; curly quotes and dashes are
    removed too.
    """
    text = "".join(ch for ch in text.lower() if not _is_punctuation(ch))
    return " ".join(_ARTICLES.sub(" ", text).split())


def _is_punctuation(ch: str) -> bool:
    return ch in _PUNCTUATION or unicodedata.category(ch).startswith("P")


def _tokens(text: str) -> list[str]:
    return normalize_answer(text).split()


def _best(scores: Sequence[float]) -> float:
    return max(scores, default=0.0)


def exact_match(prediction: str, references: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals any normalised reference."""
    pred = normalize_answer(prediction)
    return _best([float(pred == normalize_answer(ref)) for ref in references])


def _f1(pred: list[str], gold: list[str]) -> float:
    if not pred or not gold:  # SQuAD v2: both empty is a match
        return float(pred == gold)
    same = sum((Counter(pred) & Counter(gold)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def f1_score(prediction: str, references: Sequence[str]) -> float:
    """SQuAD token F1, the best over the acceptable references."""
    pred = _tokens(prediction)
    return _best([_f1(pred, _tokens(ref)) for ref in references])


def token_recall(prediction: str, references: Sequence[str]) -> float:
    """Share of the reference's tokens (with multiplicity) found in the prediction."""
    pred = Counter(_tokens(prediction))
    scores = []
    for ref in references:
        gold = Counter(_tokens(ref))
        if gold:
            scores.append(sum((pred & gold).values()) / sum(gold.values()))
    return _best(scores)


def _for_containment(text: str) -> str:
    # "UK’s refugee director" must contain "UK": drop possessives before normalising.
    return normalize_answer(_POSSESSIVE.sub("", text))


def contains_reference(text: str, references: Sequence[str]) -> bool:
    """Whether a normalised reference occurs in the normalised text, on word boundaries.

    Possessive endings are dropped first on both sides ("UK’s" contains "UK").
    """
    haystack = f" {_for_containment(text)} "
    needles = (_for_containment(ref) for ref in references)
    return any(f" {needle} " in haystack for needle in needles if needle)


def containment(prediction: str, references: Sequence[str]) -> float:
    """1.0 when the answer contains an acceptable reference (see :func:`contains_reference`)."""
    return float(contains_reference(prediction, references))


# ----- spans and ranks -----------------------------------------------------------
@dataclass(frozen=True, order=True)
class Span:
    """Characters ``[start, end)`` of the document named ``source``."""

    source: str
    start: int
    end: int

    def overlaps(self, other: Span) -> bool:
        """True when both spans share at least one character of the same document."""
        return self.source == other.source and self.start < other.end and other.start < self.end


def overlaps_any(span: Span, targets: Sequence[Span]) -> bool:
    """Whether *span* overlaps one of *targets*."""
    return any(span.overlaps(t) for t in targets)


def coverage(targets: Sequence[Span], covering: Sequence[Span]) -> float:
    """Share of the characters of *targets* that lie inside some span of *covering*."""
    total = covered = 0
    for target in _merge(targets):
        total += target.end - target.start
        inside = [c for c in _merge(covering) if c.overlaps(target)]
        covered += sum(min(c.end, target.end) - max(c.start, target.start) for c in inside)
    return covered / total if total else 0.0


def _merge(spans: Sequence[Span]) -> list[Span]:
    merged: list[Span] = []
    for span in sorted(spans):
        last = merged[-1] if merged else None
        if last and last.source == span.source and span.start <= last.end:
            merged[-1] = Span(last.source, last.start, max(last.end, span.end))
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


# ----- statistics ----------------------------------------------------------------
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


# ----- diagnosis -----------------------------------------------------------------
OK = "ok"
RETRIEVAL_MISS = "retrieval miss"
WRONG_ANSWER = "retrieved but wrong answer"
WRONG_REFUSAL = "wrong refusal"
FALSE_ANSWER = "false answer on unanswerable"
CITATION_MISS = "right answer, wrong citation"
ERROR = "error"
DIAGNOSES = (OK, RETRIEVAL_MISS, WRONG_ANSWER, WRONG_REFUSAL, FALSE_ANSWER, CITATION_MISS, ERROR)


@dataclass(frozen=True)
class Outcome:
    """The facts about one answered row that decide its diagnosis."""

    answerable: bool
    refused: bool
    correct: bool
    relevant_rank: int | None
    cited_evidence: bool
    markers_valid: bool
    cited_reference: bool = False


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


def diagnose(outcome: Outcome) -> tuple[str, str]:
    """(label, one sentence saying what went wrong and where to look)."""
    o = outcome
    found = f"the evidence was retrieved at rank {o.relevant_rank}"
    if not o.answerable:
        if o.refused:
            return OK, "Correctly refused: the documents do not answer this."
        return (
            FALSE_ANSWER,
            "Answered a question the documents cannot answer: raise the refusal bar.",
        )
    if o.refused:
        where = found if o.relevant_rank else "the evidence was not retrieved either"
        return WRONG_REFUSAL, f"Refused although the documents answer it; {where}."
    if not o.correct:
        if o.relevant_rank is None:
            return RETRIEVAL_MISS, "No retrieved passage overlaps the evidence: fix retrieval."
        return WRONG_ANSWER, f"{found.capitalize()} but the answer picked other text."
    if not o.markers_valid:
        return CITATION_MISS, "The answer is right but its [n] markers are broken."
    if not o.cited_evidence:
        hint = (
            " (the cited text does contain the reference: the row's evidence may be incomplete)"
            if o.cited_reference
            else ""
        )
        return CITATION_MISS, f"The answer is right but no citation overlaps the evidence{hint}."
    return OK, "Right answer, cited on the evidence."
