"""The extractive and the LLM answerer behind one protocol, chosen from the registry.

Issue 28 item 3: the chain holds an :class:`~rag.answering.protocol.Answerer` made by
:func:`rag.answering.factory.make_answerer` from the provider's registry entry, and
never asks which kind it is. The text is a made-up tram notice (not the Calais
article); the extractive answerer reads with the fake ``OverlapReader``, the LLM one
writes with LangChain's fake chat model, and its citation check uses the real MiniLM.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from rag.answer import Answer, Draft, Passage
from rag.answering.extractive import ExtractiveAnswerer
from rag.answering.factory import BUILDERS, make_answerer
from rag.answering.generate import LLMAnswerer
from rag.answering.protocol import Answerer, Condensed, resolve_followup
from rag.chain import build_chain
from rag.config import Settings
from rag.errors import ProviderError
from rag.llm.registry import REGISTRY, parse_spec
from tests.fakes import HashingEmbeddings, fake_answerer

TEXT = (
    "Dunmere harbour tram\n\n"
    "The Dunmere tram leaves the quay every 12 minutes. Fares are paid on board.\n\n"
    "The tram's driver is Ines Okafor. She has driven it since 2011."
)
QUESTION = "How often does the Dunmere tram leave the quay?"
SENTENCE = "The Dunmere tram leaves the quay every 12 minutes."
HISTORY = [{"question": "Who drives the Dunmere tram?", "answer": "Ines Okafor. [1]"}]


def _passage(rank: int) -> Passage:
    text = TEXT.split("\n\n")[rank]
    start = TEXT.index(text)
    return Passage(rank, "tram.txt", "Dunmere harbour tram", start, start + len(text), 0.6, text)


PASSAGES = [_passage(1), _passage(2)]
SETTINGS = Settings(_env_file=None, llm={"provider": "openai:fake"})


def _llm_answerer(reply: str, embeddings: Any = None) -> LLMAnswerer:
    model = FakeListChatModel(responses=[reply])
    encoder = embeddings or HashingEmbeddings()
    return LLMAnswerer(model, encoder, SETTINGS, fallback=fake_answerer(SETTINGS))


# ---- one protocol ---------------------------------------------------------------------
def test_both_answerers_are_answerers_and_a_bare_answer_method_is_not() -> None:
    class AnswersOnly:
        def answer(self, question: str, passages: Sequence[Passage]) -> Answer:
            raise AssertionError

    assert isinstance(fake_answerer(SETTINGS), Answerer)
    assert isinstance(_llm_answerer("x"), Answerer)
    assert not isinstance(AnswersOnly(), Answerer)  # no condense, no stream


def test_the_extractive_answerer_streams_its_one_answer() -> None:
    answerer: Answerer = fake_answerer(SETTINGS)
    streamed = list(answerer.stream(QUESTION, PASSAGES))
    answer = answerer.answer(QUESTION, PASSAGES)
    assert streamed == [answer]
    assert answer.outcome == "answered" and answer.citations[0].quote == SENTENCE


def test_the_llm_answerer_streams_drafts_then_the_checked_answer(embeddings) -> None:
    answerer: Answerer = _llm_answerer(f"{SENTENCE} [1]", embeddings)
    streamed = list(answerer.stream(QUESTION, PASSAGES))
    *drafts, last = streamed
    assert drafts and all(isinstance(d, Draft) for d in drafts)
    assert drafts[-1].answer == f"{SENTENCE} [1]"
    assert isinstance(last, Answer) and last.outcome == "answered"
    assert last.citations[0].quote == SENTENCE and "first_token" in last.timings_ms
    whole = answerer.answer(QUESTION, PASSAGES)  # the same answer, drafts dropped
    assert whole.answer == last.answer and whole.citations == last.citations


def test_the_llm_answerer_falls_back_on_the_extractive_one(embeddings) -> None:
    answerer = _llm_answerer("The tram is painted green and runs on steam [1].", embeddings)
    answer = answerer.answer(QUESTION, PASSAGES)
    assert answer.info.fallback and answer.citations[0].quote == SENTENCE
    assert "green" not in answer.answer


# ---- follow-ups: the answerer reads them --------------------------------------------
def test_the_extractive_answerer_reads_follow_ups_without_a_model() -> None:
    resolution, how = fake_answerer(SETTINGS).condense("Since when has she driven it?", HISTORY)
    assert (resolution, how) == resolve_followup("Since when has she driven it?", HISTORY)
    assert how != "model"


def test_the_llm_answerer_lets_its_model_rewrite_only_follow_ups() -> None:
    rewrite = "Since when has Ines Okafor driven the Dunmere tram?"
    answerer = _llm_answerer(rewrite)
    resolution, how = answerer.condense(QUESTION, HISTORY)  # stands alone: no call
    assert how == "unchanged" and answerer.model.i == 0  # type: ignore[attr-defined]
    resolution, how = answerer.condense("Since when has she driven it?", HISTORY)
    assert how == "model" and resolution.query == rewrite


# ---- one registry -----------------------------------------------------------------------
@pytest.mark.parametrize("provider", REGISTRY, ids=lambda p: p.name)
def test_every_registered_provider_names_an_answerer_the_factory_builds(provider) -> None:
    spec = provider.forms[0].replace("PATH.gguf", "/m/x.gguf").replace("MODEL", "m")
    settings = Settings(_env_file=None, llm={"provider": spec})
    extractive = fake_answerer(settings)
    model = FakeListChatModel(responses=["x"])
    made = make_answerer(settings, extractive, HashingEmbeddings(), model)
    assert provider.answerer in BUILDERS and isinstance(made, Answerer)
    assert parse_spec(spec).generative == (provider.answerer == "llm")
    if provider.answerer == "extractive":
        assert made is extractive
    else:
        assert isinstance(made, LLMAnswerer)
        assert made.model is model and made.fallback is extractive


def test_an_llm_provider_without_its_model_is_explained() -> None:
    settings = Settings(_env_file=None, llm={"provider": "ollama:llama3.2"})
    with pytest.raises(ProviderError, match="needs its chat model"):
        make_answerer(settings, fake_answerer(settings), HashingEmbeddings(), None)


# ---- the chain asks the protocol only ---------------------------------------------------
class Retriever:
    k = 2

    def search(self, query: str, k: int) -> list[Document]:
        return [
            Document(
                p.text,
                metadata={"rank": p.rank, "source": p.source, "start": p.start, "end": p.end},
            )
            for p in PASSAGES[:k]
        ]


class ScriptedAnswerer:
    """An answerer of neither kind: the chain must work through the protocol alone."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def condense(self, question: str, history: Sequence[Any] | None) -> Condensed:
        self.calls.append("condense")
        resolution, _ = resolve_followup(question, None)
        return replace(resolution, query=question.upper()), "scripted"

    def answer(self, question: str, passages: Sequence[Passage]) -> Answer:
        raise AssertionError("the chain streams")

    def stream(
        self, question: str, passages: Sequence[Passage], *, started: float | None = None
    ) -> Iterator[Answer | Draft]:
        self.calls.append(f"stream {len(passages)}")
        yield Draft(question=question, answer="Every")
        yield Answer.unsure(question, "Every 12 minutes?", passages=list(passages))


def test_the_chain_condenses_and_answers_through_the_answerer() -> None:
    answerer = ScriptedAnswerer()
    chain = build_chain(Retriever(), SETTINGS, answerer)  # type: ignore[arg-type]
    draft, answer = chain.stream({"question": QUESTION, "history": HISTORY})
    assert answerer.calls == ["condense", "stream 2"]
    assert isinstance(draft, Draft) and draft.standalone_question == QUESTION.upper()
    assert answer.info.condensed_by == "scripted" and answer.mode == "openai:fake"
    assert answer.question == QUESTION and answer.timings_ms["first_token"] > 0
    assert chain.invoke({"question": QUESTION}).answer == "Every 12 minutes?"


def test_an_answer_that_arrives_whole_has_its_first_token_at_the_end() -> None:
    settings = Settings(_env_file=None)
    answerer: ExtractiveAnswerer = fake_answerer(settings)
    chain = build_chain(Retriever(), settings, answerer)  # type: ignore[arg-type]
    (answer,) = chain.stream({"question": QUESTION, "history": []})
    assert answer.citations[0].quote == SENTENCE and answer.mode == "extractive"
    assert answer.timings_ms["first_token"] == answer.timings_ms["total"]
