"""Accept a document uploaded through a browser: check it, then save it safely.
Delete it again when its document is removed.

The file name comes from the user's browser and is untrusted: only a sanitised
basename is ever used (``../../x.txt`` and ``C:\\evil\\x.txt`` become ``x.txt``), and
the file is written inside the given uploads folder, atomically. The content is
parsed *before* anything is written, so an unsupported, empty, oversized or
unreadable file is rejected with a :class:`~rag.errors.DocumentError` and leaves
nothing behind.

Uploading a name that is already taken by *other* content never replaces that file:
the new one is saved as ``name-2.txt`` (``-3``, ...), so two ``report.txt`` from two
folders are two documents with names that tell them apart. The same name with the
same content reuses its file (re-uploading changes nothing).

:func:`delete_upload` deletes only a file inside the uploads folder: a document
ingested from anywhere else (``seeds/``, a path given to ``ingest``) is never deleted.

This module does not ingest: :meth:`rag.service.Assistant.save_uploads` calls it for
the page, which then passes the saved paths to :meth:`rag.service.Assistant.ingest`.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import unicodedata
from pathlib import Path

from rag.config import LimitsSettings
from rag.documents import SUPPORTED_SUFFIXES, parse_bytes
from rag.errors import DocumentError

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^\w.\- ]+")


def safe_name(name: str, max_chars: int) -> str:
    """A harmless basename for *name*: no folders, no hidden files, no odd characters.

    At most *max_chars* characters (``limits.upload_name_chars``), the suffix kept.
    """
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", name or ""))[-1]
    base = _UNSAFE.sub("_", base).strip(" .")  # leading dots: hidden files are skipped
    stem, suffix = os.path.splitext(base)
    stem = stem.strip(" .")[: max_chars - len(suffix)] or "upload"
    return stem + suffix.lower()


def save_upload(folder: Path, name: str, data: bytes, limits: LimitsSettings) -> Path:
    """Check *data* against *limits* and write it as ``folder/safe_name(name)``; its path."""
    filename = safe_name(name, limits.upload_name_chars)
    max_bytes = int(limits.file_mb * 1_000_000)
    if Path(filename).suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            f"{filename}: unsupported file type; upload one of {', '.join(SUPPORTED_SUFFIXES)}."
        )
    if len(data) > max_bytes:
        raise DocumentError(
            f"{filename} is {len(data) / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit; "
            "split it or raise RAG_MAX_FILE_MB."
        )
    parse_bytes(data, filename, filename)  # raises DocumentError when unusable
    folder.mkdir(parents=True, exist_ok=True)
    target = free_name(folder, filename, data, limits.upload_copies)
    handle, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
        raise
    log.info("saved upload %s (%d bytes)", target, len(data))
    return target


def free_name(folder: Path, filename: str, data: bytes, copies: int) -> Path:
    """``folder/filename``, or the first ``stem-N.suffix`` (N <= *copies*) that is free or
    holds *data*."""
    stem, suffix = os.path.splitext(filename)
    for n in range(1, copies + 1):
        target = folder / (filename if n == 1 else f"{stem}-{n}{suffix}")
        if not target.exists() or _holds(target, data):
            return target
    raise DocumentError(
        f"{filename}: {copies} different files of that name are already uploaded; "
        "rename it, or remove some of them."
    )


def _holds(path: Path, data: bytes) -> bool:
    """Whether the file at *path* has exactly the content *data*."""
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def is_upload(folder: Path, source: str) -> bool:
    """Whether *source* names a file inside the uploads *folder* (there or deleted)."""
    return Path(source).resolve().is_relative_to(folder.resolve())


def delete_upload(folder: Path, source: str) -> Path | None:
    """Delete the file *source* names when it lives inside *folder*; returns it, else None."""
    path = Path(source).resolve()
    if not path.is_file() or not is_upload(folder, source):
        return None
    try:
        path.unlink()
    except OSError as exc:
        raise DocumentError(
            f"{source} could not be deleted ({exc.strerror}); delete it by hand, "
            "or the next ingest adds it back."
        ) from None
    log.info("deleted upload %s", path)
    return path
