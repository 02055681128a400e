"""The trust numbers of the eval (grounded precision, coverage, unanswerable answered, the
curve) and the store of exactly a dataset's documents."""

from __future__ import annotations

from pathlib import Path

from rag.config import Settings
from rag.eval import metrics as m
from rag.eval.markdown import render_markdown
from rag.eval.stores import eval_settings, store_key


def test_trust_curve_counts_answered_right_and_false_answers() -> None:
    points = [
        m.CurvePoint(0.9, True, True, True),  # sure and right
        m.CurvePoint(0.8, True, False, False),  # sure, but unanswerable
        m.CurvePoint(0.4, True, True, False),  # answerable, wrong sentence
        m.CurvePoint(0.95, False, True, True),  # rejected by the rules: never answered
    ]
    at = {p["threshold"]: p for p in m.trust_curve(points, [0.0, 0.5, 0.85])}
    assert at[0.0]["answered"] == 3
    assert at[0.0]["grounded_precision"] == round(1 / 3, 4)
    assert at[0.0]["coverage"] == round(1 / 3, 4)  # 1 of 3 answerable questions
    assert at[0.0]["unanswerable_answered"] == 1.0
    assert at[0.5]["answered"] == 2 and at[0.5]["grounded_precision"] == 0.5
    assert at[0.85] == {
        "threshold": 0.85,
        "answered": 1,
        "grounded_precision": 1.0,
        "coverage": round(1 / 3, 4),
        "unanswerable_answered": 0.0,
    }


def test_nothing_answered_gives_no_precision_not_nan() -> None:
    curve = m.trust_curve([m.CurvePoint(0.1, True, False, False)], [0.5])
    assert curve[0]["grounded_precision"] is None and curve[0]["unanswerable_answered"] == 0.0


def test_eval_store_is_keyed_by_the_documents(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\nAlpha is first.\n")
    settings = Settings(_env_file=None, store={"cache_dir": tmp_path / "cache"})
    first = store_key(docs, settings)
    assert store_key(docs, settings) == first  # same files, same store
    (docs / "a.md").write_text("# A\n\nAlpha is second.\n")
    assert store_key(docs, settings) != first  # changed content, new store
    local = eval_settings(settings, docs)
    assert local.store.store_dir.parent == tmp_path / "cache" / "eval-stores"
    assert local.store.seeds_dir == docs and local.store.chroma_url is None


def test_report_shows_outcomes_curve_and_documents() -> None:
    from tests.unit.test_eval_report import _report, _results

    report = _report(_results())
    assert report["summary"]["trust"]["outcomes"] == {"answered": 3, "unsure": 0, "not_found": 2}
    rates = report["summary"]["metrics"]
    assert rates["grounded_precision"]["value"] == round(2 / 3, 4)  # a1 and f1 right, a3 not
    assert rates["coverage"]["value"] == 0.5  # 2 of 4 answerable rows
    assert rates["unanswerable_answered"]["value"] == 0.0
    report["summary"]["trust"] = {
        "outcomes": {"answered": 3, "unsure": 2, "not_found": 1},
        "answer_threshold": 0.58,
        "curve": m.trust_curve([m.CurvePoint(0.9, True, True, True)], [0.0, 0.5]),
    }
    report["summary"]["documents"] = [
        {"source": "docs/a.md", "title": "A", "sha256": "f" * 64, "chunks": 3}
    ]
    text = render_markdown(report)
    assert "Answered 3, not sure 2, not found 1; answer threshold 0.58." in text
    assert "| Threshold | Answered | Grounded precision | Coverage |" in text
    assert "| docs/a.md | A | ffffffffffff | 3 |" in text
