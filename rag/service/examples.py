"""Example questions for an empty conversation: drawn from the documents, kept if answered.

:func:`answered_examples` draws candidate questions from the documents' own text
(:func:`rag.conversations.example_questions`) and asks each; only those answered
Grounded (outcome ``answered``) are offered: an example that gets "not sure" teaches a
new reader the wrong thing.

It does not cache (the page caches per set of documents) and renders nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from rag.answer import Answer
from rag.errors import RagError

__all__ = ["answered_examples"]


class Asks(Protocol):
    """What drawing examples needs: the documents' text, and answers to questions."""

    def document_text(self, source: str) -> str:
        """Full text of an ingested document."""
        ...

    def ask(self, question: str) -> Answer:
        """The answer to *question* from the documents."""
        ...


def answered_examples(
    assistant: Asks, sources: Sequence[tuple[str, str]], candidates: int, wanted: int
) -> list[str]:
    """Up to *wanted* questions from *sources* ((source, name) pairs) that *assistant* answers.

    At most *candidates* questions are drawn and asked, in order, stopping once *wanted*
    are found. A document that cannot be read, and a question that fails, offer none.
    """
    from rag.conversations import example_questions

    texts: list[tuple[str, str]] = []
    for source, name in sources:
        try:
            texts.append((name, assistant.document_text(source)))
        except RagError:
            continue
    kept: list[str] = []
    for question in example_questions(texts, candidates):
        try:
            answer = assistant.ask(question)
        except RagError:
            continue
        if answer.outcome == "answered":
            kept.append(question)
        if len(kept) == wanted:
            break
    return kept
