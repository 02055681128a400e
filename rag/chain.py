"""The question-answering pipeline as a LangChain LCEL runnable.

``build_chain`` returns ``condense | retrieve | answer``: it takes
``{"question": str, "history": [...], "k": int (optional)}`` and returns an
:class:`~rag.answer.Answer`; ``invoke``, ``batch``, ``stream`` and their async
forms come from LCEL. Each step records its time in ``timings_ms``.

The chain holds one :class:`~rag.answering.protocol.Answerer` (made from the provider
registry by :func:`rag.answering.factory.make_answerer`) and never asks which kind it
is: the answerer reads the follow-up (the heuristic resolver, or a chat model's guarded
rewrite, :mod:`rag.followup.rewrite`) and answers. The extractive answerer's stream is its one
:class:`~rag.answer.Answer`; the LLM answerer's (:class:`rag.answering.generate.LLMAnswerer`)
yields growing :class:`~rag.answer.Draft` snapshots and then the checked answer.
``invoke`` returns the answer (LCEL keeps the last of a generator's outputs when they
cannot be added, and neither type can).

This module wires steps together; it does not score sentences or talk to Chroma.
"""

from __future__ import annotations

import asyncio
import logging
import time
import unicodedata
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from langchain_core.runnables import Runnable, RunnableLambda

from rag.answer import Answer, Draft, Passage, elapsed_ms
from rag.answering.protocol import Answerer
from rag.config import Settings
from rag.errors import QuestionError
from rag.followup import Resolution
from rag.retrieval.hybrid import HybridRetriever

log = logging.getLogger(__name__)


def clean_question(question: Any, max_chars: int) -> str:
    """Strip control characters and outer space; reject empty or over-long input."""
    if not isinstance(question, str):
        raise QuestionError("The question must be text.")
    text = "".join(
        ch if unicodedata.category(ch)[0] != "C" or ch in "\n\t" else " " for ch in question
    )
    text = " ".join(text.split())
    if not text:
        raise QuestionError("Please type a question.")
    if len(text) > max_chars:
        raise QuestionError(
            f"The question is {len(text):,} characters long; please keep it under "
            f"{max_chars:,} (RAG_MAX_QUESTION_CHARS)."
        )
    return text


@dataclass(frozen=True)
class ChainState:
    """What flows between the steps: the cleaned question, how it was understood,
    the passages found, and when each step started or how long it took (ms)."""

    question: str
    history: Sequence[Any] | None
    k: int | None
    resolution: Resolution
    condensed_by: str  # "unchanged", "heuristic", "model" or "heuristic: why"
    started: float  # perf_counter() when the question arrived
    condense_ms: float
    passages: list[Passage] = field(default_factory=list)
    retrieve_ms: float = 0.0

    @property
    def standalone(self) -> str:
        """The question as retrieval sees it (follow-up resolved)."""
        return self.resolution.query


def _async_of(
    func: Callable[[ChainState], Iterator[Answer | Draft]],
) -> Callable[[ChainState], AsyncIterator[Answer | Draft]]:
    """An async generator running the sync one in a worker thread, item by item."""
    done = object()

    async def agen(inputs: ChainState) -> AsyncIterator[Answer | Draft]:
        items = func(inputs)
        while (item := await asyncio.to_thread(next, items, done)) is not done:
            yield item  # type: ignore[misc]

    return agen


def build_chain(
    retriever: HybridRetriever, settings: Settings, answerer: Answerer
) -> Runnable[dict[str, Any], Answer | Draft]:
    """The LCEL pipeline: condense follow-up -> hybrid retrieve -> answer (+ check)."""

    def condense_step(inputs: dict[str, Any]) -> ChainState:
        started = time.perf_counter()
        question = clean_question(inputs.get("question"), settings.limits.question_chars)
        history = inputs.get("history")
        resolution, how = answerer.condense(question, history)
        k = inputs.get("k")
        return ChainState(
            question,
            history,
            int(k) if k else None,
            resolution,
            how,
            started,
            elapsed_ms(started),
        )

    def retrieve_step(turn: ChainState) -> ChainState:
        started = time.perf_counter()
        docs = retriever.search(turn.standalone, turn.k or retriever.k)
        passages = [Passage.from_document(d) for d in docs]
        return replace(turn, passages=passages, retrieve_ms=elapsed_ms(started))

    def stamp(made: Answer | Draft, turn: ChainState, started: float) -> Answer | Draft:
        """The pipeline's view: original question, resolved question, mode, timings."""
        made = replace(
            made,
            question=turn.question,
            standalone_question=turn.standalone,
            mode=settings.llm.provider,
        )
        if isinstance(made, Draft):
            return made
        answer = replace(made, info=replace(made.info, condensed_by=turn.condensed_by))
        timings = {
            "condense": turn.condense_ms,
            "retrieve": turn.retrieve_ms,
            "answer": elapsed_ms(started),
            "total": elapsed_ms(turn.started),
        }
        if "first_token" not in answer.timings_ms:  # arrived whole: all words at once
            timings["first_token"] = timings["total"]
        return answer.with_timings(**timings)

    def answer_step(turn: ChainState) -> Iterator[Answer | Draft]:
        started = time.perf_counter()
        question = turn.resolution.question
        for made in answerer.stream(question, turn.passages, started=turn.started):
            yield stamp(made, turn, started)

    return (
        RunnableLambda(condense_step, name="condense")
        | RunnableLambda(retrieve_step, name="retrieve")
        | RunnableLambda(answer_step, afunc=_async_of(answer_step), name="answer")
    ).with_config(run_name="rag_chain")
