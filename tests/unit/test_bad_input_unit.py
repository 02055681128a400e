"""Bad input and faults, as a user meets them, over fakes (nothing loaded or stored).

Escape sequences in documents and file names never reach the terminal (``--json``
keeps them, escaped); a bad setting, an unusable ``--out`` or a network failure is one
``error:`` line and exit code 2 (``--debug``: the traceback); a damaged or hostile file
is a :class:`DocumentError` naming it, never a parser's exception.
The same cases over the real model and store are in tests/integration/test_bad_input.py.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import rag.interfaces.cli
from rag.answer import Answer, Draft
from rag.config import Settings
from rag.documents import parse_bytes
from rag.errors import DocumentError
from rag.ingest.pipeline import IngestReport
from rag.interfaces.cli import guarded, main
from rag.interfaces.terminal import BOLD, RESET, render_answer, terminal_safe
from rag.store import ManifestEntry
from rag.store.client import server_gone
from tests.badfiles import (
    ESCAPES,
    decompression_bomb_pdf,
    good_pdf,
    nested_arrays_pdf,
    rejected_html,
    utf16_cut_short,
)
from tests.conftest import ROOT, make_settings, run_cli, store_env
from tests.fakes import CannedAssistant, answered, doc_entry, unsure

QA_FILE = str(ROOT / "eval" / "qa_calais.jsonl")
EVIL_NAME = "seeds/harbour\x1b[2Jnotes\x07.txt"
EVIL_TITLE = f"Harbour {ESCAPES}notes"
QUOTE = f"The harbour master counted {ESCAPES}42 boats\x1b on Monday."
CONTROL_CHARS = {chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))}


def hostile_answer() -> Answer:
    """:func:`answered` whose title, source, quote, short answer and passages are hostile."""
    base = answered()
    answer_at = QUOTE.index("42 boats")
    cite = replace(
        base.citations[0],
        title=EVIL_TITLE,
        source=EVIL_NAME,
        quote=QUOTE,
        start=0,
        end=len(QUOTE),
        answer_start=answer_at,
        answer_end=answer_at + len("42 boats"),
    )
    passages = [replace(p, title=EVIL_TITLE, source=EVIL_NAME, text=QUOTE) for p in base.passages]
    return replace(base, answer=QUOTE + " [1]", citations=[cite], passages=passages)


class HostileAssistant(CannedAssistant):
    """A canned assistant whose one document and every answer carry escape sequences."""

    answer = hostile_answer()

    def documents(self) -> list[ManifestEntry]:
        return [replace(doc_entry(), source=EVIL_NAME, title=EVIL_TITLE, names=())]

    def ask(self, question: str, history: Sequence[Any] | None = None, k: int | None = None):
        return self.answer

    def ask_stream(
        self, question: str, history: Sequence[Any] | None = None, k: int | None = None
    ) -> Iterator[Answer | Draft]:
        yield Draft(question=question, answer=QUOTE[:40], passages=self.answer.passages)
        yield self.answer


@pytest.fixture
def hostile(monkeypatch: pytest.MonkeyPatch) -> type[HostileAssistant]:
    monkeypatch.setattr(rag.interfaces.cli, "_assistant", lambda llm=None: HostileAssistant())
    return HostileAssistant


def controls(text: str) -> set[str]:
    """The control characters in *text* other than newline and tab."""
    return CONTROL_CHARS & set(text)


# ----- terminal-safe output ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\x1b]0;TITLE\x07b", "ab"),  # OSC ended by BEL: window title
        ("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b", "alinkb"),  # OSC ended by ST
        ("a\x1b[2J\x1b[1;31mb", "ab"),  # CSI: clear screen, colour
        ("a\x9b2Jb", "ab"),  # the one-byte C1 CSI
        ("a\x1bPq#0;2;0;0;0\x1b\\b", "ab"),  # DCS (sixel)
        ("a\x1b(0b", "ab"),  # charset switch (nF escape)
        ("a\x1bcb", "ab"),  # full reset (two-character escape)
        ("a\x1b", "a"),  # lone ESC at the end
        ("a\x07\x08\x0d\x7f\x85b", "ab"),  # BEL, backspace, CR, DEL, NEL
        ("line one\n\tline two", "line one\n\tline two"),  # layout stays
        ("Grüße — ünïcode ✓", "Grüße — ünïcode ✓"),
    ],
)
def test_escape_sequences_and_control_characters_are_removed(raw: str, shown: str) -> None:
    assert terminal_safe(raw) == shown


def test_one_line_text_folds_newlines_and_tabs_into_spaces() -> None:
    assert terminal_safe("a\n\n\tb\x1b[2J", one_line=True) == "a b"


@pytest.mark.parametrize("outcome", ["answered", "unsure"])
def test_ask_prints_no_escape_sequence_from_a_document(hostile, outcome, capsys) -> None:
    if outcome == "unsure":
        hostile.answer = replace(unsure(), passages=hostile_answer().passages)
    try:
        assert main(["ask", "How many boats?"]) == 0
    finally:
        hostile.answer = hostile_answer()
    out = capsys.readouterr().out
    assert not controls(out), "no ESC, BEL or other control character is printed"
    assert "42 boats" in out and "Harbour notes" in out and "harbournotes.txt" in out


def test_on_a_terminal_the_bold_answer_is_the_only_escape_sequence() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    render_answer(hostile_answer(), out)
    text = out.getvalue()
    assert f"{BOLD}42 boats{RESET}" in text
    assert not controls(text.replace(BOLD, "").replace(RESET, ""))


def test_docs_prints_no_escape_sequence_from_a_file_name(hostile, capsys) -> None:
    assert main(["docs"]) == 0
    out = capsys.readouterr().out
    assert not controls(out)
    assert out.startswith("Harbour notes  (harbournotes.txt; 2 chunks")


def test_json_output_keeps_the_exact_text_escaped(hostile, capsys) -> None:
    assert main(["ask", "How many boats?", "--json"]) == 0
    raw = capsys.readouterr().out
    assert not controls(raw), "JSON escapes every control character (C1 and DEL too)"
    cite = json.loads(raw)["citations"][0]
    assert (cite["quote"], cite["title"], cite["source"]) == (QUOTE, EVIL_TITLE, EVIL_NAME)

    assert main(["docs", "--json"]) == 0
    raw = capsys.readouterr().out
    assert not controls(raw) and "\\u001b]0;TITLE\\u0007" in raw
    assert json.loads(raw)["documents"][0]["names"] == [EVIL_NAME]


def test_c1_controls_are_escaped_in_json_too(monkeypatch, capsys) -> None:
    title = "Report \x9b2J\x85\x7f end"

    class C1Assistant(CannedAssistant):
        def documents(self) -> list[ManifestEntry]:
            return [replace(doc_entry(), title=title)]

    monkeypatch.setattr(rag.interfaces.cli, "_assistant", lambda llm=None: C1Assistant())
    assert main(["docs", "--json"]) == 0
    raw = capsys.readouterr().out
    assert not controls(raw) and "\\u009b2J" in raw
    assert json.loads(raw)["documents"][0]["title"] == title


def test_skipped_files_with_hostile_names_are_one_safe_line_each(monkeypatch, capsys) -> None:
    report = IngestReport(
        errors=[
            {"source": "seeds/a\x1b]0;x\x07\nb.txt", "error": "a\x1b]0;x\x07\nb.txt is empty"},
            {"source": "seeds/c.pdf", "error": "c.pdf is not a readable PDF (\x1b[2J)"},
        ]
    )

    class Ingesting(CannedAssistant):
        def ingest(self, *args: Any, **kwargs: Any) -> IngestReport:
            return report

    monkeypatch.setattr(rag.interfaces.cli, "_assistant", lambda llm=None: Ingesting())
    assert main(["ingest"]) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "skipped seeds/a b.txt: a b.txt is empty",
        "skipped seeds/c.pdf: c.pdf is not a readable PDF ()",
    ]


def test_an_error_quoting_a_hostile_file_name_is_one_safe_line(capsys) -> None:
    def fail() -> int:
        raise DocumentError(f"{EVIL_NAME}\nsecond line does not exist.")

    assert guarded(fail) == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: seeds/harbournotes.txt second line does not exist."
    ]


# ----- settings -----------------------------------------------------------------------------
@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return store_env(make_settings(tmp_path))


BAD_SETTINGS = [
    ("RAG_K", "abc", "a whole number from 1 to 50"),
    ("RAG_CHUNK_SIZE", "0", "a whole number of at least 50"),
    ("RAG_ANSWER_THRESHOLD", "nan", "a finite number from 0 to 1, or leave it unset"),
    ("RAG_REFUSAL_THRESHOLD", "nan", "a finite number from -1 to 1, or leave it unset"),
    ("RAG_LLM_TIMEOUT", "inf", "a finite number above 0"),
    ("RAG_EMBEDDING_BACKEND", "gpu", "one of auto, onnx, torch"),
]


@pytest.mark.parametrize("module", ["rag", "rag.eval"])
@pytest.mark.parametrize(("variable", "value", "allowed"), BAD_SETTINGS)
def test_a_bad_setting_is_one_error_line_naming_it(
    module, variable, value, allowed, env, tmp_path
) -> None:
    args = ["docs"] if module == "rag" else [QA_FILE, "--out", str(tmp_path / "out")]
    done = run_cli(args, {**env, variable: value}, module)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: {variable}={value!r} is not allowed; use {allowed}."
    ]
    assert done.stdout == ""
    assert not (tmp_path / "vectorstore").exists(), "nothing was opened"


def test_several_bad_settings_give_one_line_each(env) -> None:
    done = run_cli(["docs"], {**env, "RAG_K": "abc", "RAG_CHUNK_SIZE": "0"})
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 2 and all(line.startswith("error: RAG_") for line in lines)
    assert "RAG_CHUNK_SIZE='0'" in lines[0] and "RAG_K='abc'" in lines[1]


FLOAT_SETTINGS = [
    f"{group}.{name}"
    for group, tree in Settings.model_fields.items()
    for name, field in tree.annotation.model_fields.items()  # type: ignore[union-attr]
    if float in (getattr(field.annotation, "__args__", None) or (field.annotation,))
]


@pytest.mark.parametrize("path", FLOAT_SETTINGS)
@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-Infinity", "1e999", math.nan, math.inf])
def test_nan_and_infinities_are_refused_for_every_float_setting(path, value) -> None:
    group, name = path.split(".")
    with pytest.raises(ValidationError, match="finite number"):
        Settings(_env_file=None, **{group: {name: value}})


def test_every_float_setting_is_covered() -> None:
    every = {"answer.refusal_threshold", "answer.threshold", "llm.timeout", "ingest.lock_poll"}
    assert every <= set(FLOAT_SETTINGS)


# ----- --debug ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("module", "args", "error"),
    [("rag", ["--debug", "docs"], "SettingsError"), ("rag.eval", ["--debug"], "SettingsError")],
)
def test_debug_shows_the_traceback_instead_of_the_line(module, args, error, env, tmp_path):
    if module == "rag.eval":
        args = [*args, QA_FILE, "--out", str(tmp_path / "out")]
    done = run_cli(args, {**env, "RAG_K": "abc"}, module)
    assert done.returncode == 2
    assert "Traceback (most recent call last)" in done.stderr and error in done.stderr
    assert "ValidationError" in done.stderr, "the cause is shown too"


# ----- eval --out -------------------------------------------------------------------------
def test_eval_out_that_is_a_file_fails_before_any_row(env, tmp_path) -> None:
    existing = tmp_path / "report.md"
    existing.write_text("keep me", encoding="utf-8")
    done = run_cli([QA_FILE, "--out", str(existing)], env, "rag.eval")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: --out {existing} is a file; give a folder for the reports "
        "(it is created if missing)."
    ]
    assert existing.read_text(encoding="utf-8") == "keep me"
    assert not (tmp_path / "vectorstore").exists(), "no store opened, no row run"


def test_eval_out_inside_a_file_fails_before_any_row(env, tmp_path) -> None:
    existing = tmp_path / "report.md"
    existing.write_text("keep me", encoding="utf-8")
    done = run_cli([QA_FILE, "--out", str(existing / "eval")], env, "rag.eval")
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(f"error: --out {existing / 'eval'} cannot be created")
    assert not (tmp_path / "vectorstore").exists()


# ----- network failures -------------------------------------------------------------------
def test_a_network_error_from_outside_chromadb_keeps_its_traceback() -> None:
    """Only a Chroma client's lost connection is called one (an Ollama server down is not)."""
    error = httpx.ConnectError("[Errno 111] Connection refused")
    assert server_gone(error) is None

    def fail() -> int:
        raise error

    with pytest.raises(httpx.ConnectError):
        guarded(fail)


