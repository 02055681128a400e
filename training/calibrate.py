"""Choose the verifier's answer threshold on training articles only, from out-of-fold runs.

``python -m training.calibrate`` (run by ``make train`` after :mod:`training.train_verifier`)
asks every training-article question through the full pipeline (retrieval, rules,
verifier) with the *fold* model that never saw that article, against a store of exactly
the fold's held-out articles, and pools the rows. The threshold is the lowest confidence
at which the pooled grounded precision reaches ``--precision`` (default 0.75), so as much
as possible is answered at that precision. It is written with the curve and the pooled
numbers to ``rag/models/verifier/calibration.json``, which the product reads as the
default ``answer_threshold``. Dev articles are never read here.
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
from pathlib import Path
from typing import Any

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
    env = {**os.environ, "RAG_VERIFIER_PATH": str(fold), "RAG_ANSWER_THRESHOLD": "0"}
    out = fold / "eval"
    command = [sys.executable, "-m", "rag.eval", str(questions), "--documents", str(documents)]
    subprocess.run([*command, "--out", str(out)], check=True, env=env, cwd=ROOT)
    return json.loads((out / "report.json").read_text())["rows"]


def points(rows: Sequence[dict[str, Any]]) -> list[m.CurvePoint]:
    """Curve points of eval rows (the same rule as the report's curve)."""
    return [
        m.CurvePoint(
            confidence=r["confidence"] or 0.0,
            eligible=r["best_candidate_ok"],
            answerable=r["answerable"],
            correct=r["answerable"] and m.contains_reference(r["best_candidate"], r["reference"]),
        )
        for r in rows
        if r["error"] is None
    ]


def choose(curve: Sequence[dict[str, Any]], precision: float) -> dict[str, Any]:
    """The lowest threshold whose grounded precision reaches *precision* (else the best)."""
    good = [p for p in curve if p["grounded_precision"] and p["grounded_precision"] >= precision]
    if good:
        return min(good, key=lambda p: p["threshold"])
    return max(curve, key=lambda p: p["grounded_precision"] or 0.0)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--precision", type=float, default=0.75)
    parser.add_argument("--reuse", action="store_true", help="reuse existing fold eval reports")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    rows: list[dict[str, Any]] = []
    for fold in sorted(FOLDS.glob("fold-*")):
        report = fold / "eval" / "report.json"
        if args.reuse and report.is_file():
            rows += json.loads(report.read_text())["rows"]
        else:
            rows += run_fold(fold)
    curve = m.trust_curve(points(rows), THRESHOLDS)
    chosen = choose(curve, args.precision)
    result = {
        "answer_threshold": chosen["threshold"],
        "criterion": f"lowest threshold with grounded precision >= {args.precision} on "
        "out-of-fold training-article rows",
        "training_rows": len(rows),
        "at_threshold": chosen,
        "curve": curve[::5],
    }
    (OUT / "calibration.json").write_text(json.dumps(result, indent=1) + "\n")
    log.info("answer threshold %.2f: %s", chosen["threshold"], chosen)


if __name__ == "__main__":
    main()
