"""`make train-reader`'s training step end to end in tiny mode, on data written for the test.

The data set is a handful of made-up articles in the SQuAD formats the real data uses
(SQuAD 2.0 with unanswerable questions, SQuAD 1.1, TyDi QA), so the test needs nothing
outside the repository. It checks that a run killed after a checkpoint resumes where it
stopped and ends with exactly the weights of a run that was never stopped, and that the
export serves through the ONNX reader with exact character offsets.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

PLACES = ["Harlow", "Marlow", "Ashby", "Corfe", "Dunmore", "Elstow", "Fenwick", "Garth"]
PEOPLE = ["Edith Lane", "Owen Price", "Mara Quill", "Tom Rees", "Ann Shaw", "Ivo Tait"]


def _article(title: str, n: int, impossible: bool) -> dict:
    paragraphs = []
    for i in range(4):
        place, person, year = PLACES[(n + i) % 8], PEOPLE[(n + i) % 6], 1800 + 7 * n + i
        context = (
            f"The {place} bridge was opened in {year} by {person}. It crosses the river "
            f"Wend at its widest point and carries about {100 * (i + 2)} cars a day."
        )
        qas = [
            _qa(f"{title}-{i}-a", f"When was the {place} bridge opened?", context, str(year)),
            _qa(f"{title}-{i}-b", f"Who opened the {place} bridge?", context, person),
        ]
        if impossible:
            qas.append(
                {
                    "id": f"{title}-{i}-c",
                    "question": f"Who painted the {place} bridge?",
                    "answers": [],
                    "is_impossible": True,
                }
            )
        paragraphs.append({"context": context, "qas": qas})
    return {"title": title, "paragraphs": paragraphs}


def _qa(qid: str, question: str, context: str, answer: str) -> dict:
    return {
        "id": qid,
        "question": question,
        "answers": [{"text": answer, "answer_start": context.index(answer)}],
        "is_impossible": False,
    }


def _write(path: Path, articles: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": "test", "data": articles}))


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data")
    _write(root / "squad2/squad2-six-articles.json", [_article(f"S{i}", i, True) for i in range(6)])
    _write(root / "squad2/squad2-ten-more-articles.json", [_article("T0", 6, True)])
    _write(root / "squad11-train/part0.json", [_article(f"E{i}", 7 + i, False) for i in range(3)])
    _write(root / "tydiqa-en/tydiqa-goldp-en-train.json", [_article("N0", 11, False)])
    return root


def _run(work: Path, data: Path, *extra: str) -> None:
    from training.reader.train import main

    main(["--tiny", "--work", str(work), "--data", str(data), "--save-every", "5", *extra])


def test_a_stopped_run_resumes_to_the_same_weights_and_serves(tmp_path: Path, data: Path) -> None:
    import numpy as np
    import torch

    from rag.answering.reader import Reader

    whole, stopped = tmp_path / "whole", tmp_path / "stopped"
    _run(whole, data)
    _run(stopped, data, "--stop-after", "7")
    assert torch.load(stopped / "checkpoint.pt", weights_only=False)["done"] == 7
    assert not (stopped / "export").exists()
    _run(stopped, data)  # resumes after step 7
    a = torch.load(whole / "checkpoint.pt", weights_only=False)
    b = torch.load(stopped / "checkpoint.pt", weights_only=False)
    assert a["done"] == b["done"] > 7
    for name, tensor in a["model"].items():
        assert np.allclose(tensor.numpy(), b["model"][name].numpy(), atol=1e-6), name

    passage = "The Garth bridge was opened in 1901 by Ann Shaw. It carries few cars."
    spans = Reader(stopped / "export").read("When was the Garth bridge opened?", [passage])
    assert spans and all(s.passage == 0 for s in spans)
    for span in spans:
        assert 0 <= span.char_start < span.char_end <= len(passage)
        assert passage[span.char_start : span.char_end].strip()  # real characters of it
