"""Run a dataset through the assistant and score every row.

For each row the earlier ``history`` questions are asked first, in order, in one
conversation (their answers feed the next turn, as in the chat), then the row's
question is asked, timed and scored (:mod:`rag.eval.scoring`). One unscored warm-up
question is asked first so the latency of row 1 does not include loading the model.

:func:`run_dataset` chains loading, asking, scoring, aggregation
(:mod:`rag.eval.summary`) and the baseline comparison into one ``report.json``
object. This module writes no file, and it never changes the store except to
ingest the seeds into an empty one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.errors import QuestionError
from rag.eval.compare import compare
from rag.eval.dataset import EvalRow, load_dataset
from rag.eval.judge import SKIPPED, CachedJudge, Verdict
from rag.eval.report import build_report
from rag.eval.scoring import (
    RowResult,
    add_similarity,
    blank_result,
    locate_evidence,
    mark_error,
    relevance_for,
    score_answer,
)
from rag.eval.summary import file_info, summarise
from rag.service import Assistant

log = logging.getLogger(__name__)

Tick = Callable[[RowResult], None]


def open_assistant(settings: Settings, embeddings: Any = None) -> Assistant:
    """The assistant over ``settings.store_dir``; seeds are ingested if the store is empty."""
    assistant = Assistant(settings, embeddings=embeddings)
    if not assistant.documents():
        log.info("the store is empty: ingesting %s first", settings.seeds_dir)
        report = assistant.ingest()
        log.info("ingested %d documents, %d chunks", report.documents, report.chunks)
    return assistant


def evaluate(
    rows: Sequence[EvalRow],
    assistant: Assistant,
    k: int | None = None,
    judge: CachedJudge | None = None,
    tick: Tick | None = None,
) -> list[RowResult]:
    """Ask and score every row; *tick* is called after each one (for a progress bar)."""
    if not rows:
        return []
    k = k or assistant.settings.k
    documents = {e.source: assistant.document_text(e.source) for e in assistant.documents()}
    _warm_up(assistant, rows, k)
    results = []
    for row in rows:
        result = evaluate_row(row, assistant, documents, k, judge)
        results.append(result)
        if tick:
            tick(result)
    add_similarity(results, assistant.embeddings.encode)
    return results


def _warm_up(assistant: Assistant, rows: Sequence[EvalRow], k: int) -> None:
    started = time.perf_counter()
    try:
        assistant.ask(rows[0].question, k=k)
    except QuestionError:
        log.debug("warm-up question rejected; row 1 will report the error")
    log.info("warm-up took %.0f ms", (time.perf_counter() - started) * 1000)


def evaluate_row(
    row: EvalRow,
    assistant: Assistant,
    documents: dict[str, str],
    k: int,
    judge: CachedJudge | None = None,
) -> RowResult:
    """Ask one row (history first) and score its last answer."""
    result = blank_result(row)
    relevance = relevance_for(row, locate_evidence(row.evidence, documents))
    try:
        result.history_turns = ask_history(assistant, row.history, k)
        started = time.perf_counter()
        answer = assistant.ask(row.question, history=result.history_turns, k=k)
        result.latency_ms = round((time.perf_counter() - started) * 1000, 1)
    except QuestionError as exc:
        log.warning("%s: %s", row.id, exc)
        return mark_error(result, str(exc))

    def text_of(source: str) -> str:
        return documents[source] if source in documents else assistant.document_text(source)

    score_answer(result, answer, relevance, k, text_of)
    if judge is not None:
        _judge(result, judge)
    return result


def ask_history(assistant: Assistant, questions: Sequence[str], k: int) -> list[dict[str, Any]]:
    """Ask earlier turns in one conversation; returns the history the chat would hold."""
    history: list[dict[str, Any]] = []
    for question in questions:
        answer = assistant.ask(question, history=history, k=k)
        history.append(
            {
                "question": answer.question,
                "answer": answer.answer,
                "standalone": answer.standalone_question,
            }
        )
    return history


def _judge(result: RowResult, judge: CachedJudge) -> None:
    if result.refused:
        verdict = Verdict(SKIPPED, reason="refused: nothing to judge")
    else:
        contexts = [p["text"] for p in result.retrieved]
        question = result.standalone_question or result.question  # follow-ups: resolved
        verdict = judge.judge(question, result.answer, contexts)
    result.judge = {"provider": judge.name, **verdict.to_dict()}
    result.metrics["faithfulness"] = verdict.faithfulness
    result.metrics["answer_relevance"] = verdict.answer_relevance


def run_dataset(
    path: Path,
    assistant: Assistant,
    *,
    k: int | None = None,
    judge: CachedJudge | None = None,
    baseline: dict[str, Any] | None = None,
    tick: Tick | None = None,
    rows: Sequence[EvalRow] | None = None,
) -> dict[str, Any]:
    """Load, ask, score and summarise *path*: the ``report.json`` object."""
    rows = rows if rows is not None else load_dataset(path)
    k = k or assistant.settings.k
    started = time.perf_counter()
    results = evaluate(rows, assistant, k, judge, tick)
    settings = assistant.settings.model_copy(update={"k": k})
    summary = summarise(results, settings, k, file_info(path), time.perf_counter() - started)
    comparison = compare(summary, results, baseline) if baseline else None
    return build_report(summary, results, comparison)
