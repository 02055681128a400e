"""Load files into :class:`SourceDocument` objects: text, title, source key, hash.

Supported: ``.txt``, ``.md``, ``.html``/``.htm`` and ``.pdf``. The text returned is
the text every character offset in the system points into (newlines normalised to
``\\n``, a UTF-8 byte-order mark removed), with paragraphs separated by blank lines:

- text and markdown are kept as written;
- HTML is reduced to its visible content: navigation, banners, cookie notices, sidebars,
  forms and footers are dropped, ``<main>``/``<article>`` is preferred when present, each
  block element becomes a paragraph and inline elements stay inside their sentence;
- PDF lines wrapped inside a paragraph are re-joined (hyphenated words too), vertical gaps
  become paragraph breaks and headers/footers repeated on most pages are dropped.

Nothing from a document is ever executed or rendered as markup. This module does not
chunk, embed or store anything, and does no OCR: a scanned PDF has no text to load.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

from rag.errors import DocumentError

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")

# HTML: elements that are never content, and id/class words and ARIA roles that mark
# page furniture. <header>/<footer> are the site's only outside <article>/<main>.
_CHROME_TAGS = frozenset(
    "script style noscript template iframe object nav aside form button svg".split()
)
_SCOPED_CHROME = frozenset(("header", "footer"))
_SCOPING_TAGS = ("article", "main")
_CONTENT_TAGS = ("html", "body", "main", "article")
_CHROME_ROLES = frozenset("navigation banner contentinfo menu menubar".split())
_CHROME_WORDS = frozenset(
    "nav navbar navigation menu menubar breadcrumb breadcrumbs cookie cookies sidebar".split()
)
_NAME_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_BLOCK_TAGS = (
    "address article aside blockquote body caption dd details dialog div dl dt fieldset "
    "figcaption figure footer h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section "
    "summary table tbody td tfoot th thead tr ul"
).split()
# Private-use characters standing for a paragraph break and a <br> while the text is
# collected (removed from the markup first, so a page cannot fake them).
_BLOCK_MARK = "\ue000"
_BREAK_MARK = "\ue001"

# PDF: a line that ends a sentence (or introduces a list), a word hyphenated at the line
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


@dataclass(frozen=True)
class SourceDocument:
    """One loaded document; ``text`` is what offsets refer to."""

    source: str
    title: str
    text: str
    sha256: str


def content_hash(text: str) -> str:
    """SHA-256 of the normalised text, hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def source_key(path: Path, root: Path | None = None) -> str:
    """A stable name for *path*: relative to *root* (default: cwd) when inside it."""
    resolved = path.resolve()
    base = (root or Path.cwd()).resolve()
    try:
        return resolved.relative_to(base).as_posix()
    except ValueError:
        return resolved.as_posix()


def normalise_text(text: str) -> str:
    """Drop a BOM and turn CRLF/CR line ends into ``\\n``."""
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def decode_bytes(data: bytes, name: str) -> str:
    """Decode UTF-8 (with or without BOM), else UTF-16 with BOM; refuse binaries."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:8192]:
        raise DocumentError(f"{name} looks like a binary file, not text; convert it to .txt.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"{name} is not UTF-8 text (byte {exc.start} is invalid); "
            "save it as UTF-8 and ingest it again."
        ) from None


def html_to_text(markup: str) -> tuple[str, str]:
    """Visible content text and ``<title>`` of an HTML page, one paragraph per block."""
    from bs4 import BeautifulSoup

    markup = markup.replace(_BLOCK_MARK, "").replace(_BREAK_MARK, "")
    soup = BeautifulSoup(markup, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if soup.title:
        soup.title.decompose()
    _drop_chrome(soup)
    root = _content_root(soup)
    _mark_blocks(root)
    return _marked_paragraphs(root.get_text()), title


def _drop_chrome(soup: BeautifulSoup) -> None:
    """Remove navigation, banners, forms and other page furniture, never the content."""
    content = soup.find_all(_CONTENT_TAGS)
    protected = {id(tag) for found in content for tag in (found, *found.parents)}
    for tag in soup.find_all(True):
        if id(tag) not in protected and not tag.decomposed and _is_chrome(tag):
            tag.decompose()


def _is_chrome(tag: Tag) -> bool:
    """Whether *tag* is marked, by name, ARIA role, id or class, as not being content."""
    words = _name_words(tag)
    roles = set(str(tag.get("role") or "").lower().split())
    if tag.name in _CHROME_TAGS or roles & _CHROME_ROLES or words & _CHROME_WORDS:
        return True
    # As in HTML's own roles: an article's <header> holds its title, not the site's.
    scoped = tag.name in _SCOPED_CHROME or bool(words & _SCOPED_CHROME)
    return scoped and tag.find_parent(_SCOPING_TAGS) is None


def _name_words(tag: Tag) -> set[str]:
    """Lower-case words of a tag's id and classes: ``mainNav site-header`` -> main, nav, ..."""
    names = [str(tag.get("id") or ""), *map(str, tag.get_attribute_list("class"))]
    return {word.lower() for word in _NAME_WORD.findall(" ".join(names))}


