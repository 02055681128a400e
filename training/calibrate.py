"""Fit the confidence calibrator and choose the answer threshold, on training data only.

``python -m training.calibrate`` (``make train``) asks every question of the training
articles (``eval/squad2/train.json``, a store of exactly those articles) and of the Calais
set (``eval/qa_calais.jsonl``, a store of ``seeds/``) through the full pipeline, and records
the features of the sentence the answerer would quote (:class:`rag.confidence.Features`)
and whether it holds a reference answer. A logistic regression over those features is
fitted with every document weighted alike (each article, and the Calais article, counts
as much as any other however many questions it has), and the threshold is the lowest
confidence at which the weighted grounded precision reaches ``--precision`` (0.70), so as
much as possible is answered at that precision. AUCs in sample and leave-one-document-out
are recorded. Everything goes to ``rag/models/judge/calibration.json``. Dev articles
are never read.

``--with-verifier`` adds the cross-encoder's probability as a feature: it needs the fold
models of :mod:`training.train_verifier` (each training article is then scored by a fold
model that never saw it). Measured, it did not help (see the model card), so the shipped
calibration leaves it out and the product never loads a verifier model.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from rag.confidence import Features
from rag.eval import metrics as m
from training.train_verifier import FOLDS, OUT, ROOT, TRAIN

CALAIS = ROOT / "eval" / "qa_calais.jsonl"
JUDGE = ROOT / "rag" / "models" / "judge"
SEEDS = ROOT / "seeds"

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


def run_eval(questions: Path, documents: Path, out: Path, judge: Path) -> list[dict[str, Any]]:
    """Rows of ``python -m rag.eval`` on *questions* in a store of exactly *documents*."""
    env = {**os.environ, "RAG_JUDGE_PATH": str(judge), "RAG_ANSWER_THRESHOLD": "0"}
    command = [sys.executable, "-m", "rag.eval", str(questions), "--documents", str(documents)]
    subprocess.run([*command, "--out", str(out)], check=True, env=env, cwd=ROOT)
    return json.loads((out / "report.json").read_text())["rows"]


def placeholder(folder: Path, verifier: bool = False) -> Path:
    """A judge folder whose calibration only records features (the threshold is 0 anyway).

    With *verifier* its weight is not 0, so the verifier model in *folder* is run and its
    probability recorded; otherwise no model is read.
    """
    folder.mkdir(parents=True, exist_ok=True)
    weights = [float(verifier and name == "verifier") for name in Features.names()]
    data = {"features": Features.names(), "weights": weights, "bias": 0.0, "answer_threshold": 0.0}
    (folder / "calibration.json").write_text(json.dumps(data) + "\n")
    return folder


def run_fold(fold: Path) -> list[dict[str, Any]]:
    """Rows of the eval of the fold's held-out articles with the fold's model."""
    questions, documents = prepare_fold(fold)
    return run_eval(questions, documents, fold / "eval", placeholder(fold, verifier=True))


@dataclass(frozen=True)
class Example:
    """One question: the features of the sentence it would be answered with, and the truth."""

    fold: str
    document: str  # its article (or data set): every document gets the same total weight
    features: list[float] | None  # None: never answerable (not found, or no sentence passes)
    answerable: bool
    correct: bool


def run_calais(fold: Path) -> list[dict[str, Any]]:
    """Rows of the Calais set (its own store) scored with one fold's verifier.

    The Calais questions are natural questions about a news article, unlike SQuAD's
    crowd-written ones; with them the calibration sees both styles. No verifier was
    trained on them, so any fold's verifier is out of sample here.
    """
    return run_eval(CALAIS, SEEDS, FOLDS / "calais-eval", placeholder(fold, verifier=True))


def article_of() -> dict[str, str]:
    """Question id -> its training article."""
    data = json.loads(TRAIN.read_text(encoding="utf-8"))
    return {q["id"]: a["title"] for a in data["data"] for p in a["paragraphs"] for q in p["qas"]}


def chosen_candidate(row: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
    """The candidate an eval row's answerer would quote, and whether it holds a reference.

    None when the question was not found or no recorded candidate passes the rules.
    """
    passing = [c for c in row["candidates"] if not c["rejected"] and c["features"]]
    if row["outcome"] == "not_found" or not passing:
        return None, False
    right = row["answerable"] and m.contains_reference(passing[0]["text"], row["reference"])
    return passing[0], right


def examples(fold: str, rows: Sequence[dict[str, Any]], documents: dict[str, str]) -> list[Example]:
    """One example per scored question (*documents*: row id -> its document)."""
    found = []
    for r in rows:
        if r["error"] is not None:
            continue
        document = documents.get(r["id"], fold)
        chosen, right = chosen_candidate(r)
        if chosen is None:
            found.append(Example(fold, document, None, r["answerable"], False))
            continue
        vector = [float(chosen["features"][name]) for name in Features.names()]
        found.append(Example(fold, document, vector, r["answerable"], right))
    return found


def weights(items: Sequence[Example]) -> list[float]:
    """1 / questions of the example's document: each document counts the same in total."""
    sizes = Counter(e.document for e in items)
    return [1.0 / sizes[e.document] for e in items]


USED = list(Features.names())  # the features fitted; the others get weight 0 (see --drop)


def fit(items: Sequence[Example]) -> LogisticRegression:
    """Logistic regression on the answerable-looking examples, documents weighted alike."""
    usable = [(e, w) for e, w in zip(items, weights(items), strict=True) if e.features]
    mask = [name in USED for name in Features.names()]
    model = LogisticRegression(C=1.0, max_iter=1000)
    model.fit(
        np.array([e.features for e, _ in usable]) * np.array(mask, dtype=float),
        np.array([e.correct for e, _ in usable]),
        sample_weight=np.array([w for _, w in usable]) * len(usable),
    )
    return model


