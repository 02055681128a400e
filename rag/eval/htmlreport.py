"""Render ``report.html``: one static, self-contained page (inline CSS and SVG, no script).

Sections: headline numbers, how to read the report, the metrics table with 95%
intervals (and baseline deltas), plots, the questions to look at with their
diagnosis, the comparison with a baseline, then every question with its answer,
citations and ranked passages. Every piece of dataset or document text is escaped,
and a Content-Security-Policy forbids scripts and remote loads, so a hostile
document cannot run code in the reader's browser.

This module only formats a ``report.json`` object; it computes no metric.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from html import escape
from itertools import pairwise
from pathlib import Path
from typing import Any

from rag.eval import metrics as m
from rag.eval import svg

log = logging.getLogger(__name__)

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#1d2733;
padding:0 16px}h1{font-size:22px;margin-bottom:4px}
h2{font-size:17px;margin-top:28px;border-bottom:1px solid #dde3ea}
.meta{color:#56606b}.cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}
.card{border:1px solid #dde3ea;border-radius:6px;padding:8px 12px;min-width:120px}
.card b{display:block;font-size:22px}.card span{color:#56606b;font-size:12px}
table{border-collapse:collapse;width:100%;margin:8px 0}td,th{border-bottom:1px solid #e6eaef;
padding:4px 6px;text-align:left;vertical-align:top}th{background:#f4f6f8}td.n{text-align:right;
font-variant-numeric:tabular-nums;white-space:nowrap}.plots{display:flex;flex-wrap:wrap;gap:16px}
.ok{color:#2e8b57}.bad{color:#c0392b}.tag{border-radius:4px;padding:1px 6px;font-size:12px;
background:#eef1f4}.tag.bad{background:#fbe9e7}.tag.ok{background:#e8f5ee}
details{border-bottom:1px solid #e6eaef;padding:4px 0}summary{cursor:pointer}
.q{margin-left:8px}pre,blockquote{white-space:pre-wrap;background:#f7f8fa;padding:6px 8px;
margin:4px 0;border-left:3px solid #c9d1da}.rel{border-left-color:#2e8b57}
.guide{background:#f7f8fa;padding:8px 12px;border-radius:6px}
"""
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


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _f(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def render_html(report: dict[str, Any]) -> str:
    """The whole page."""
    s = report["summary"]
    comparison = report.get("comparison")
    title = f"Evaluation: {Path(s['dataset']['path']).name}"
    body = [
        f"<h1>{_e(title)}</h1>",
        _meta(s),
        _cards(s),
        _guide(),
        "<h2>Metrics</h2>",
        _metrics_table(s, comparison),
        _trust(s.get("trust")),
        _documents(s.get("documents")),
        "<h2>Plots</h2>",
        _plots(report),
        _failures(report["rows"]),
        _comparison(comparison),
        "<h2>Every question</h2>",
        *(_row(r) for r in report["rows"]),
    ]
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def _meta(s: dict[str, Any]) -> str:
    st = s["settings"]
    return (
        f'<p class="meta">{s["scored"]} questions scored: {s["answerable"]} answerable, '
        f"{s['unanswerable']} unanswerable, {s['follow_up_rows']} follow-ups, "
        f"{s['errors']} errors. "
        f"k={s['k']}, chunk size {_e(st.get('chunk_size'))}, refusal threshold "
        f"{_e(st.get('refusal_threshold'))}, answer mode {_e(st.get('llm'))}, embeddings "
        f"{_e(st.get('embedding_model'))}. Dataset sha256 {_e(s['dataset']['sha256'][:12])}. "
        f"Run {_e(s['created_at'])} in {_e(s['seconds'])} s.</p>"
    )


def _cards(s: dict[str, Any]) -> str:
    cards = [
        f'<div class="card"><b>{_f(s["metrics"][k]["value"])}</b><span>{_e(m.SPECS[k].label)} '
        f"(n={s['metrics'][k]['n']})</span></div>"
        for k in CARDS
    ]
    lat = s["latency_ms"]
    cards.append(
        f'<div class="card"><b>{_f(lat["p50"], 0)} / {_f(lat["p95"], 0)}</b>'
        "<span>latency p50 / p95 ms</span></div>"
    )
    return f'<div class="cards">{"".join(cards)}</div>'


def _guide() -> str:
    return f'<p class="guide"><b>How to read this.</b> {_e(READING_GUIDE)}</p>'


def _metrics_table(s: dict[str, Any], comparison: dict[str, Any] | None) -> str:
    deltas = {d["key"]: d for d in (comparison or {}).get("metrics", [])}
    head = ["Group", "Metric", "Value", "95% CI", "n", "Single-turn", "Follow-up"]
    head += ["Baseline", "Change"] if comparison else []
    rows = []
    for spec in m.METRICS:
        stats = s["metrics"][spec.key]
        if not stats["n"]:
            continue
        ci = stats["ci95"]
        cells = [
            _e(spec.group),
            f'<span title="{_e(spec.description)}">{_e(spec.label)}</span>',
            _f(stats["value"]),
            f"[{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "–",
            str(stats["n"]),
            _f(s["single_turn"][spec.key]["value"]),
            _f(s["follow_up"][spec.key]["value"]),
        ]
        if comparison:
            cells += _delta_cells(deltas.get(spec.key))
        rows.append(cells)
    return _table(head, rows, numeric_from=2) + _descriptions()


def _delta_cells(delta: dict[str, Any] | None) -> list[str]:
    if not delta or delta["delta"] is None:
        return ["–", "–"]
    cls = "" if delta["better"] is None else ("ok" if delta["better"] else "bad")
    return [_f(delta["old"]), f'<span class="{cls}">{delta["delta"]:+.2f}</span>']


def _descriptions() -> str:
    items = "".join(f"<li><b>{_e(s.label)}</b>: {_e(s.description)}</li>" for s in m.METRICS)
    return f"<details><summary>What each metric means</summary><ul>{items}</ul></details>"


CURVE_HEAD = ("Threshold", "Answered", "Grounded precision", "Coverage", "Unanswerable answered")


def curve_table(trust: dict[str, Any]) -> tuple[tuple[str, ...], list[list[str]]]:
    """Header and rows of the precision/coverage curve (plain text cells)."""
    keys = ("grounded_precision", "coverage", "unanswerable_answered")
    rows = [
        [_f(p["threshold"]), str(p["answered"]), *(_f(p[k]) for k in keys)] for p in trust["curve"]
    ]
    return CURVE_HEAD, rows


def _trust(trust: dict[str, Any] | None) -> str:
    """Outcome counts and the precision/coverage curve (older reports have neither)."""
    if not trust:
        return ""
    counts = trust["outcomes"]
    intro = (
        f"<p>Answered {counts.get('answered', 0)}, not sure {counts.get('unsure', 0)}, "
        f"not found {counts.get('not_found', 0)}; answer threshold "
        f"{_e(trust['answer_threshold'])}. If the best sentence were quoted whenever its "
        "confidence reached the threshold:</p>"
    )
    return "<h2>Trust: answered, not sure, not found</h2>" + intro + _table(*curve_table(trust), 0)


def _documents(documents: list[dict[str, Any]] | None) -> str:
    """The documents the store held when the questions were asked."""
    if not documents:
        return ""
    rows = [
        [_e(d["source"]), _e(d["title"]), _e(d["sha256"][:12]), str(d["chunks"])] for d in documents
    ]
    return "<h2>Documents scored against</h2>" + _table(
        ["Source", "Title", "sha256", "Chunks"], rows, 3
    )


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int = 99) -> str:
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=n' if i >= numeric_from else ''}>{c}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


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


