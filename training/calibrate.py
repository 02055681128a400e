"""Fit the confidence calibrator and choose the answer threshold, on training articles only.

``python -m training.calibrate`` (run by ``make train`` after :mod:`training.train_verifier`)
asks every training-article question through the full pipeline (retrieval, rules,
verifier) with the *fold* model that never saw that article, against a store of exactly
the fold's held-out articles, and records the features of the sentence the answerer would
quote (:class:`rag.confidence.Features`) and whether it holds a reference answer.

A logistic regression over those features is fitted on all these training questions, and
the threshold is the lowest confidence at which their pooled grounded precision reaches
``--precision`` (default 0.70), so as much as possible is answered at that precision.
Six weights over ~1,400 questions do not overfit (cross-fitted AUCs, one fold predicted by
a fit on the other, are recorded too), but the two folds' articles differ a lot in
difficulty, so a threshold from cross-fitted scores mixes two calibrations; the in-sample
one is what the shipped weights produce. Weights, threshold, AUCs and the curve go to
``rag/models/verifier/calibration.json``. Dev articles are never read.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from rag.confidence import Features
from rag.eval import metrics as m
from training.train_verifier import FOLDS, OUT, ROOT, TRAIN

log = logging.getLogger(__name__)

THRESHOLDS = tuple(round(0.01 * i, 2) for i in range(100))


def prepare_fold(fold: Path) -> tuple[Path, Path]:
    """The fold's held-out questions (SQuAD JSON) and a folder of its held-out documents."""
    held = set(json.loads((fold / "held_out.json").read_text()))
    data = json.loads(TRAIN.read_text(encoding="utf-8"))
    articles = [a for a in data["data"] if a["title"].replace("_", " ") in held]
    questions = fold / "held_out_questions.json"
    questions.write_text(json.dumps({"version": "v2.0", "data": articles}) + "\n")
    documents = fold / "documents"
    shutil.rmtree(documents, ignore_errors=True)
    documents.mkdir()
    for article in articles:
        name = f"{article['title']}.md"
        shutil.copy(TRAIN.parent / "train" / name, documents / name)
    return questions, documents


def run_fold(fold: Path) -> list[dict[str, Any]]:
    """Rows of the eval of the fold's held-out articles with the fold's model."""
    questions, documents = prepare_fold(fold)
    placeholder = {"features": Features.names(), "weights": [0.0] * len(Features.names()),
                   "bias": 0.0, "answer_threshold": 0.0}  # fmt: skip
    (fold / "calibration.json").write_text(json.dumps(placeholder) + "\n")
    env = {**os.environ, "RAG_VERIFIER_PATH": str(fold), "RAG_ANSWER_THRESHOLD": "0"}
    out = fold / "eval"
    command = [sys.executable, "-m", "rag.eval", str(questions), "--documents", str(documents)]
    subprocess.run([*command, "--out", str(out)], check=True, env=env, cwd=ROOT)
    return json.loads((out / "report.json").read_text())["rows"]


@dataclass(frozen=True)
class Example:
    """The sentence one question would be answered with, and whether that is right."""

    fold: str
    features: list[float]
    answerable: bool
    correct: bool


def examples(fold: str, rows: Sequence[dict[str, Any]]) -> list[Example]:
    """One example per question whose best sentence passes the rules (others never answer)."""
    found = []
    for r in rows:
        passing = [c for c in r["candidates"] if not c["rejected"] and c["features"]]
        if r["error"] is not None or r["outcome"] == "not_found" or not passing:
            continue
        chosen = passing[0]
        right = r["answerable"] and m.contains_reference(chosen["text"], r["reference"])
        vector = [float(chosen["features"][name]) for name in Features.names()]
        found.append(Example(fold, vector, r["answerable"], right))
    return found


def fit(items: Sequence[Example]) -> LogisticRegression:
    model = LogisticRegression(C=1.0, max_iter=1000)
    model.fit(np.array([e.features for e in items]), np.array([e.correct for e in items]))
    return model


