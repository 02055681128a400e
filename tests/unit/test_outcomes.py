"""The three outcomes of the extractive answerer, with a fake reader (no model, no store).

*Grounded* when the decision's confidence in the best candidate reaches the answer
threshold (its unit quoted, its span the short answer); *Not sure* below it when some
passage is close to the question; *Not found* when none is. ``refused`` stays True for
both refusals so older consumers keep working.
"""

from __future__ import annotations

import json

import pytest

from rag.answer import Answer, Passage
from rag.answering.decision import Signals, load_decision
from rag.answering.extractive import Candidate, answer_extractively, locate, same_answer, signals
from rag.answering.spans import SpanScore
from rag.config import REFUSAL, UNSURE, Settings
from rag.errors import ModelMissingError
from tests.fakes import GAP_DECISION, OverlapReader

TEXT = (
    "# Riverside Chess Club\n\n"
    "The Riverside Chess Club was founded in 1974 by a group of teachers. "
    "It meets in the public library on Tuesday evenings. "
    "The club has about sixty members.\n"
    "Q: When does the Riverside Chess Club meet?\n"
    "Membership fee: £12 a year\n"
)


def _passage(dense: float = 0.6) -> Passage:
    return Passage(1, "club.md", "Riverside Chess Club", 0, len(TEXT), 1.0, TEXT, "sha", dense)


def _ask(question: str, dense: float = 0.6, **settings: dict[str, float]) -> Answer:
    config = Settings(_env_file=None, **settings)
    return answer_extractively(question, [_passage(dense)], OverlapReader(), GAP_DECISION, config)


def test_answered_quotes_the_unit_with_the_readers_span() -> None:
    answer = _ask("When was the Riverside Chess Club founded?")
    assert answer.outcome == "answered" and not answer.refused
    assert answer.label == "Grounded"
    cite = answer.citations[0]
    assert cite.quote == "The Riverside Chess Club was founded in 1974 by a group of teachers."
    assert TEXT[cite.start : cite.end] == cite.quote
    assert cite.short_answer == "1974"
    assert TEXT[cite.answer_start : cite.answer_end] == "1974"
    assert answer.answer == f"{cite.quote} [1]"
    assert answer.confidence is not None and answer.confidence >= 0.5


def test_a_label_line_is_an_answer_and_its_line_is_the_citation() -> None:
    answer = _ask("How much is the membership fee?")
    assert answer.outcome == "answered"
    assert answer.citations[0].quote == "Membership fee: £12 a year"


def test_a_question_line_is_never_the_answer() -> None:
    # the FAQ's own question line repeats every word: it would win, but cannot answer
    answer = _ask("When does the Riverside Chess Club meet?")
    assert all(not c.quote.endswith("?") for c in answer.citations)
    assert all(not n.text.endswith("?") for n in answer.info.candidates)


def test_below_the_threshold_is_unsure_with_the_passages_and_no_quote() -> None:
    answer = _ask("When was the Riverside Chess Club founded?", answer={"threshold": 0.999})
    assert answer.outcome == "unsure" and answer.refused
    assert answer.answer == UNSURE and answer.citations == []
    assert answer.passages and answer.label == "Not sure"
    assert answer.confidence is not None and answer.confidence < 0.999
    assert answer.info.candidates[0].short_answer == "1974"  # the explanation keeps it


def test_not_found_when_no_passage_is_close_in_meaning() -> None:
    answer = _ask("What is the boiling point of mercury?", dense=0.01)
    assert answer.outcome == "not_found" and answer.refused
    assert answer.answer == REFUSAL and answer.citations == []


def test_the_refusal_threshold_setting_overrides_the_decisions() -> None:
    answer = _ask(
        "What is the boiling point of mercury?", dense=0.3, answer={"refusal_threshold": 0.5}
    )
    assert answer.outcome == "not_found"
    assert _ask("What is the boiling point of mercury?", dense=0.3).outcome == "unsure"


def test_the_heading_is_never_the_answer() -> None:
    answer = _ask("What is the Riverside Chess Club?", answer={"threshold": 0.0})
    assert all(not c.quote.startswith("#") for c in answer.citations)


def test_no_passages_means_not_found() -> None:
    answer = answer_extractively(
        "Anything?", [], OverlapReader(), GAP_DECISION, Settings(_env_file=None)
    )
    assert answer.outcome == "not_found" and answer.answer == REFUSAL


def test_old_consumers_see_refused_for_both_refusals() -> None:
    assert Answer.unsure("q").refused and Answer.not_found("q").refused
    assert not Answer.answered("q", "Founded in 1974. [1]", citations=[]).refused
    assert Answer.unsure("q").answer == UNSURE and Answer.not_found("q").answer == REFUSAL


def test_the_shipped_decision_loads_and_matches_the_signals(tmp_path) -> None:
    from rag.answering.reader import bundled_reader_path

    decision = load_decision(bundled_reader_path())
    assert len(decision.weights) == len(Signals.names())
    assert 0 < decision.answer_threshold < 1
    (tmp_path / "decision.json").write_text(json.dumps({"signals": ["old"], "weights": [1]}))
    with pytest.raises(ModelMissingError, match="make train-reader"):
        load_decision(tmp_path)


def _candidate(passage: Passage, start: int, end: int, score: float) -> Candidate:
    span = SpanScore(0, 0, start, end, score, 0.0, 1.0, 0.5)
    return locate([span], [passage])[0]


def test_a_span_and_its_own_sub_span_are_one_answer_not_rivals() -> None:
    text = "The harbour board is chaired by Captain Morwenna Treloar since 2019."
    passage = Passage(1, "board.txt", "Board", 0, len(text), 1.0, text, "sha", 0.5)
    other = Passage(2, "news.txt", "News", 100, 100 + len(text), 1.0, text, "sha2", 0.4)
    full = _candidate(passage, text.index("Captain"), text.index(" since"), 6.0)
    name = _candidate(passage, text.index("Morwenna"), text.index(" since"), 5.0)
    elsewhere = _candidate(other, text.index("Morwenna"), text.index(" since"), 4.0)
    year = _candidate(passage, text.index("2019"), text.index("2019") + 4, 2.0)
    assert same_answer(full, name) and same_answer(full, elsewhere)
    assert not same_answer(full, year)
    spans = [c.span for c in (full, name, elsewhere, year)]
    sig = signals(full, [full, name, elsewhere, year], spans)
    assert sig.lead == 4.0  # over "2019", the only different answer
    assert sig.agreement == 1.0  # the other document says the same name
