"""The provider registry is the one place that says how a provider answers.

Issue 28 item 3: each :data:`rag.llm.registry.REGISTRY` entry carries the builder of its chat
model (no second table keyed by provider name), and the service reads the entry to
know whether a model writes (``Assistant.generative``, ``Assistant.llm``, the eval's
generation summary) instead of testing a name or building a model to find out.
``Assistant.extractive`` is the extractive answerer and ``Assistant.answerer`` the one
the chain answers with. Fast: fake chat model, fake reader, hashing embeddings; the
registry is patched to prove the code reads it, not a provider name.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

import rag.llm.registry
from rag.answering.generate import LLMAnswerer
from rag.answering.protocol import Answerer
from rag.config import Settings
from rag.eval.runner import generation_summary
from rag.llm.registry import (
    REGISTRY,
    LLMSpec,
    Provider,
    describe,
    make_chat_model,
    provider_named,
)
from rag.service import Assistant
from tests.fakes import HashingEmbeddings, fake_answerer


def _settings(tmp_path: Path, llm: str) -> Settings:
    return Settings(
        _env_file=None,
        store={"store_dir": tmp_path / "store", "seeds_dir": tmp_path},
        llm={"provider": llm},
    )


def _assistant(tmp_path: Path, llm: str) -> Assistant:
    settings = _settings(tmp_path, llm)
    return Assistant(settings, HashingEmbeddings(), extractive=fake_answerer(settings))


def _with_entry(monkeypatch: pytest.MonkeyPatch, name: str, **changes: Any) -> None:
    """Replace the registry entry *name* (the rest of the registry unchanged)."""
    entries = tuple(replace(p, **changes) if p.name == name else p for p in REGISTRY)
    monkeypatch.setattr(rag.llm.registry, "REGISTRY", entries)


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[LLMSpec]:
    """The ollama entry builds a fake chat model (and needs no package); specs it got."""
    specs: list[LLMSpec] = []

    def build(spec: LLMSpec, settings: Settings) -> FakeListChatModel:
        specs.append(spec)
        return FakeListChatModel(responses=[f"written with {settings.llm.max_tokens} tokens"])

    _with_entry(monkeypatch, "ollama", needs={}, build=build)
    return specs


@pytest.fixture
def no_model_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building a chat model fails the test (what is read must come from the registry)."""

    def fail(settings: Settings) -> None:
        raise AssertionError(f"a chat model was built for {settings.llm.provider}")

    monkeypatch.setattr(rag.llm.registry, "make_chat_model", fail)


# ----- the builder lives on the entry -----------------------------------------------------
def test_every_model_provider_has_a_builder_and_the_extractive_one_has_none() -> None:
    assert [p.name for p in REGISTRY if p.build is None] == ["extractive"]
    assert all(p.generative == (p.build is not None) for p in REGISTRY)


def test_a_provider_whose_builder_disagrees_with_its_answerer_is_refused() -> None:
    with pytest.raises(ValueError, match="builder"):
        Provider("typo", "A model without a builder", ("typo:MODEL",))
    with pytest.raises(ValueError, match="builder"):
        replace(provider_named("extractive"), build=provider_named("ollama").build)


def test_make_chat_model_builds_with_the_entry_of_the_named_provider(built) -> None:
    model = make_chat_model(
        Settings(_env_file=None, llm={"provider": "ollama:qwen2.5", "max_tokens": 77})
    )
    assert isinstance(model, FakeListChatModel)
    assert model.responses == ["written with 77 tokens"]
    assert built == [LLMSpec("ollama", "qwen2.5")]


def test_the_extractive_mode_builds_no_model(built) -> None:
    assert make_chat_model(Settings(_env_file=None, llm={"provider": "extractive"})) is None
    assert built == []


# ----- the service reads the entry ------------------------------------------------------
def test_a_model_mode_is_generative_before_any_model_is_built(tmp_path, no_model_built) -> None:
    assert _assistant(tmp_path, "ollama:qwen2.5").generative


def test_the_extractive_mode_neither_generates_nor_builds_a_model(tmp_path, no_model_built):
    assistant = _assistant(tmp_path, "extractive")
    assert not assistant.generative and assistant.llm is None
    assert assistant.answerer is assistant.extractive


def test_a_provider_the_registry_marks_extractive_gets_no_model(
    tmp_path, monkeypatch, no_model_built
) -> None:
    _with_entry(monkeypatch, "ollama", answerer="extractive", build=None)
    assistant = _assistant(tmp_path, "ollama:qwen2.5")
    assert not assistant.generative and assistant.llm is None
    assert assistant.answerer is assistant.extractive


def test_a_model_mode_answers_with_the_models_answerer_falling_back_on_the_extractive(
    tmp_path, built
) -> None:
    assistant = _assistant(tmp_path, "ollama:qwen2.5")
    answerer = assistant.answerer
    assert isinstance(answerer, Answerer) and isinstance(answerer, LLMAnswerer)
    assert answerer.model is assistant.llm and answerer.fallback is assistant.extractive
    assert assistant.answerer is answerer and len(built) == 1  # built once, then kept


def test_the_eval_summary_describes_the_model_only_when_one_writes(tmp_path, built) -> None:
    assert "generation" not in generation_summary([], _assistant(tmp_path, "extractive"))
    summary = generation_summary([], _assistant(tmp_path, "ollama:qwen2.5"))
    generation = summary["generation"]
    assert (generation["provider"], generation["spec"]) == ("ollama", "ollama:qwen2.5")
    assert generation["model"] == "FakeListChatModel"


@pytest.mark.parametrize(
    ("llm", "extra", "recorded"),
    [
        (
            "openai:m",
            {"openai_base_url": "http://127.0.0.1:9/v1"},
            {"base_url": "http://127.0.0.1:9/v1"},
        ),
        ("openai:m", {}, {"base_url": "https://api.openai.com/v1"}),
        ("ollama:m", {"ollama_host": "http://127.0.0.1:7"}, {"host": "http://127.0.0.1:7"}),
        ("llamacpp", {}, {}),
    ],
)
def test_an_answer_records_where_its_model_runs_as_its_registry_entry_says(
    tmp_path: Path, llm: str, extra: dict[str, str], recorded: dict[str, str]
) -> None:
    settings = Settings(
        _env_file=None, store={"store_dir": tmp_path}, llm={"provider": llm, **extra}
    )
    info = describe(settings, FakeListChatModel(responses=["x"]))
    assert info.provider == llm.split(":", maxsplit=1)[0]
    endpoint = {k: v for k, v in info.model_settings.items() if k in ("base_url", "host")}
    assert endpoint == recorded
    assert info.model_settings["temperature"] == settings.llm.temperature


def test_the_endpoint_comes_from_the_registry_not_the_provider_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = provider_named("ollama")
    moved = replace(here, endpoint=lambda settings: {"socket": "/run/model.sock"})
    monkeypatch.setattr(
        rag.llm.registry, "REGISTRY", tuple(moved if p is here else p for p in REGISTRY)
    )
    settings = Settings(_env_file=None, store={"store_dir": tmp_path}, llm={"provider": "ollama:m"})
    info = describe(settings, FakeListChatModel(responses=["x"]))
    assert info.model_settings["socket"] == "/run/model.sock"
    assert "host" not in info.model_settings
