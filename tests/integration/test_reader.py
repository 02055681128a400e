"""The shipped reader (rag/models/reader) on ONNX Runtime: offsets, loading, no torch.

Text here is made up for the tests or random: the reader must return spans that are
real characters of the passage whatever the passage holds (accents, CJK, emoji, control
characters, empty lines), and answering must never import torch.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.answering.reader import Reader, bundled_reader_path
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

FOLDER = bundled_reader_path()


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader(FOLDER, top=3)


def test_the_model_folder_has_what_answering_and_people_need() -> None:
    for name in ("model.onnx", "tokenizer.json", "decision.json", "MODEL_CARD.md"):
        assert (FOLDER / name).is_file(), name
    card = (FOLDER / "MODEL_CARD.md").read_text()
    for words in ("CC BY-SA 4.0", "Apache", "make train-reader", "SQuAD", "TyDi"):
        assert words in card, words


def test_a_plain_answer_is_found_with_its_offsets(reader: Reader) -> None:
    passages = [
        "The Lunt Bridge was designed by Margaret Holloway and opened in 1887.",
        "Rain fell all week in the valley.",
    ]
    spans = reader.read("When did the Lunt Bridge open?", passages)
    best = max(spans, key=lambda s: s.score - s.null)
    assert best.passage == 0
    assert passages[0][best.char_start : best.char_end] == "1887"


def test_a_long_passage_is_read_in_overlapping_windows(reader: Reader) -> None:
    filler = " ".join(f"Sentence {i} says nothing of note about the weather." for i in range(60))
    passage = filler + " The ferry was built in 1904 by the Marlow boatyard. " + filler
    spans = reader.read("Who built the ferry?", [passage])
    assert len({s.window for s in spans}) > 2  # several windows
    best = max(spans, key=lambda s: s.score - s.null)
    assert "Marlow boatyard" in passage[best.char_start : best.char_end]


@settings(max_examples=40, deadline=None)
@given(
    question=st.text(min_size=1, max_size=80),
    passage=st.text(min_size=0, max_size=700),
)
def test_spans_are_real_characters_for_any_text(reader: Reader, question, passage) -> None:
    for span in reader.read(question, [passage]):
        assert 0 <= span.char_start < span.char_end <= len(passage)
        assert passage[span.char_start : span.char_end].strip()
        assert 0.0 <= span.probability <= 1.0


def test_answering_never_imports_torch(ingested) -> None:
    code = (
        "import sys, json\n"
        "from rag.config import Settings\n"
        "from rag.service import Assistant\n"
        f"store = {{'store_dir': {str(ingested.settings.store.store_dir)!r}}}\n"
        "a = Assistant(Settings(_env_file=None, store=store))\n"
        "answer = a.ask('How much has the UK pledged towards security at the port?')\n"
        "print(json.dumps([answer.outcome, 'torch' in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    outcome, torch_loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert outcome == "answered" and torch_loaded is False
