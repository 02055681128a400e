"""The reader alone, on questions with their own paragraph: SQuAD EM/F1 and no-answer accuracy.

``python -m training.reader.evaluate --reader DIR [--model model-int8.onnx]`` runs the
ONNX reader (exactly as answering runs it: :class:`rag.answering.reader.Reader`) on the
questions of the eval sets' JSON files, each with the paragraph it was written on, and
prints one JSON object per set: exact match and F1 of the best span on answerable
questions, and the share of unanswerable questions whose best span loses to "no answer".
This measures the reader, not the product: retrieval and the decision are not involved
(``python -m rag.eval`` measures those). It is how fp32 and int8 exports are compared.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.answering.reader import Reader
from rag.eval.metrics.answers import exact_match, f1_score
from training.reader.splits import ROOT

log = logging.getLogger(__name__)

SETS = {
    "squad2-calibrate": "eval/squad2/calibrate.json",
    "tydi-calibrate": "eval/tydi/calibrate.json",
    "squad11-calibrate": "eval/squad11/calibrate.json",
    "squad2-dev": "eval/squad2/dev.json",
    "tydi-dev": "eval/tydi/dev.json",
    "squad11-dev-extra": "eval/squad11-dev-extra/dev.json",
}


def questions(path: Path, limit: int) -> list[tuple[str, str, list[str]]]:
    """(question, paragraph, acceptable answers; [] when unanswerable), the first *limit*."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    out = []
    for article in data:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                answers = [] if qa.get("is_impossible") else [a["text"] for a in qa["answers"]]
                out.append((qa["question"], paragraph["context"], answers))
    return out[:limit] if limit else out


def score(reader: Reader, items: Sequence[tuple[str, str, list[str]]]) -> dict[str, Any]:
    """EM / F1 on answerable items, no-answer accuracy on the others, time per question."""
    em = f1 = right_none = answerable = 0.0
    started = time.perf_counter()
    for question, paragraph, answers in items:
        spans = reader.read(question, [paragraph])
        best = max(spans, key=lambda s: s.score - s.null, default=None)
        if not answers:
            right_none += best is None or best.score <= best.null
            continue
        answerable += 1
        text = paragraph[best.char_start : best.char_end] if best else ""
        em += exact_match(text, answers)
        f1 += f1_score(text, answers)
    unanswerable = len(items) - answerable
    return {
        "questions": len(items),
        "em": round(em / answerable, 4) if answerable else None,
        "f1": round(f1 / answerable, 4) if answerable else None,
        "no_answer_accuracy": round(right_none / unanswerable, 4) if unanswerable else None,
        "ms_per_question": round((time.perf_counter() - started) * 1000 / max(1, len(items)), 1),
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: one JSON line per set."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reader", type=Path, default=ROOT / "rag" / "models" / "reader")
    parser.add_argument("--model", default="model.onnx", help="file in --reader to run")
    parser.add_argument("--sets", default=",".join(SETS), help="comma list of " + ",".join(SETS))
    parser.add_argument("--limit", type=int, default=0, help="first N questions of each set")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    reader = Reader(args.reader, model_file=args.model)
    for name in args.sets.split(","):
        result = score(reader, questions(ROOT / SETS[name], args.limit))
        print(json.dumps({"set": name, "model": args.model, **result}), flush=True)  # noqa: T201


if __name__ == "__main__":
    main()
