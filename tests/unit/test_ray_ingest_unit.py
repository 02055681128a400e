"""Distributed ingest without a cluster: the address setting, the CLI without Ray, and
what a worker makes of files (run in this process, with a fake embedder)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from rag.config import Settings
from rag.documents import parse_bytes
from rag.documents.chunking import chunk_text
from rag.ingest.distributed import FileTask, FileWorker, _tasks, indexed_texts
from rag.ingest.pipeline import IngestReport
from rag.interfaces.cli import main
from tests.fakes import HashingEmbeddings

POOL_RULES = (
    "# Riverside pool rules\n\nSwimmers under eight years old must be accompanied by an adult "
    "in the water at all times.\n\nThe deep end closes at 7 pm on weekdays. Lanes are roped "
    "for lengths from 6 am to 9 am.\n"
)


@pytest.mark.parametrize(
    "address", ["auto", "local", "127.0.0.1:6379", "ray-head.internal:6379", "ray://10.0.0.5:10001"]
)
def test_a_ray_address_is_kept_as_given(address: str) -> None:
    assert Settings(_env_file=None, ray={"address": address}).ray.address == address


def test_an_empty_ray_address_means_one_machine() -> None:
    assert Settings(_env_file=None, ray={"address": "  "}).ray.address is None


@pytest.mark.parametrize("address", ["nonsense", "http://head:8265", "head:99999", ":6379"])
def test_a_malformed_ray_address_is_refused_with_an_example(address: str) -> None:
    with pytest.raises(ValueError, match=r"host:port \(127\.0\.0\.1:6379\)"):
        Settings(_env_file=None, ray={"address": address})


def test_ingest_with_ray_not_installed_says_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    monkeypatch.setenv("RAG_STORE_DIR", str(tmp_path / "store"))
    (tmp_path / "pool.md").write_text(POOL_RULES, encoding="utf-8")
    assert main(["ingest", "--ray", "auto", str(tmp_path / "pool.md")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert err == [
        "error: --ray needs Ray, which is not installed: "
        "`.venv/bin/pip install -r requirements-scale.txt`."
    ]
    assert not (tmp_path / "store").exists()  # refused before the store was opened


def test_a_bad_ray_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["ingest", "--ray", "head"])
    assert exit_.value.code == 2
    assert "must be auto, local, host:port (127.0.0.1:6379) or ray://host:port, not 'head'" in (
        capsys.readouterr().err
    )


def test_a_bad_rag_ray_address_is_one_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAG_RAY_ADDRESS", "head")
    monkeypatch.setenv("RAG_STORE_DIR", str(tmp_path / "store"))
    assert main(["ingest", str(tmp_path)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: RAG_RAY_ADDRESS='head' is not allowed: must be auto, local, host:port "
        "(127.0.0.1:6379) or ray://host:port."
    ]


class CountingEmbeddings(HashingEmbeddings):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.texts += texts
        return super().embed_documents(texts)


def worker(settings: Settings) -> tuple[FileWorker, CountingEmbeddings]:
    made = FileWorker(settings)
    fake = CountingEmbeddings()
    made._embeddings = fake
    return made, fake


def test_a_worker_chunks_as_the_local_ingest_and_embeds_only_new_content() -> None:
    settings = Settings(_env_file=None, ingest={"chunk_size": 120})
    work, fake = worker(settings)
    pool = POOL_RULES.encode()
    stored_elsewhere = b"Lockers take a one pound coin, returned when you open them.\n"
    known = parse_bytes(b"Showers are cold after 8 pm.\n", "showers.txt", "x").sha256
    tasks = [
        FileTask("pool.md", "docs/pool.md", pool),
        FileTask("lockers.txt", "docs/lockers.txt", stored_elsewhere),
        FileTask("showers.txt", "docs/showers.txt", b"Showers are cold after 8 pm.\n", known),
        FileTask("notes.docx", "docs/notes.docx", b"PK\x03\x04"),
    ]
    lockers = parse_bytes(stored_elsewhere, "lockers.txt", "docs/lockers.txt").sha256
    results = work.process(tasks, frozenset({lockers}))

    assert [r.kind for r in results] == ["new", "stored", "unchanged", "error"]
    assert "unsupported file type '.docx'" in results[3].error
    new = results[0]
    assert new.doc is not None and new.doc.source == "docs/pool.md"
    expected = chunk_text(new.doc.text, 120, settings.ingest.chunk_overlap, new.doc.headings)
    assert [c.text for c in new.chunks] == [c.text for c in expected] and len(expected) > 1
    texts = indexed_texts(new.doc, new.chunks, settings.chunking_fingerprint())
    assert set(new.vectors) == set(texts)  # one vector per text the chunk index embeds
    assert all(text.startswith("Riverside pool rules") for text in texts)  # title first
    assert sorted(fake.texts) == sorted(set(texts))  # nothing else embedded, each once


def test_how_much_one_ray_task_carries_is_a_setting(tmp_path: Path) -> None:
    files = []
    for n in range(5):
        files.append(tmp_path / f"note{n}.txt")
        files[-1].write_text(f"Note {n}.\n", encoding="utf-8")
    default, report = Settings(_env_file=None), IngestReport()
    assert [len(t) for t in _tasks(files, {}, default, report)] == [5]  # up to 8 files
    one = default.updated(ray={"task_files": 2})
    assert [len(t) for t in _tasks(files, {}, one, report)] == [2, 2, 1]
    small = default.updated(ray={"task_bytes": 1})
    assert [len(t) for t in _tasks(files, {}, small, report)] == [1] * 5
    assert not report.errors
