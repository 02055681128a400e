"""Score one answered question: which passages and citations are relevant, every metric.

Relevance is decided once per row, on one *basis*:

* ``evidence``: the row's evidence quotes were found in a document; a passage or
  citation is relevant when its character span overlaps an evidence span.
* ``reference``: no evidence (or it was not found); a passage or citation is relevant
  when its normalised text contains a normalised reference answer.
* ``none``: unanswerable rows; only refusal metrics apply.

This module turns an :class:`~rag.answer.Answer` into a :class:`RowResult`; it does
not ask questions, embed text (see :func:`add_similarity`) or aggregate rows.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from rag.answer import Answer, Citation, Passage
from rag.eval import metrics as m
from rag.eval.dataset import EvalRow

log = logging.getLogger(__name__)

TextOf = Callable[[str], str]


@dataclass
class RowResult:
    """Everything the report shows about one question."""

    id: str
    question: str
    reference: list[str]
    evidence: list[str]
    answerable: bool
    follow_up: bool
    history: list[str]
    answer: str = ""
    refused: bool = False
    outcome: str = ""
    confidence: float | None = None
    # The answerer's best sentence, quoted or not (for the precision/coverage curve).
    best_candidate: str = ""
    best_candidate_ok: bool = False
    candidates: list[dict[str, Any]] = field(default_factory=list)
    standalone_question: str = ""
    history_turns: list[dict[str, Any]] = field(default_factory=list)
    citations: list[dict[str, Any]] = field(default_factory=list)
    retrieved: list[dict[str, Any]] = field(default_factory=list)
    relevance_basis: str = "none"
    evidence_spans: list[dict[str, Any]] = field(default_factory=list)
    relevant_rank: int | None = None
    latency_ms: float = 0.0
    timings_ms: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, float | None] = field(default_factory=dict)
    diagnosis: str = ""
    diagnosis_detail: str = ""
    marker_problem: str | None = None
    judge: dict[str, Any] | None = None
    error: str | None = None
    location: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (one entry of ``report.json``'s ``rows``)."""
        return asdict(self)


def blank_result(row: EvalRow) -> RowResult:
    """A result carrying only the dataset row (filled in by :func:`score_answer`)."""
    return RowResult(
        id=row.id,
        question=row.question,
        reference=list(row.references),
        evidence=list(row.evidence),
        answerable=row.answerable,
        follow_up=row.follow_up,
        history=list(row.history),
        location=row.location,
        metrics=dict.fromkeys(m.METRIC_KEYS),
    )


# ----- evidence ------------------------------------------------------------------
def locate_evidence(quotes: Sequence[str], documents: Mapping[str, str]) -> list[m.SourceSpan]:
    """Every place each quote occurs (verbatim, else ignoring whitespace differences)."""
    spans: list[m.SourceSpan] = []
    for quote in quotes:
        pattern = re.compile(r"\s+".join(re.escape(word) for word in quote.split()))
        for source, text in documents.items():
            spans += [m.SourceSpan(source, h.start(), h.end()) for h in pattern.finditer(text)]
    return sorted(set(spans))


# ----- relevance -----------------------------------------------------------------
@dataclass(frozen=True)
class Relevance:
    """Decides whether a passage or citation supports the reference of one row."""

    basis: str
    spans: tuple[m.SourceSpan, ...]
    references: tuple[str, ...]

    def passage(self, p: Passage) -> bool:
        """Relevant retrieved passage?"""
        return self._check(m.SourceSpan(p.source, p.start, p.end), p.text)

    def citation(self, c: Citation) -> bool:
        """Relevant cited span?"""
        return self._check(m.SourceSpan(c.source, c.start, c.end), c.quote)

    def _check(self, span: m.SourceSpan, text: str) -> bool:
        if self.basis == "evidence":
            return m.overlaps_any(span, self.spans)
        if self.basis == "reference":
            return m.contains_reference(text, self.references)
        return False

    def covered(self, spans: Sequence[m.SourceSpan], flags: Sequence[bool]) -> float:
        """Recall: evidence characters covered, or (reference basis) any relevant item."""
        if self.basis == "evidence":
            return m.coverage(self.spans, spans)
        return float(any(flags))