def cross_fitted(items: Sequence[Example]) -> list[float]:
    """Each example's confidence from a model fitted on the other folds only."""
    out = [0.0] * len(items)
    for fold in sorted({e.fold for e in items}):
        model = fit([e for e in items if e.fold != fold])
        for i, e in enumerate(items):
            if e.fold == fold:
                out[i] = float(model.predict_proba(np.array([e.features]))[0, 1])
    return out


def auc(labels: Sequence[bool], scores: Sequence[float]) -> float | None:
    """Area under the ROC curve (None when one class is missing)."""
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return round(wins / (len(pos) * len(neg)), 4)


def aucs(items: Sequence[Example], sure: Sequence[float]) -> dict[str, float | None]:
    """In-sample AUC (correct vs not), and cross-fitted AUC per fold."""
    crossed = cross_fitted(items)
    result = {"in_sample": auc([e.correct for e in items], sure)}
    for fold in sorted({e.fold for e in items}):
        idx = [i for i, e in enumerate(items) if e.fold == fold]
        result[f"cross_fitted_{fold}"] = auc(
            [items[i].correct for i in idx], [crossed[i] for i in idx]
        )
    return result


def curve_of(
    items: Sequence[Example], sure: Sequence[float], total: dict[str, int]
) -> list[dict[str, Any]]:
    """The trust curve over all training questions (unanswered ones count as not answered)."""
    points = [
        m.CurvePoint(c, True, e.answerable, e.correct) for e, c in zip(items, sure, strict=True)
    ]
    answerable = total["answerable"] - sum(e.answerable for e in items)
    unanswerable = total["unanswerable"] - sum(not e.answerable for e in items)
    points += [m.CurvePoint(0.0, False, True, False)] * answerable
    points += [m.CurvePoint(0.0, False, False, False)] * unanswerable
    return m.trust_curve(points, THRESHOLDS)


def choose(curve: Sequence[dict[str, Any]], precision: float) -> dict[str, Any]:
    """The lowest threshold whose grounded precision reaches *precision* (else the best)."""
    good = [p for p in curve if p["grounded_precision"] and p["grounded_precision"] >= precision]
    if good:
        return min(good, key=lambda p: p["threshold"])
    return max(curve, key=lambda p: p["grounded_precision"] or 0.0)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--precision", type=float, default=0.70)
    parser.add_argument("--reuse", action="store_true", help="reuse existing fold eval reports")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    items: list[Example] = []
    total = {"answerable": 0, "unanswerable": 0}
    for fold in sorted(FOLDS.glob("fold-*")):
        report = fold / "eval" / "report.json"
        rows = (
            json.loads(report.read_text())["rows"]
            if args.reuse and report.is_file()
            else run_fold(fold)
        )
        items += examples(fold.name, rows)
        total["answerable"] += sum(r["answerable"] for r in rows)
        total["unanswerable"] += sum(not r["answerable"] for r in rows)
    final = fit(items)
    sure = final.predict_proba(np.array([e.features for e in items]))[:, 1].tolist()
    curve = curve_of(items, sure, total)
    chosen = choose(curve, args.precision)
    result = {
        "features": Features.names(),
        "weights": [round(float(w), 6) for w in final.coef_[0]],
        "bias": round(float(final.intercept_[0]), 6),
        "answer_threshold": chosen["threshold"],
        "criterion": f"lowest threshold with grounded precision >= {args.precision} over "
        "all training-article questions (verifier scores out of fold)",
        "auc": aucs(items, sure),
        "training_questions": total,
        "at_threshold": chosen,
        "curve": curve[::5],
    }
    (OUT / "calibration.json").write_text(json.dumps(result, indent=1) + "\n")
    log.info("answer threshold %.2f: %s", chosen["threshold"], chosen)


if __name__ == "__main__":
    main()
