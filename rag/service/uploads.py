"""Uploads as a use case: files a person hands over, checked and saved, with typed results.

:func:`save_uploads` saves each :class:`Upload` in ``settings.store.uploads_dir`` through
:mod:`rag.ingest.uploads` (safe name, checked before anything is written, never replacing
other content) and says what happened to each in a :class:`SavedUploads`.

It does not ingest (the caller passes ``SavedUploads.paths`` to
:meth:`rag.service.Assistant.ingest`, with its own progress display) and it renders
nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.config import Settings
from rag.documents import SUPPORTED_SUFFIXES
from rag.errors import RagError
from rag.ingest.uploads import safe_name, save_upload

__all__ = ["UPLOAD_TYPES", "RenamedUpload", "SavedUploads", "Upload", "save_uploads"]

log = logging.getLogger(__name__)

UPLOAD_TYPES = tuple(suffix.lstrip(".") for suffix in SUPPORTED_SUFFIXES)


@dataclass(frozen=True)
class Upload:
    """A file a person handed over (a browser upload): its untrusted name and its bytes."""

    name: str
    data: bytes


@dataclass(frozen=True)
class RenamedUpload:
    """An upload kept under another name: *asked* was taken by other content."""

    asked: str
    kept: str


@dataclass(frozen=True)
class SavedUploads:
    """What :func:`save_uploads` did: files saved, renamed, refused (and why)."""

    paths: tuple[Path, ...]
    renamed: tuple[RenamedUpload, ...]
    errors: tuple[str, ...]


def save_uploads(settings: Settings, uploads: Sequence[Upload]) -> SavedUploads:
    """Check and save each of *uploads* in ``settings.store.uploads_dir``.

    A file that is unsupported, larger than ``settings.limits.file_mb`` or unreadable is
    refused with its reason and leaves nothing behind; a name taken by other content is
    kept under a free name (``name-2.txt``), never replacing it; the same name with the
    same content reuses its file.
    """
    paths: list[Path] = []
    renamed: list[RenamedUpload] = []
    errors: list[str] = []
    for upload in uploads:
        try:
            path = save_upload(
                settings.store.uploads_dir, upload.name, upload.data, settings.limits
            )
        except RagError as exc:
            errors.append(str(exc))
            continue
        paths.append(path)
        if path.name != (asked := safe_name(upload.name, settings.limits.upload_name_chars)):
            renamed.append(RenamedUpload(asked=asked, kept=path.name))
    log.info("uploads: %d saved, %d renamed, %d refused", len(paths), len(renamed), len(errors))
    return SavedUploads(tuple(paths), tuple(renamed), tuple(errors))
