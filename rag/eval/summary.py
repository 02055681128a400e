"""Aggregate scored rows into the ``summary`` of ``report.json``.

Every rate is the mean of per-row values over the rows it applies to (``n`` says
how many), with a percentile bootstrap 95% interval from a fixed seed, so the same
rows always give the same summary. Metrics are given for all rows and separately
for single-turn and follow-up rows; latency as p50/p95; failures counted by
diagnosis. A metric with no applicable row is ``null``, never NaN. ``label`` is the
caller's note on what the set is for (e.g. "never tuned on"), ``null`` when none.

This module does not score rows or write files.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag.answer import OUTCOMES
from rag.config import VARIABLES, Settings
from rag.eval import metrics as m
from rag.eval.scoring import RowResult

log = logging.getLogger(__name__)


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def metric_stats(results: Sequence[RowResult], key: str) -> dict[str, Any]:
    """``{"value", "n", "ci95"}`` for one metric over the rows where it applies."""
    values = [r.metrics.get(key) for r in results if r.error is None]
    present = [v for v in values if v is not None]
    interval = m.bootstrap_ci(present)
    return {
        "value": _round(m.mean(present)),
        "n": len(present),
        "ci95": None if interval is None else [_round(interval[0]), _round(interval[1])],
    }


def group_metrics(results: Sequence[RowResult]) -> dict[str, dict[str, Any]]:
    """Every metric of :data:`rag.eval.metrics.METRICS` over *results*."""
    return {key: metric_stats(results, key) for key in m.METRIC_KEYS}


def latency(results: Sequence[RowResult]) -> dict[str, float | None]:
    """Per-question latency percentiles in milliseconds (the scored turn only)."""
    values = [r.latency_ms for r in results if r.error is None]
    return {
        "p50": _round(m.percentile(values, 50), 1),
        "p95": _round(m.percentile(values, 95), 1),
        "mean": _round(m.mean(values), 1),
        "max": _round(max(values, default=None), 1) if values else None,
        "n": len(values),
    }


def settings_dict(settings: Settings) -> dict[str, Any]:
    """The settings for the report, without any password in ``chroma_url``.

    Flat, keyed by each variable's name without ``RAG_`` (``k``, ``answer_threshold``):
    the keys reports had before the settings became a tree, so old baselines compare.
    """
    tree = settings.model_dump(mode="json")
    data = {
        name.removeprefix("RAG_").lower(): tree[group][field]
        for name, (group, field) in VARIABLES.items()
    }
    url = data.get("chroma_url")
    if url and "@" in url:
        scheme, _, rest = url.partition("://")
        data["chroma_url"] = f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return data


def file_info(path: Path) -> dict[str, Any]:
    """Name and content hash of the dataset, so two reports can be matched."""
    data = Path(path).read_bytes()
    return {"path": str(path), "sha256": hashlib.sha256(data).hexdigest()}


def judge_info(results: Sequence[RowResult]) -> dict[str, Any] | None:
    """How many judgements succeeded, failed, were skipped or came from the cache."""
    verdicts = [r.judge for r in results if r.judge]
    if not verdicts:
        return None
    counts = Counter(v["status"] for v in verdicts)
    return {
        "provider": verdicts[0]["provider"],
        "ok": counts.get("ok", 0),
        "failed": counts.get("failed", 0),
        "skipped": counts.get("skipped", 0),
        "cached": sum(bool(v.get("cached")) for v in verdicts),
    }


def trust(results: Sequence[RowResult], settings: Settings) -> dict[str, Any]:
    """Outcome counts and the precision/coverage curve over the confidence."""
    points = [
        m.CurvePoint(
            confidence=r.confidence or 0.0,
            eligible=r.best_candidate_ok,
            answerable=r.answerable,
            correct=r.answerable and m.contains_reference(r.best_candidate, r.reference),
        )
        for r in results
    ]
    return {
        "outcomes": {o: sum(r.outcome == o for r in results) for o in OUTCOMES},
        "answer_threshold": settings.answer.threshold,
        "curve": m.trust_curve(points),
    }


def summarise(
    results: Sequence[RowResult],
    settings: Settings,
    k: int,
    dataset: dict[str, Any],
    seconds: float,
    *,
    label: str | None = None,
) -> dict[str, Any]:
    """The ``summary`` object of ``report.json``; *label* says what the set is for."""
    scored = [r for r in results if r.error is None]
    return {
        "label": label,
        "rows": len(results),
        "scored": len(scored),
        "errors": len(results) - len(scored),
        "answerable": sum(r.answerable for r in scored),
        "unanswerable": sum(not r.answerable for r in scored),
        "follow_up_rows": sum(r.follow_up for r in scored),
        "metrics": group_metrics(results),
        "single_turn": group_metrics([r for r in results if not r.follow_up]),
        "follow_up": group_metrics([r for r in results if r.follow_up]),
        "latency_ms": latency(results),
        "diagnosis": {d: sum(r.diagnosis == d for r in results) for d in m.DIAGNOSES},
        "relevance_basis": dict(Counter(r.relevance_basis for r in scored)),
        "judge": judge_info(results),
        "trust": trust(scored, settings),
        "k": k,
        "settings": settings_dict(settings),
        "dataset": dataset,
        "bootstrap": {"seed": m.BOOTSTRAP_SEED, "resamples": m.BOOTSTRAP_RESAMPLES, "level": 0.95},
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(seconds, 1),
    }
