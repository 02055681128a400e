"""rag.alignment_features: the judge's alignment facts, on text written for the tests."""

from __future__ import annotations

from rag.alignment_features import align, content_words, has_word, negates_asked, vocabulary
from rag.answer import Passage
from rag.relevance import Scored, candidates
from tests.fakes import HashingEmbeddings

TEXT = (
    "The Kestrel Point lighthouse was first lit in 1901. "
    "The lighthouse was automated in 1987 after the last keeper retired. "
    "The keepers never departed from the rock in winter."
)


def _scored(dense: float = 0.5) -> list[Scored]:
    passage = Passage(1, "light.md", "Kestrel Point", 0, len(TEXT), 1.0, TEXT, "sha", dense, 1.0)
    found = candidates([passage])
    return [Scored(c, 0.9 - 0.1 * i, 0.7 - 0.1 * i, 0.5) for i, c in enumerate(found)]


def test_word_matching_is_by_root_and_long_prefix() -> None:
    vocab = vocabulary("The keepers retired after automating the lights.")
    assert has_word("keeper", vocab) and has_word("automated", vocab)
    assert has_word("retirement", vocab)  # shares the 4+ letter stem "reti..."
    assert not has_word("painted", vocab)


def test_content_words_drop_stop_and_asking_words() -> None:
    assert content_words("How many keepers did the Kestrel Point light have?") == [
        "keepers", "Kestrel", "Point", "light",
    ]  # fmt: skip


def test_a_rival_that_says_the_question_verb_counts_against_a_sentence_that_does_not() -> None:
    scored = _scored()
    first_lit, automated, _ = scored
    question = "When was the Kestrel Point lighthouse automated?"
    against = align(question, first_lit, scored, scored, HashingEmbeddings())
    assert against.rival_alignment > 0  # the 1987 sentence holds "automated"
    own = align(question, automated, scored, scored, HashingEmbeddings())
    assert own.rival_alignment <= 0
    assert own.support_mean == 1.0 and own.support_weakest == 1.0


def test_negation_opposites_and_names_are_seen() -> None:
    scored = _scored()
    *_, winter = scored
    facts = align(
        "When did the Osprey keepers not leave the rock?",
        winter,
        scored,
        scored,
        HashingEmbeddings(),
    )
    assert facts.negated_question == 1.0
    assert facts.names_missing == 1.0  # "Osprey" is not in the sentence
    opposite = align("Who arrived at the rock?", winter, scored, scored, HashingEmbeddings())
    assert opposite.opposite_in_sentence == 1.0  # "departed" is the opposite of "arrived"
    assert opposite.sentence_negates == 0.0


def test_a_sentence_that_negates_what_the_question_states() -> None:
    sentence = "The causes of the harbour fire are not fully understood."
    assert negates_asked("What is fully understood about the harbour fire?", sentence)
    assert not negates_asked("What is not understood about the harbour fire?", sentence)
    assert not negates_asked("What caused the harbour fire?", "The fire was caused by a lamp.")
    assert negates_asked("Which lamps are specific to the rock?", "The lamps are non-specific.")
    assert negates_asked("Who could leave the island?", "The keepers couldn't leave the island.")
    # the same "non-" word in the question is stated plainly, not negated
    assert not negates_asked(
        "How do cells tell self from non-self?", "Cells tell self from non-self by markers."
    )
    # a negation far from the word does not negate it
    assert not negates_asked(
        "Who repaired the lamp?", "No storm came that year and the keeper repaired the lamp."
    )


def test_meaning_over_the_passages_and_short_answer_length() -> None:
    scored = _scored(dense=0.5)
    _, automated, _ = scored
    facts = align("When was the light automated?", automated, scored, scored, HashingEmbeddings())
    assert facts.semantic_over_passages == automated.semantic - 0.5
    assert 0 < facts.short_answer_length <= 1  # "in 1987"
