"""Quality gate: the shipped eval set, default settings, a real model and a real Chroma store.

Fails when retrieval, answers, citations or refusals get worse than what we measured.
When a threshold fails, the message lists the questions that failed that metric;
`python -m rag.eval eval/qa_calais.jsonl` writes the full report.
"""

from __future__ import annotations

import json
import math

import pytest

from rag.eval.dataset import load_dataset
from rag.eval.runner import run_dataset
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

QA_FILE = ROOT / "eval" / "qa_calais.jsonl"

# Thresholds come from measurement (2026-11-24, default settings: k=4, chunk size 600,
# refusal threshold 0.36; `python -m rag.eval eval/qa_calais.jsonl`), set a few points
# below the measured value: one or two rows may move, a real regression fails. With only
# 12 unanswerable rows, one more false answer already fails the refusal gate (on purpose).
MIN_HIT_AT_3 = 0.92  # measured 0.965 (55/57 answerable)
MIN_CONTAINMENT = 0.82  # measured 0.860 (49/57)
MIN_CITATION_PRECISION = 0.78  # measured 0.824 (mean over 54 answered rows)
MIN_REFUSAL_ACCURACY = 0.70  # measured 0.750 (9/12 unanswerable refused; one row = 0.083)


@pytest.fixture(scope="module")
def report(ingested):
    return run_dataset(QA_FILE, ingested)


def _failing(report, key):
    return [
        f"{r['id']} ({r['diagnosis']})"
        for r in report["rows"]
        if r["metrics"][key] is not None and r["metrics"][key] < 1.0
    ]


@pytest.mark.parametrize(
    ("key", "minimum"),
    [
        ("hit@3", MIN_HIT_AT_3),
        ("containment", MIN_CONTAINMENT),
        ("citation_precision", MIN_CITATION_PRECISION),
        ("refusal_accuracy", MIN_REFUSAL_ACCURACY),
    ],
)
def test_quality_gate(report, key, minimum):
    value = report["summary"]["metrics"][key]["value"]
    assert value is not None
    assert value >= minimum, f"{key} {value:.3f} < {minimum}; failing: {_failing(report, key)}"


def test_every_row_is_scored_and_reported(report):
    summary, rows = report["summary"], report["rows"]
    assert summary["rows"] == summary["scored"] == len(load_dataset(QA_FILE))
    assert summary["errors"] == 0
    assert summary["follow_up_rows"] >= 6 and summary["unanswerable"] >= 8
    assert summary["relevance_basis"]["evidence"] == summary["answerable"]  # all quotes found
    json.dumps(report, allow_nan=False)
    for row in rows:
        assert row["latency_ms"] > 0
        assert all(v is None or math.isfinite(v) for v in row["metrics"].values())
        assert row["retrieved"] and all("start" in p and "end" in p for p in row["retrieved"])
    follow_ups = [r for r in rows if r["follow_up"]]
    assert all(len(r["history_turns"]) == len(r["history"]) for r in follow_ups)
