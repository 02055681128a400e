"""Show a document as its author wrote it: Markdown rendered safely, wrapped text re-flowed.

The page can only colour part of a text through Streamlit's Markdown (see
:mod:`rag.interfaces.highlight`), and document text is untrusted. So a Markdown document is not
handed to the page as it is: :mod:`markdown_it` (raw HTML off) parses it into blocks
and inline runs, and :func:`document_markdown` writes it back as *our* Markdown, every
run of document text escaped by :func:`rag.interfaces.highlight.escape_markdown`. Only the
structure comes back: headings (as bold lines), paragraphs, bullet and numbered lists,
block quotes, tables, bold and italics. A link becomes its text (its address is
dropped), an image its alt text, raw HTML and code stay literal text; nothing the page
shows can load anything.

The cited span is found through the parse with sentinels: private-use characters put
into the source at the span's (and the short answer's) start and end travel with the
text into the inline runs, where they switch the highlight on and off, so the mark
sits on exactly the characters at those offsets, across blocks too (each run gets its
own directive). A sentinel the parse swallows (inside a link address, say) makes the
whole text fall back to :func:`rag.interfaces.highlight.highlight_markdown` of the source:
markup shown literally, highlight still exact.

Every text is first re-flowed with :func:`rag.documents.structure.reflow` (same length, so
offsets do not move): a soft line break of hard-wrapped prose becomes a space, and a
line break that is left is kept as a line break.

This module returns strings only; it does not import Streamlit or decide what to show.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from itertools import groupby
from pathlib import PurePath

from markdown_it import MarkdownIt
from markdown_it.token import Token

from rag.documents.structure import reflow
from rag.interfaces.highlight import (
    ANSWER_HIGHLIGHT,
    HIGHLIGHT,
    escape_markdown,
    highlight_markdown,
    text_markdown,
)

log = logging.getLogger(__name__)

MARKDOWN_SUFFIXES = (".md", ".markdown")
# Sentinels: span start, span end, answer start, answer end (private use: no meaning).
SPAN_START, SPAN_END, ANSWER_START, ANSWER_END = "\ue000", "\ue001", "\ue002", "\ue003"
SENTINELS = SPAN_START + SPAN_END + ANSWER_START + ANSWER_END
_NO_SENTINELS = str.maketrans(dict.fromkeys(SENTINELS, "\ufffd"))
# Markup a sentinel steps over so it never sits between a delimiter and its text
# (a "**" next to a sentinel may stop being bold), nor before a line's block marker.
_DELIMITERS = "*_~"
_CLOSERS = " \t\n|#" + _DELIMITERS
_BLOCK_MARKER_CHARS = " \t>#|-+*0123456789.)"
BLOCK_SLACK = 1000  # characters a window's end may move on to keep a block whole
LINES_BEFORE = 4  # lines of a Markdown document shown before the cited span's line


def is_markdown(source: str) -> bool:
    """True when *source* names a Markdown file (by its suffix)."""
    return PurePath(source).suffix.lower() in MARKDOWN_SUFFIXES


@cache
def _parser() -> MarkdownIt:
    # CommonMark with raw HTML off (it stays text), plus GFM tables; no linkify.
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def document_markdown(
    text: str,
    *,
    markdown: bool,
    span: tuple[int, int] | None = None,
    style: str = HIGHLIGHT,
    answer: tuple[int, int] | None = None,
) -> str:
    """Inert Markdown that shows *text* re-flowed, with ``text[span]`` highlighted.

    *markdown* says whether *text* is a Markdown document (rendered) or plain text
    (shown as it is). *style* is the highlight's Streamlit colour directive, *answer*
    the short answer's offsets (marked more strongly inside the span). Offsets index
    *text*.
    """
    shown = reflow(text)
    if markdown:
        rendered = _rendered(shown, span, style, answer)
        if rendered is not None:
            return rendered
    if span is None:
        return text_markdown(shown)
    return highlight_markdown(shown, span[0], span[1], style, answer=answer)


def _rendered(
    text: str, span: tuple[int, int] | None, style: str, answer: tuple[int, int] | None
) -> str | None:
    """*text* rendered as Markdown with its sentinels as highlights; None if one was lost."""
    marked, expected = with_sentinels(text, span, answer)
    writer = _Writer(style)
    markdown = writer.document(_parser().parse(marked))
    if writer.seen != expected:
        log.debug("a highlight sentinel was lost in the parse; showing the text as it is")
        return None
    return markdown


def markdown_window(text: str, lo: int, hi: int, start: int, end: int) -> tuple[int, int]:
    """The window ``[lo, hi)`` around the span ``[start, end)`` of Markdown *text*, fitted.

    Rendered lists and tables are taller than prose, so at most :data:`LINES_BEFORE`
    lines come before the span's line (the highlight stays near the top, in view), and
    the edges move to whole blocks (:func:`block_window`).
    """
    lo = max(lo, _lines_back(text, start, LINES_BEFORE))
    return block_window(text, lo, hi, start, end)


def _lines_back(text: str, at: int, lines: int) -> int:
    """The start of the line *lines* non-blank lines above the one holding *at*."""
    line = text.rfind("\n", 0, at) + 1
    while lines > 0 and line > 0:
        line = text.rfind("\n", 0, line - 1) + 1
        lines -= bool(text[line : text.find("\n", line)].strip())
    return line


def block_window(text: str, lo: int, hi: int, start: int, end: int) -> tuple[int, int]:
    """A window ``[lo, hi)`` of Markdown *text* widened (or narrowed) to whole blocks.

    A window cut inside a list or table would show half of it (a table without its
    header is not a table). The start moves back to its block's start when that is at
    most :data:`LINES_BEFORE` lines back, the end forward to its block's end when that
    is at most :data:`BLOCK_SLACK` characters on; otherwise each moves in to the next
    block edge that keeps ``[start, end)`` (the cited span) inside. Edges between
    blocks stay.
    """
    # Only the text around the window is parsed (a whole long document took seconds),
    # from and to a blank line, which ends a top-level block in all but rare cases.
    first = text.rfind("\n\n", 0, max(0, text.rfind("\n", 0, lo) - BLOCK_SLACK)) + 1
    last = text.find("\n\n", min(len(text), hi + BLOCK_SLACK))
    last = len(text) if last < 0 else last
    for b0, b1 in _top_level_blocks(text[first:last], first):
        if b0 < lo < b1:
            near = text.count("\n", b0, lo) <= LINES_BEFORE
            lo = b0 if near else (b1 if b1 <= start else lo)
        if b0 < hi < b1:
            hi = b1 if b1 - hi <= BLOCK_SLACK else (b0 if b0 >= end else hi)
    return lo, hi


def _top_level_blocks(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """The character ranges of *text*'s top-level Markdown blocks (whole lines), + *offset*."""
    line_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"] + [len(text) + 1]
    spans = []
    for token in _parser().parse(text):
        if token.level == 0 and token.map and token.nesting >= 0:
            first, last = token.map
            stop = min(line_starts[min(last, len(line_starts) - 1)] - 1, len(text))
            spans.append((offset + line_starts[first], offset + max(stop, line_starts[first])))
    return spans


