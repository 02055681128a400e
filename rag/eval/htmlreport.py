"""Render ``report.html``: one static, self-contained page (inline CSS and SVG, no script).

Sections: the label (what the set is for), headline numbers, how to read the report,
the metrics table with 95% intervals (and baseline deltas), plots, the questions to
look at with their diagnosis, the comparison with a baseline, then every question with
its answer, citations and ranked passages. The markup lives in Jinja2 templates
(``rag/eval/templates/*.html.j2``, shipped next to this module) rendered with
autoescaping, so every piece of dataset or document text is escaped exactly once and
no caller escapes anything; a Content-Security-Policy forbids scripts and remote
loads, so a hostile document cannot run code in the reader's browser.

This module only formats a ``report.json`` object; it computes no metric.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import jinja2

from rag.eval import metrics as m
from rag.eval import svg

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).with_name("templates")
READING_GUIDE = (
    "Retrieval metrics say whether the passage holding the evidence was found; answer "
    "metrics whether the answer contains the reference (EM/F1 punish chat-length answers, "
    "so read token recall and containment next to them); citation metrics whether the "
    "cited sentences are the evidence; refusal metrics whether the assistant refused "
    "exactly the questions the documents cannot answer. Each failing question carries a "
    "diagnosis naming the stage to fix. Intervals are 95% bootstrap intervals: two runs "
    "whose intervals overlap widely are not reliably different."
)
CARDS = (
    "hit@3",
    "mrr",
    "containment",
    "f1",
    "citation_precision",
    "refusal_accuracy",
    "wrong_refusal_rate",
)


def _f(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _interval(ci: Sequence[float] | None) -> str:
    return f"[{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "–"


def _signed(value: float) -> str:
    return f"{value:+.2f}"


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


def _metric_cells(r: dict[str, Any]) -> list[str]:
    """The row's applicable metrics (and the judge's verdict), as plain text."""
    cells = [f"{k}={_f(v)}" for k, v in r["metrics"].items() if v is not None]
    judge = r.get("judge")
    if judge:
        cells.append(f"judge {judge['provider']}: {judge['status']} {judge['reason']}")
    return cells


def _blank_none(value: Any) -> Any:
    """``{{ None }}`` prints nothing (Jinja2 would print "None")."""
    return "" if value is None else value


@functools.cache
def environment() -> jinja2.Environment:
    """The report's Jinja2 environment: templates next to this module, autoescape on."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a misspelt field fails loudly, never renders ""
        finalize=_blank_none,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        num=_f, interval=_interval, signed=_signed, clip=_clip, metric_cells=_metric_cells
    )
    env.globals["OK"] = m.OK
    return env


def render_html(report: dict[str, Any]) -> str:
    """The whole page."""
    comparison = report.get("comparison")
    trust = report["summary"].get("trust")
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            report=report,
            title=f"Evaluation: {Path(report['summary']['dataset']['path']).name}",
            reading_guide=READING_GUIDE,
            cards=CARDS,
            metrics=m.METRICS,
            specs=m.SPECS,
            comparison_deltas={d["key"]: d for d in (comparison or {}).get("metrics", [])},
            curve=curve_table(trust) if trust else None,
            charts=_charts(report),  # SVG markup: rag.eval.svg escapes its own labels
        )
    )


CURVE_HEAD = ("Threshold", "Answered", "Grounded precision", "Coverage", "Unanswerable answered")


def curve_table(trust: dict[str, Any]) -> tuple[tuple[str, ...], list[list[str]]]:
    """Header and rows of the precision/coverage curve (plain text cells)."""
    keys = ("grounded_precision", "coverage", "unanswerable_answered")
    rows = [
        [_f(p["threshold"]), str(p["answered"]), *(_f(p[k]) for k in keys)] for p in trust["curve"]
    ]
    return CURVE_HEAD, rows


# ----- plots ---------------------------------------------------------------------
def metrics_chart(report: dict[str, Any]) -> str:
    """Headline metrics with 95% intervals (amber tick: baseline), as one SVG."""
    s = report["summary"]
    old = {d["key"]: d["old"] for d in (report.get("comparison") or {}).get("metrics", [])}
    bars = []
    for spec in m.METRICS:
        stats = s["metrics"][spec.key]
        if not stats["n"]:
            continue
        ci = stats["ci95"] or [None, None]
        color = svg.RED if not spec.higher_is_better else svg.BLUE
        bars.append(svg.Bar(spec.label, stats["value"], ci[0], ci[1], old.get(spec.key), color))
    return svg.hbars(bars, "Metrics (all rows) with 95% bootstrap intervals")


def _charts(report: dict[str, Any]) -> list[str]:
    """The plots section's SVG charts (an empty string when there is nothing to plot)."""
    s, rows = report["summary"], report["rows"]
    return [
        metrics_chart(report),
        _diagnosis_chart(s),
        _rank_chart(rows, s["k"]),
        _latency_chart(rows),
    ]


def _diagnosis_chart(s: dict[str, Any]) -> str:
    total = max(sum(s["diagnosis"].values()), 1)
    bars = [
        svg.Bar(label, n, color=svg.GREEN if label == m.OK else svg.RED, text=str(n))
        for label, n in s["diagnosis"].items()
        if n
    ]
    return svg.hbars(bars, "Outcome per question", max_value=total)


def _rank_chart(rows: Sequence[dict[str, Any]], k: int) -> str:
    answerable = [r for r in rows if r["answerable"] and r["error"] is None]
    ranks = [r["relevant_rank"] for r in answerable]
    labels = [str(i) for i in range(1, k + 1)] + ["miss"]
    counts = [sum(rank == i for rank in ranks) for i in range(1, k + 1)] + [ranks.count(None)]
    colors = [svg.BLUE] * k + [svg.RED]
    return svg.columns(labels, counts, "Rank of the first relevant passage", colors=colors)


def _latency_chart(rows: Sequence[dict[str, Any]]) -> str:
    values = [r["latency_ms"] for r in rows if r["error"] is None]
    if not values:
        return ""
    edges = _bins(values)
    counts = [sum(lo <= v < hi for v in values) for lo, hi in pairwise(edges)]
    labels = [f"{lo:.0f}" for lo in edges[:-1]]
    return svg.columns(labels, counts, "Latency per question (ms, bin start)")


def _bins(values: Sequence[float], count: int = 10) -> list[float]:
    low, high = min(values), max(values)
    step = (high - low) / count or 1.0
    return [low + step * i for i in range(count)] + [high + 1e-9]
