"""rag.conversations.starters: example questions as a person would ask them.

On documents that are not the bundled article: the newcomer FAQ (plain text), travel
policy (Markdown) and museum page (HTML), and small texts written here.
"""

from __future__ import annotations

from rag.conversations import example_questions
from rag.documents import load_file
from tests.conftest import ROOT

NEWCOMER = ROOT / "tests" / "newcomer"


def document(name: str) -> tuple[str, str]:
    loaded = load_file(NEWCOMER / name, 10_000_000)
    return loaded.title, loaded.text


def test_an_faqs_questions_are_offered_as_they_are_written() -> None:
    questions = example_questions([document("grinder-faq.txt")], n=5)
    assert questions == [
        "What burrs does the Mini M18 use?",
        "How do I clean the burrs?",
        "How much coffee does it hold?",
        "Is there a warranty?",
        "Where is it made?",
    ]


def test_label_lines_become_what_is_the_label() -> None:
    title, text = document("travel-expense-policy.md")
    questions = example_questions([(title, text)], n=8)
    assert questions[0] == "What is the effective date?"  # from **Effective date:** 1 March
    # One-word labels ("Owner", "London", "Breakfast") say too little to ask about.
    assert not any(word in q for q in questions for word in ("owner", "London", "breakfast"))
    assert example_questions([document("harlow-museum.html")]) == ["What is the family ticket?"]


def test_no_question_carries_markup_headings_or_faq_prefixes() -> None:
    docs = [document(n) for n in ("travel-expense-policy.md", "grinder-faq.txt")]
    docs.append(("Notes", "# Notes\n\n## 1. Purpose and scope\n\nQ1. Which setting do I use?\n"))
    questions = example_questions(docs, n=20)
    assert "Which setting do I use?" in questions
    for question in questions:
        assert not set(question) & set("*#|[]`"), question
        assert not question.startswith(("Q", "What does")), question
        assert "Purpose and scope" not in question and question.endswith("?")


def test_a_markdown_heading_that_asks_is_a_question_a_link_its_text() -> None:
    text = "# Help\n\n## How do I reset the [router](https://example.org/r)?\n\nHold the button.\n"
    assert example_questions([("Help", text)]) == ["How do I reset the router?"]


def test_a_sentence_with_an_auxiliary_still_makes_a_question() -> None:
    text = "Ferry news\n\nThe Ashwick ferry will reopen the north slipway in May.\n"
    assert example_questions([("Ferry news", text)]) == ["What will the Ashwick ferry reopen?"]