# ----- sentinels ------------------------------------------------------------------------
def with_sentinels(
    text: str, span: tuple[int, int] | None, answer: tuple[int, int] | None
) -> tuple[str, str]:
    """*text* with sentinel characters at the span's and answer's ends; the sentinels put.

    Each sentinel steps off markup (see :func:`_start_at`, :func:`_end_at`); the answer
    is kept inside the span, and dropped when nothing of it is left.
    """
    text = text.translate(_NO_SENTINELS)  # a document's own sentinels are not ours
    if span is None or span[0] >= span[1]:
        return text, ""
    start, end = _start_at(text, span[0]), _end_at(text, span[1])
    if start >= end:
        return text, ""
    cuts = [(start, 0, SPAN_START), (end, 3, SPAN_END)]
    if answer is not None:
        a0 = max(start, _start_at(text, answer[0]))
        a1 = min(end, _end_at(text, answer[1]))
        if a0 < a1:
            cuts += [(a0, 1, ANSWER_START), (a1, 2, ANSWER_END)]
    out, last = [], 0
    for at, _, sentinel in sorted(cuts):
        out += [text[last:at], sentinel]
        last = at
    out.append(text[last:])
    return "".join(out), "".join(sorted(c[2] for c in cuts))


def _start_at(text: str, at: int) -> int:
    """A start offset moved past blanks, a line's block markers and opening delimiters."""
    at = max(0, min(at, len(text)))
    while at < len(text) and text[at].isspace():
        at += 1
    at = max(at, _content_start(text, at))
    while at < len(text) and text[at] in _DELIMITERS:
        at += 1
    return at