# ----- damaged and hostile files ----------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "make", "why"),
    [
        ("cut.txt", utf16_cut_short, "is not valid UTF-16 (byte 52: truncated data)"),
        ("nested.pdf", nested_arrays_pdf, "cannot be read safely: its objects are nested too"),
        ("bomb.pdf", decompression_bomb_pdf, "expands past the PDF reader's safety limit"),
        ("page.html", rejected_html, "is not HTML the parser can read (AssertionError"),
    ],
)
def test_a_damaged_or_hostile_file_is_a_document_error_naming_it(name, make, why) -> None:
    with pytest.raises(DocumentError) as caught:
        parse_bytes(make(), name, f"seeds/{name}")
    message = str(caught.value)
    assert message.startswith(f"{name} ") and why in message
    assert "\n" not in message


MUTATIONS = st.lists(
    st.tuples(st.floats(0, 1, exclude_max=True), st.binary(max_size=12), st.integers(0, 12)),
    min_size=1,
    max_size=6,
)


@given(MUTATIONS)
@settings(max_examples=300, deadline=None)
def test_any_damaged_pdf_is_a_document_error_or_text(mutations) -> None:
    data = bytearray(good_pdf())
    for where, insert, cut in mutations:
        at = int(where * len(data))
        data[at : at + cut] = insert
    try:
        doc = parse_bytes(bytes(data), "damaged.pdf", "seeds/damaged.pdf")
    except DocumentError as exc:
        assert str(exc).startswith("damaged.pdf ")
    else:
        assert doc.text.strip()
