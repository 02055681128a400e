"""The settings tree: every ``RAG_`` variable sets the field it always set.

The tables below are written out by hand (not read from :data:`rag.config.VARIABLES`),
so renaming a field or a variable fails here; a field that no table names fails too.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from rag.config import VARIABLES, Settings
from rag.errors import SettingsError
from rag.eval.summary import settings_dict
from rag.settings_errors import load_settings
from tests.conftest import ROOT

# Every variable that existed before the tree: name -> (tree path, a value, what it reads as).
OLD_VARIABLES: dict[str, tuple[str, str, Any]] = {
    "RAG_SEEDS_DIR": ("store.seeds_dir", "docs", Path("docs")),
    "RAG_STORE_DIR": ("store.store_dir", "/srv/store", Path("/srv/store")),
    "RAG_CHROMA_URL": ("store.chroma_url", "http://127.0.0.1:9000", "http://127.0.0.1:9000"),
    "RAG_COLLECTION": ("store.collection", "other", "other"),
    "RAG_DATABASE_URL": (
        "store.database_url",
        "postgresql://ann:pw@db/rag",
        "postgresql+psycopg://ann:pw@db/rag",
    ),
    "RAG_CACHE_DIR": ("store.cache_dir", "/srv/cache", Path("/srv/cache")),
    "RAG_CHUNK_SIZE": ("ingest.chunk_size", "300", 300),
    "RAG_CHUNK_OVERLAP": ("ingest.chunk_overlap", "2", 2),
    "RAG_INGEST_BATCH": ("ingest.batch", "32", 32),
    "RAG_RAY_ADDRESS": ("ray.address", "127.0.0.1:6379", "127.0.0.1:6379"),
    "RAG_EMBEDDING_MODEL": ("embedding.model", "other-model", "other-model"),
    "RAG_EMBEDDING_PATH": ("embedding.path", "/models/m", Path("/models/m")),
    "RAG_EMBEDDING_BATCH_SIZE": ("embedding.batch_size", "8", 8),
    "RAG_EMBEDDING_BACKEND": ("embedding.backend", "torch", "torch"),
    "RAG_EMBEDDING_PRECISION": ("embedding.precision", "int8", "int8"),
    "RAG_EMBEDDING_ONNX_MAX_BATCH": ("embedding.onnx_max_batch", "8", 8),
    "RAG_EMBEDDING_ONNX_WORKERS": ("embedding.onnx_workers", "1", 1),
    "RAG_EMBEDDING_BULK_MIN_TEXTS": ("embedding.bulk_min_texts", "1", 1),
    "RAG_EMBEDDING_BF16_BATCH": ("embedding.bf16_batch", "32", 32),
    "RAG_EMBEDDING_SENTENCE_CACHE": ("embedding.sentence_cache", "0", 0),
    "RAG_K": ("retrieval.k", "7", 7),
    "RAG_RRF_K": ("retrieval.rrf_k", "30", 30),
    "RAG_CANDIDATES": ("retrieval.candidates", "10", 10),
    "RAG_MAX_PER_DOCUMENT": ("retrieval.max_per_document", "5", 5),
    "RAG_READER_PATH": ("answer.reader_path", "build/reader", Path("build/reader")),
    "RAG_READER_THREADS": ("answer.reader_threads", "1", 1),
    "RAG_REFUSAL_THRESHOLD": ("answer.refusal_threshold", "0.2", 0.2),
    "RAG_ANSWER_THRESHOLD": ("answer.threshold", "0.4", 0.4),
    "RAG_UNIT_RULES": ("answer.unit_rules", "false", False),
    "RAG_MAX_ANSWER_SENTENCES": ("answer.max_sentences", "1", 1),
    "RAG_CITATION_MIN_OVERLAP": ("answer.citation_min_overlap", "0.5", 0.5),
    "RAG_CITATION_MIN_SIMILARITY": ("answer.citation_min_similarity", "0.4", 0.4),
    "RAG_LLM": ("llm.provider", "ollama:llama3.2", "ollama:llama3.2"),
    "RAG_LLM_TEMPERATURE": ("llm.temperature", "0.7", 0.7),
    "RAG_LLM_MAX_TOKENS": ("llm.max_tokens", "64", 64),
    "RAG_LLM_CONTEXT": ("llm.context", "4096", 4096),
    "RAG_LLM_THREADS": ("llm.threads", "2", 2),
    "RAG_LLM_TIMEOUT": ("llm.timeout", "5", 5.0),
    "RAG_LLM_SEED": ("llm.seed", "7", 7),
    "RAG_OLLAMA_HOST": ("llm.ollama_host", "http://10.0.0.2:11434", "http://10.0.0.2:11434"),
    "RAG_OPENAI_BASE_URL": ("llm.openai_base_url", "http://h:8080/v1", "http://h:8080/v1"),
    "RAG_OPENAI_API_KEY": ("llm.openai_api_key", "sk-test", "sk-test"),
    "RAG_MAX_FILE_MB": ("limits.file_mb", "5", 5.0),
    "RAG_MAX_QUESTION_CHARS": ("limits.question_chars", "500", 500),
}

# Variables added with the tree, for numbers that were module constants.
NEW_VARIABLES: dict[str, tuple[str, str, Any]] = {
    "RAG_INGEST_KEEP_CHARS": ("ingest.keep_chars", "1000", 1000),
    "RAG_MOSTLY_REPEATED": ("ingest.mostly_repeated", "0.7", 0.7),
    "RAG_MOSTLY_REPEATED_MIN_CHUNKS": ("ingest.mostly_repeated_min_chunks", "6", 6),
    "RAG_LEASE_SETTLE": ("ingest.lease_settle", "0.1", 0.1),
    "RAG_LOCK_POLL": ("ingest.lock_poll", "0.2", 0.2),
    "RAG_LOCK_NOTICE_EVERY": ("ingest.lock_notice_every", "5", 5.0),
    "RAG_RAY_TASK_FILES": ("ray.task_files", "3", 3),
    "RAG_RAY_TASK_BYTES": ("ray.task_bytes", "1000", 1000),
    "RAG_RAY_IN_FLIGHT": ("ray.in_flight", "3", 3),
    "RAG_RAY_MAX_RESTARTS": ("ray.max_restarts", "0", 0),
    "RAG_RAY_OBJECT_STORE_BYTES": ("ray.object_store_bytes", "100000000", 100_000_000),
    "RAG_FETCH_FACTOR": ("retrieval.fetch_factor", "3", 3),
    "RAG_NEAR_DUPLICATE": ("retrieval.near_duplicate", "0.8", 0.8),
    "RAG_REQUERIES": ("retrieval.requeries", "0", 0),
    "RAG_LEXICAL_REACH": ("retrieval.lexical_reach", "4", 4),
    "RAG_EXACT_LIMIT": ("retrieval.exact_limit", "0", 0),
    "RAG_CONDENSE_KEEP_SHARE": ("llm.condense_keep_share", "0.5", 0.5),
    "RAG_MAX_UPLOAD_NAME_CHARS": ("limits.upload_name_chars", "60", 60),
    "RAG_MAX_UPLOAD_COPIES": ("limits.upload_copies", "10", 10),
}
EVERY = {**OLD_VARIABLES, **NEW_VARIABLES}


@pytest.fixture(autouse=True)
def no_rag_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own ``RAG_*`` variables must not leak into these tests."""
    import os

    for name in list(os.environ):
        if name.upper().startswith("RAG_"):
            monkeypatch.delenv(name)


