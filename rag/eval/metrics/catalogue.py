"""What every metric of a report means: its key, label, group and direction.

:data:`METRICS` lists them in report order, grouped as retrieval, answer, citation,
refusal, trust and judge; :data:`METRIC_KEYS` and :data:`SPECS` index it. Reports,
summaries and baseline comparisons read it, so a metric is described in one place.

This module computes nothing; the metrics themselves are in the other modules of
:mod:`rag.eval.metrics` and in :mod:`rag.eval.scoring`.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    MetricSpec(
        "short_answer_em",
        "Short-answer EM",
        "trust",
        "Answered answerable questions: SQuAD exact match of the first citation's short "
        "answer (0 when it has none).",
    ),
    MetricSpec(
        "short_answer_f1",
        "Short-answer F1",
        "trust",
        "Answered answerable questions: SQuAD token F1 of the first citation's short "
        "answer (0 when it has none).",
    ),
    MetricSpec("faithfulness", "Faithfulness", "judge", "Judge: answer supported by passages."),
    MetricSpec(
        "answer_relevance", "Answer relevance", "judge", "Judge: answer addresses question."
    ),
)
METRIC_KEYS = tuple(spec.key for spec in METRICS)
SPECS = {spec.key: spec for spec in METRICS}
