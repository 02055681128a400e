"""A question costs at most two Chroma calls, and a changed store is still noticed.

The store's two collections are wrapped with a counter (real embedded Chroma, real
model): after the first question (which reads the manifest and loads the keyword
index), every question makes the generation check and the dense query, nothing more.
"""

from __future__ import annotations

from typing import Any

import pytest

from rag.service import Assistant

pytestmark = pytest.mark.integration

QUESTIONS = [
    "How much has the UK pledged towards security?",
    "Who is Khushal?",
    "What will the command center in Calais tackle?",
    "Frontex",
]


class Counted:
    """*target* with every method call recorded in *calls* as ``label.method``."""

    def __init__(self, target: Any, label: str, calls: list[str]) -> None:
        self._target, self._label, self._calls = target, label, calls

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self._calls.append(f"{self._label}.{name}")
            return attr(*args, **kwargs)

        return call


def counted(assistant: Assistant) -> list[str]:
    """Count every call *assistant*'s store makes to Chroma from now on."""
    calls: list[str] = []
    store = assistant.store
    store.client = Counted(store.client, "client", calls)
    store.chunk_index.collection = Counted(store.chunk_index.collection, "chunks", calls)
    store.manifest_store.collection = Counted(store.manifest_store.collection, "manifest", calls)
    return calls


@pytest.fixture
def assistant(settings, embeddings) -> Assistant:
    Assistant(settings, embeddings=embeddings).ingest()
    return Assistant(settings, embeddings=embeddings)  # a new process's view: nothing cached


def test_each_question_after_the_first_costs_two_chroma_calls(assistant):
    calls = counted(assistant)
    assistant.ask(QUESTIONS[0])
    assert "manifest.get" in calls  # the first question reads the manifest
    for question in QUESTIONS:
        calls.clear()
        answer = assistant.ask(question)
        assert answer.passages
        assert sorted(calls) == ["chunks.query", "manifest.get"], question


def test_a_streamed_follow_up_costs_two_chroma_calls(assistant):
    calls = counted(assistant)
    first = assistant.ask(QUESTIONS[0])
    calls.clear()
    *_, last = assistant.ask_stream("And who pays for it?", history=[first])
    assert last.passages
    assert len(calls) <= 2, calls


def test_a_document_another_process_adds_is_found_by_the_next_question(assistant, settings):
    calls = counted(assistant)
    question = "How many jars of quince jelly did the orchard make?"
    assert "4,200" not in assistant.ask(question).answer
    (settings.store.seeds_dir / "quince.txt").write_text(
        "Quince report\n\nThe orchard made 4,200 jars of quince jelly in 2023.\n"
    )
    Assistant(settings, embeddings=assistant.embeddings).ingest()  # another store object
    calls.clear()
    answer = assistant.ask(question)
    assert answer.passages[0].source.endswith("quince.txt")
    assert "4,200" in answer.passages[0].text
    assert calls.count("manifest.get") >= 2  # the check saw a new generation: re-read
    calls.clear()
    assistant.ask(question)
    assert len(calls) == 2
