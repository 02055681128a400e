"""training.reader.data's derived negatives on a made-up article: what each one holds."""

from __future__ import annotations

import random

import pytest

data = pytest.importorskip("training.reader.data")

CONTEXT = (
    "The Dunmore ferry began running in 1894. It was run by the Wend Boat Company for "
    "sixty years. The council bought it in 1954 and runs it today. Tickets cost £2."
)


def _example(question: str, answer: str) -> data.Example:
    start = CONTEXT.index(answer)
    return data.Example("q1", question, CONTEXT, start, answer, "gold", "squad11", "Dunmore")


def test_answer_removed_negative_keeps_the_rest_of_the_paragraph_without_the_answer() -> None:
    gold = _example("When did the council buy the ferry?", "1954")
    [negative] = data.answer_removed_negatives([gold], 1.0, random.Random(0))
    assert negative.answer_start is None and negative.kind == "answer-removed"
    assert negative.question == gold.question
    assert "1954" not in negative.context and "council" not in negative.context
    assert "began running in 1894." in negative.context  # the rest, sentence by sentence
    assert "Tickets cost £2." in negative.context


def test_no_answer_removed_negative_when_the_answer_is_repeated_or_little_is_left() -> None:
    repeated = CONTEXT + " The 1954 purchase was debated."
    gold = data.Example("q", "When?", repeated, repeated.index("1954"), "1954", "gold", "s", "a")
    assert data.answer_removed_negatives([gold], 1.0, random.Random(0)) == []
    short = "It opened in 1894. It closed."
    lone = data.Example("q", "When?", short, short.index("1894"), "1894", "gold", "s", "a")
    assert data.answer_removed_negatives([lone], 1.0, random.Random(0)) == []


def test_rate_zero_makes_none_and_unanswerable_examples_are_skipped() -> None:
    gold = _example("When did the council buy the ferry?", "1954")
    none = data.Example("q2", "Who?", CONTEXT, None, "", "unanswerable", "squad2", "Dunmore")
    assert data.answer_removed_negatives([gold], 0.0, random.Random(0)) == []
    assert data.answer_removed_negatives([none], 1.0, random.Random(0)) == []


def test_the_default_mix_makes_no_answer_removed_negatives() -> None:
    assert data.Mix().answer_removed == 0.0  # stages 1 and 2 stay reproducible
