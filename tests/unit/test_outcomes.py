"""The three outcomes of the extractive answerer, with fakes (no model, no store).

*Not found* when nothing is about the question, *not sure* when something is but no
sentence passes the rules and the verifier, *answered* otherwise; ``refused`` stays True
for both refusals so older consumers keep working.
"""

from __future__ import annotations

from rag.answer import Answer, Passage
from rag.config import REFUSAL, UNSURE, Settings
from rag.extractive import answer_extractively
from tests.fakes import HashingEmbeddings, OverlapVerifier

TEXT = (
    "# Riverside Chess Club\n\n"
    "The Riverside Chess Club was founded in 1974 by a group of teachers. "
    "It meets in the public library on Tuesday evenings. "
    "The club has about sixty members."
)


def _ask(question: str, **settings: float) -> Answer:
    start = 0
    passage = Passage(1, "club.md", "Riverside Chess Club", start, len(TEXT), 1.0, TEXT, "sha")
    values = {"refusal_threshold": 0.2, "answer_threshold": 0.5, **settings}
    config = Settings(_env_file=None, **values)
    return answer_extractively(
        question, [passage], HashingEmbeddings(), config, verifier=OverlapVerifier()
    )


def test_answered_quotes_the_sentence_with_its_short_answer() -> None:
    answer = _ask("When was the Riverside Chess Club founded?")
    assert answer.outcome == "answered" and not answer.refused
    assert answer.label == "Grounded"
    cite = answer.citations[0]
    assert cite.quote.startswith("The Riverside Chess Club was founded in 1974")
    assert cite.short_answer == "1974"
    assert TEXT[cite.answer_start : cite.answer_end] == "1974"
    assert answer.confidence is not None and answer.confidence >= 0.5


def test_unsure_keeps_the_passages_and_quotes_nothing() -> None:
    # about the club (relevant), but no sentence says who won anything in 2019
    answer = _ask("Who won the Riverside Chess Club tournament in 2019?")
    assert answer.outcome == "unsure" and answer.refused
    assert answer.answer == UNSURE and answer.citations == []
    assert answer.passages and answer.label == "Not sure"
    reasons = [c.rejected for c in answer.info.candidates]
    assert any("2019" in reason for reason in reasons)


def test_not_found_when_nothing_is_about_the_question() -> None:
    answer = _ask("What is the boiling point of mercury?", refusal_threshold=0.5)
    assert answer.outcome == "not_found" and answer.refused
    assert answer.answer == REFUSAL and answer.citations == []


def test_the_heading_is_never_the_answer() -> None:
    answer = _ask("What is the Riverside Chess Club?", answer_threshold=0.0)
    assert all(not c.quote.startswith("#") for c in answer.citations)
    rejected = [c for c in answer.info.candidates if c.rejected]
    assert any(c.text.startswith("# Riverside") for c in rejected)


def test_a_low_verifier_confidence_is_unsure_not_answered() -> None:
    answer = _ask("When was the Riverside Chess Club first founded?", answer_threshold=0.99)
    assert answer.outcome == "unsure" and answer.confidence is not None
    assert answer.confidence < 0.99


def test_old_consumers_see_refused_for_both_refusals() -> None:
    for outcome in ("unsure", "not_found"):
        answer = Answer("q", "a", False, outcome=outcome)  # type: ignore[arg-type]
        assert answer.refused
    assert Answer("q", REFUSAL, True).outcome == "not_found"


def test_the_shipped_judge_answers_without_any_model_file() -> None:
    from rag.confidence import bundled_judge_path, load_calibrator
    from rag.verifier import Verifier

    judge = bundled_judge_path()
    calibrator = load_calibrator(judge)
    assert not calibrator.uses("verifier")  # measured not to help: never loaded
    assert 0 < calibrator.threshold < 1
    assert not (judge / "model.onnx").exists()
    passage = Passage(1, "club.md", "Riverside Chess Club", 0, len(TEXT), 1.0, TEXT, "sha")
    answer = answer_extractively(
        "When was the Riverside Chess Club founded?",
        [passage],
        HashingEmbeddings(),
        Settings(_env_file=None, refusal_threshold=0.2),
        verifier=Verifier(judge),
    )
    assert answer.outcome in ("answered", "unsure")
    assert answer.confidence is not None and 0 <= answer.confidence <= 1
    assert answer.info.answer_threshold == calibrator.threshold


def test_a_calibration_that_uses_a_missing_verifier_says_what_to_do(tmp_path) -> None:
    import json

    import pytest

    from rag.confidence import Features
    from rag.errors import ModelMissingError
    from rag.verifier import Verifier

    weights = [0.0] * len(Features.names())
    weights[Features.names().index("verifier")] = 1.0
    data = {"features": Features.names(), "weights": weights, "bias": 0, "answer_threshold": 0.5}
    (tmp_path / "calibration.json").write_text(json.dumps(data))
    passage = Passage(1, "club.md", "Riverside Chess Club", 0, len(TEXT), 1.0, TEXT, "sha")
    with pytest.raises(ModelMissingError, match="make train-verifier"):
        answer_extractively(
            "When was the Riverside Chess Club founded?",
            [passage],
            HashingEmbeddings(),
            Settings(_env_file=None, refusal_threshold=0.2),
            verifier=Verifier(tmp_path),
        )


def test_a_copy_of_the_document_does_not_make_the_answer_a_close_call() -> None:
    from rag.extractive import judge
    from rag.relevance import candidates, score_candidates

    question = "When was the Riverside Chess Club founded?"
    settings = Settings(_env_file=None)
    one = Passage(1, "club.md", "Riverside Chess Club", 0, len(TEXT), 1.0, TEXT, "sha")
    copy = Passage(2, "club-v2.md", "Riverside Chess Club", 0, len(TEXT), 0.9, TEXT, "sha2")

    def features(passages: list[Passage]):
        scored = score_candidates(question, candidates(passages), HashingEmbeddings())
        best = judge(question, scored, None, settings, HashingEmbeddings())[0]
        assert best.features is not None
        return best.features

    alone, with_copy = features([one]), features([one, copy])
    assert alone.margin > 0
    assert with_copy.margin == alone.margin  # the copy says the same: it is no rival
    assert with_copy.rival_alignment == alone.rival_alignment
