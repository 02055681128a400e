"""The one shape every answerer has, so the chain never asks which kind it holds.

An :class:`Answerer` reads a question in its conversation (:meth:`~Answerer.condense`),
answers it from the retrieved passages (:meth:`~Answerer.answer`) and streams that
answer (:meth:`~Answerer.stream`: growing :class:`~rag.answer.Draft` snapshots while a
model writes, then the checked :class:`~rag.answer.Answer`, always last). Two
implement it:

* :class:`rag.answering.extractive.ExtractiveAnswerer`: the trained reader quotes the
  documents; follow-ups are read by the heuristic resolver; its stream is one answer.
* :class:`rag.answering.generate.LLMAnswerer`: a chat model writes from the passages, its
  citations are checked, and it falls back on the extractive answerer; follow-ups that
  point back are rewritten by the model (:mod:`rag.followup.rewrite`).

:func:`rag.answering.factory.make_answerer` picks one from the provider registry in
:mod:`rag.llm.registry`. This module defines the protocol and the heuristic reading of
follow-ups both answerers share; it does not retrieve, answer or build models.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol, runtime_checkable

from rag.answer import Answer, Draft, Passage
from rag.followup import Resolution, resolve

Condensed = tuple[Resolution, str]  # the resolution, and how it was made


@runtime_checkable
class Answerer(Protocol):
    """Anything that reads a question in its conversation and answers it from passages."""

    def condense(self, question: str, history: Sequence[Any] | None) -> Condensed:
        """How *question* reads on its own after *history*, and how that was decided.

        The second item is ``unchanged``, ``heuristic``, ``model``, ``heuristic: why``
        (a model's rewrite refused) or ``unsure: pointers`` (asked as typed).
        """
        ...

    def answer(self, question: str, passages: Sequence[Passage]) -> Answer:
        """Grounded, not sure or not found for *question* over *passages*."""
        ...

    def stream(
        self, question: str, passages: Sequence[Passage], *, started: float | None = None
    ) -> Iterator[Answer | Draft]:
        """Drafts while the answer is written (none when it arrives whole), then the answer.

        *started* (a ``perf_counter`` value) is when the question arrived: a time to first
        token is measured from it.
        """
        ...


def resolve_followup(question: str, history: Sequence[Any] | None) -> Condensed:
    """The heuristic reading (:func:`rag.followup.resolve`), labelled for the answer's info."""
    resolution = resolve(question, history)
    how = "unchanged" if resolution.query == question else "heuristic"
    if resolution.unsure:  # asked as typed: say what could not be resolved
        how = "unsure: " + ", ".join(resolution.unresolved)
    return resolution, how
