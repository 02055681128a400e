"""The one ``[n]`` marker grammar (rag.answering.markers) and the modules that read markers with it.

Before issue 13 there were three grammars: ``[n]`` only (rag.answer, used for
``Answer.markers``, condensing, follow-up tokens and the answer metrics), ``[n]`` only
again (the eval judge), and the citation checker's, which also read lists, "and",
"&", spaces and "passage". The one grammar accepts the union; these tests pin down
what it accepts and that every user now sees the same markers in the same text.
"""

from __future__ import annotations

import pytest

from rag.answer import Answer
from rag.answering.citecheck import claim_of
from rag.answering.markers import MARKER, marker_numbers, strip_markers
from rag.config import LlmSettings
from rag.eval import metrics as m
from rag.eval.judge import judge_messages
from rag.followup import Turn
from rag.followup.rewrite import rewrite_problem
from rag.followup.tokens import tokens

ACCEPTED = [
    ("[1]", [1]),
    ("[12]", [12]),
    ("[007]", [7]),
    ("[1][2]", [1, 2]),
    ("[1] [2]", [1, 2]),
    ("[ 1 ]", [1]),
    ("[1, 2]", [1, 2]),
    ("[1,2,3]", [1, 2, 3]),
    ("[1 and 2]", [1, 2]),
    ("[1 & 2]", [1, 2]),
    ("[1, 2 and 4]", [1, 2, 4]),
    ("[Passage 1]", [1]),
    ("[passage1]", [1]),
    ("[PASSAGE 2]", [2]),
    ("[passages 1 and 3]", [1, 3]),
    ("[1][1]", [1, 1]),
]
REJECTED = ["[1-2]", "[1.]", "[]", "[see 1]", "[ref 1]", "[1, ]", "[, 1]", "[1 and]", "[a]"]
REJECTED += ["(1)", "1]", "[1", "[passage]", "[p. 4]", "[1–2]"]


@pytest.mark.parametrize(("marker", "numbers"), ACCEPTED)
def test_accepted_markers_and_their_numbers(marker, numbers):
    text = f"The lighthouse on Skerry Point was automated in 1987 {marker}."
    assert marker_numbers(text) == numbers
    assert strip_markers(text) == "The lighthouse on Skerry Point was automated in 1987 ."


@pytest.mark.parametrize("text", REJECTED)
def test_look_alikes_are_not_markers(text):
    assert MARKER.search(text) is None and marker_numbers(text) == []
    assert strip_markers(f"Keeper {text} here") == f"Keeper {text} here"


def test_markers_between_words_and_sentences():
    text = "Built in 1810 [1]. Automated[2]in 1987 [Passage 3][4, 5]."
    assert marker_numbers(text) == [1, 2, 3, 4, 5]
    assert strip_markers(text) == "Built in 1810 . Automated in 1987 ."


@pytest.mark.parametrize(("marker", "numbers"), ACCEPTED)
def test_every_user_sees_the_same_markers(marker, numbers):
    text = f"The keeper left in 1987 {marker}."
    assert Answer.answered("q", text, citations=[]).markers() == numbers
    assert claim_of(text).markers == tuple(dict.fromkeys(numbers))
    assert m.strip_markers(text) == "The keeper left in 1987 ."
    # Condensing: a rewrite carrying a marker is an answer, not a question.
    turns = [Turn("When did the keeper leave?", text)]
    keep = LlmSettings().condense_keep_share
    assert rewrite_problem("When did he leave?", text, turns, keep) == "an answer, not a question"
    # Follow-up resolution reads no word or number of a marker.
    assert [t.text for t in tokens(text)] == ["The", "keeper", "left", "in", "1987", "."]
    # The judge grades the answer without its markers (they number other passages).
    user = judge_messages("When?", text, ["The keeper left in 1987."])[1].content
    assert "<answer>\nThe keeper left in 1987.\n</answer>" in user


def test_follow_up_tokens_keep_offsets_into_the_text():
    text = "Moved [1, 2] to Oban."
    assert [(t.text, text[t.start : t.end]) for t in tokens(text)] == [
        ("Moved", "Moved"), ("to", "to"), ("Oban", "Oban"), (".", "."),
    ]  # fmt: skip
