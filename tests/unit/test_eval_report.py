"""Unit tests for rag.eval's summary, baseline comparison, judge cache and report files.

Fast: rows are scored from hand-built answers; no model, no store.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from rag.answer import Answer, Citation, Passage
from rag.config import REFUSAL, Settings
from rag.eval import metrics as m
from rag.eval.compare import BaselineError, compare, load_baseline
from rag.eval.dataset import parse_row
from rag.eval.judge import FAILED, OK, CachedJudge, ExtractiveJudge, JudgeError, Verdict
from rag.eval.markdown import render_markdown, summary_table
from rag.eval.report import build_report, write_reports
from rag.eval.scoring import blank_result, locate_evidence, relevance_for, score_answer
from rag.eval.summary import summarise

DOC = "Theresa May will visit Calais on Thursday. She will sign a <script>alert(1)</script> deal."
SOURCE = "seeds/doc.txt"
FIRST = "Theresa May will visit Calais on Thursday."
SECOND = "She will sign a <script>alert(1)</script> deal."


def _answer(text_sentence: str | None, short: str | None = None) -> Answer:
    passage = Passage(1, SOURCE, "Doc", 0, len(DOC), 0.5, DOC)
    if text_sentence is None:
        return Answer.not_found("q", REFUSAL, passages=[passage])
    start = DOC.index(text_sentence)
    at = DOC.index(short, start) if short else None
    cite = Citation(
        1, SOURCE, "Doc", text_sentence, start, start + len(text_sentence), DOC, 1, 0, len(DOC),
        answer_start=at, answer_end=None if at is None else at + len(short or ""),
    )  # fmt: skip
    return Answer.answered(
        "q", f"{text_sentence} [1]", citations=[cite], passages=[passage], timings_ms={"total": 5}
    )


def _result(
    row_id: str,
    sentence: str | None,
    reference: str = "Theresa May",
    short: str | None = None,
    **fields,
):
    raw = {"id": row_id, "question": f"Question {row_id}?", "reference": reference}
    row = parse_row({**raw, "evidence": FIRST, **fields}, f"test line {row_id}")
    spans = locate_evidence(row.evidence, {SOURCE: DOC})
    result = blank_result(row)
    result.latency_ms = 10.0 * len(row_id)
    answer = _answer(sentence, short)
    return score_answer(result, answer, relevance_for(row, spans), 4, lambda s: DOC)


def _report(results, comparison=None, label=None):
    dataset = {"path": "qa.jsonl", "sha256": "0" * 64}
    summary = summarise(results, Settings(_env_file=None), 4, dataset, 1.0, label=label)
    return build_report(summary, results, comparison)


def _results():
    return [
        _result("a1", FIRST),
        _result("a2", None),  # wrong refusal
        _result("a3", SECOND),  # wrong answer
        _result("u1", None, reference="", answerable=False),
        _result("f1", FIRST, history=["Who?"]),
    ]


def test_summary_counts_rates_and_groups():
    s = _report(_results())["summary"]
    assert (s["rows"], s["answerable"], s["unanswerable"], s["follow_up_rows"]) == (5, 4, 1, 1)
    assert s["metrics"]["containment"] == {"value": 0.5, "n": 4, "ci95": pytest.approx([0.0, 1.0])}
    assert s["metrics"]["wrong_refusal_rate"]["value"] == 0.25
    assert s["metrics"]["refusal_accuracy"]["value"] == 1.0
    assert s["follow_up"]["containment"]["n"] == 1
    assert s["single_turn"]["containment"]["n"] == 3
    assert s["diagnosis"][m.OK] == 3 and s["diagnosis"][m.WRONG_REFUSAL] == 1
    assert s["latency_ms"]["p50"] == 20.0


def test_summary_has_no_nan_and_is_json(tmp_path):
    report = _report([_result("u1", None, reference="", answerable=False)])
    text = json.dumps(report, allow_nan=False)  # raises on NaN
    s = json.loads(text)["summary"]
    assert s["metrics"]["f1"] == {"value": None, "n": 0, "ci95": None}


def test_baseline_comparison_lists_better_and_worse_questions():
    old = _report([_result("a1", FIRST), _result("a2", None), _result("a3", FIRST)])
    new_rows = [_result("a1", FIRST), _result("a2", FIRST), _result("a4", FIRST)]
    new = _report(new_rows)
    comparison = compare(new["summary"], new_rows, json.loads(json.dumps(old)))
    assert [c["id"] for c in comparison["improved"]] == ["a2"]
    assert "wrong refusal → ok" in comparison["improved"][0]["reasons"]
    assert comparison["regressed"] == []
    assert comparison["only_new"] == ["a4"] and comparison["only_baseline"] == ["a3"]
    deltas = {d["key"]: d for d in comparison["metrics"]}
    assert deltas["wrong_refusal_rate"]["delta"] == pytest.approx(-1 / 3, abs=1e-3)
    assert deltas["wrong_refusal_rate"]["better"] is True
    regressed = compare(old["summary"], [_result("a3", SECOND)], json.loads(json.dumps(old)))
    assert [c["id"] for c in regressed["regressed"]] == ["a3"]


def test_load_baseline_errors(tmp_path):
    with pytest.raises(BaselineError, match="does not exist"):
        load_baseline(tmp_path / "missing.json")
    (tmp_path / "x.json").write_text('{"rows": 1}')
    with pytest.raises(BaselineError, match="no summary/rows"):
        load_baseline(tmp_path / "x.json")


def test_reports_are_written_and_escape_document_text(tmp_path):
    results = _results()
    baseline = _report(results[:3])
    report = _report(results, compare(_report(results)["summary"], results, baseline))
    paths = write_reports(report, tmp_path / "out")
    assert sorted(p.name for p in paths) == [
        "metrics.svg", "report.html", "report.json", "report.md", "rows.csv",
    ]  # fmt: skip
    html = (tmp_path / "out" / "report.html").read_text()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Content-Security-Policy" in html and html.count("<svg") >= 4
    assert "Compared with" in html
    md = (tmp_path / "out" / "report.md").read_text()
    assert "| Containment | 0.50 |" in md and "wrong refusal" in md
    with (tmp_path / "out" / "rows.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["id"] for r in rows] == ["a1", "a2", "a3", "u1", "f1"]
    assert rows[1]["diagnosis"] == m.WRONG_REFUSAL and rows[3]["f1"] == ""
    saved = json.loads((tmp_path / "out" / "report.json").read_text())
    assert set(saved) == {"summary", "rows", "comparison"}
    assert {"id", "question", "reference", "answerable", "answer", "refused", "citations",
            "retrieved", "latency_ms", "metrics"} <= set(saved["rows"][0])  # fmt: skip


def test_short_answer_scores_average_over_answered_answerable_questions_only():
    results = [
        _result("a1", FIRST, short="Theresa May"),  # right words
        _result("a2", FIRST, short="Calais"),  # right sentence, wrong words
        _result("a3", FIRST),  # no words marked: 0
        _result("a4", None),  # refused: not counted
        _result("u1", FIRST, reference="", answerable=False, short="Calais"),  # not counted
    ]
    s = _report(results)["summary"]["metrics"]
    assert s["short_answer_em"]["value"] == round(1 / 3, 4) and s["short_answer_em"]["n"] == 3
    assert s["short_answer_f1"]["value"] == round(1 / 3, 4) and s["short_answer_f1"]["n"] == 3
    assert s["grounded_precision"]["n"] == 4  # the unanswerable answer counts there


def test_label_is_in_the_summary_and_atop_both_reports(tmp_path):
    label = "never tuned on (dev articles) <b>"
    write_reports(_report(_results(), label=label), tmp_path)
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["summary"]["label"] == label
    md = (tmp_path / "report.md").read_text().splitlines()
    assert md[:3] == ["# Evaluation: qa.jsonl", "", f"**{label}**"]
    html = (tmp_path / "report.html").read_text()
    assert "<b>never tuned on (dev articles) &lt;b&gt;</b>" in html
    assert _report(_results())["summary"]["label"] is None
    assert "**" not in render_markdown(_report(_results())).splitlines()[2]


def test_eval_cli_takes_a_label():
    from rag.eval.cli import _parser

    args = _parser().parse_args(["qa.json", "--label", "tuned on (calibration articles)"])
    assert args.label == "tuned on (calibration articles)"
    assert _parser().parse_args(["qa.json"]).label is None


def test_summary_table_is_plain_text():
    table = summary_table(_report(_results())["summary"])
    assert table.splitlines()[0].split()[:3] == ["metric", "value", "95%"]
    assert "Containment" in table and "latency p50/p95 ms" in table


# ----- judge ----------------------------------------------------------------------------


class CountingJudge:
    name, version = "counting", "1"

    def __init__(self, verdict=None, error=None):
        self.calls, self.verdict, self.error = 0, verdict, error

    def judge(self, question, answer, contexts):
        self.calls += 1
        if self.error:
            raise JudgeError(self.error)
        return self.verdict


def test_judge_verdicts_are_cached_on_disk(tmp_path):
    inner = CountingJudge(Verdict(OK, faithfulness=1.0, answer_relevance=0.5))
    judge = CachedJudge(inner, tmp_path)
    first = judge.judge("q", "a [1]", ["a"])
    second = CachedJudge(inner, tmp_path).judge("q", "a [1]", ["a"])
    assert inner.calls == 1
    assert (first.cached, second.cached) == (False, True)
    assert second.faithfulness == 1.0 and second.answer_relevance == 0.5
    judge.judge("q", "another answer", ["a"])
    assert inner.calls == 2 and len(list(tmp_path.glob("*.json"))) == 2


@pytest.mark.parametrize(
    "inner",
    [
        CountingJudge(error="model said 'banana'"),
        CountingJudge(Verdict(OK, faithfulness=math.nan, answer_relevance=0.5)),
        CountingJudge(Verdict(OK, faithfulness=1.5, answer_relevance=0.5)),
    ],
)
def test_failed_judgements_are_failed_not_nan_and_not_cached(tmp_path, inner):
    verdict = CachedJudge(inner, tmp_path).judge("q", "a", ["a"])
    assert verdict.status == FAILED and verdict.reason
    assert verdict.faithfulness is None and verdict.answer_relevance is None
    assert list(tmp_path.glob("*.json")) == []


def test_extractive_judge_is_deterministic():
    def encode(texts):
        return np.asarray([[1.0, 0.0] if "May" in t else [0.0, 1.0] for t in texts])

    judge = ExtractiveJudge(encode)
    verdict = judge.judge("Who is May?", f"{FIRST} [1] Invented claim. [2]", [DOC])
    assert verdict.faithfulness == 0.5
    assert verdict.answer_relevance == 1.0
    with pytest.raises(JudgeError):
        judge.judge("q", "[1]", [DOC])


def test_report_html_renders_without_rows_failing(tmp_path):
    report = _report([_result("a1", FIRST)])
    write_reports(report, tmp_path)
    assert "Every question passed." in Path(tmp_path / "report.html").read_text()


def test_report_settings_hide_a_chroma_password():
    from rag.eval.summary import settings_dict

    settings = Settings(_env_file=None, store={"chroma_url": "http://user:secret@db.local:8000"})
    assert settings_dict(settings)["chroma_url"] == "http://***@db.local:8000"