def _content_start(text: str, at: int) -> int:
    """Where the text of the line holding *at* starts, after its block markers."""
    line = text.rfind("\n", 0, at) + 1
    if text[line:at].strip(_BLOCK_MARKER_CHARS):  # words before it: past the markers
        return line
    line_end = text.find("\n", line)
    return line + _block_marker_width(text[line : len(text) if line_end < 0 else line_end])


def _block_marker_width(line: str) -> int:
    """How many characters of *line* are block markers: ``> - 1. ## |`` and blanks."""
    if line.lstrip().startswith("|"):  # a table row: its cell starts after the pipe
        return len(line) - len(line.lstrip().lstrip("|").lstrip())
    tokens = _parser().parse(line)
    inline = next((t for t in tokens if t.type == "inline"), None)
    if inline is None or not inline.content:
        return 0
    found = line.find(inline.content)
    return max(found, 0)


def _end_at(text: str, at: int) -> int:
    """An end offset moved back over blanks, closing markup (``**``, ``|``, ``#``) and a
    line's block markers (``- ``: the span ends on the line before)."""
    at = max(0, min(at, len(text)))
    while True:
        while at > 0 and text[at - 1] in _CLOSERS:
            at -= 1
        line = text.rfind("\n", 0, at) + 1
        if at == line or at > _content_start(text, at):
            return at
        at = line


# ----- writing Markdown back --------------------------------------------------------------
@dataclass(frozen=True)
class _Run:
    """A run of document text and how it shows."""

    text: str
    marked: bool = False
    answer: bool = False
    bold: bool = False
    italic: bool = False


@dataclass
class _Container:
    """A list item or block quote the lines being written are inside."""

    first: str  # prefix of its first line ("- ", "3. ", "> ")
    rest: str  # prefix of its other lines
    used: bool = False


@dataclass
class _Writer:
    """Walks markdown-it's tokens and writes inert Markdown, highlight state and all."""

    style: str
    seen: str = ""
    marked: bool = False
    answer: bool = False
    lines: list[str] = field(default_factory=list)
    containers: list[_Container] = field(default_factory=list)
    lists: list[list[int]] = field(default_factory=list)  # next number (or -1: bullets)
    last_tight: bool = False

    def document(self, tokens: list[Token]) -> str:
        i = 0
        while i < len(tokens):
            i = self._block(tokens, i)
        self.seen = "".join(sorted(self.seen))
        return "\n".join(self.lines).strip("\n")

    def _block(self, tokens: list[Token], i: int) -> int:
        """Handle the token at *i*; the index of the next one."""
        token = tokens[i]
        kind = token.type
        if kind in ("paragraph_open", "heading_open"):
            runs = self._inline(tokens[i + 1], bold=kind == "heading_open")
            self._leaf(_lines(runs, self.style), tight=token.hidden)
            return i + 3
        if kind in ("bullet_list_open", "ordered_list_open"):
            start = int(token.attrGet("start") or 1) if kind == "ordered_list_open" else -1
            self.lists.append([start])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            self.lists.pop()
        elif kind == "list_item_open":
            self._open_item()
        elif kind == "blockquote_open":
            self.containers.append(_Container("> ", "> "))
        elif kind in ("list_item_close", "blockquote_close"):
            self.containers.pop()
        elif kind in ("fence", "code_block", "html_block"):
            runs = self._text_runs(token.content.rstrip("\n"))
            self._leaf([line for line in _lines(runs, self.style) if line.strip()], tight=False)
        elif kind == "hr":
            self._leaf(["---"], tight=False)
        elif kind == "table_open":
            return self._table(tokens, i)
        return i + 1

    def _open_item(self) -> None:
        counter = self.lists[-1]
        marker = "- " if counter[0] < 0 else f"{counter[0]}. "
        if counter[0] >= 0:
            counter[0] += 1
        self.containers.append(_Container(marker, " " * len(marker)))

    def _leaf(self, lines: list[str], tight: bool) -> None:
        """Write one block's lines inside the open containers."""
        if not lines:
            return
        if self.lines and not (tight and self.last_tight):
            self.lines.append("".join(c.rest for c in self.containers if c.used).rstrip())
        self.last_tight = tight
        for line in lines:
            prefix = "".join(c.rest if c.used else c.first for c in self.containers)
            for container in self.containers:
                container.used = True
            self.lines.append(prefix + line)

    def _table(self, tokens: list[Token], i: int) -> int:
        """A GFM table, cell by cell; the index after its end."""
        rows: list[list[str]] = []
        while tokens[i].type != "table_close":
            if tokens[i].type == "tr_open":
                rows.append([])
            elif tokens[i].type == "inline":
                rows[-1].append(" ".join(_lines(self._inline(tokens[i]), self.style)))
            i += 1
        if rows:
            width = len(rows[0])
            lines = [_row(rows[0]), _row(["---"] * width), *(_row(r) for r in rows[1:])]
            self._leaf(lines, tight=False)
        return i + 1

    # ----- inline runs --------------------------------------------------------------------
    def _inline(self, token: Token, bold: bool = False) -> list[_Run]:
        """The inline token's text as runs, with bold/italic/highlight state."""
        runs: list[_Run] = []
        strong, emphasis = int(bold), 0
        for child in token.children or []:
            kind = child.type
            if kind in ("text", "code_inline", "html_inline"):
                runs += self._text_runs(child.content, strong > 0, emphasis > 0)
            elif kind == "image":  # its alt text, never the picture
                runs += self._inline(child, bold=strong > 0)
            elif kind in ("softbreak", "hardbreak"):
                # reflow() already made soft breaks of prose spaces: a break left is kept.
                runs.append(_Run("\n"))
            elif kind in ("strong_open", "strong_close"):
                strong += 1 if kind == "strong_open" else -1
            elif kind in ("em_open", "em_close"):
                emphasis += 1 if kind == "em_open" else -1
            # link_open / link_close: nothing, the link shows as its text.
        return runs

    def _text_runs(self, text: str, bold: bool = False, italic: bool = False) -> list[_Run]:
        """*text* cut at its sentinels, each piece with the highlight state it lies in."""
        runs: list[_Run] = []
        piece = []
        for ch in text:
            if ch not in SENTINELS:
                piece.append(ch)
                continue
            runs.append(_Run("".join(piece), self.marked, self.answer, bold, italic))
            piece = []
            self.seen += ch
            if ch in (SPAN_START, SPAN_END):
                self.marked = ch == SPAN_START
            else:
                self.answer = ch == ANSWER_START
        runs.append(_Run("".join(piece), self.marked, self.answer, bold, italic))
        return [run for run in runs if run.text]


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cell or " " for cell in cells) + " |"


