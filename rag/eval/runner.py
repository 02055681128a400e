"""Run a dataset through the assistant and score every row.

For each row the earlier ``history`` questions are asked first, in order, in one
conversation (their answers feed the next turn, as in the chat), then the row's
question is asked, timed and scored (:mod:`rag.eval.scoring`). One unscored warm-up
question is asked first so the latency of row 1 does not include loading the model.

With a generating answerer (``llm.provider``), each row also records what the model
did (``generated_by_model``, ``unsupported_sentences``, ``passages_dropped``), and the
summary gets time-to-first-token percentiles and a ``generation`` block.

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

from rag.answer import Answer
from rag.config import Settings
from rag.errors import QuestionError
from rag.eval import followups
from rag.eval.compare import compare
from rag.eval.dataset import EvalRow, load_dataset
from rag.eval.judge import SKIPPED, CachedJudge, Verdict
from rag.eval.metrics import percentile
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
from rag.eval.stores import document_list, open_eval_assistant
from rag.eval.summary import file_info, summarise
from rag.service import Assistant

log = logging.getLogger(__name__)

Tick = Callable[[RowResult], None]


def open_assistant(
    settings: Settings, embeddings: Any = None, documents: Path | None = None
) -> Assistant:
    """The assistant over the store of exactly *documents* (see :mod:`rag.eval.stores`),
    else over ``settings.store.store_dir``, whose seeds are ingested if it is empty."""
    if documents is not None:
        return open_eval_assistant(settings, documents, embeddings)
    assistant = Assistant(settings, embeddings=embeddings)
    if not assistant.documents():
        log.info("the store is empty: ingesting %s first", settings.store.seeds_dir)
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
    k = k or assistant.settings.retrieval.k
    documents = {e.source: assistant.document_text(e.source) for e in assistant.documents()}
    _warm_up(assistant, rows, k)
    results = []
    for row in rows:
        result = evaluate_row(row, assistant, documents, k, judge)
        results.append(result)
        if tick:
            tick(result)
    add_similarity(results, assistant.encoder.encode)
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
    result.metrics.update(generation_facts(answer))
    if judge is not None:
        _judge(result, judge)
    return result


def generation_facts(answer: Answer) -> dict[str, float | None]:
    """Per-row facts about a generated answer (nothing for the extractive answerer)."""
    info = answer.info
    if not info.model:
        return {}
    by_model = not info.fallback and (answer.refused or bool(answer.citations))
    return {
        "generated_by_model": float(by_model),
        "unsupported_sentences": float(info.unsupported_count),
        "passages_dropped": float(info.passages_dropped),
    }


def generation_summary(results: Sequence[RowResult], assistant: Assistant) -> dict[str, Any]:
    """Time to first token for every mode; model, fallbacks and removals when generating."""
    scored = [r for r in results if r.error is None]
    firsts = [r.timings_ms["first_token"] for r in scored if "first_token" in r.timings_ms]
    summary: dict[str, Any] = {
        "first_token_ms": {
            "p50": _round1(percentile(firsts, 50)),
            "p95": _round1(percentile(firsts, 95)),
            "n": len(firsts),
        }
    }
    rows = [r for r in scored if r.metrics.get("generated_by_model") is not None]
    if assistant.generative:
        from rag.llm.registry import describe

        model = describe(assistant.settings, assistant.llm)
        summary["generation"] = {
            "provider": model.provider,
            "spec": model.spec,
            "model": model.model,
            "model_settings": model.model_settings,
            "rows": len(rows),
            "answered_by_model": sum(r.metrics["generated_by_model"] == 1.0 for r in rows),
            "fallbacks": sum(r.metrics["generated_by_model"] == 0.0 for r in rows),
            "unsupported_sentences_removed": int(
                sum(r.metrics["unsupported_sentences"] or 0 for r in rows)
            ),
            "rows_with_passages_dropped": sum(bool(r.metrics["passages_dropped"]) for r in rows),
        }
    return summary


def _round1(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


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
    label: str | None = None,
) -> dict[str, Any]:
    """Load, ask, score and summarise *path*: the ``report.json`` object.

    Args:
        path: A dataset (.jsonl rows or SQuAD-style .json; see :mod:`rag.eval.dataset`).
        assistant: The assistant to evaluate (see :func:`open_assistant`).
        k: Passages retrieved per question (default ``settings.retrieval.k``).
        judge: An optional LLM judge, cached on disk.
        baseline: An earlier ``report.json`` to compare against (the gate).
        tick: Called after every row (a progress bar).
        rows: Rows already loaded from *path* (skips loading it again).
        label: What the set is for (e.g. "never tuned on"), shown atop the reports.

    Returns:
        The report: ``summary`` (retrieval, answer, citation, refusal, trust and
        latency metrics, the documents scored against), ``rows`` and, with a
        baseline, ``comparison``.

    Raises:
        DatasetError: *path* is missing, empty or has a malformed row (with its line).

    Example:
        >>> import json, tempfile
        >>> from pathlib import Path
        >>> from rag.config import Settings
        >>> folder = Path(tempfile.mkdtemp())
        >>> docs = folder / "docs"
        >>> docs.mkdir()
        >>> _ = (docs / "kiln.txt").write_text(
        ...     "Kiln report\\n\\nThe Dunmore kiln was relit in 1987 after a long repair.\\n"
        ... )
        >>> rows = folder / "qa.jsonl"
        >>> row = {"id": "k1", "question": "When was the Dunmore kiln relit?",
        ...        "answer": "1987", "evidence": ["The Dunmore kiln was relit in 1987"]}
        >>> _ = rows.write_text(json.dumps(row) + "\\n")
        >>> settings = Settings(_env_file=None, store={"cache_dir": folder / "cache"})
        >>> report = run_dataset(rows, open_assistant(settings, documents=docs))
        >>> report["summary"]["rows"], report["summary"]["documents"][0]["chunks"] > 0
        (1, True)
    """
    rows = rows if rows is not None else load_dataset(path)
    expected = followups.expectations(rows)  # checked before any question is asked
    k = k or assistant.settings.retrieval.k
    started = time.perf_counter()
    results = evaluate(rows, assistant, k, judge, tick)
    # the threshold in force (the judge's own unless RAG_ANSWER_THRESHOLD sets one)
    threshold = assistant.answer_threshold
    settings = assistant.settings.updated(retrieval={"k": k}, answer={"threshold": threshold})
    seconds = time.perf_counter() - started
    summary = summarise(results, settings, k, file_info(path), seconds, label=label)
    summary.update(generation_summary(results, assistant))
    summary.update(followups.summary_update(expected, results))
    summary["documents"] = document_list(assistant)
    summary["store"] = str(assistant.settings.store.store_dir)
    comparison = compare(summary, results, baseline) if baseline else None
    return build_report(summary, results, comparison)
