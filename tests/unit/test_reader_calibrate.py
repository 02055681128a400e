"""training.reader.calibrate's choices on made-up eval rows: what is fitted and chosen."""

from __future__ import annotations

import json
import os

import pytest

from rag.answering.decision import Signals

calibrate = pytest.importorskip("training.reader.calibrate")


def _features(gap: float) -> dict[str, float]:
    return {name: (gap if name == "gap" else 0.0) for name in Signals.names()}


def _row(answerable: bool, candidates: list[tuple[str, float]], dense: float = 0.5) -> dict:
    return {
        "error": None,
        "answerable": answerable,
        "reference": ["1987"] if answerable else [],
        "candidates": [{"text": t, "features": _features(g)} for t, g in candidates],
        "retrieved": [{"dense_score": dense}, {"dense_score": None}],
    }


def test_rows_become_questions_with_truth_per_candidate() -> None:
    rows = [
        _row(True, [("It opened in 1987.", 3.0), ("It is big.", 1.0)], dense=0.61),
        _row(False, [("It opened in 1987.", 2.0)]),
        {**_row(True, []), "error": "boom"},  # errors are skipped
    ]
    [first, second] = calibrate.questions_of("squad2", rows)
    assert first.correct == [True] and first.best_dense == 0.61  # the reader's pick only
    assert first.vectors[0][Signals.names().index("gap")] == 3.0
    assert second.correct == [False] and not second.answerable


def _questions(n: int) -> list:
    items = []
    for i in range(n):  # right answers have a large gap, wrong ones a small one
        items.append(calibrate.Question("a", True, [[*_vec(4.0 + i % 3)]], [True], 0.5))
        items.append(calibrate.Question("a", False, [[*_vec(-1.0 - i % 3)]], [False], 0.4))
        items.append(calibrate.Question("b", True, [[*_vec(3.0 + i % 2)]], [True], 0.6))
        items.append(calibrate.Question("b", True, [[*_vec(-2.0)]], [False], 0.05))
    return items


def _vec(gap: float) -> list[float]:
    return [gap if name == "gap" else 0.0 for name in Signals.names()]


def test_the_fitted_decision_ranks_right_answers_first_and_the_threshold_meets_precision() -> None:
    items = _questions(30)
    model = calibrate.fit(items)
    assert model.coef_[0][Signals.names().index("gap")] > 0
    curves = {
        name: calibrate.curve(
            [(*calibrate.best(model, q), q.answerable) for q in items if q.dataset == name]
        )
        for name in ("a", "b")
    }
    threshold, rule = calibrate.choose_threshold(curves, {"a": (0.95, 0.9), "b": (0.95, 0.5)})
    assert rule == "targets"
    index = calibrate.THRESHOLDS.index(threshold)
    assert all(c[index]["grounded_precision"] >= 0.95 for c in curves.values())
    assert curves["a"][index]["unanswerable_answered"] == 0.0
    assert curves["a"][index]["coverage"] == 1.0  # separable: nothing right is lost


def test_the_refusal_threshold_keeps_all_but_one_percent_of_answerable_questions() -> None:
    items = [calibrate.Question("a", True, [], [], d / 100) for d in range(100)]
    items.append(calibrate.Question("a", False, [], [], 0.0))
    assert calibrate.refusal_threshold(items) == 0.01


def test_auc_is_the_rank_statistic() -> None:
    assert calibrate.auc([True, False, True, False], [0.9, 0.1, 0.8, 0.2]) == 1.0
    assert calibrate.auc([True, False], [0.1, 0.9]) == 0.0
    assert calibrate.auc([True, True], [0.1, 0.9]) is None


def _point(p: float, c: float) -> dict[str, float]:
    return {"grounded_precision": p, "coverage": c, "unanswerable_answered": 0.0}