def _lines(runs: list[_Run], style: str) -> list[str]:
    """Runs as Markdown lines: a directive may not span lines, so each line gets its own."""
    lines: list[list[_Run]] = [[]]
    for run in runs:
        for n, part in enumerate(run.text.split("\n")):
            if n:
                lines.append([])
            if part:
                lines[-1].append(replace(run, text=part))
    out = [_line(line, style) for line in lines]
    # A line that is not the last ends in a hard break (two spaces).
    return [line + "  " if n < len(out) - 1 else line for n, line in enumerate(out) if line]


def _line(runs: list[_Run], style: str) -> str:
    """One line: each highlighted stretch in the *style* directive."""
    runs = _trim_start(runs)
    out = []
    for marked, group in groupby(runs, key=lambda run: run.marked):
        pieces = list(group)
        body = "".join(_formatted(p) for p in _coalesced(pieces))
        visible = any(p.text.strip() for p in pieces)
        out.append(f":{style}[{body}]" if marked and visible else body)
    return "".join(out)


def _trim_start(runs: list[_Run]) -> list[_Run]:
    """Blanks at a line's start dropped (they would make an indented code block)."""
    out = list(runs)
    while out and not out[0].text.strip():
        out.pop(0)
    if out:
        out[0] = replace(out[0], text=out[0].text.lstrip())
    return out


def _coalesced(runs: list[_Run]) -> Iterator[_Run]:
    """Neighbours that show alike joined (so a URL is escaped whole)."""
    # The answer is bold anyway: its bold and plain words make one mark.
    for _, group in groupby(runs, key=lambda r: (r.answer, r.bold or r.answer, r.italic)):
        pieces = list(group)
        yield replace(pieces[0], text="".join(p.text for p in pieces))


def _formatted(run: _Run) -> str:
    """One run escaped, in bold / italics / the answer's colour; blanks kept outside them."""
    core = run.text.strip()
    if not core:
        return escape_markdown(run.text)
    lead = run.text[: run.text.index(core)]
    trail = run.text[len(lead) + len(core) :]
    inner = escape_markdown(core)
    if run.italic:
        inner = f"*{inner}*"
    if run.bold or run.answer:
        inner = f"**{inner}**"
    if run.answer:
        inner = f":{ANSWER_HIGHLIGHT}[{inner}]"
    return lead + inner + trail
