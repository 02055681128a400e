"""How answers and ingest reports look in a terminal (``python -m rag``).

An answer starts with its outcome (Grounded, Not sure, Not in the documents); in a
quote the words that answer are ANSI bold on a terminal and repeated on an
``answer:`` line when the output is a pipe or a file; an unsure answer lists the
closest passages instead of sources; a model's draft streams token by token and is
followed by the checked answer.

It writes to the stream it is given; it parses no arguments and asks nothing.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from typing import TYPE_CHECKING, TextIO

from rag.answer import Answer, Citation, Passage, draft_deltas

if TYPE_CHECKING:
    from rag.ingest import IngestReport

BOLD, RESET = "\033[1m", "\033[0m"
PASSAGE_PREVIEW = 300  # characters of each closest passage an unsure answer prints


def render_answer(answer: Answer, out: TextIO) -> None:
    """The outcome, the answer, then its numbered sources, for a person reading a terminal.

    A "not sure" answer is followed by the closest passages instead of sources.
    """
    out.write(outcome_line(answer) + "\n")
    out.write(answer.answer + "\n")
    if answer.outcome == "not_found":
        out.write("(No passage in the documents supports an answer.)\n")
    if answer.outcome == "unsure":
        render_passages(answer.passages, out)
    bold = out.isatty()
    for cite in answer.citations:
        out.write(
            f"\n[{cite.id}] {cite.title} ({cite.source}, characters {cite.start}-{cite.end})\n"
        )
        out.write(f"    “{marked_quote(cite, bold)}”\n")
        if cite.short_answer and not bold:
            out.write(f"    answer: {cite.short_answer}\n")
    if answer.info.model:
        out.write(f"\n({model_line(answer)})\n")


def outcome_line(answer: Answer) -> str:
    """'Grounded (confidence 83%)', 'Not sure (best sentence 41%)' or 'Not in the documents'."""
    if answer.confidence is None or answer.outcome == "not_found":
        return answer.label
    what = "confidence" if answer.outcome == "answered" else "best sentence"
    return f"{answer.label} ({what} {answer.confidence:.0%})"


def marked_quote(cite: Citation, bold: bool) -> str:
    """The quote, its short answer in ANSI bold when *bold* (a terminal)."""
    a, b = cite.answer_start, cite.answer_end
    if not bold or a is None or b is None or not cite.start <= a < b <= cite.end:
        return cite.quote
    start, end = a - cite.start, b - cite.start
    return f"{cite.quote[:start]}{BOLD}{cite.quote[start:end]}{RESET}{cite.quote[end:]}"


def render_passages(passages: list[Passage], out: TextIO) -> None:
    """The closest passages of an unsure answer: rank, title, place, start of the text."""
    if not passages:
        return
    out.write("\nClosest passages (not an answer):\n")
    for passage in passages:
        out.write(
            f"\n#{passage.rank} {passage.title} "
            f"({passage.source}, characters {passage.start}-{passage.end})\n"
        )
        preview = textwrap.shorten(passage.text, PASSAGE_PREVIEW, placeholder=" …")
        out.write(f"    {preview}\n")


def model_line(answer: Answer) -> str:
    """Model name and timings of a generated answer."""
    timings = answer.timings_ms
    first, total = timings.get("first_token", 0) / 1000, timings.get("total", 0) / 1000
    spec = answer.info.spec or answer.mode
    return f"{spec}: {answer.info.model} · first token {first:.1f} s · total {total:.1f} s"


def stream_answer(answers: Iterator[Answer], out: TextIO) -> Answer:
    """Print draft tokens as they arrive, then the checked answer with its sources."""
    done: list[Answer] = []
    shown = False
    for delta in draft_deltas(answers, done):
        out.write(delta)
        out.flush()
        shown = shown or bool(delta)
    if not done:  # pragma: no cover - the chain always ends with a complete answer
        raise RuntimeError("the answer stream ended without a final answer")
    final = done[-1]
    if shown:
        from rag.generate import check_note

        out.write(f"\n\n--- checked: {check_note(final)} ---\n")
    render_answer(final, out)
    return final


def ingest_summary(report: IngestReport) -> str:
    """One line of counts; names added or dropped are mentioned only when there are some."""
    names = ""
    if report.names_added or report.names_removed:
        names = f", new names {report.names_added}, names dropped {report.names_removed}"
    return (
        f"{report.documents} documents, {report.chunks} chunks in the store "
        f"(added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
        f"removed {report.removed}{names}; "
        f"embedded {report.embedded} chunks in {report.seconds:.1f}s)"
    )