def relevance_for(row: EvalRow, spans: Sequence[m.SourceSpan]) -> Relevance:
    """The relevance rule for *row* given where its evidence was found."""
    if not row.answerable:
        basis = "none"
    elif spans:
        basis = "evidence"
    else:
        basis = "reference"
        if row.evidence:
            log.warning("%s: evidence not found in any document; using the reference", row.id)
    return Relevance(basis, tuple(spans), row.references)


# ----- markers -------------------------------------------------------------------
def marker_problem(answer: Answer, text_of: TextOf) -> str | None:
    """None when every ``[n]`` maps to a checked span in a retrieved passage, else why not."""
    markers = answer.markers()
    if not markers:
        return "the answer has no [n] marker"
    by_id = {c.id: c for c in answer.citations}
    passages = {p.rank: p for p in answer.passages}
    for n in markers:
        cite = by_id.get(n)
        if cite is None:
            return f"marker [{n}] has no citation"
        passage = passages.get(cite.passage_rank)
        if not (passage and _inside(cite, passage)):
            return f"citation [{n}] does not lie in retrieved passage {cite.passage_rank}"
        if text_of(cite.source)[cite.start : cite.end] != cite.quote:
            return f"citation [{n}] quote differs from the source text at its offsets"
    unused = sorted(set(by_id) - set(markers))
    return f"citation [{unused[0]}] is listed but not used in the answer" if unused else None


def _inside(cite: Citation, passage: Passage) -> bool:
    same = passage.source == cite.source
    return same and passage.start <= cite.start and cite.end <= passage.end


# ----- the row -------------------------------------------------------------------
def score_answer(
    result: RowResult, answer: Answer, relevance: Relevance, k: int, text_of: TextOf
) -> RowResult:
    """Fill *result* with the answer, its relevance flags, metrics and diagnosis."""
    passage_flags = [relevance.passage(p) for p in answer.passages]
    citation_flags = [relevance.citation(c) for c in answer.citations]
    result.answer, result.refused = answer.answer, answer.refused
    result.outcome, result.confidence = answer.outcome, answer.confidence
    result.candidates = [asdict(c) for c in answer.info.candidates]
    result.best_candidate = answer.info.best_candidate
    result.best_candidate_ok = bool(result.best_candidate) and (
        answer.outcome != "not_found" and not answer.info.best_candidate_rejected
    )
    result.standalone_question = answer.standalone_question
    result.timings_ms = dict(answer.timings_ms)
    result.relevance_basis = relevance.basis
    result.evidence_spans = [asdict(s) for s in relevance.spans]
    result.retrieved = [
        _passage_dict(p, f) for p, f in zip(answer.passages, passage_flags, strict=True)
    ]
    result.citations = [
        _citation_dict(c, f) for c, f in zip(answer.citations, citation_flags, strict=True)
    ]
    result.relevant_rank = (
        m.first_relevant_rank(passage_flags) if relevance.basis != "none" else None
    )
    result.marker_problem = None if answer.refused else marker_problem(answer, text_of)
    result.metrics.update(_refusal_metrics(result))
    result.metrics.update(_trust_metrics(result, answer))
    result.metrics.update(_short_answer_metrics(result, answer))
    if result.answerable:
        result.metrics.update(_retrieval_metrics(answer, passage_flags, relevance, k))
        result.metrics.update(_answer_metrics(answer, result.reference))
        result.metrics.update(_citation_metrics(answer, citation_flags, relevance))
    result.diagnosis, result.diagnosis_detail = m.diagnose(_outcome(result))
    if result.follow_up and result.diagnosis != m.OK:  # was the rewrite to blame?
        result.diagnosis_detail += f" The follow-up was resolved to: {result.standalone_question}"
    return result


def _passage_dict(p: Passage, relevant: bool) -> dict[str, Any]:
    keys = ("rank", "source", "start", "end", "score", "dense_score", "lexical_score", "text")
    return {**{key: getattr(p, key) for key in keys}, "relevant": relevant}


def _citation_dict(c: Citation, relevant: bool) -> dict[str, Any]:
    keys = ("id", "source", "start", "end", "quote", "passage_rank", "score", "short_answer")
    return {**{key: getattr(c, key) for key in keys}, "relevant": relevant}


