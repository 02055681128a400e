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

# Thresholds come from measurement (2026-12-07, default settings: k=4, chunk size 600,
# the shipped reader and decision: answer threshold 0.64, refusal threshold 0.332;
# `make eval` -> reports/eval/calais), set a few points below the measured value: one or
# two rows may move, a real regression fails. Since the trained reader (issue 25) the
# answer is the reader's span in its sentence: coverage rose from 0.37 (the old judge) to
# 0.77 at grounded precision 0.94 (was 0.95); two of the 12 unanswerable questions are
# answered (a July 2014 figure answered with "July this year"; the names of the dead
# answered with their number). These questions were never used to fit the decision, but
# the team has read them for years: treat them as tuned on.
MIN_HIT_AT_3 = 0.92  # measured 0.965 (55/57 answerable)
MIN_GROUNDED_PRECISION = 0.85  # measured 0.94 (44 of 47 answers grounded)
MIN_COVERAGE = 0.68  # measured 0.77 (44 of 57 answerable); one row = 0.0175
MIN_CITATION_PRECISION = 0.90  # measured 0.98 (45 answered answerable rows)
MIN_REFUSAL_ACCURACY = 0.75  # measured 0.83 (10/12 unanswerable not answered; one row = 0.083)


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
