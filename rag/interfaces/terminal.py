"""How answers and ingest reports look in a terminal (``python -m rag``).

An answer starts with its outcome (Grounded, Not sure, Not in the documents); in a
quote the words that answer are ANSI bold on a terminal and repeated on an
``answer:`` line when the output is a pipe or a file; an unsure answer lists the
closest passages instead of sources; a model's draft streams token by token and is
followed by the checked answer.

Text that comes from a document, a file name or a model passes through
:func:`terminal_safe` before it is written, so a document cannot retitle the window,
clear the screen or move the cursor; the only escape sequences written are this
module's own bold and reset.

It writes to the stream it is given; it parses no arguments and asks nothing. JSON
output is not its business (``json.dumps`` escapes control characters itself).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from typing import TYPE_CHECKING, TextIO

from rag.answer import Answer, Citation, Draft, Passage, draft_deltas

if TYPE_CHECKING:
    from rag.ingest.pipeline import IngestReport

BOLD, RESET = "\033[1m", "\033[0m"
PASSAGE_PREVIEW = 300  # characters of each closest passage an unsure answer prints

# Terminal control sequences (ECMA-48), longest forms first: strings (OSC, DCS, SOS, PM,
# APC) up to their terminator (BEL or ST), CSI with its parameters, then two-character
# escapes; whatever control character is left after them is dropped on its own.
_ESCAPES = re.compile(
    r"(?:\x1b[]PX^_]|[\x90\x98\x9d-\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|\x1b[ -/]*[0-~]"
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LAYOUT = re.compile(r"[\t\n]+")


def terminal_safe(text: str, one_line: bool = False) -> str:
    r"""*text* without terminal escape sequences or control characters.

    Newlines and tabs stay (a quote keeps its layout) unless *one_line*: then each run
    of them becomes one space (a title, a file name, an error line).

    >>> terminal_safe("Title\x1b]0;pwned\x07\x1b[2J here\x1b")
    'Title here'
    >>> terminal_safe("two\nlines", one_line=True)
    'two lines'
    """
    text = _CONTROLS.sub("", _ESCAPES.sub("", text))
    return _LAYOUT.sub(" ", text) if one_line else text


def render_answer(answer: Answer, out: TextIO) -> None:
    """The outcome, the answer, then its numbered sources, for a person reading a terminal.

    A "not sure" answer is followed by the closest passages instead of sources.
    """
    out.write(outcome_line(answer) + "\n")
    out.write(terminal_safe(answer.answer) + "\n")
    if answer.outcome == "not_found":
        out.write("(No passage in the documents supports an answer.)\n")
    if answer.outcome == "unsure":
        render_passages(answer.passages, out)
    bold = out.isatty()
    for cite in answer.citations:
        render_citation(cite, bold, out)
    if answer.info.model:
        out.write(f"\n({terminal_safe(model_line(answer), one_line=True)})\n")


def render_citation(cite: Citation, bold: bool, out: TextIO) -> None:
    """One source: its number and place, the quote, and (in a pipe) its short answer."""
    out.write(
        f"\n[{cite.id}] {place(cite.title, cite.source, cite.start, cite.end, cite.heading)}\n"
    )
    out.write(f"    “{marked_quote(cite, bold)}”\n")
    if cite.short_answer and not bold:
        out.write(f"    answer: {terminal_safe(cite.short_answer, one_line=True)}\n")


def place(title: str, source: str, start: int, end: int, heading: str = "") -> str:
    """'Title > 4. Hotels (source, characters 10-20)' (the heading path when there is
    one), safe to print whatever the names hold."""
    named = f"{title} > {heading}" if heading else title
    where = terminal_safe(f"{named} ({source}", one_line=True)
    return f"{where}, characters {start}-{end})"


def outcome_line(answer: Answer) -> str:
    """'Grounded (confidence 83%)', 'Not sure (best sentence 41%)' or 'Not in the documents'."""
    if answer.confidence is None or answer.outcome == "not_found":
        return answer.label
    what = "confidence" if answer.outcome == "answered" else "best sentence"
    return f"{answer.label} ({what} {answer.confidence:.0%})"


def marked_quote(cite: Citation, bold: bool) -> str:
    """The quote, its short answer in ANSI bold when *bold* (a terminal).

    The quote is made terminal-safe piece by piece, so the answer's offsets still
    point at the right words and the bold is the only escape sequence in it.
    """
    a, b = cite.answer_start, cite.answer_end
    if not bold or a is None or b is None or not cite.start <= a < b <= cite.end:
        return terminal_safe(cite.quote)
    start, end = a - cite.start, b - cite.start
    before, answer, after = (
        terminal_safe(piece)
        for piece in (cite.quote[:start], cite.quote[start:end], cite.quote[end:])
    )
    return f"{before}{BOLD}{answer}{RESET}{after}"


def render_passages(passages: list[Passage], out: TextIO) -> None:
    """The closest passages of an unsure answer: rank, title, place, start of the text."""
    if not passages:
        return
    out.write("\nClosest passages (not an answer):\n")
    for passage in passages:
        heading = place(passage.title, passage.source, passage.start, passage.end, passage.heading)
        out.write(f"\n#{passage.rank} {heading}\n")
        text = terminal_safe(passage.text)
        preview = textwrap.shorten(text, PASSAGE_PREVIEW, placeholder=" …")
        out.write(f"    {preview}\n")


def model_line(answer: Answer) -> str:
    """Model name and timings of a generated answer."""
    timings = answer.timings_ms
    first, total = timings.get("first_token", 0) / 1000, timings.get("total", 0) / 1000
    spec = answer.info.spec or answer.mode
    return f"{spec}: {answer.info.model} · first token {first:.1f} s · total {total:.1f} s"


def stream_answer(answers: Iterator[Answer | Draft], out: TextIO) -> Answer:
    """Print draft tokens as they arrive, then the checked answer with its sources."""
    done: list[Answer] = []
    shown = False
    for delta in draft_deltas(answers, done):
        out.write(terminal_safe(delta))
        out.flush()
        shown = shown or bool(delta)
    if not done:  # pragma: no cover - the chain always ends with a complete answer
        raise RuntimeError("the answer stream ended without a final answer")
    final = done[-1]
    if shown:
        from rag.answering.generate import check_note

        out.write(f"\n\n--- checked: {terminal_safe(check_note(final), one_line=True)} ---\n")
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
