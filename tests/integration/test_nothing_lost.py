"""Nothing lost by accident (issue 29 item 3), over the real model and a real Chroma store.

Ingesting a folder that cannot be read, or has gone, is one ``error:`` line (exit 2)
and removes nothing; a reset keeps the old store (and with it what it cannot rebuild);
two uploads of one name with different content are two documents. As root a
``chmod 000`` folder is still readable, so the unreadable folder is simulated by
``os.scandir`` failing for it as it would for a user (see
tests/unit/test_nothing_lost_unit.py); the real ``chmod 000`` test runs when not root.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from rag.config import LimitsSettings
from rag.ingest.uploads import save_upload
from tests.conftest import ROOT, make_settings, run_cli, run_module, store_env
from tests.unit.test_nothing_lost_unit import refuse_listing

LIMITS = LimitsSettings(file_mb=0.01)  # 10,000 bytes

pytestmark = pytest.mark.integration

NOTES = {
    "jam.txt": "Quince report\n\nThe orchard made 4,200 jars of quince jelly in 2023.\n",
    "ferry.txt": "Harbour log\n\nThe ferry to the island left at noon on Tuesday.\n",
    "pier.txt": "Pier works\n\nThe council will rebuild the old pier before the summer.\n",
}


@pytest.fixture
def notes_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embeddings) -> dict[str, str]:
    """A store holding the seed article and the three files of ``notes/``."""
    monkeypatch.chdir(tmp_path)
    env = store_env(make_settings(tmp_path))
    folder = tmp_path / "notes"
    folder.mkdir()
    for name, text in NOTES.items():
        (folder / name).write_text(text)
    assert run_cli(["ingest"], env).returncode == 0
    assert json.loads(run_cli(["ingest", "notes", "--json"], env).stdout)["added"] == 3
    return env


def documents(env: dict[str, str]) -> list[str]:
    listed = json.loads(run_cli(["docs", "--json"], env).stdout)["documents"]
    return sorted(name for entry in listed for name in entry["names"])


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


def test_ingesting_an_unreadable_folder_is_one_error_and_removes_nothing(
    notes_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = documents(notes_env)
    refuse_listing(monkeypatch, Path("notes"), errno.EACCES)
    done = run_cli(["ingest", "notes"], notes_env)
    assert done.returncode == 2
    assert "notes cannot be read (Permission denied)" in one_error_line(done.stderr)
    assert done.stdout == ""  # no report: the issue saw "removed": 3 and exit 0
    monkeypatch.undo()
    assert documents(notes_env) == before and len(before) == 4


def test_ingesting_a_folder_that_has_gone_removes_nothing(notes_env: dict[str, str]) -> None:
    before = documents(notes_env)
    Path("notes").rename("elsewhere")
    done = run_cli(["ingest", "notes"], notes_env)
    assert done.returncode == 2 and "does not exist" in one_error_line(done.stderr)
    assert documents(notes_env) == before


def test_a_reset_with_an_unreadable_folder_changes_nothing(
    notes_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = documents(notes_env)
    refuse_listing(monkeypatch, Path("notes"), errno.EACCES)
    done = run_cli(["ingest", "--reset", "notes"], notes_env)
    assert done.returncode == 2 and "cannot be read" in one_error_line(done.stderr)
    monkeypatch.undo()
    store = Path(notes_env["RAG_STORE_DIR"])
    assert not list(store.glob("reset-backup-*"))  # nothing moved, nothing rebuilt
    assert documents(notes_env) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 folder anyway")
def test_ingesting_a_chmod_000_folder_removes_nothing(notes_env: dict[str, str]) -> None:
    before = documents(notes_env)
    Path("notes").chmod(0)
    try:
        done = run_cli(["ingest", "notes"], notes_env)
    finally:
        Path("notes").chmod(0o755)
    assert done.returncode == 2 and "cannot be read" in one_error_line(done.stderr)
    assert documents(notes_env) == before


def test_a_reset_keeps_the_old_store_with_what_it_cannot_rebuild_and_says_where(
    notes_env: dict[str, str],
) -> None:
    """In a process of its own, as a user runs it: this one holds clients of the store."""
    Path("notes/ferry.txt").unlink()  # its document cannot be rebuilt
    env = {**notes_env, "PYTHONPATH": str(ROOT)}
    done = run_module("rag", ["ingest", "--reset", "--json"], env, cwd=Path.cwd())
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["missing"] == ["notes/ferry.txt"] and report["documents"] == 3
    assert "not rebuilt, no longer on disk: notes/ferry.txt" in done.stderr
    assert f"the old store is kept in {report['old_store']}" in done.stderr
    kept = {**env, "RAG_STORE_DIR": report["old_store"]}
    listed = run_module("rag", ["docs", "--json"], kept, cwd=Path.cwd())
    names = [n for entry in json.loads(listed.stdout)["documents"] for n in entry["names"]]
    assert "notes/ferry.txt" in names  # still there, with its text


def test_two_uploads_of_one_name_with_other_content_are_two_documents(settings, embeddings) -> None:
    from rag.service import Assistant

    assistant = Assistant(settings, embeddings=embeddings)
    uploads = settings.store.uploads_dir
    first = save_upload(uploads, "q1/report.txt", NOTES["jam.txt"].encode(), LIMITS)
    second = save_upload(uploads, "q2/report.txt", NOTES["pier.txt"].encode(), LIMITS)
    assert assistant.ingest([first]).added == 1
    report = assistant.ingest([second])
    assert (report.added, report.updated) == (1, 0)  # the issue saw "updated 1"
    names = sorted(name for d in assistant.documents() for name in d.names)
    assert [Path(n).name for n in names] == ["report-2.txt", "report.txt"]
    assert "4,200 jars" in assistant.document_text(names[1])
    assert "old pier" in assistant.document_text(names[0])


def test_the_page_keeps_both_uploads_of_one_name_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embeddings
) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.chdir(tmp_path)
    settings = make_settings(tmp_path)
    monkeypatch.setenv("RAG_STORE_DIR", str(settings.store.store_dir))
    monkeypatch.setenv("RAG_SEEDS_DIR", str(settings.store.seeds_dir))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    for text in (NOTES["jam.txt"], NOTES["pier.txt"]):
        at.get("file_uploader")[0].set_value(("report.txt", text.encode(), "text/plain"))
        at.run()
        assert not at.exception, at.exception
    notice = at.success[0].value.replace("\\", "")
    assert "Added 1, updated 0" in notice
    assert "report.txt was kept as report-2.txt" in notice
    uploads = settings.store.uploads_dir
    assert (uploads / "report.txt").read_text() == NOTES["jam.txt"]
    assert (uploads / "report-2.txt").read_text() == NOTES["pier.txt"]
