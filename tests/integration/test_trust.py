"""Trust on documents nobody tuned for: the real model, the trained reader, real Chroma.

The documents in tests/data/ were written for these tests (a town history, a gardening
guide, a report with Markdown headings, a club history). Each question either has its
answer in them (it must be answered, with the right words highlighted) or has not (it
must come back *not sure* or *not found*, never a grounded quote).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.conftest import known_reader_failure as known

pytestmark = pytest.mark.integration

DATA = ROOT / "tests" / "data"


NOT_ANSWERED = [
    "Who won the Ferry Festival boat race in 2019?",  # the race is described, no winner
    pytest.param(  # only the heading names the town
        "Who founded Ashwick Ferry?", marks=known("quotes the monks who ran it (0.88)")
    ),
    "Who wrote the guide to growing tomatoes?",  # only the title
    pytest.param(  # first lit in 1868, never automated
        "When was the Gannet Rock lighthouse automated?", marks=known("quotes 1868 (0.75)")
    ),
    pytest.param(
        "How many people work at the Ashwick Heritage Centre?",
        marks=known("quotes the 2,000 mill jobs lost (0.86)"),
    ),
    "When will the breakwater be finished?",
    "Who was the first president of the Riverside Chess Club?",
    # Issue 26 (title and heading paths in what retrieval indexes, text re-flowed): no
    # longer quotes the national government's £9 million.
    "How much will the town council pay for the breakwater?",
    "What is the capital of Peru?",
]
ANSWERED = [
    ("Who designed the Lunt Bridge?", "Margaret Holloway"),
    ("When did the Lunt Bridge open?", "1887"),
    ("How many people lost their jobs when the paper mill closed?", "2,000"),
    ("When was the Riverside Chess Club founded?", "1974"),
    ("How long will the breakwater be?", "240 metres"),
]


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory, embeddings):
    from rag.config import Settings
    from rag.service import Assistant

    tmp = tmp_path_factory.mktemp("trust")
    shutil.copytree(DATA, tmp / "docs")
    old = Path.cwd()
    os.chdir(tmp)
    try:
        settings = Settings(
            _env_file=None, store={"store_dir": tmp / "store", "seeds_dir": tmp / "docs"}
        )
        helper = Assistant(settings, embeddings=embeddings)
        helper.ingest()
    finally:
        os.chdir(old)
    return helper


@pytest.mark.parametrize("question", NOT_ANSWERED)
def test_questions_the_documents_do_not_answer_are_not_grounded(assistant, question: str) -> None:
    answer = assistant.ask(question)
    assert answer.outcome in ("unsure", "not_found"), (answer.answer, answer.confidence)
    assert answer.refused and not answer.citations
    if answer.outcome == "unsure":
        assert answer.passages  # the closest passages are there to read


def test_most_questions_the_documents_answer_are_answered(assistant) -> None:
    outcomes = {q: assistant.ask(q).outcome for q, _ in ANSWERED}
    assert list(outcomes.values()).count("answered") >= 4, outcomes  # measured 4 of 5


@pytest.mark.parametrize(("question", "expected"), ANSWERED)
def test_questions_the_documents_answer_are_answered_with_the_words(
    assistant, question: str, expected: str
) -> None:
    answer = assistant.ask(question)
    assert answer.outcome != "not_found", answer.info
    if answer.outcome == "unsure":  # allowed (see the share test): the answer leads the passages
        assert expected in answer.passages[0].text and not answer.citations
        return
    assert expected in answer.answer
    first = answer.citations[0]
    assert expected in first.short_answer
    source = assistant.document_text(first.source)
    assert source[first.answer_start : first.answer_end] == first.short_answer
    assert 0 < (answer.confidence or 0) <= 1


@known("quotes 'four' rowers from the sentence saying the race was first held in 1952 (0.82)")
def test_a_sentence_that_does_not_say_who_won_is_not_grounded(assistant) -> None:
    # "The race was first held in 1952 and is open to any crew of four rowers." holds a
    # number and the year the question asks about, but says nothing of who won.
    assert assistant.ask("How many rowers won the 1952 race?").outcome != "answered"


def test_headings_are_never_quoted(assistant) -> None:
    for question in ("What is the harbour improvement report about?", "What are the costs?"):
        answer = assistant.ask(question)
        for cite in answer.citations:
            assert not cite.quote.lstrip().startswith("#"), cite.quote
            assert "\n" not in cite.quote
