"""The Markdown report (``report.md``) and the terminal summary table of an evaluation.

``report.md`` is the report in a form to paste into a pull request: its label (what
the set is for), the metrics with their intervals, latency, the trust curve, the
documents scored against, follow-ups, the failing rows and, with a baseline, what
changed. :func:`summary_table` is the short table ``python -m rag.eval`` prints.

It formats a ``report.json`` object; it computes no metric and writes no file
(:mod:`rag.eval.report` does).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.eval import metrics as m
from rag.eval.htmlreport import READING_GUIDE, curve_table


def fmt(value: float | None, digits: int = 2) -> str:
    """A score for people: two decimals, or an en dash when it does not apply."""
    return "–" if value is None else f"{value:.{digits}f}"


def fmt_ci(stats: dict[str, Any]) -> str:
    """``[0.81, 0.95]`` or an en dash."""
    ci = stats.get("ci95")
    return "–" if not ci else f"[{ci[0]:.2f}, {ci[1]:.2f}]"


def metrics_table(summary: dict[str, Any]) -> list[list[str]]:
    """Rows of (metric, value, CI, n, single-turn, follow-up) for applicable metrics."""
    rows = []
    for spec in m.METRICS:
        stats = summary["metrics"][spec.key]
        if not stats["n"]:
            continue
        rows.append(
            [
                spec.label,
                fmt(stats["value"]),
                fmt_ci(stats),
                str(stats["n"]),
                fmt(summary["single_turn"][spec.key]["value"]),
                fmt(summary["follow_up"][spec.key]["value"]),
            ]
        )
    return rows


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    def line(cells: Sequence[str]) -> str:
        return (
            "| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |"
        )

    return [line(header), line(["---"] * len(header)), *(line(r) for r in rows)]


def render_markdown(report: dict[str, Any]) -> str:
    """``report.md``."""
    s = report["summary"]
    lat = s["latency_ms"]
    lines = [
        f"# Evaluation: {Path(s['dataset']['path']).name}",
        "",
        *([f"**{s['label']}**", ""] if s.get("label") else []),
        f"{s['scored']} questions scored ({s['answerable']} answerable, {s['unanswerable']} "
        f"unanswerable, {s['follow_up_rows']} follow-ups; {s['errors']} errors), k={s['k']}, "
        f"answer mode `{s['settings'].get('llm')}`, {s['created_at']}.",
        "",
        READING_GUIDE,
        "",
        *_md_table(
            ["Metric", "Value", "95% CI", "n", "Single-turn", "Follow-up"], metrics_table(s)
        ),
        "",
        f"Latency per question: p50 {fmt(lat['p50'], 0)} ms, p95 {fmt(lat['p95'], 0)} ms "
        f"(max {fmt(lat['max'], 0)} ms).",
        "",
        *_md_trust(s.get("trust")),
        *_md_followups(s.get("followups")),
        *_md_documents(s.get("documents")),
        "## Diagnosis",
        "",
        *_md_table(["Outcome", "Questions"], [[d, str(n)] for d, n in s["diagnosis"].items() if n]),
        "",
        *_md_failures(report["rows"]),
        *_md_comparison(report.get("comparison")),
    ]
    return "\n".join(lines) + "\n"


def _md_documents(documents: list[dict[str, Any]] | None) -> list[str]:
    """The documents the store held when the questions were asked."""
    if not documents:
        return []
    rows = [[d["source"], d["title"], d["sha256"][:12], str(d["chunks"])] for d in documents]
    return [
        "## Documents scored against",
        "",
        *_md_table(["Source", "Title", "sha256", "Chunks"], rows),
        "",
    ]


def _md_trust(trust: dict[str, Any] | None) -> list[str]:
    """Outcome counts and the precision/coverage curve (older reports have neither)."""
    if not trust:
        return []
    counts = trust["outcomes"]
    lines = [
        "## Trust: answered, not sure, not found",
        "",
        f"Answered {counts.get('answered', 0)}, not sure {counts.get('unsure', 0)}, "
        f"not found {counts.get('not_found', 0)}; answer threshold {trust['answer_threshold']}.",
        "",
        "If the answerer quoted its best sentence whenever its confidence reached the "
        "threshold (best sentence only):",
        "",
    ]
    return [*lines, *_md_table(*curve_table(trust)), ""]


# ----- follow-ups (rag.eval.followups) -------------------------------------------
_FOLLOWUP_RATES = (
    ("rewrite_precision", "Rewrite precision (rewritten turns that needed it)"),
    ("rewrite_recall", "Rewrite recall (turns needing it that were rewritten)"),
    ("resolution_accuracy", "Resolution accuracy (right rewrites holding the antecedent)"),
    ("strict_resolution_accuracy", "… strictly (antecedent in the question, not the topic)"),
    ("clean_resolution_accuracy", "… cleanly (strictly, and no words the expected lacks)"),
    ("turn_accuracy", "Turn accuracy (turns with a history handled right)"),
)


def _md_followups(block: dict[str, Any] | None) -> list[str]:
    """How follow-ups were resolved, when the dataset has ``expected_standalone``."""
    if not block:
        return []
    groups = {"all": block, **block["by_split"]}
    rows = [[label, *(fmt(g.get(key)) for g in groups.values())] for key, label in _FOLLOWUP_RATES]
    rows.append(["Needed / rewritten / both", *(_fu_counts(g) for g in groups.values())])
    lines = [
        "## Follow-ups",
        "",
        f"Every turn scored against `{block['column']}`: {block['turns']} turns, "
        f"{block['turns_with_history']} with a history, {block['needed']} needing a rewrite.",
        "",
        *_md_table(["", *groups], rows),
        "",
        *_md_followup_answers(block["answers"]),
    ]
    wrong = [c for c in block["turn_checks"] if not c["correct"]]
    if wrong:
        header = ["id", "Turn", "Question", "Expected", "Used"]
        table = [
            [c["row_id"], str(c["turn"] + 1), c["question"], c["expected"], c["standalone"]]
            for c in wrong
        ]
        lines += ["Turns handled wrongly:", "", *_md_table(header, table), ""]
    return lines


def _fu_counts(rates: dict[str, Any]) -> str:
    return f"{rates['needed']} / {rates['rewritten']} / {rates['rewritten_and_needed']}"


def _md_followup_answers(answers: dict[str, dict[str, Any]]) -> list[str]:
    names = {"last_turn_needed_rewrite": "needed a rewrite", "last_turn_complete": "complete"}
    rows = [
        [
            names.get(name, name),
            str(group["containment"]["n"]),
            fmt(group["containment"]["value"]),
            fmt(group["refusal_accuracy"]["value"]),
            fmt(group["wrong_refusal_rate"]["value"]),
        ]
        for name, group in answers.items()
    ]
    header = ["Follow-up rows whose last turn", "Answerable", "Containment"]
    header += ["Unanswerable refused", "Answerable wrongly refused"]
    return [*_md_table(header, rows), ""]


def _md_failures(rows: Sequence[dict[str, Any]]) -> list[str]:
    failing = [r for r in rows if r["diagnosis"] != m.OK]
    if not failing:
        return ["Every question passed.", ""]
    table = [[r["id"], r["question"], r["diagnosis"], r["diagnosis_detail"]] for r in failing]
    return [
        "## Questions to look at",
        "",
        *_md_table(["id", "Question", "Outcome", "Why"], table),
        "",
    ]


def _md_comparison(comparison: dict[str, Any] | None) -> list[str]:
    if not comparison:
        return []
    deltas = [
        [d["label"], fmt(d["old"]), fmt(d["new"]), _signed(d["delta"]), _arrow(d["better"])]
        for d in comparison["metrics"]
    ]
    lines = [
        f"## Compared with {comparison['baseline']}",
        "",
        *(
            ["**The dataset changed since the baseline.**", ""]
            if comparison["dataset_changed"]
            else []
        ),
        *_md_table(["Metric", "Baseline", "Now", "Change", ""], deltas),
        "",
    ]
    lines += _md_changes(comparison)
    if comparison["settings_changed"]:
        changed = ", ".join(
            f"{k}: {a} → {b}" for k, (a, b) in comparison["settings_changed"].items()
        )
        lines += [f"Settings changed: {changed}.", ""]
    return lines


def _md_changes(comparison: dict[str, Any]) -> list[str]:
    lines = []
    for verdict in ("improved", "regressed", "mixed"):
        items = comparison[verdict]
        lines += [f"**{verdict.capitalize()}** ({len(items)}):", ""]
        lines += [f"- {c['id']}: {c['question']} — {'; '.join(c['reasons'])}" for c in items]
        lines += ["- none", ""] if not items else [""]
    return lines


def _signed(delta: float | None) -> str:
    return "–" if delta is None else f"{delta:+.2f}"


def _arrow(better: bool | None) -> str:
    return "" if better is None else ("better" if better else "worse")


# ----- terminal ------------------------------------------------------------------
def summary_table(summary: dict[str, Any], comparison: dict[str, Any] | None = None) -> str:
    """The table printed at the end of a run (plain text, fixed width)."""
    deltas = {d["key"]: d["delta"] for d in (comparison or {}).get("metrics", [])}
    header = ["metric", "value", "95% CI", "n", "follow-up"] + (["change"] if comparison else [])
    body = []
    for spec, row in zip(_applicable(summary), metrics_table(summary), strict=True):
        cells = [row[0], row[1], row[2], row[3], row[5]]
        body.append(cells + ([_signed(deltas.get(spec.key))] if comparison else []))
    lat = summary["latency_ms"]
    body.append(
        ["latency p50/p95 ms", f"{fmt(lat['p50'], 0)}/{fmt(lat['p95'], 0)}", "", str(lat["n"]), ""]
    )
    widths = [max(len(r[i]) for r in [header, *body] if i < len(r)) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip()
        for r in [header, *body]
    )


def _applicable(summary: dict[str, Any]) -> list[m.MetricSpec]:
    return [spec for spec in m.METRICS if summary["metrics"][spec.key]["n"]]
