"""The answer types: three constructors, ``refused`` derived, drafts apart, JSON unchanged.

``tests/data/answers-before-issue-28.jsonl`` holds three answers (grounded, not sure,
not found, about a made-up ferry) exactly as the version before these types wrote them
with ``json.dumps(answer.to_dict(), ensure_ascii=False)``: stored conversations and
exports hold the same text, so reading and writing them again must give the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.answer import JSON_KEYS, Answer, Draft, Passage, draft_deltas
from rag.config import REFUSAL, UNSURE

STORED = Path(__file__).parents[1] / "data" / "answers-before-issue-28.jsonl"
TEXT = "The ferry to Ashwick leaves every 40 minutes. Tickets cost £3."
PASSAGE = Passage(1, "ferry.md", "Ashwick ferry", 0, len(TEXT), 0.7, TEXT, "sha", 0.61)


def _stored() -> list[str]:
    return STORED.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("line", _stored(), ids=["answered", "unsure", "not_found"])
def test_answers_stored_by_the_previous_version_are_written_back_byte_for_byte(line) -> None:
    answer = Answer.from_dict(json.loads(line))
    assert json.dumps(answer.to_dict(), ensure_ascii=False) == line


def test_stored_answers_keep_their_outcome_and_refusal() -> None:
    answers = [Answer.from_dict(json.loads(line)) for line in _stored()]
    assert [(a.outcome, a.refused) for a in answers] == [
        ("answered", False),
        ("unsure", True),
        ("not_found", True),
    ]
    cite = answers[0].citations[0]
    assert TEXT[cite.start : cite.end] == cite.quote and cite.heading == "Timetable"
    assert answers[1].passages == [answers[0].passages[0]] and answers[1].citations == []


def test_json_has_refused_and_complete_in_their_old_places() -> None:
    data = Answer.unsure("Who skippers it?", passages=[PASSAGE]).to_dict()
    assert tuple(data) == JSON_KEYS
    assert data["refused"] is True and data["complete"] is True
    assert data["outcome"] == "unsure" and data["answer"] == UNSURE


@pytest.mark.parametrize(("refused", "outcome"), [(True, "not_found"), (False, "answered")])
def test_answers_from_before_there_were_three_outcomes_read_refused(refused, outcome) -> None:
    old = {"question": "q", "answer": "a", "refused": refused, "citations": [], "passages": []}
    assert Answer.from_dict(old).outcome == outcome


def test_each_constructor_gives_its_outcome_and_refused_follows() -> None:
    grounded = Answer.answered("How often?", "Every 40 minutes. [1]", citations=[])
    unsure = Answer.unsure("Who skippers it?", passages=[PASSAGE], confidence=0.41)
    missing = Answer.not_found("Capital of Peru?")
    assert (grounded.outcome, grounded.refused, grounded.label) == ("answered", False, "Grounded")
    assert (unsure.outcome, unsure.refused, unsure.label) == ("unsure", True, "Not sure")
    assert (missing.outcome, missing.refused, missing.answer) == ("not_found", True, REFUSAL)
    assert unsure.passages == [PASSAGE] and unsure.confidence == 0.41
    assert all(a.complete for a in (grounded, unsure, missing))


def test_answers_are_built_by_keyword_only() -> None:
    with pytest.raises(TypeError):
        Answer("q", "a", "answered")  # type: ignore[misc]


def test_a_draft_is_not_an_answer_and_cannot_be_added() -> None:
    draft = Draft(question="How often?", answer="Every 40", passages=[PASSAGE])
    assert not draft.complete and not hasattr(draft, "to_dict")
    with pytest.raises(TypeError):
        draft + Answer.not_found("How often?")  # type: ignore[operator]
    done: list[Answer] = []
    final = Answer.not_found("How often?")
    assert list(draft_deltas([draft, final], done)) == ["Every 40"] and done == [final]
