"""rag.conversations.labels: sidebar labels that never read the same when cut."""

from __future__ import annotations

from rag.conversations.labels import LABEL_CHARS, distinct_labels

LONDON = "What is the hotel limit for a night in London?"
AUSTIN = "What is the hotel limit for a night in Austin?"


def test_titles_sharing_their_visible_start_show_where_they_differ() -> None:
    london, austin = distinct_labels([LONDON, AUSTIN])
    assert london[:LABEL_CHARS] != austin[:LABEL_CHARS]
    assert london == "What is the…London?" and austin == "What is the…Austin?"


def test_titles_whose_start_is_their_own_are_kept_whole() -> None:
    titles = [LONDON, "Who will visit Calais on Thursday and why?", "Short one"]
    assert distinct_labels(titles) == titles
    assert distinct_labels([LONDON, LONDON]) == [LONDON, LONDON]  # the dates tell them apart


def test_a_long_differing_tail_is_cut_to_the_width_at_a_word() -> None:
    long = "What is the hotel limit for a night in Austin, Texas, in the summer months?"
    labels = distinct_labels([LONDON, long])
    assert all(len(label) <= LABEL_CHARS for label in labels)
    assert labels[1] == "What is…Austin, Texas,…" and len(set(labels)) == 2
