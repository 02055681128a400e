"""rag.support with the real bundled MiniLM: paraphrases count, a missing event does not."""

from __future__ import annotations

from rag.support import support


def test_a_sentence_about_another_event_leaves_the_question_verb_uncovered(embeddings) -> None:
    got = support(
        "When was the Kestrel Point lighthouse automated?",
        "The Kestrel Point lighthouse was first lit in 1901.",
        embeddings,
    )
    assert got.weakest < 0.35  # "automated": nothing in the sentence means it


def test_a_paraphrased_verb_is_covered(embeddings) -> None:
    travel = support(
        "Which minister is travelling to Dover?",
        "The transport minister will visit Dover on Friday.",
        embeddings,
    )
    assert travel.weakest > 0.45
    founded = support(
        "When was the rowing club founded?",
        "The rowing club was established in 1911.",
        embeddings,
    )
    assert founded.weakest > 0.6


def test_support_ranks_the_sentence_that_says_it_above_the_one_that_does_not(embeddings) -> None:
    question = "When did the bakery close?"
    says = support(question, "The bakery shut its doors in 2004.", embeddings)
    other = support(question, "The bakery opened in 1950 on Mill Lane.", embeddings)
    assert says.mean > other.mean
