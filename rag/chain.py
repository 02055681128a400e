"""The question-answering pipeline as a LangChain LCEL runnable.

``build_chain`` returns ``condense | retrieve | answer``: it takes
``{"question": str, "history": [...], "k": int (optional)}`` and returns an
:class:`~rag.answer.Answer`; ``invoke``, ``batch``, ``stream`` and their async
forms come from LCEL. Each step records its time in ``timings_ms``.

This module wires steps together; it does not score sentences or talk to Chroma.
"""

from __future__ import annotations

import logging
import time
import unicodedata
from typing import Any

from langchain_core.runnables import Runnable, RunnableLambda

from rag.answer import Answer, Passage
from rag.config import Settings
from rag.embeddings import SentenceTransformerEmbeddings
from rag.errors import QuestionError
from rag.extractive import answer_extractively
from rag.followup import resolve
from rag.retrieval import HybridRetriever

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


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


def build_chain(
    retriever: HybridRetriever, embeddings: SentenceTransformerEmbeddings, settings: Settings
) -> Runnable[dict[str, Any], Answer]:
    """The LCEL pipeline: condense follow-up -> hybrid retrieve -> extractive answer."""

    def condense_step(inputs: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        question = clean_question(inputs.get("question"), settings.max_question_chars)
        resolution = resolve(question, inputs.get("history"))
        return {
            **inputs,
            "resolution": resolution,
            "standalone": resolution.query,
            "question": question,
            "t_condense": _ms(started),
            "t0": started,
        }

    def retrieve_step(inputs: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        docs = retriever.search(inputs["standalone"], int(inputs.get("k") or retriever.k))
        passages = [Passage.from_document(d) for d in docs]
        return {**inputs, "passages": passages, "t_retrieve": _ms(started)}

    def answer_step(inputs: dict[str, Any]) -> Answer:
        started = time.perf_counter()
        resolution = inputs["resolution"]
        answer = answer_extractively(
            resolution.question,
            inputs["passages"],
            embeddings,
            settings,
            resolution.previous_answer,
        )
        answer = Answer(
            question=inputs["question"],
            answer=answer.answer,
            refused=answer.refused,
            citations=answer.citations,
            passages=answer.passages,
            standalone_question=inputs["standalone"],
            info=answer.info,
        )
        return answer.with_timings(
            condense=inputs["t_condense"],
            retrieve=inputs["t_retrieve"],
            answer=_ms(started),
            total=_ms(inputs["t0"]),
        )

    return (
        RunnableLambda(condense_step, name="condense")
        | RunnableLambda(retrieve_step, name="retrieve")
        | RunnableLambda(answer_step, name="answer")
    ).with_config(run_name="rag_chain")