def read(settings: Settings, path: str) -> Any:
    group, name = path.split(".")
    value = getattr(getattr(settings, group), name)
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def leaf_paths() -> set[str]:
    return {
        f"{group}.{name}"
        for group, field in Settings.model_fields.items()
        for name in field.annotation.model_fields  # type: ignore[union-attr]
    }


@pytest.mark.parametrize("name", sorted(EVERY))
def test_each_variable_sets_its_field(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path, text, expected = EVERY[name]
    assert read(Settings(_env_file=None), path) != expected, "the sample must not be the default"
    monkeypatch.setenv(name, text)
    assert read(Settings(_env_file=None), path) == expected
    monkeypatch.setenv(name.lower(), text)  # names are read in any case, as before
    monkeypatch.delenv(name)
    assert read(Settings(_env_file=None), path) == expected


@pytest.mark.parametrize("name", sorted(EVERY))
def test_each_variable_works_from_a_dotenv_file(name: str, tmp_path: Path) -> None:
    path, text, expected = EVERY[name]
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"{name}={text}\n", encoding="utf-8")
    assert read(Settings(_env_file=dotenv), path) == expected


def test_every_field_has_a_variable_and_the_tables_agree() -> None:
    assert {path for path, _, _ in EVERY.values()} == leaf_paths()
    assert len(EVERY) == len(leaf_paths()), "one variable per field"
    assert {name: ".".join(path) for name, path in VARIABLES.items()} == {
        name: path for name, (path, _, _) in EVERY.items()
    }


def test_the_environment_wins_over_the_dotenv_file(tmp_path, monkeypatch) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("RAG_K=6\nRAG_CANDIDATES=9\n", encoding="utf-8")
    monkeypatch.setenv("RAG_K", "3")
    settings = Settings(_env_file=dotenv)
    assert (settings.retrieval.k, settings.retrieval.candidates) == (3, 9)


def test_the_nested_form_works_too(monkeypatch) -> None:
    monkeypatch.setenv("RAG_RETRIEVAL__K", "9")
    monkeypatch.setenv("RAG_LLM__PROVIDER", "ollama:qwen2.5")
    settings = Settings(_env_file=None)
    assert (settings.retrieval.k, settings.llm.provider) == (9, "ollama:qwen2.5")


