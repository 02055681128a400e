"""Load files into :class:`SourceDocument` objects: text, title, source key, hash.

Supported: ``.txt``, ``.md``, ``.html``/``.htm`` and ``.pdf``. The text returned is
the text every character offset in the system points into (newlines normalised to
``\\n``, a UTF-8 byte-order mark removed). HTML is reduced to its visible text;
nothing from a document is ever executed or rendered as markup.

This module does not chunk, embed or store anything.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.errors import DocumentError

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")


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
    """Visible text and ``<title>`` of an HTML page; scripts and styles dropped."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "iframe", "object"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if soup.title:
        soup.title.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return "\n\n".join(line for line in lines if line), title


def pdf_to_text(data: bytes, name: str) -> str:
    """Text of every page of a PDF, pages separated by blank lines."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError) as exc:
        raise DocumentError(f"{name} is not a readable PDF ({exc}).") from None
    return "\n\n".join(page.strip() for page in pages if page.strip())


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
        text = pdf_to_text(data, name)
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
