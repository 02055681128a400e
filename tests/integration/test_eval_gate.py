"""Quality gate: the shipped eval set, default settings, a real model and a real Chroma store.

Fails when retrieval, answers, citations or refusals get worse than what we measured.
When a threshold fails, the message lists the questions that failed that metric;
`python -m rag.eval eval/qa_calais.jsonl` writes the full report.
"""

from __future__ import annotations

import json
import math

import pytest

from rag.answering.decision import load_decision
from rag.answering.reader import bundled_reader_path
from rag.eval.dataset import load_dataset
from rag.eval.runner import run_dataset
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

QA_FILE = ROOT / "eval" / "qa_calais.jsonl"

# Thresholds come from measurement (2026-12-02, default settings: k=4, chunk size 600,
# refusal threshold 0.36, the shipped judge with answer threshold 0.56;
# `make eval` -> reports/eval/calais), set a few points below the measured value: one or
# two rows may move, a real regression fails. Since the judge (issue 11), an answer is
# quoted only when the judge is sure enough: coverage fell from 0.86 (containment when
# nearly everything was answered) to 0.37, and precision rose from 0.86 to 0.95; the
# other answerable questions come back "not sure" with their closest passages. These
# questions were part of the judge's calibration data: tuned-on numbers.
MIN_HIT_AT_3 = 0.92  # measured 0.965 (55/57 answerable)
MIN_GROUNDED_PRECISION = 0.85  # measured 0.95 (21 of 22 answers shown as grounded)
MIN_COVERAGE = 0.30  # measured 0.37 (21 of 57 answerable)
MIN_CITATION_PRECISION = 0.90  # measured 1.00 (21 answered answerable rows)
MIN_REFUSAL_ACCURACY = 0.83  # measured 0.92 (11/12 unanswerable not answered; one row = 0.083)


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
        ("grounded_precision", MIN_GROUNDED_PRECISION),
        ("coverage", MIN_COVERAGE),
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
    decision = load_decision(bundled_reader_path())  # the threshold in force is reported
    assert summary["trust"]["answer_threshold"] == decision.answer_threshold
    assert summary["settings"]["answer_threshold"] == decision.answer_threshold
    json.dumps(report, allow_nan=False)
    for row in rows:
        assert row["latency_ms"] > 0
        assert all(v is None or math.isfinite(v) for v in row["metrics"].values())
        assert row["retrieved"] and all("start" in p and "end" in p for p in row["retrieved"])
    follow_ups = [r for r in rows if r["follow_up"]]
    assert all(len(r["history_turns"]) == len(r["history"]) for r in follow_ups)