def _plots(report: dict[str, Any]) -> str:
    s, rows = report["summary"], report["rows"]
    charts = [
        metrics_chart(report),
        _diagnosis_chart(s),
        _rank_chart(rows, s["k"]),
        _latency_chart(rows),
    ]
    return f'<div class="plots">{"".join(charts)}</div>'


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


# ----- sections ------------------------------------------------------------------
def _tag(diagnosis: str) -> str:
    cls = "ok" if diagnosis == m.OK else "bad"
    return f'<span class="tag {cls}">{_e(diagnosis)}</span>'


def _failures(rows: Sequence[dict[str, Any]]) -> str:
    failing = [r for r in rows if r["diagnosis"] != m.OK]
    if not failing:
        return "<h2>Questions to look at</h2><p>Every question passed.</p>"
    table = [
        [
            f'<a href="#row-{_e(r["id"])}">{_e(r["id"])}</a>',
            _e(r["question"]),
            _tag(r["diagnosis"]),
            _e(r["diagnosis_detail"]),
        ]
        for r in failing
    ]
    head = f"<h2>Questions to look at ({len(failing)})</h2>"
    return head + _table(["id", "Question", "Outcome", "Why"], table)


def _comparison(c: dict[str, Any] | None) -> str:
    if not c:
        return ""
    parts = [f"<h2>Compared with {_e(c['baseline'])}</h2>"]
    if c["dataset_changed"]:
        parts.append('<p class="bad">The dataset changed since the baseline.</p>')
    lat = c["latency_ms"]
    parts.append(
        f"<p>Latency p50 {_f(lat['p50']['old'], 0)} → {_f(lat['p50']['new'], 0)} ms, "
        f"p95 {_f(lat['p95']['old'], 0)} → {_f(lat['p95']['new'], 0)} ms.</p>"
    )
    for verdict in ("improved", "regressed", "mixed"):
        items = "".join(
            f"<li><b>{_e(x['id'])}</b> {_e(x['question'])} — {_e('; '.join(x['reasons']))}</li>"
            for x in c[verdict]
        )
        heading = f"<h3>{verdict.capitalize()} ({len(c[verdict])})</h3>"
        parts.append(f"{heading}<ul>{items or '<li>none</li>'}</ul>")
    if c["settings_changed"]:
        rows = [[_e(k), _e(a), _e(b)] for k, (a, b) in c["settings_changed"].items()]
        parts.append("<h3>Settings changed</h3>" + _table(["Setting", "Baseline", "Now"], rows))
    return "".join(parts)


