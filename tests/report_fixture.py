"""A small, fixed evaluation for the report tests: hand-built rows, every section filled.

:func:`fixed_report` builds ``report.json``'s object the way the runner does
(:func:`~rag.eval.summary.summarise`, the follow-up block, the document list, a
comparison with a baseline) from :class:`~rag.eval.scoring.RowResult` objects written
out here, so nothing depends on a model, a store or the clock. *text* is inserted into
every free-text field (questions, answers, passages, reasons, titles...), which lets
the escaping test put hostile markup everywhere a document or dataset can reach.
"""

from __future__ import annotations

import copy
from typing import Any

from rag.config import REFUSAL, Settings
from rag.eval import metrics as m
from rag.eval.compare import compare
from rag.eval.followups import Expectation, summary_update
from rag.eval.report import build_report
from rag.eval.scoring import RowResult, mark_error
from rag.eval.summary import summarise

SOURCE = "docs/ferry.md"
CREATED_AT = "2030-01-02T03:04:05+00:00"
FERRY = (
    "The Ashwick ferry crosses the estuary every 40 minutes. "
    "Its skipper, Mara Quill, has run the route since 2011."
)


def _settings() -> Settings:
    return Settings(
        _env_file=None,
        ingest={"chunk_size": 600},
        answer={"refusal_threshold": 0.3, "threshold": 0.5},
        llm={"provider": "extractive"},
        embedding={"model": "fixture-model"},
    )


def _passage(rank: int, text: str, relevant: bool, score: float, extra: str) -> dict[str, Any]:
    start = FERRY.find(text)
    return {
        "rank": rank,
        "source": SOURCE + extra,
        "start": start,
        "end": start + len(text),
        "score": score,
        "dense_score": score,
        "lexical_score": score / 2,
        "text": text + extra,
        "relevant": relevant,
    }


def _metrics(**values: float | None) -> dict[str, float | None]:
    return {**dict.fromkeys(m.METRIC_KEYS), **values}


# The relevant passage ranked first.
HIT = {"hit@1": 1.0, "hit@3": 1.0, "hit@k": 1.0, "mrr": 1.0, "recall@k": 1.0}


def _row(row_id: str, question: str, reference: list[str], **fields: Any) -> RowResult:
    """A single-turn answerable row unless *fields* say otherwise."""
    defaults: dict[str, Any] = {"evidence": [], "answerable": True, "follow_up": False}
    return RowResult(row_id, question, reference, **{**defaults, "history": [], **fields})


def _answered(text: str) -> RowResult:
    first, second = FERRY.split(". ", 1)
    quote = first + "."
    return _row(
        "a1",
        "How often does the ferry cross?" + text,
        ["every 40 minutes"],
        evidence=[quote + text],
        answer=f"{quote}{text} [1]",
        outcome="answered",
        confidence=0.91,
        best_candidate=quote,
        best_candidate_ok=True,
        citations=[
            {
                "id": 1,
                "source": SOURCE + text,
                "start": 0,
                "end": len(quote),
                "quote": quote + text,
                "passage_rank": 1,
                "score": 0.88,
                "short_answer": "every 40 minutes",
                "relevant": True,
            }
        ],
        retrieved=[_passage(1, quote, True, 0.8123, text), _passage(2, second, False, 0.41, text)],
        relevance_basis="evidence",
        relevant_rank=1,
        latency_ms=42.0,
        metrics=_metrics(
            **HIT,
            exact_match=0.0,
            f1=0.4,
            token_recall=1.0,
            containment=1.0,
            citation_precision=1.0,
            citation_recall=1.0,
            wrong_refusal_rate=0.0,
            decision_accuracy=1.0,
            marker_validity=1.0,
            grounded_precision=1.0,
            coverage=1.0,
            short_answer_em=1.0,
            short_answer_f1=1.0,
        ),
        diagnosis=m.OK,
        diagnosis_detail="Answered from the evidence." + text,
    )


