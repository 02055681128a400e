"""rag.interfaces.cli's answer output: the outcome first, the short answer bold on a terminal."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import pytest

import rag.interfaces.cli
from rag.answer import Answer
from rag.config import REFUSAL, UNSURE
from rag.interfaces.cli import main
from rag.interfaces.terminal import BOLD, PASSAGE_PREVIEW, RESET, render_answer
from tests.fakes import (
    DOC_TEXT,
    QUOTE,
    SHORT_ANSWER,
    CannedAssistant,
    answered,
    not_found,
    passage,
    unsure,
)


class Terminal(io.StringIO):
    """Captured output that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def rendered(answer: Answer, out: io.StringIO | None = None) -> str:
    out = out or io.StringIO()
    render_answer(answer, out)
    return out.getvalue()


def test_answered_starts_with_grounded_and_its_confidence() -> None:
    text = rendered(answered())
    assert text.splitlines()[0] == "Grounded (confidence 83%)"
    assert text.splitlines()[1] == QUOTE + " [1]"


def test_on_a_terminal_the_short_answer_is_bold_inside_the_quote() -> None:
    text = rendered(answered(), Terminal())
    before, after = QUOTE.split(SHORT_ANSWER)
    assert f"    “{before}{BOLD}{SHORT_ANSWER}{RESET}{after}”" in text
    assert "answer:" not in text


def test_in_a_pipe_the_quote_is_unchanged_and_the_short_answer_has_its_line() -> None:
    text = rendered(answered())
    assert "\033[" not in text
    assert f"    “{QUOTE}”\n    answer: {SHORT_ANSWER}\n" in text


def test_unsure_prints_the_closest_passages_and_no_quote() -> None:
    text = rendered(unsure(), Terminal())
    lines = text.splitlines()
    assert lines[:2] == ["Not sure (best sentence 41%)", UNSURE]
    assert "Closest passages (not an answer):" in text
    for p in unsure().passages:
        assert f"#{p.rank} {p.title} ({p.source}, characters {p.start}-{p.end})" in text
        assert "    " + p.text.split()[0] in text
    assert "“" not in text and "answer:" not in text and BOLD not in text


def test_unsure_passage_previews_are_short_and_on_one_line() -> None:
    wide = replace(unsure(), passages=[replace(passage(1), text="word\n" * 200)])
    [preview] = [line for line in rendered(wide).splitlines() if line.startswith("    word")]
    assert len(preview) <= 4 + PASSAGE_PREVIEW and preview.endswith(" …")


def test_not_found_states_it_first() -> None:
    lines = rendered(not_found()).splitlines()
    assert lines[:2] == ["Not in the documents", REFUSAL]
    assert "confidence" not in lines[0]


@pytest.fixture
def canned(monkeypatch: pytest.MonkeyPatch) -> None:
    """``python -m rag`` over :class:`CannedAssistant` (nothing loaded or stored)."""
    CannedAssistant.answers = {a.question: a for a in (answered(), unsure(), not_found())}
    monkeypatch.setattr(rag.interfaces.cli, "_assistant", lambda llm=None: CannedAssistant())


def test_ask_json_has_outcome_confidence_and_exact_short_answer_offsets(canned, capsys) -> None:
    assert main(["ask", answered().question, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["outcome"] == "answered" and data["confidence"] == 0.83
    [cite] = data["citations"]
    assert {"answer_start", "answer_end"} <= set(cite)
    assert DOC_TEXT[cite["answer_start"] : cite["answer_end"]] == SHORT_ANSWER
    assert DOC_TEXT[cite["start"] : cite["end"]] == cite["quote"]

    assert main(["ask", unsure().question, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["outcome"] == "unsure" and data["refused"] is True
    assert data["citations"] == [] and len(data["passages"]) == 2


def test_draft_deltas_show_each_growing_draft_once_and_keep_the_final() -> None:
    from rag.answer import Answer, Draft, draft_deltas

    drafts: list[Answer | Draft] = [
        Draft(question="q", answer="The ferry"),
        Draft(question="q", answer="The ferry runs"),
        Draft(question="q", answer="A rewrite"),  # not an extension: not shown
        Draft(question="q", answer="The ferry runs hourly."),
        Answer.answered("q", "The ferry runs hourly. [1]", citations=[]),
    ]
    done: list[Answer] = []
    assert list(draft_deltas(drafts, done)) == ["The ferry", " runs", " hourly."]
    assert done == [drafts[-1]]