def _refusal_metrics(r: RowResult) -> dict[str, float | None]:
    return {
        "refusal_accuracy": None if r.answerable else float(r.refused),
        "wrong_refusal_rate": float(r.refused) if r.answerable else None,
        "decision_accuracy": float(r.refused != r.answerable),
        "marker_validity": None if r.refused else float(r.marker_problem is None),
    }


def _trust_metrics(r: RowResult, answer: Answer) -> dict[str, float | None]:
    answered = answer.outcome == "answered"
    right = answered and r.answerable and m.containment(_plain(answer), r.reference) == 1.0
    return {
        "grounded_precision": float(right) if answered else None,
        "coverage": float(right) if r.answerable else None,
        "unanswerable_answered": None if r.answerable else float(answered),
    }


def _short_answer_metrics(r: RowResult, answer: Answer) -> dict[str, float | None]:
    """SQuAD EM / F1 of the first citation's short answer, for answered answerable rows.

    The reader marks the answering words inside each cited sentence; scoring them, not
    the whole sentence, says whether it found the span (0 when it marked none).
    """
    if not (r.answerable and answer.outcome == "answered"):
        return {"short_answer_em": None, "short_answer_f1": None}
    short = answer.citations[0].short_answer if answer.citations else ""
    if not short.strip():
        return {"short_answer_em": 0.0, "short_answer_f1": 0.0}
    return {
        "short_answer_em": m.exact_match(short, r.reference),
        "short_answer_f1": m.f1_score(short, r.reference),
    }


def _plain(answer: Answer) -> str:
    return "" if answer.refused else m.strip_markers(answer.answer)


def _retrieval_metrics(
    answer: Answer, flags: list[bool], relevance: Relevance, k: int
) -> dict[str, float | None]:
    spans = [m.SourceSpan(p.source, p.start, p.end) for p in answer.passages[:k]]
    return {
        "hit@1": m.hit_at(flags, 1),
        "hit@3": m.hit_at(flags, 3),
        "hit@k": m.hit_at(flags, k),
        "mrr": m.reciprocal_rank(flags[:k]),
        "recall@k": relevance.covered(spans, flags[:k]),
    }


def _answer_metrics(answer: Answer, references: list[str]) -> dict[str, float | None]:
    text = _plain(answer)
    return {
        "exact_match": m.exact_match(text, references),
        "f1": m.f1_score(text, references),
        "token_recall": m.token_recall(text, references),
        "containment": m.containment(text, references),
    }


def _citation_metrics(
    answer: Answer, flags: list[bool], relevance: Relevance
) -> dict[str, float | None]:
    if answer.refused:
        return {"citation_precision": None, "citation_recall": None}
    spans = [m.SourceSpan(c.source, c.start, c.end) for c in answer.citations]
    return {
        "citation_precision": m.precision(flags),
        "citation_recall": relevance.covered(spans, flags),
    }


def _outcome(r: RowResult) -> m.Outcome:
    return m.Outcome(
        answerable=r.answerable,
        refused=r.refused,
        correct=bool(r.metrics.get("containment")),
        relevant_rank=r.relevant_rank,
        cited_evidence=bool(r.metrics.get("citation_precision")),
        markers_valid=r.marker_problem is None,
        cited_reference=any(m.contains_reference(c["quote"], r.reference) for c in r.citations),
    )


def mark_error(result: RowResult, message: str) -> RowResult:
    """A row whose question could not be asked: reported, left out of every average."""
    result.error = message
    result.metrics = dict.fromkeys(m.METRIC_KEYS)
    result.diagnosis, result.diagnosis_detail = m.ERROR, message
    return result


def add_similarity(results: Sequence[RowResult], encode: Callable[[list[str]], Any]) -> None:
    """Set ``semantic_similarity`` for answerable rows (refusals score 0), in one batch."""
    answered = [r for r in results if r.answerable and not r.refused and r.error is None]
    texts = [m.strip_markers(r.answer) for r in answered]
    scores = m.best_cosine(encode, texts, [r.reference for r in answered])
    for result, score in zip(answered, scores, strict=True):
        result.metrics["semantic_similarity"] = score
    for result in results:
        if result.answerable and result.refused and result.error is None:
            result.metrics["semantic_similarity"] = 0.0