def _row(r: dict[str, Any]) -> str:
    latency = f"{r['latency_ms']:.0f} ms"
    head = (
        f'<summary id="row-{_e(r["id"])}"><b>{_e(r["id"])}</b> {_tag(r["diagnosis"])}'
        f'<span class="q">{_e(r["question"])}</span> <span class="meta">{latency}</span></summary>'
    )
    return f"<details>{head}{_row_body(r)}</details>"


def _row_body(r: dict[str, Any]) -> str:
    sure = "" if r.get("confidence") is None else f", confidence {r['confidence']:.2f}"
    parts = [
        f"<p>{_e(r['diagnosis_detail'])} Outcome: {_e(r.get('outcome') or '?')}{_e(sure)}.</p>"
    ]
    for turn in r["history_turns"]:
        parts.append(
            f"<p class=meta>Earlier turn: {_e(turn['question'])} → {_e(turn['answer'])}</p>"
        )
    if r["follow_up"]:
        parts.append(f"<p>Standalone question: <i>{_e(r['standalone_question'])}</i></p>")
    reference = " | ".join(r["reference"]) or "(unanswerable)"
    parts.append(f"<p><b>Reference:</b> {_e(reference)}</p>")
    parts += [f"<p><b>Evidence:</b></p><blockquote>{_e(q)}</blockquote>" for q in r["evidence"]]
    parts.append(
        f"<p><b>Answer</b>{' (refused)' if r['refused'] else ''}:</p><pre>{_e(r['answer'])}</pre>"
    )
    if r["marker_problem"]:
        parts.append(f'<p class="bad">Markers: {_e(r["marker_problem"])}</p>')
    parts += [_citation(c) for c in r["citations"]]
    parts.append(_retrieved(r["retrieved"]))
    parts.append(_row_metrics(r))
    return "".join(parts)


def _citation(c: dict[str, Any]) -> str:
    mark = (
        '<span class="ok">on evidence</span>'
        if c["relevant"]
        else '<span class="bad">off evidence</span>'
    )
    return (
        f"<p>[{c['id']}] {_e(c['source'])} chars {c['start']}–{c['end']} (passage "
        f'{c["passage_rank"]}) {mark}</p><blockquote class="{"rel" if c["relevant"] else ""}">'
        f"{_e(c['quote'])}</blockquote>"
    )


def _retrieved(passages: Sequence[dict[str, Any]]) -> str:
    rows = [
        [
            str(p["rank"]),
            _e(p["source"]),
            f"{p['start']}–{p['end']}",
            _f(p["score"], 4),
            '<span class="ok">yes</span>' if p["relevant"] else "no",
            _e(_clip(p["text"])),
        ]
        for p in passages
    ]
    return "<p><b>Retrieved passages</b></p>" + _table(
        ["Rank", "Source", "Chars", "Score", "Relevant", "Text"], rows
    )


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


def _row_metrics(r: dict[str, Any]) -> str:
    cells = [f"{_e(k)}={_f(v)}" for k, v in r["metrics"].items() if v is not None]
    judge = r.get("judge")
    if judge:
        cells.append(f"judge {_e(judge['provider'])}: {_e(judge['status'])} {_e(judge['reason'])}")
    return f"<p class=meta>{' · '.join(cells)}</p>"