def test_out_of_reach_targets_fall_back_to_the_best_f_half_not_to_silence() -> None:
    n = len(calibrate.THRESHOLDS)
    curve = [_point(0.6, 0.8)] * (n // 2) + [_point(0.8, 0.5)] * (n // 2 - 1) + [_point(1.0, 0.0)]
    threshold, rule = calibrate.choose_threshold({"a": curve}, {"a": (0.99, 0.5)})
    assert "best mean F0.5" in rule
    assert threshold == calibrate.THRESHOLDS[n - 2]  # F0.5: 0.71 beats 0.63, and 0 at the top


def test_precision_met_only_by_answering_almost_nothing_is_not_meeting_the_target() -> None:
    n = len(calibrate.THRESHOLDS)
    curve = [_point(0.7, 0.8)] * (n - 2) + [_point(0.95, 0.02), _point(1.0, 0.0)]
    threshold, rule = calibrate.choose_threshold({"a": curve}, {"a": (0.9, 0.6)})
    assert rule != "targets" and threshold == calibrate.THRESHOLDS[n - 3]


def test_on_a_flat_stretch_of_f_half_the_most_precise_threshold_wins() -> None:
    n = len(calibrate.THRESHOLDS)
    flat = [_point(0.6, 0.9), _point(0.7, 0.65), _point(0.71, 0.64)]  # F0.5 .63, .69, .70
    curve = flat + [_point(0.8, 0.2)] * (n - 3)  # F0.5 .5
    threshold, _ = calibrate.choose_threshold({"a": curve}, {"a": (0.99, 0.5)})
    assert threshold == calibrate.THRESHOLDS[2]
    within = [_point(0.6, 0.9), _point(0.71, 0.64), _point(0.7, 0.65), *curve[3:]]
    assert (
        calibrate.choose_threshold({"a": within}, {"a": (0.99, 0.5)})[0]
        == (calibrate.THRESHOLDS[2])
    )


def _squad(articles: dict[str, int]) -> dict:
    data = []
    for title, n in articles.items():
        qas = [{"id": f"{title}-{i}", "question": f"q{i}?", "answers": []} for i in range(n)]
        data.append({"title": title, "paragraphs": [{"context": "Text.", "qas": qas}]})
    return {"version": "v2.0", "data": data}


def test_a_sample_keeps_every_article_and_draws_the_same_questions_every_run(tmp_path) -> None:
    source = tmp_path / "set.json"
    source.write_text(json.dumps(_squad({"Alpha": 300, "Beta": 100, "Gamma": 40})))
    assert calibrate.sample(source, None, tmp_path / "all.json") == source  # no limit
    assert calibrate.sample(source, 1000, tmp_path / "big.json") == source  # under it
    first = calibrate.sample(source, 100, tmp_path / "a" / "sample.json")
    second = calibrate.sample(source, 100, tmp_path / "b" / "sample.json")
    a, b = json.loads(first.read_text()), json.loads(second.read_text())
    assert a == b
    kept = [qa["id"] for art in a["data"] for p in art["paragraphs"] for qa in p["qas"]]
    assert len(kept) == 100 and len(set(kept)) == 100
    assert [art["title"] for art in a["data"]] == ["Alpha", "Beta", "Gamma"]
    assert sum(k.startswith("Alpha") for k in kept) > sum(k.startswith("Gamma") for k in kept)


def test_a_report_is_reused_only_when_newer_than_the_reader_and_carrying_every_signal(
    tmp_path,
) -> None:
    reader = tmp_path / "reader"
    reader.mkdir()
    (reader / "model.onnx").write_bytes(b"weights")
    report = tmp_path / "squad2" / "report.json"
    report.parent.mkdir()
    full = {"rows": [{"candidates": [{"features": _features(1.0)}]}]}
    report.write_text(json.dumps(full))
    assert calibrate._reusable(report, reader) == full["rows"]
    old = {"rows": [{"candidates": [{"features": {"gap": 1.0}}]}]}  # an older signal set
    report.write_text(json.dumps(old))
    assert calibrate._reusable(report, reader) is None
    report.write_text(json.dumps(full))
    later = report.stat().st_mtime + 60
    os.utime(reader / "model.onnx", (later, later))  # the reader changed since
    assert calibrate._reusable(report, reader) is None
    assert calibrate._reusable(tmp_path / "missing" / "report.json", reader) is None
