"""PDF to document text: paragraphs re-built from the positioned lines pypdf extracts.

Lines wrapped inside a paragraph are re-joined (hyphenated words too), a vertical gap
clearly wider than the line pitch (or a jump upwards, a new column) starts a paragraph,
a paragraph cut by a page break is joined again, and headers/footers repeated at the
edges of most pages (page numbers ignored) are dropped; a running header that opens the
first page is the document's title.

A file pypdf cannot read (damaged, truncated, nested too deeply, a decompression bomb
stopped by pypdf's limits) is a :class:`~rag.errors.DocumentError` naming the file and
why, so an ingest skips that one file and goes on.

This module does no OCR (a scanned PDF has no text layer, so nothing to return) and no
line-end normalisation beyond its own joins (see :mod:`rag.documents.text`).
"""

from __future__ import annotations

import logging
import re
import struct
import zlib
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise

from rag.errors import DocumentError

log = logging.getLogger(__name__)

# A line that ends a sentence (or introduces a list), a word hyphenated at the line
# end, a list item, and where running headers/footers are looked for.
_LINE_END = re.compile(r"[.!?…:][\"'”’)\]]*$")
_HYPHEN_END = re.compile(r"[^\W\d_][-\u00ad]$")
_LIST_ITEM = re.compile(r"(?:[•◦▪‣*–—-]|\(?\d{1,3}[.)])\s")
_DIGITS = re.compile(r"\d+")
_ROMAN = r"(?=[ivxlc])c{0,3}(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})"
_PAGE_NUMBER = re.compile(
    rf"(?:(?i:page)\s*)?(?:\d+|{_ROMAN})(?:\s*(?:of|/)\s*\d+)?|[-–—]\s*\d+\s*[-–—]"
)
_EDGE_LINES = 2
# Line pitch, in font heights, from tight leading to double spacing.
_MIN_PITCH, _MAX_PITCH = 0.8, 2.4
_MAX_RUNNING_CHARS = 100
# What pypdf lets through, besides its own errors, on a damaged or hostile file (found
# by fuzzing it): a wrong type where a number was due, a missing key, an unsupported
# filter, nesting deeper than Python's stack, one of its internal asserts (a reference
# where none can be). (Its DeprecationError, a filter name pypdf 7 no longer reads, is
# not a PyPdfError.)
_BAD_PDF_ERRORS: tuple[type[BaseException], ...] = (
    AssertionError,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    NotImplementedError,
    ArithmeticError,
    RecursionError,
    struct.error,
    zlib.error,
)
_AS_TEXT = "If it is a genuine document, convert it to text (e.g. `pdftotext`) and ingest that."


def pdf_to_text(data: bytes, name: str) -> tuple[str, str]:
    """Text of a PDF as paragraphs, and its running title (``""`` when it has none).

    Wrapped lines are re-joined and headers/footers repeated on the pages are dropped;
    a running header that is the first line of the first page is the document's title.
    """
    pages = _read_pdf_lines(data, name)
    running = _running_keys(pages)
    title = next((line.text for line in pages[0][:1] if _is_title(line, running)), "")
    pages = [_without_running(page, running, len(pages)) for page in pages]
    limit = _paragraph_gap(pages)
    blocks = [block for page in pages for block in _split_blocks(page, limit)]
    return "\n\n".join(_join_lines(block) for block in _merge_continued(blocks)), title


@dataclass
class _PdfLine:
    """One extracted line, its first baseline and its font height (PDF units; None: no text)."""

    text: str
    y: float | None = None
    height: float = 0.0


class _LineCollector:
    """A pypdf ``visitor_text`` callback that records each output line and where it sits."""

    def __init__(self) -> None:
        self.lines = [_PdfLine("")]

    def __call__(
        self, text: str, cm: list[float], tm: list[float], font: object, size: float
    ) -> None:
        for number, piece in enumerate(text.split("\n")):
            if number:
                self.lines.append(_PdfLine(""))
            line = self.lines[-1]
            if piece.strip():
                if line.y is None:
                    line.y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                # The tallest text sets the line's size: a small bullet does not.
                line.height = max(line.height, abs(size * tm[3] * cm[3]))
            line.text += piece