def _refused(text: str) -> RowResult:
    return _row(
        "a2",
        "Who skippers the ferry?" + text,
        ["Mara Quill"],
        answer=REFUSAL,
        refused=True,
        outcome="not_found",
        confidence=0.12,
        retrieved=[_passage(1, FERRY.split(". ", 1)[1], True, 0.52, text)],
        relevance_basis="reference",
        relevant_rank=1,
        latency_ms=58.5,
        metrics=_metrics(
            **HIT,
            exact_match=0.0,
            f1=0.0,
            token_recall=0.0,
            containment=0.0,
            wrong_refusal_rate=1.0,
            decision_accuracy=0.0,
            coverage=0.0,
        ),
        diagnosis=m.WRONG_REFUSAL,
        diagnosis_detail="The passage held the answer but the assistant refused." + text,
    )


def _follow_up(text: str) -> RowResult:
    return _row(
        "f1",
        "Since when has she run it?" + text,
        ["2011"],
        follow_up=True,
        history=["Who skippers the ferry?"],
        answer="Its skipper, Mara Quill, has run the route since 2011. [1]" + text,
        outcome="unsure",
        standalone_question="Since when has Mara Quill run the ferry?" + text,
        history_turns=[{"question": "Who skippers the ferry?" + text, "answer": "Mara Quill [1]"}],
        retrieved=[_passage(1, FERRY.split(". ", 1)[1], True, 0.7, text)],
        relevance_basis="reference",
        relevant_rank=1,
        latency_ms=77.25,
        metrics=_metrics(containment=1.0, f1=0.2, marker_validity=0.0, decision_accuracy=1.0),
        diagnosis=m.CITATION_MISS,
        diagnosis_detail="The answer is right but cites no passage." + text,
        marker_problem="marker [1] has no citation" + text,
        judge={"provider": "extractive", "status": "ok", "reason": "supported" + text},
    )


def _unanswerable(text: str) -> RowResult:
    return _row(
        "u1",
        "What does a ticket cost?" + text,
        [],
        answerable=False,
        answer=REFUSAL,
        refused=True,
        outcome="not_found",
        latency_ms=30.0,
        metrics=_metrics(refusal_accuracy=1.0, decision_accuracy=1.0, unanswerable_answered=0.0),
        diagnosis=m.OK,
        diagnosis_detail="Refused, rightly.",
    )


def fixed_results(text: str = "") -> list[RowResult]:
    """Four scored rows (answered, wrongly refused, follow-up, unanswerable) and an error."""
    failed = _row("e1", "Is the ferry running?", ["yes"])
    return [
        _answered(text),
        _refused(text),
        _follow_up(text),
        _unanswerable(text),
        mark_error(failed, "the store could not be read" + text),
    ]


def _report(results: list[RowResult], text: str) -> dict[str, Any]:
    dataset = {"path": "eval/ferry.jsonl", "sha256": "ab" * 32}
    summary = summarise(results, _settings(), 4, dataset, 1.5, label="never tuned on" + text)
    summary["created_at"] = CREATED_AT
    expected = {
        "f1": Expectation(
            "f1", ("Who skippers the ferry?", "Since when has Mara Quill run the ferry?"), "dev"
        )
    }
    summary.update(summary_update(expected, results))
    summary["documents"] = [
        {"source": SOURCE + text, "title": "Ferry" + text, "sha256": "cd" * 32, "chunks": 3}
    ]
    return build_report(summary, results, None)


def fixed_report(text: str = "", *, with_baseline: bool = True) -> dict[str, Any]:
    """The ``report.json`` object of :func:`fixed_results`, compared with a worse baseline."""
    results = fixed_results(text)
    report = _report(results, text)
    if not with_baseline:
        return report
    old = fixed_results(text)
    old[0].diagnosis, old[0].metrics = m.WRONG_ANSWER, {**old[0].metrics, "containment": 0.0}
    old[1].diagnosis = m.OK
    baseline = copy.deepcopy(_report(old, text))
    baseline["path"] = "reports/eval/baseline/report.json" + text
    baseline["summary"]["settings"]["chunk_size"] = 400
    baseline["summary"]["dataset"]["sha256"] = "ef" * 32
    report["comparison"] = compare(report["summary"], results, baseline)
    return report