def test_arguments_override_one_field_and_keep_the_variables(monkeypatch) -> None:
    monkeypatch.setenv("RAG_K", "7")
    monkeypatch.setenv("RAG_CANDIDATES", "11")
    settings = Settings(_env_file=None, retrieval={"k": 3})
    assert (settings.retrieval.k, settings.retrieval.candidates) == (3, 11)


def test_updated_changes_only_what_it_names_and_validates() -> None:
    settings = Settings(_env_file=None, store={"database_url": "postgresql://a:pw@db/r"})
    changed = settings.updated(retrieval={"k": 9}, llm={"provider": "ollama:x"})
    assert (changed.retrieval.k, changed.llm.provider) == (9, "ollama:x")
    assert changed.retrieval.candidates == settings.retrieval.candidates
    assert changed.store == settings.store and settings.retrieval.k == 4
    with pytest.raises(ValidationError):
        settings.updated(retrieval={"k": 0})
    with pytest.raises(ValidationError):
        settings.updated(retrieval={"kk": 3})
    with pytest.raises(TypeError, match="no group"):
        settings.updated(retreival={"k": 3})


def test_flat_names_are_not_fields() -> None:
    """The variables are the compatibility layer: no flat twin of the tree in Python."""
    with pytest.raises(ValidationError):
        Settings(_env_file=None, k=3)
    assert not hasattr(Settings(_env_file=None), "k")


@pytest.mark.parametrize(
    ("variables", "overrides", "expected"),
    [
        ({"RAG_K": "0"}, {}, "RAG_K='0' is not allowed; use a whole number from 1 to 50."),
        ({}, {"retrieval": {"k": 0}}, "RAG_K=0 is not allowed; use a whole number from 1 to 50."),
        ({"RAG_RETRIEVAL__K": "0"}, {}, "RAG_K='0' is not allowed"),
        ({"RAG_LLM_TIMEOUT": "nan"}, {}, "RAG_LLM_TIMEOUT='nan' is not allowed; use a finite"),
        ({"RAG_FETCH_FACTOR": "0"}, {}, "RAG_FETCH_FACTOR='0' is not allowed; use a whole"),
        ({"RAG_LOCK_POLL": "inf"}, {}, "RAG_LOCK_POLL='inf' is not allowed; use a finite"),
        ({"RAG_RAY_ADDRESS": "a/b"}, {}, "RAG_RAY_ADDRESS='a/b' is not allowed: must be auto"),
        ({"RAG_DATABASE_URL": "mysql://u:pw@h/d"}, {}, "RAG_DATABASE_URL=(hidden) is not"),
        ({"RAG_CHROMA_URL": "db:8000"}, {}, "RAG_CHROMA_URL='db:8000' is not allowed: RAG_"),
    ],
)
def test_a_bad_value_names_its_variable(variables, overrides, expected, monkeypatch) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None, **overrides)
    assert str(caught.value).startswith(expected)


def test_chunk_ids_do_not_change() -> None:
    """The fingerprint is the string it was before the tree (chunk ids depend on it)."""
    assert Settings(_env_file=None).chunking_fingerprint() == "39627d180309"
    other = Settings(_env_file=None, ingest={"chunk_size": 300}, embedding={"model": "m"})
    assert other.chunking_fingerprint() == "c0e30883f11a"  # sha256("300|1|m|chunker-v3")


def test_reports_keep_their_flat_setting_names() -> None:
    """An old baseline report compares setting by setting: same keys as before the tree."""
    data = settings_dict(Settings(_env_file=None))
    assert {name.removeprefix("RAG_").lower() for name in OLD_VARIABLES} <= set(data)
    assert data["k"] == 4 and data["llm"] == "extractive" and data["answer_threshold"] is None


def test_the_readme_table_lists_every_variable_with_the_field_it_sets() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Settings", 1)[1].split("\n## ", 1)[0]
    rows = [line.split(" | ")[:2] for line in section.splitlines() if line.startswith("| `RAG_")]
    table = {}
    for variables, paths in rows:
        names, fields = re.findall(r"`(RAG_\w+)`", variables), re.findall(r"`([\w.]+)`", paths)
        assert len(names) == len(fields), variables
        table.update(zip(names, fields, strict=True))
    assert table == {name: ".".join(path) for name, path in VARIABLES.items()}


def test_the_text_kept_between_the_two_ingest_passes_is_a_setting(tmp_path) -> None:
    from types import SimpleNamespace

    from rag.ingest.pipeline import IngestReport, _plan

    files = []
    for n in range(3):
        files.append(tmp_path / f"note{n}.txt")
        files[-1].write_text(f"Note {n}. " + "Plain words here. " * 5, encoding="utf-8")
    for keep_chars, kept in [(20_000_000, 3), (150, 1), (0, 0)]:
        settings = Settings(_env_file=None, ingest={"keep_chars": keep_chars})
        store = SimpleNamespace(settings=settings, fingerprint="fp")
        plan = _plan(files, store, {}, IngestReport()).plan  # type: ignore[arg-type]
        assert len(plan) == 3  # every document is planned; only its text may be dropped
        assert sum(p.doc is not None for p in plan) == kept
