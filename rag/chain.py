"""The question-answering pipeline as a LangChain LCEL runnable.

``build_chain`` returns ``condense | retrieve | answer``: it takes
``{"question": str, "history": [...], "k": int (optional)}`` and returns an
:class:`~rag.answer.Answer`; ``invoke``, ``batch``, ``stream`` and their async
forms come from LCEL. Each step records its time in ``timings_ms``.

Without a chat model the answer step is the extractive answerer
(:mod:`rag.answering`: the trained reader and the decision). With one
(:mod:`rag.llm`), follow-ups that depend on the history are condensed by the model
(:mod:`rag.condense`, guarded), and the answer step is a generator
(:func:`rag.generate.stream_answer`): ``stream`` yields growing
:class:`~rag.answer.Draft` snapshots and then the checked :class:`~rag.answer.Answer`;
``invoke`` returns the checked answer (LCEL keeps the last of a generator's outputs
when they cannot be added, and neither type can).

This module wires steps together; it does not score sentences or talk to Chroma.
"""

from __future__ import annotations

import asyncio
import logging
import time
import unicodedata
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable, RunnableLambda

from rag.answer import Answer, Draft, Passage, elapsed_ms
from rag.config import Settings
from rag.embeddings import Encoder
from rag.errors import QuestionError
from rag.followup import Resolution, depends_on_history, resolve
from rag.retrieval import HybridRetriever

if TYPE_CHECKING:
    from rag.answering.extractive import ExtractiveAnswerer

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
    retriever: HybridRetriever,
    embeddings: Encoder,
    settings: Settings,
    answerer: ExtractiveAnswerer,
    llm: BaseChatModel | None = None,
) -> Runnable[dict[str, Any], Answer | Draft]:
    """The LCEL pipeline: condense follow-up -> hybrid retrieve -> answer (+ check)."""

    def condense_step(inputs: dict[str, Any]) -> ChainState:
        started = time.perf_counter()
        question = clean_question(inputs.get("question"), settings.max_question_chars)
        history = inputs.get("history")
        if llm is not None and history and depends_on_history(question):
            from rag.condense import condense_with_model

            resolution, how = condense_with_model(question, history, llm)
        else:
            resolution = resolve(question, history)
            how = "unchanged" if resolution.query == question else "heuristic"
            if resolution.unsure:  # asked as typed: say what could not be resolved
                how = "unsure: " + ", ".join(resolution.unresolved)
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
        question, standalone, mode = turn.question, turn.standalone, settings.llm
        if isinstance(made, Draft):
            return replace(made, question=question, standalone_question=standalone, mode=mode)
        answer = replace(made, question=question, standalone_question=standalone, mode=mode)
        answer = replace(answer, info=replace(answer.info, condensed_by=turn.condensed_by))
        timings = {
            "condense": turn.condense_ms,
            "retrieve": turn.retrieve_ms,
            "answer": elapsed_ms(started),
            "total": elapsed_ms(turn.started),
        }
        if "first_token" not in answer.timings_ms:  # extractive: all words arrive at once
            timings["first_token"] = timings["total"]
        return answer.with_timings(**timings)

    def answer_step(turn: ChainState) -> Iterator[Answer | Draft]:
        started = time.perf_counter()
        resolution = turn.resolution
        if llm is None:
            answer = answerer.answer(resolution.question, turn.passages)
            yield stamp(answer, turn, started)
            return
        from rag.generate import stream_answer

        for made in stream_answer(
            resolution.question,
            turn.passages,
            llm,
            embeddings,
            settings,
            fallback=answerer,
            started=turn.started,
        ):
            yield stamp(made, turn, started)

    return (
        RunnableLambda(condense_step, name="condense")
        | RunnableLambda(retrieve_step, name="retrieve")
        | RunnableLambda(answer_step, afunc=_async_of(answer_step), name="answer")
    ).with_config(run_name="rag_chain")
