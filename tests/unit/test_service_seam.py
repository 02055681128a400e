"""The service's use cases for the interfaces: uploads, history, providers, exports, examples.

Fast: no model and no Chroma store (uploads are written to a temporary folder; the
assistant used for examples is a :class:`~tests.fakes.CannedAssistant`). The texts are
written for these tests, not the bundled article.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import pytest

import rag.service.providers
from rag.config import Settings
from rag.conversations import example_questions
from rag.errors import DocumentError
from rag.followup.turns import Turn, as_turns
from rag.llm.registry import REGISTRY, parse_spec
from rag.service import (
    Assistant,
    ManifestEntry,
    Upload,
    export_conversation,
    k_bounds,
    llm_help,
    provider_choices,
    turns_of,
)
from tests.conftest import ROOT
from tests.fakes import CannedAssistant, answered, doc_entry, not_found, unsure

GUIDE = b"Pond guide\n\nThe heron visits the pond at dawn. Frogs sing in April.\n"


def settings(tmp_path: Path, **overrides: dict[str, object]) -> Settings:
    store = {"store_dir": tmp_path / "store", "seeds_dir": tmp_path}
    return Settings(_env_file=None, store=store).updated(**overrides)


# ----- uploads ---------------------------------------------------------------------------
def test_uploads_are_saved_refused_with_a_reason_or_kept_under_a_free_name(tmp_path) -> None:
    assistant = Assistant(settings(tmp_path))
    first = assistant.save_uploads([Upload("../pond.txt", GUIDE)])
    assert first.paths == (assistant.settings.store.uploads_dir / "pond.txt",)
    assert first.renamed == () and first.errors == ()

    other = GUIDE.replace(b"dawn", b"dusk")
    saved = assistant.save_uploads(
        [Upload("pond.txt", other), Upload("pond.exe", b"MZ"), Upload("pond.txt", GUIDE)]
    )
    uploads = assistant.settings.store.uploads_dir
    assert saved.paths == (uploads / "pond-2.txt", uploads / "pond.txt")  # same content: reused
    assert [(r.asked, r.kept) for r in saved.renamed] == [("pond.txt", "pond-2.txt")]
    [error] = saved.errors
    assert "pond.exe: unsupported file type" in error
    assert (uploads / "pond.txt").read_bytes() == GUIDE  # never replaced by other content
    assert sorted(p.name for p in uploads.iterdir()) == ["pond-2.txt", "pond.txt"]


def test_an_oversized_upload_is_refused_and_leaves_nothing(tmp_path) -> None:
    assistant = Assistant(settings(tmp_path, limits={"file_mb": 0.00001}))  # 10 bytes
    saved = assistant.save_uploads([Upload("pond.txt", GUIDE)])
    assert saved.paths == () and "over the 0.0 MB limit" in saved.errors[0]
    assert not assistant.settings.store.uploads_dir.exists() or not any(
        assistant.settings.store.uploads_dir.iterdir()
    )


def test_is_upload_tells_an_uploaded_source_from_any_other(tmp_path) -> None:
    assistant = Assistant(settings(tmp_path))
    assert assistant.is_upload(str(assistant.settings.store.uploads_dir / "gone.txt"))
    assert not assistant.is_upload(str(tmp_path / "pond.txt"))


# ----- history ---------------------------------------------------------------------------
def test_every_form_of_history_reaches_the_resolver_as_the_same_turn() -> None:
    answer = answered()
    turn = Turn(answer.question, answer.answer, answer.standalone_question)
    as_dict = {"question": answer.question, "answer": answer.answer, "standalone": turn.standalone}
    assert turns_of([answer]) == [turn]
    assert as_turns([answer]) == as_turns([turn]) == as_turns([as_dict]) == [turn]
    assert as_turns(None) == []


# ----- warm-up ---------------------------------------------------------------------------
class Counting(CannedAssistant):
    snapshots = 0
    listed: ClassVar[list[ManifestEntry]] = []

    @property
    def retriever(self):
        return SimpleNamespace(snapshot=lambda: setattr(Counting, "snapshots", self.snapshots + 1))

    def documents(self):
        return self.listed


def test_warm_up_builds_the_keyword_index_only_when_there_are_documents() -> None:
    Counting.snapshots, Counting.listed = 0, []
    Counting().warm_up()
    assert Counting.snapshots == 0
    Counting.listed = [doc_entry()]
    Counting().warm_up()
    assert Counting.snapshots == 1


# ----- example questions -----------------------------------------------------------------
FAQ = (
    "Pond club FAQ\n\nQ: Where do the frogs sing?\nA: By the reeds.\n\n"
    "Q: When does the heron visit?\nA: At dawn.\n\nQ: Who feeds the ducks?\nA: The warden.\n\n"
    "Q: Is there a bench?\nA: Yes.\n"
)


def test_example_questions_are_the_ones_the_assistant_answers(monkeypatch) -> None:
    def text(self, source: str) -> str:
        if source == "gone.md":
            raise DocumentError("gone")
        return FAQ

    asked: list[str] = []

    def ask(self, question, history=None, k=None):
        asked.append(question)
        return unsure(question) if "frogs" in question else answered(question)

    monkeypatch.setattr(CannedAssistant, "document_text", text)
    monkeypatch.setattr(CannedAssistant, "ask", ask)
    found = CannedAssistant().example_questions([("gone.md", "Gone"), ("faq.md", "FAQ")], 8, 2)
    candidates = example_questions([("FAQ", FAQ)], 8)
    assert "Where do the frogs sing?" in candidates and len(candidates) >= 4
    assert found == [c for c in candidates if "frogs" not in c][:2]
    assert "Where do the frogs sing?" in asked  # asked, and left out: "not sure"
    assert len(asked) == candidates.index(found[-1]) + 1  # no question asked after the 2nd


# ----- providers -------------------------------------------------------------------------
def test_the_menu_lists_usable_providers_with_the_registry_labels(monkeypatch) -> None:
    monkeypatch.setattr(rag.service.providers, "available_specs", lambda s: ["extractive"])
    choices = provider_choices(Settings(_env_file=None, llm={"provider": "ollama:qwen2.5"}))
    assert choices.names == ["extractive", "ollama"]  # configured but unusable: listed last
    assert (choices.provider, choices.model, choices.problem) == ("ollama", "qwen2.5", None)
    assert choices.label("ollama") == "Ollama server"
    assert choices.model_example("ollama") == "llama3.2"
    assert choices.model_example("extractive") == ""


def test_a_bad_provider_setting_is_reported_and_extractive_offered(monkeypatch) -> None:
    monkeypatch.setattr(rag.service.providers, "available_specs", lambda s: ["extractive"])
    choices = provider_choices(Settings(_env_file=None, llm={"provider": "gpt4all:x"}))
    assert choices.names == ["extractive"] and choices.provider == "extractive"
    assert "Unknown answer provider 'gpt4all:x'" in str(choices.problem)


def test_every_form_the_registry_names_is_accepted_and_offered_in_the_cli_help() -> None:
    forms = [form for p in REGISTRY for form in p.forms]
    assert [p.name for p in REGISTRY] == ["extractive", "llamacpp", "ollama", "openai"]
    for form in forms:
        spec = parse_spec(form.replace("MODEL", "m1"))
        assert spec.provider == form.split(":")[0]
    from rag.interfaces.cli import _parser

    usage = " ".join(_parser()._subparsers._group_actions[0].choices["ask"].format_help().split())
    assert llm_help() in usage and all(form in usage for form in forms)


def test_k_bounds_are_the_settings_bounds() -> None:
    assert k_bounds() == (1, 50)
    with pytest.raises(ValueError):
        Settings(_env_file=None, retrieval={"k": 51})


# ----- exports ---------------------------------------------------------------------------
def test_the_export_has_both_formats_of_the_same_conversation() -> None:
    answers = [answered(), not_found()]
    export = export_conversation(answers, [doc_entry()], {"k": 4, "mode": "extractive"})
    data = json.loads(export.json)
    assert [t["question"] for t in data["turns"]] == [a.question for a in answers]
    assert data["settings"] == {"k": 4, "mode": "extractive"}
    assert export.markdown.startswith("# Conversation export")
    assert all(a.question in export.markdown for a in answers)


# ----- the package -----------------------------------------------------------------------
def test_every_service_name_resolves_to_the_module_that_defines_it() -> None:
    import importlib

    import rag.service

    assert (
        sorted(rag.service.__all__)
        == sorted(rag.service._HOME)
        == sorted(n for n in dir(rag.service) if n in rag.service._HOME)
    )
    for name in rag.service.__all__:
        home = importlib.import_module(rag.service._HOME[name])
        assert getattr(rag.service, name) is getattr(home, name), name


def test_the_provider_list_loads_without_the_store_the_model_or_langchain() -> None:
    """What keeps ``python -m rag --help`` quick: the service loads names on first use."""
    import subprocess
    import sys

    code = (
        "import sys, rag.service as s; s.llm_help(); s.k_bounds(); "
        "print(sorted(m for m in ('rag.store', 'rag.conversations', 'langchain_core', "
        "'rag.service.assistant') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "[]"