def predict(model: LogisticRegression, items: Sequence[Example]) -> list[float]:
    """Confidence of every example (0 for those that can never be answered)."""
    return [
        float(model.predict_proba(np.array([e.features]))[0, 1]) if e.features else 0.0
        for e in items
    ]


def cross_fitted(items: Sequence[Example]) -> list[float]:
    """Each example's confidence from a model fitted on the other folds only."""
    out = [0.0] * len(items)
    for fold in sorted({e.fold for e in items}):
        model = fit([e for e in items if e.fold != fold])
        for i, e in enumerate(items):
            if e.fold == fold and e.features:
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
    """AUC (right answer vs not, answerable-looking questions): in sample and cross-fitted."""
    idx = [i for i, e in enumerate(items) if e.features]
    result = {"in_sample": auc([items[i].correct for i in idx], [sure[i] for i in idx])}
    crossed = cross_fitted(items)
    for fold in sorted({e.fold for e in items}):
        part = [i for i in idx if items[i].fold == fold]
        result[f"cross_fitted_{fold}"] = auc(
            [items[i].correct for i in part], [crossed[i] for i in part]
        )
    return result


def curve_of(items: Sequence[Example], sure: Sequence[float]) -> list[dict[str, Any]]:
    """The trust curve over all calibration questions, each document weighted alike."""
    points = [
        m.CurvePoint(c, e.features is not None, e.answerable, e.correct, w)
        for e, c, w in zip(items, sure, weights(items), strict=True)
    ]
    return m.trust_curve(points, THRESHOLDS)


def per_document(items: Sequence[Example], sure: Sequence[float], t: float) -> dict[str, Any]:
    """Precision / coverage / unanswerable answered of each document at threshold *t*."""
    out = {}
    for document in sorted({e.document for e in items}):
        part = [(e, c) for e, c in zip(items, sure, strict=True) if e.document == document]
        points = [m.CurvePoint(c, e.features is not None, e.answerable, e.correct) for e, c in part]
        out[document] = m.trust_curve(points, [t])[0]
    return out


def choose(curve: Sequence[dict[str, Any]], precision: float) -> dict[str, Any]:
    """The lowest threshold whose grounded precision reaches *precision* (else the best)."""
    good = [p for p in curve if p["grounded_precision"] and p["grounded_precision"] >= precision]
    if good:
        return min(good, key=lambda p: p["threshold"])
    return max(curve, key=lambda p: p["grounded_precision"] or 0.0)


def collect_plain(reuse: bool) -> list[Example]:
    """Examples from all training articles and the Calais set, without a verifier."""
    work = placeholder(ROOT / "build" / "calibration")
    sets = [("squad2", TRAIN, TRAIN.parent / "train"), ("calais", CALAIS, SEEDS)]
    items: list[Example] = []
    documents = article_of()
    for name, questions, folder in sets:
        report = work / name / "report.json"
        use = reuse and report.is_file()
        rows = (
            json.loads(report.read_text())["rows"]
            if use
            else run_eval(questions, folder, work / name, work)
        )
        for e in examples(name, rows, documents if name == "squad2" else {}):
            items.append(replace(e, fold=e.document))  # cross-fit leaves one document out
    return items


def collect(reuse: bool) -> list[Example]:
    """Examples from every fold's held-out articles and from the Calais set."""
    documents = article_of()
    items: list[Example] = []
    folds = sorted(FOLDS.glob("fold-*"))
    for fold in folds:
        report = fold / "eval" / "report.json"
        use = reuse and report.is_file()
        rows = json.loads(report.read_text())["rows"] if use else run_fold(fold)
        items += examples(fold.name, rows, documents)
    report = FOLDS / "calais-eval" / "report.json"
    rows = (
        json.loads(report.read_text())["rows"]
        if reuse and report.is_file()
        else run_calais(folds[0])
    )
    items += examples("calais", rows, {})
    return items


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--precision", type=float, default=0.70)
    parser.add_argument("--reuse", action="store_true", help="reuse existing fold eval reports")
    parser.add_argument(
        "--with-verifier",
        action="store_true",
        help="add the cross-encoder's probability (needs training.train_verifier's folds)",
    )
    args = parser.parse_args(argv)
    if not args.with_verifier:
        USED.remove("verifier")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    items = collect(args.reuse) if args.with_verifier else collect_plain(args.reuse)
    final = fit(items)
    sure = predict(final, items)
    curve = curve_of(items, sure)
    chosen = choose(curve, args.precision)
    result = {
        "features": Features.names(),
        "weights": [round(float(w), 6) for w in final.coef_[0]],
        "bias": round(float(final.intercept_[0]), 6),
        "answer_threshold": chosen["threshold"],
        "criterion": f"lowest threshold with grounded precision >= {args.precision} over the "
        "training articles and the Calais set, each document weighted alike",
        "features_used": list(USED),
        "questions": dict(Counter(e.document for e in items)),
        "auc": aucs(items, sure),
        "at_threshold": chosen,
        "per_document_at_threshold": per_document(items, sure, chosen["threshold"]),
        "curve": curve[::5],
    }
    target = OUT if args.with_verifier else JUDGE  # the experiment stays out of the product
    target.mkdir(parents=True, exist_ok=True)
    (target / "calibration.json").write_text(json.dumps(result, indent=1) + "\n")
    log.info("answer threshold %.2f: %s", chosen["threshold"], chosen)


if __name__ == "__main__":
    main()
