"""Stage 1, documents: files into :class:`SourceDocument` objects, and their text into units.

This module loads files: text, title, source key, hash. The package also owns the text's
structure (:mod:`rag.documents.structure`: line breaks, headings, labels) and its units
(:mod:`rag.documents.chunking`: sentences, lines, list items, table rows, and the chunks
built from them, each with exact character offsets), which ingest, the reader's citations
and the page all read.

Supported: ``.txt``, ``.md``, ``.html``/``.htm`` and ``.pdf``. The text returned is
the text every character offset in the system points into (newlines normalised to
``\\n``, a UTF-8 byte-order mark removed), with paragraphs separated by blank lines:

- text and markdown are kept as written (their headings found by a CommonMark parser,
  :func:`rag.documents.structure.markdown_headings`);
- HTML is reduced to its visible content (:mod:`rag.documents.htmltext`): navigation,
  menus, cookie notices and forms are dropped; the page's header, footer and asides are
  kept after its main content (addresses, telephone numbers, opening hours live there);
  each block element becomes a paragraph, a table row one ``| a | b |`` line, and
  inline elements stay inside their sentence; its ``<h1>``-``<h6>`` are its headings;
- PDF lines wrapped inside a paragraph are re-joined (:mod:`rag.documents.pdftext`),
  hyphenated words too, vertical gaps become paragraph breaks and headers/footers
  repeated on most pages are dropped.

Decoding and line-end normalisation are in :mod:`rag.documents.text`; this module holds
the document type, picks the reader by file suffix and reads files and folders.

A file that cannot be used (unreadable, too large, damaged, cut short, hostile: a PDF
nested too deeply or a decompression bomb) is a :class:`~rag.errors.DocumentError`
naming it and saying why; each reader turns its parser's known failures into one, so
an ingest skips that file and goes on.

Nothing from a document is ever executed or rendered as markup. This package does not
embed or store anything (:mod:`rag.ingest` does), and does no OCR: a scanned PDF has no
text to load.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.documents.htmltext import html_to_document, html_to_text
from rag.documents.pdftext import pdf_to_text
from rag.documents.structure import Heading, markdown_headings
from rag.documents.text import decode_bytes, first_line_title, normalise_text
from rag.errors import DocumentError

__all__ = [
    "SUPPORTED_SUFFIXES",
    "SourceDocument",
    "content_hash",
    "decode_bytes",
    "first_line_title",
    "html_to_document",
    "html_to_text",
    "iter_files",
    "load_file",
    "normalise_text",
    "parse_bytes",
    "pdf_to_text",
    "read_file",
    "source_key",
]

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")


@dataclass(frozen=True)
class SourceDocument:
    """One loaded document; ``text`` is what offsets refer to.

    ``headings`` are its heading lines (Markdown ``#``/setext headings of .md and .txt,
    ``<h1>``-``<h6>`` of HTML), located in ``text``; chunks take their heading path
    from them.
    """

    source: str
    title: str
    text: str
    sha256: str
    headings: tuple[Heading, ...] = ()


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


def parse_bytes(data: bytes, name: str, source: str) -> SourceDocument:
    """Turn raw file content into a document; *name* decides the format."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            f"{name}: unsupported file type '{suffix or 'none'}'; "
            f"use one of {', '.join(SUPPORTED_SUFFIXES)}."
        )
    title = ""
    headings: list[Heading] = []
    if suffix == ".pdf":
        text, title = pdf_to_text(data, name)
    elif suffix in (".html", ".htm"):
        text, title, headings = html_to_document(decode_bytes(data, name), name)
    else:
        text = normalise_text(decode_bytes(data, name))
        headings = markdown_headings(text)
    text = normalise_text(text)
    if not text.strip():
        hint = " (a scanned PDF has no text layer; run OCR first)" if suffix == ".pdf" else ""
        raise DocumentError(f"{name} contains no text{hint}.")
    title = title or first_line_title(text, Path(name).stem)
    return SourceDocument(
        source=source, title=title, text=text, sha256=content_hash(text), headings=tuple(headings)
    )


def read_file(path: Path, max_bytes: int) -> bytes:
    """A file's bytes, or a :class:`DocumentError` saying why it cannot be used."""
    if not path.is_file():
        raise DocumentError(f"{path} does not exist or is not a file.")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DocumentError(
                f"{path} is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit; "
                "split it or raise RAG_MAX_FILE_MB."
            )
        return path.read_bytes()
    except OSError as exc:  # gone or locked since it was listed, unreadable
        raise DocumentError(f"{path} cannot be read: {exc.strerror or exc}.") from None


def load_file(path: Path, max_bytes: int, root: Path | None = None) -> SourceDocument:
    """Read and parse one file, with a clear error when it cannot be used."""
    return parse_bytes(read_file(path, max_bytes), path.name, source_key(path, root))


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Expand folders into their supported files (sorted, hidden files skipped).

    A path that does not exist, or a folder (or a folder inside it) that cannot be
    listed, is a :class:`DocumentError`: an ingest must never take an unreadable
    folder for an empty one, or its sync would remove every document it held.
    """
    for path in paths:
        if path.is_dir():
            yield from _folder_files(path)
        elif path.exists():
            yield path
        else:
            raise DocumentError(f"{path} does not exist; check the path and try again.")


def _folder_files(folder: Path) -> list[Path]:
    """The supported, non-hidden files below *folder*, sorted; raises when one cannot be listed."""

    def unreadable(exc: OSError) -> None:
        where = exc.filename or folder
        raise DocumentError(
            f"The folder {where} cannot be read ({exc.strerror or exc}); nothing was "
            "ingested or removed. Make it readable (or check that it still exists), then "
            "try again."
        ) from None

    found: list[Path] = []
    for root, folders, files in os.walk(folder, onerror=unreadable):
        folders[:] = [name for name in folders if not name.startswith(".")]
        for name in files:
            path = Path(root, name)
            if not name.startswith(".") and path.suffix.lower() in SUPPORTED_SUFFIXES:
                found.append(path)
    return sorted(path for path in found if path.is_file())
