"""Would a second reader help the decision? Measured on calibration articles only.

``python -m training.reader.crosscheck build/reader/calibration build/reader3/calibration``
joins two readers' calibration reports (``training.reader.calibrate`` writes them, one
folder per set, the same seeded questions for both) question by question and fits the
decision twice: on the first reader's signals alone, and with the second reader's span,
answerability, probability and lead plus whether the two readers picked the same unit or
overlapping short answers. Both are scored out of fold: within each set the articles are
dealt into five folds and every question is scored by a model fitted without its
article. It prints the best mean F0.5 over the sets (precision weighted twice, as
calibration chooses thresholds), each set's AUC, and precision / coverage /
unanswerable answered at that threshold.

This is a measurement, not a training step: it changes no model and reads no dev article.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.answering.decision import Signals
from rag.eval import metrics as m
from training.reader.calibrate import (
    SETS,
    THRESHOLDS,
    Question,
    _f_half,
    auc,
    best,
    curve,
    fit,
)

log = logging.getLogger(__name__)

SECOND = ("span", "answerable", "probability", "lead")  # the second reader's signals used
FOLDS = 5


@dataclass(frozen=True)
class Pair:
    """One question seen by both readers: the first reader's pick decides the answer."""

    dataset: str
    article: str
    alone: list[float]
    both: list[float]
    correct: bool
    answerable: bool


def _rows(folder: Path, name: str) -> dict[str, dict[str, Any]]:
    rows = json.loads((folder / name / "report.json").read_text())["rows"]
    return {r["id"]: r for r in rows if r["error"] is None}


def _pick(row: dict[str, Any]) -> dict[str, Any] | None:
    return next((c for c in row["candidates"] if c.get("features")), None)


def agreement(a: dict[str, Any] | None, b: dict[str, Any] | None) -> float:
    """1 per kind of agreement: the same unit, overlapping short answers (0 to 2)."""
    if a is None or b is None:
        return 0.0
    same_unit = a["source"] == b["source"] and a["start"] == b["start"]
    sa, sb = (a.get("short_answer") or "").lower(), (b.get("short_answer") or "").lower()
    return float(same_unit) + float(bool(sa and sb and (sa in sb or sb in sa)))


def pairs(first: Path, second: Path, name: str) -> list[Pair]:
    """The questions of set *name* both readers answered, joined by question id."""
    other = _rows(second, name)
    out = []
    for qid, row in _rows(first, name).items():
        pick = _pick(row)
        if pick is None or qid not in other:
            continue
        rival = _pick(other[qid])
        alone = [float(pick["features"][n]) for n in Signals.names()]
        extra = [float(rival["features"][n]) for n in SECOND] if rival else [0.0] * len(SECOND)
        answerable = bool(row["answerable"])
        correct = answerable and m.contains_reference(pick["text"], row["reference"])
        source = row["retrieved"][0]["source"] if row["retrieved"] else qid
        both = alone + extra + [agreement(pick, rival)]
        out.append(Pair(name, source, alone, both, correct, answerable))
    return out


def _question(pair: Pair, both: bool) -> Question:
    """*pair* as calibration sees a question, so the decision is fitted exactly as shipped."""
    vector = pair.both if both else pair.alone
    return Question(pair.dataset, pair.answerable, [vector], [pair.correct], 0.0)


def out_of_fold(items: Sequence[Pair], both: bool) -> list[float]:
    """Each question's confidence from a model fitted on the other folds' articles."""
    articles = sorted({(p.dataset, p.article) for p in items})
    fold = {a: i % FOLDS for i, a in enumerate(articles)}
    conf = [0.0] * len(items)
    for k in range(FOLDS):
        model = fit([_question(p, both) for p in items if fold[(p.dataset, p.article)] != k])
        for i, p in enumerate(items):
            if fold[(p.dataset, p.article)] == k:
                conf[i] = best(model, _question(p, both))[0]
    return conf


def summary(items: Sequence[Pair], conf: Sequence[float]) -> dict[str, Any]:
    """Best mean F0.5 over the sets, its threshold, each set's AUC and operating point."""
    sets = sorted({p.dataset for p in items})
    curves = {
        s: curve(
            [
                (c, p.correct, p.answerable)
                for c, p in zip(conf, items, strict=True)
                if p.dataset == s
            ]
        )
        for s in sets
    }
    scores = [np.mean([_f_half(curves[s][i]) for s in sets]) for i in range(len(THRESHOLDS))]
    best = int(np.argmax(scores))
    return {
        "best_mean_f_half": round(float(scores[best]), 4),
        "threshold": THRESHOLDS[best],
        "auc": {
            s: auc(
                [p.correct for p in items if p.dataset == s],
                [c for c, p in zip(conf, items, strict=True) if p.dataset == s],
            )
            for s in sets
        },
        "at_threshold": {s: curves[s][best] for s in sets},
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("first", type=Path, help="calibration folder of the shipped reader")
    parser.add_argument("second", type=Path, help="calibration folder of the other reader")
    args = parser.parse_args(argv)
    items = [p for name in SETS for p in pairs(args.first, args.second, name)]
    result = {
        "questions": len(items),
        "first_alone": summary(items, out_of_fold(items, both=False)),
        "with_second": summary(items, out_of_fold(items, both=True)),
    }
    print(json.dumps(result, indent=1))  # noqa: T201 - the command's output


if __name__ == "__main__":
    main()