def _content_root(soup: BeautifulSoup) -> Tag:
    """``<main>``, else the only ``<article>``, else the body: where the page's text is."""
    from bs4 import Tag

    articles = soup.find_all("article")
    for candidate in (soup.find("main"), articles[0] if len(articles) == 1 else None):
        if isinstance(candidate, Tag) and candidate.get_text(strip=True):
            return candidate
    return soup.body or soup


def _mark_blocks(root: Tag) -> None:
    """Put a paragraph mark around every block element and a line mark at every ``<br>``."""
    for tag in root.find_all(_BLOCK_TAGS):
        tag.insert(0, _BLOCK_MARK)
        tag.append(_BLOCK_MARK)
    for tag in root.find_all("br"):
        tag.replace_with(_BREAK_MARK)
    for pre in root.find_all("pre"):
        for string in pre.find_all(string=True):
            string.replace_with(string.replace("\n", _BREAK_MARK))


def _marked_paragraphs(text: str) -> str:
    """Collapse whitespace inside each marked block and separate blocks by a blank line."""
    paragraphs = []
    for block in text.split(_BLOCK_MARK):
        lines = (" ".join(line.split()) for line in block.split(_BREAK_MARK))
        paragraph = "\n".join(line for line in lines if line)
        if paragraph:
            paragraphs.append(paragraph)
    return "\n\n".join(paragraphs)


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
    from pypdf.errors import PdfReadError

    pages = []
    try:
        for page in PdfReader(io.BytesIO(data)).pages:
            collector = _LineCollector()
            page.extract_text(visitor_text=collector)
            pages.append(collector.lines)
    except (PdfReadError, ValueError, KeyError) as exc:
        raise DocumentError(f"{name} is not a readable PDF ({exc}).") from None
    cleaned = [
        [_PdfLine(" ".join(line.text.split()), line.y, line.height) for line in page]
        for page in pages
    ]
    return [[line for line in page if line.text and line.y is not None] for page in cleaned] or [[]]


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


def first_line_title(text: str, fallback: str) -> str:
    """The first non-empty line (markdown heading marks removed), cut to 200 chars."""
    for line in text.splitlines():
        if line.strip():
            return line.strip().lstrip("#").strip()[:200]
    return fallback


def parse_bytes(data: bytes, name: str, source: str) -> SourceDocument:
    """Turn raw file content into a document; *name* decides the format."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            f"{name}: unsupported file type '{suffix or 'none'}'; "
            f"use one of {', '.join(SUPPORTED_SUFFIXES)}."
        )
    title = ""
    if suffix == ".pdf":
        text, title = pdf_to_text(data, name)
    elif suffix in (".html", ".htm"):
        text, title = html_to_text(decode_bytes(data, name))
    else:
        text = decode_bytes(data, name)
    text = normalise_text(text)
    if not text.strip():
        hint = " (a scanned PDF has no text layer; run OCR first)" if suffix == ".pdf" else ""
        raise DocumentError(f"{name} contains no text{hint}.")
    title = title or first_line_title(text, Path(name).stem)
    return SourceDocument(source=source, title=title, text=text, sha256=content_hash(text))


def load_file(path: Path, max_bytes: int, root: Path | None = None) -> SourceDocument:
    """Read and parse one file, with a clear error when it cannot be used."""
    if not path.is_file():
        raise DocumentError(f"{path} does not exist or is not a file.")
    size = path.stat().st_size
    if size > max_bytes:
        raise DocumentError(
            f"{path} is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit; "
            "split it or raise RAG_MAX_FILE_MB."
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"{path} cannot be read: {exc.strerror}.") from None
    return parse_bytes(data, path.name, source_key(path, root))


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Expand folders into their supported files (sorted, hidden files skipped)."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in child.relative_to(path).parts)
                if child.is_file() and not hidden and child.suffix.lower() in SUPPORTED_SUFFIXES:
                    yield child
        elif path.exists():
            yield path
        else:
            raise DocumentError(f"{path} does not exist; check the path and try again.")
