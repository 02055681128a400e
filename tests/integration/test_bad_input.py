"""Bad input and faults over the real model and a real Chroma store or server.

A folder with damaged and hostile files beside good ones: each bad file is one
"skipped NAME: why" line, the good ones are ingested. A document and a file name full
of escape sequences: ``ask`` and ``docs`` print none of them, ``--json`` keeps them
escaped. A Chroma server that is not there, or goes away mid-command: one ``error:``
line, exit code 2, no traceback. The same cases over fakes are in
tests/unit/test_bad_input_unit.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import rag.interfaces.cli
from rag.service import Assistant
from tests.badfiles import (
    ESCAPES,
    decompression_bomb_pdf,
    good_pdf,
    nested_arrays_pdf,
    rejected_html,
    utf16_cut_short,
)
from tests.conftest import ROOT, free_port, make_settings, run_cli, store_env
from tests.fakes import HashingEmbeddings, fake_answerer

pytestmark = pytest.mark.integration

CONTROL_CHARS = {chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))}
HARBOUR = (
    f"Harbour log {ESCAPES}\n\n"
    f"The harbour master counted forty-two fishing boats {ESCAPES}in the harbour on Monday. "
    "The ferry to the island leaves at nine."
)
QUESTION = "How many fishing boats did the harbour master count in the harbour?"


def controls(text: str) -> set[str]:
    """The control characters in *text* other than newline and tab."""
    return CONTROL_CHARS & set(text)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    return store_env(make_settings(tmp_path))


def test_bad_files_are_skipped_with_why_and_the_good_ones_ingested(env, tmp_path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.txt").write_text("Ferry times\n\nThe ferry leaves at nine.\n")
    (folder / "good.pdf").write_bytes(good_pdf())
    bad = {
        "cut.txt": (utf16_cut_short(), "not valid UTF-16"),
        "nested.pdf": (nested_arrays_pdf(), "nested too deeply"),
        "bomb.pdf": (decompression_bomb_pdf(), "decompression bomb"),
        "page.html": (rejected_html(), "not HTML the parser can read"),
    }
    for name, (data, _) in bad.items():
        (folder / name).write_bytes(data)

    done = run_cli(["ingest", str(folder), "--json"], env)
    assert done.returncode == 1, "some files were skipped"
    assert "Traceback" not in done.stderr
    skipped = done.stderr.splitlines()
    assert len(skipped) == len(bad)
    for name, (_, why) in bad.items():
        [line] = [line for line in skipped if line.startswith(f"skipped mixed/{name}: ")]
        assert why in line
    report = json.loads(done.stdout)
    assert (report["documents"], report["added"]) == (2, 2), "the good files went in"

    listed = json.loads(run_cli(["docs", "--json"], env).stdout)["documents"]
    assert sorted(d["source"] for d in listed) == ["mixed/good.pdf", "mixed/good.txt"]


def test_escape_sequences_in_a_document_and_its_name_never_reach_the_terminal(
    env, tmp_path, monkeypatch, embeddings
) -> None:
    folder = tmp_path / "harbour"
    folder.mkdir()
    name = "harbour\x1b[2J\x1b]0;TITLE\x07log.txt"
    (folder / name).write_text(HARBOUR, encoding="utf-8")
    assert run_cli(["ingest", str(folder)], env).returncode == 0

    docs = run_cli(["docs"], env).stdout
    assert not controls(docs) and "harbourlog.txt" in docs and "Harbour log" in docs
    listed = run_cli(["docs", "--json"], env).stdout
    assert not controls(listed), "escaped by JSON"
    [doc] = json.loads(listed)["documents"]
    assert doc["source"] == f"harbour/{name}" and ESCAPES in doc["title"]

    settings = make_settings(tmp_path)
    assistant = Assistant(settings, embeddings=embeddings, extractive=fake_answerer(settings))
    monkeypatch.setattr(rag.interfaces.cli, "_assistant", lambda llm=None: assistant)
    shown = run_cli(["ask", QUESTION], env)
    assert shown.returncode == 0 and not controls(shown.stdout + shown.stderr)
    assert "forty-two fishing boats" in shown.stdout and "harbourlog.txt" in shown.stdout
    raw = run_cli(["ask", QUESTION, "--json"], env).stdout
    assert not controls(raw)
    answer = json.loads(raw)
    texts = [c["quote"] for c in answer["citations"]] + [p["text"] for p in answer["passages"]]
    assert any(ESCAPES in text for text in texts), "the exact text, escapes included"


def _one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    [line] = stderr.splitlines()
    assert line.startswith("error: ")
    return line


@pytest.mark.parametrize(
    ("module", "args"),
    [
        ("rag", ["docs"]),
        ("rag", ["ask", QUESTION]),
        ("rag", ["ingest"]),
        ("rag.eval", [str(ROOT / "eval" / "qa_calais.jsonl")]),
    ],
)
def test_a_chroma_server_that_is_not_there_is_one_line(module, args, env, tmp_path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    if module == "rag.eval":
        args = [*args, "--out", str(tmp_path / "out")]
    done = run_cli(args, {**env, "RAG_CHROMA_URL": url}, module)
    assert done.returncode == 2
    line = _one_error_line(done.stderr)
    assert line.startswith(f"error: Cannot reach the Chroma server at {url} (")
    assert "RAG_CHROMA_URL" in line and "--reset" not in line, "no advice that deletes data"


def test_a_chroma_server_that_goes_away_mid_command_is_one_line(
    tmp_path, monkeypatch, capsys
) -> None:
    from tests.integration.test_server_mode import CHROMA, ChromaServer

    if not CHROMA.exists():
        pytest.skip("the chroma CLI is not installed next to this Python")
    monkeypatch.chdir(tmp_path)
    server = ChromaServer(tmp_path / "server-data")
    server.start()
    try:
        settings = make_settings(tmp_path, store={"chroma_url": server.url})
        assistant = Assistant(settings, HashingEmbeddings(), fake_answerer(settings))
        assert assistant.ingest().added == 1  # connected, and the store holds the article
    finally:
        server.stop()  # the server goes away; the assistant still holds its client
    monkeypatch.setattr(rag.interfaces.cli, "_assistant", lambda llm=None: assistant)
    for args in (["docs"], ["ask", QUESTION], ["ingest"]):
        assert rag.interfaces.cli.main(args) == 2, args
        line = _one_error_line(capsys.readouterr().err)
        assert line.startswith(f"error: Cannot reach the Chroma server at {server.url} (")
        assert "resumes where it stopped" in line