def _read_pdf_lines(data: bytes, name: str) -> list[list[_PdfLine]]:
    """Every page's non-empty lines (at least one page), whitespace collapsed."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import DeprecationError, PyPdfError

    failures: tuple[type[BaseException], ...] = (PyPdfError, DeprecationError, *_BAD_PDF_ERRORS)
    pages = []
    try:
        for page in PdfReader(io.BytesIO(data)).pages:
            collector = _LineCollector()
            page.extract_text(visitor_text=collector)
            pages.append(collector.lines)
    except failures as exc:
        log.debug("pypdf failed on %s", name, exc_info=True)
        raise _unreadable(name, exc) from None
    cleaned = [
        [_PdfLine(" ".join(line.text.split()), line.y, line.height) for line in page]
        for page in pages
    ]
    return [[line for line in page if line.text and line.y is not None] for page in cleaned] or [[]]


def _unreadable(name: str, exc: BaseException) -> DocumentError:
    """Why pypdf could not read *name*, in words a user can act on."""
    from pypdf.errors import LimitReachedError

    if isinstance(exc, RecursionError):
        why = "its objects are nested too deeply (a damaged or hostile file)"
    elif isinstance(exc, LimitReachedError) and "decompress" in str(exc).lower():
        why = (
            "its compressed content expands past the PDF reader's safety limit "
            "(a decompression bomb, or a damaged file)"
        )
    elif isinstance(exc, LimitReachedError):
        why = f"it goes past a safety limit of the PDF reader ({exc})"
    else:
        return DocumentError(
            f"{name} is not a readable PDF ({type(exc).__name__}: {exc}); if it opens in a "
            "PDF viewer, save it from there as a new PDF, or as text, and ingest that."
        )
    return DocumentError(f"{name} cannot be read safely: {why}. {_AS_TEXT}")


def _running_key(text: str) -> str:
    """Header/footer text with page numbers ignored: ``Page 3 of 7`` -> ``page # of #``."""
    return _DIGITS.sub("#", text.lower())


def _edge_lines(page: list[_PdfLine]) -> list[_PdfLine]:
    """The lines where headers and footers sit: the first and last few, if short."""
    edges = page[:_EDGE_LINES] + page[-_EDGE_LINES:]
    return [line for line in edges if len(line.text) <= _MAX_RUNNING_CHARS]


def _running_keys(pages: list[list[_PdfLine]]) -> set[str]:
    """Keys of header/footer lines: at a page edge on three pages, or on most pages."""
    per_page = [{_running_key(line.text) for line in _edge_lines(page)} for page in pages]
    counts = Counter(key for keys in per_page for key in keys)
    running = {key for key, n in counts.items() if n >= 3 or (n >= 2 and n * 2 > len(pages))}
    if running:
        log.debug("PDF headers/footers dropped: %s", sorted(running))
    return running


def _is_page_number(line: _PdfLine) -> bool:
    return _PAGE_NUMBER.fullmatch(line.text) is not None


def _is_title(line: _PdfLine, running: set[str]) -> bool:
    return _running_key(line.text) in running and not _is_page_number(line)


def _without_running(page: list[_PdfLine], running: set[str], pages: int) -> list[_PdfLine]:
    """The page without its header/footer lines (and, in a multi-page PDF, page numbers)."""
    drop = {
        id(line)
        for line in _edge_lines(page)
        if _running_key(line.text) in running or (pages > 1 and _is_page_number(line))
    }
    return [line for line in page if id(line) not in drop]


def _paragraph_gap(pages: list[list[_PdfLine]]) -> float:
    """Line spacing, in font heights, above which two lines belong to different paragraphs.

    The line pitch is the smallest spacing that is common (at least half as frequent as
    the most frequent one), so a short document's few paragraph gaps do not outvote its
    wrapped lines; it is at most double spacing. A gap clearly wider is a break.
    """
    ratios = Counter(
        round(ratio, 1)
        for page in pages
        for prev, line in pairwise(page)
        if _MIN_PITCH <= (ratio := _drop(prev, line)) <= _MAX_PITCH
    )
    common = [ratio for ratio, n in ratios.items() if n * 2 >= max(ratios.values())]
    return max(1.3, 1.15 * min(common, default=1.2))


def _drop(prev: _PdfLine, line: _PdfLine) -> float:
    """How far *line* sits below *prev*, in font heights (negative: above it; 0: unknown)."""
    height = min(prev.height, line.height) or max(prev.height, line.height)
    if prev.y is None or line.y is None or height <= 0:
        return 0.0
    return (prev.y - line.y) / height


def _split_blocks(page: list[_PdfLine], limit: float) -> list[list[str]]:
    """Group a page's lines into paragraphs at wide vertical gaps and jumps upwards."""
    blocks: list[list[str]] = []
    for number, line in enumerate(page):
        drop = _drop(page[number - 1], line) if number else 0.0
        if not blocks or drop > limit or drop < -1:
            blocks.append([])
        blocks[-1].append(line.text)
    return blocks


def _merge_continued(blocks: list[list[str]]) -> list[list[str]]:
    """Join a paragraph cut by a page or column break: no final stop, lower-case next."""
    merged: list[list[str]] = []
    for block in blocks:
        if merged and block[0][:1].islower() and not _LINE_END.search(merged[-1][-1]):
            merged[-1].extend(block)
        else:
            merged.append(list(block))
    return merged


def _join_lines(lines: list[str]) -> str:
    """Re-join a paragraph's wrapped lines; lines that end a sentence keep their break."""
    parts = [lines[0]]
    for prev, line in pairwise(lines):
        lower = line[:1].islower()
        if _HYPHEN_END.search(prev):
            if lower:
                parts[-1] = prev[:-1]
        elif lower or not (_LINE_END.search(prev) or _LIST_ITEM.match(line)):
            parts.append(" ")
        else:
            parts.append("\n")
        parts.append(line)
    return "".join(parts)
