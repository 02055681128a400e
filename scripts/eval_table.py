"""Print the README's trust table from the reports ``make eval`` wrote.

``python -m scripts.eval_table [reports/eval]``: one Markdown row per report folder
(its label says whether it was tuned on), with grounded precision, coverage,
unanswerable answered and short-answer EM / F1, and 95% intervals where the report has
them. It reads reports only; it runs nothing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ORDER = (
    "squad2-dev",
    "tydi-dev",
    "squad11-dev-extra",
    "squadshifts-dev",
    "newcomer",
    "calais",
    "squad2-calibrate",
    "tydi-calibrate",
    "squad11-calibrate",
    "followups",
)
COLUMNS = (
    "grounded_precision",
    "coverage",
    "unanswerable_answered",
    "short_answer_em",
    "short_answer_f1",
)
HEADER = (
    "| set | tuned on? | questions (answerable / not) | grounded precision | coverage "
    "| unanswerable answered | short-answer EM | short-answer F1 |\n"
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
)


def cell(metric: dict | None, interval: bool) -> str:
    """'0.73 [0.67, 0.78]', '0.73' or '–'."""
    if not metric or metric.get("value") is None:
        return "–"
    text = f"{metric['value']:.2f}"
    low_high = metric.get("ci95")
    return f"{text} [{low_high[0]:.2f}, {low_high[1]:.2f}]" if interval and low_high else text


def row(name: str, summary: dict) -> str:
    """One table row for the report of set *name*."""
    metrics = summary["metrics"]
    counts = f"{summary['scored']:,} ({summary['answerable']:,} / {summary['unanswerable']:,})"
    cells = [cell(metrics.get(key), key != "short_answer_em") for key in COLUMNS]
    return f"| {name} | {summary.get('label') or '?'} | {counts} | " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    folder = Path((argv or sys.argv[1:] or ["reports/eval"])[0])
    rows = [HEADER]
    for name in ORDER:
        report = folder / name / "report.json"
        if report.exists():
            rows.append(row(name, json.loads(report.read_text())["summary"]))
    sys.stdout.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
