"""How an answer reads in an interface: its words as the documents show them, and its check.

:func:`answer_text` is an answer's text as a reader should see it (an extractive
answer's quotes re-flowed: a hard-wrapped line break is a space, offsets unchanged);
:func:`check_note` says in one sentence what the citation check did to a generated answer.

It renders nothing (no Markdown, no terminal codes): the interfaces' own helpers do.
"""

from __future__ import annotations

from rag.answer import Answer
from rag.documents.structure import reflow

__all__ = ["answer_text", "check_note"]


def answer_text(answer: Answer) -> str:
    """The answer's words; an extractive answer's quotes re-flowed (same length)."""
    return reflow(answer.answer) if answer.mode == "extractive" else answer.answer


def check_note(answer: Answer) -> str:
    """What the citation check did to a generated answer, in one sentence."""
    from rag.answering.generate import (
        check_note as note,  # LangChain loads only with a model's answer
    )

    return note(answer)
