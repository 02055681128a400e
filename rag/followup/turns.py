"""The conversation as the resolver sees it: :class:`Turn` and the :class:`Resolution` it returns.

Data types and history parsing only; no resolving here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

log = logging.getLogger(__name__)


# ----- turns and results -------------------------------------------------------------
@dataclass(frozen=True)
class Turn:
    """One earlier exchange; ``answer`` may be empty when only questions are known."""

    question: str
    answer: str = ""
    standalone: str = ""


@runtime_checkable
class AnsweredTurn(Protocol):
    """An earlier answer as the service keeps it (:class:`rag.answer.Answer` has these)."""

    question: str
    answer: str
    standalone_question: str


def as_turns(history: Sequence[Any] | None) -> list[Turn]:
    """Accept strings, ``Turn``s, answers, {question, answer} dicts or chat messages."""
    turns: list[Turn] = []
    for item in history or []:
        if isinstance(item, Turn):
            turns.append(item)
        elif isinstance(item, AnsweredTurn):
            turns.append(Turn(item.question, item.answer, item.standalone_question))
        elif isinstance(item, str):
            turns.append(Turn(item))
        elif isinstance(item, dict) and "question" in item:
            turns.append(
                Turn(
                    str(item["question"]),
                    str(item.get("answer") or ""),
                    str(item.get("standalone") or ""),
                )
            )
        elif isinstance(item, dict) and item.get("role") == "user":
            turns.append(Turn(str(item.get("content", ""))))
        elif isinstance(item, dict) and item.get("role") == "assistant" and turns:
            last = turns.pop()
            turns.append(Turn(last.question, str(item.get("content", "")), last.standalone))
    return turns


@dataclass(frozen=True)
class Resolution:
    """How a question reads on its own.

    ``question`` has pointers replaced (scored against sentences); ``query`` is what
    retrieval gets (the same text); ``previous_answer`` is the answer the follow-up
    continues from ("" when the question stands alone).

    ``unsure`` is True when the question needed the conversation but the resolver could
    not tell what it refers to: it is then asked exactly as typed, and
    ``unresolved`` names what was left open (the pointer words, such as ``("he",)``, or
    the whole fragment of an "And ...?" question), so the page can say "I was not sure
    who *he* is, so I asked your question as you wrote it".
    """

    question: str
    query: str
    previous_answer: str = ""
    unsure: bool = False
    unresolved: tuple[str, ...] = ()
