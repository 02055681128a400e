"""Write an evaluation to disk: ``report.json``, ``report.md``, ``report.html``, ``rows.csv``.

``report.json`` holds ``summary`` (aggregates, intervals, settings), ``rows`` (one
object per question with its answer, citations, retrieved passages and every metric)
and, with a baseline, ``comparison``. ``report.md`` is the same in a form to paste
into a pull request (:mod:`rag.eval.markdown`), ``report.html`` one static page with
inline SVG plots (:mod:`rag.eval.htmlreport`), ``metrics.svg`` the headline plot
alone (for a README).

This module formats and writes; it computes no metric.
"""

from __future__ import annotations

import csv
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.eval import metrics as m
from rag.eval.htmlreport import metrics_chart, render_html
from rag.eval.markdown import render_markdown
from rag.eval.scoring import RowResult

log = logging.getLogger(__name__)


def build_report(
    summary: dict[str, Any], results: Sequence[RowResult], comparison: dict[str, Any] | None
) -> dict[str, Any]:
    """The ``report.json`` object."""
    report: dict[str, Any] = {"summary": summary, "rows": [r.to_dict() for r in results]}
    if comparison is not None:
        report["comparison"] = comparison
    return report


def write_reports(report: dict[str, Any], out: Path) -> list[Path]:
    """Write every report file into *out* (created if needed); returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    texts = {
        "report.json": json.dumps(report, ensure_ascii=False, indent=1),
        "report.md": render_markdown(report),
        "report.html": render_html(report),
        "metrics.svg": metrics_chart(report),
    }
    paths = [_write(out / name, text) for name, text in texts.items()]
    paths.append(write_csv(report["rows"], out / "rows.csv"))
    log.info("wrote %s", ", ".join(p.name for p in paths))
    return paths


def _write(path: Path, text: str) -> Path:
    tmp = path.with_suffix(f"{path.suffix}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)  # a reader never sees half a report
    return path


# ----- CSV -----------------------------------------------------------------------
CSV_FIELDS = (
    "id",
    "question",
    "follow_up",
    "standalone_question",
    "answerable",
    "reference",
    "answer",
    "refused",
    "diagnosis",
    "diagnosis_detail",
    "relevance_basis",
    "relevant_rank",
    "cited",
    "latency_ms",
    *m.METRIC_KEYS,
    "error",
)


def csv_row(row: dict[str, Any]) -> dict[str, Any]:
    """One flat CSV record for a ``report.json`` row."""
    flat = {key: row.get(key) for key in CSV_FIELDS if key in row}
    flat["reference"] = " | ".join(row["reference"])
    flat["cited"] = " ".join(f"[{c['id']}]" for c in row["citations"])
    flat |= {key: row["metrics"].get(key) for key in m.METRIC_KEYS}
    return flat


def write_csv(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    """``rows.csv``: one line per question, every metric a column (empty = not applicable)."""
    tmp = path.with_suffix(f".csv.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(csv_row(row) for row in rows)
    tmp.replace(path)
    return path


# ----- Markdown ------------------------------------------------------------------
