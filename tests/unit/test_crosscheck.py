"""training.reader.crosscheck: two readers' reports joined by question, scored by article folds."""

from __future__ import annotations

import json
from pathlib import Path

from rag.answering.decision import Signals
from training.reader.crosscheck import Pair, agreement, out_of_fold, pairs, summary


def candidate(source: str, start: int, short: str, score: float) -> dict:
    features = dict.fromkeys(Signals.names(), score)
    return {
        "source": source,
        "start": start,
        "short_answer": short,
        "text": short,
        "features": features,
    }


def write(folder: Path, rows: list[dict]) -> None:
    (folder / "tydi").mkdir(parents=True)
    (folder / "tydi" / "report.json").write_text(json.dumps({"rows": rows}))


def row(qid: str, pick: dict, reference: str, answerable: bool = True) -> dict:
    retrieved = [{"source": pick["source"]}]
    return {
        "id": qid,
        "error": None,
        "candidates": [pick],
        "answerable": answerable,
        "reference": [reference] if answerable else [],
        "retrieved": retrieved,
    }


def test_agreement_counts_the_same_unit_and_overlapping_short_answers() -> None:
    a = candidate("pool.md", 10, "12 June 1987", 1.0)
    assert agreement(a, candidate("pool.md", 10, "June 1987", 1.0)) == 2.0
    assert agreement(a, candidate("pool.md", 99, "12 June 1987", 1.0)) == 1.0
    assert agreement(a, candidate("faq.md", 10, "£24", 1.0)) == 0.0
    assert agreement(a, None) == 0.0


def test_pairs_join_by_question_and_skip_what_the_second_reader_lacks(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    opened = candidate("museum.md", 0, "12 June 1987", 2.0)
    write(first, [row("q1", opened, "12 June 1987"), row("q2", opened, "1990")])
    write(second, [row("q1", candidate("museum.md", 0, "1987", 0.5), "12 June 1987")])
    joined = pairs(first, second, "tydi")
    assert [p.correct for p in joined] == [True]
    names = len(Signals.names())
    assert joined[0].alone == [2.0] * names
    assert joined[0].both[names:] == [0.5, 0.5, 0.5, 0.5, 2.0]


def test_a_signal_that_separates_right_from_wrong_scores_well_out_of_fold() -> None:
    items = [
        Pair(
            "tydi", f"article{i % 10}", [float(i % 2)], [float(i % 2), 0.0], i % 2 == 1, i % 2 == 1
        )
        for i in range(200)
    ]
    result = summary(items, out_of_fold(items, both=True))
    assert result["auc"]["tydi"] == 1.0
    point = result["at_threshold"]["tydi"]
    assert point["grounded_precision"] == 1.0 and point["coverage"] == 1.0
    assert point["unanswerable_answered"] == 0.0
