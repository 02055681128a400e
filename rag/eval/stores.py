"""A store of exactly the documents an evaluation names, built once and reused.

``python -m rag.eval QA --documents FOLDER`` scores against a Chroma store that holds
the files of FOLDER and nothing else, never the user's store (whose uploads would change
the numbers). The store lives in the cache folder under a key made of every file's name
and content hash and the chunking settings, so the same documents reuse the same store and
any change builds a new one. Every report lists the documents it was scored against.

This module builds and describes stores; it does not ask questions or score anything.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.documents import SUPPORTED_SUFFIXES
from rag.errors import RagError
from rag.service import Assistant

log = logging.getLogger(__name__)


def document_files(folder: Path) -> list[Path]:
    """The supported files under *folder*, in a stable order."""
    if not folder.is_dir():
        raise RagError(
            f"--documents {folder}: no such folder; pass the folder of the dataset's documents."
        )
    files = sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
    )
    if not files:
        raise RagError(f"--documents {folder}: no .txt, .md, .html or .pdf file in it.")
    return files


def store_key(folder: Path, settings: Settings) -> str:
    """Names + content hashes of the files, and the chunking fingerprint."""
    digest = hashlib.sha256(settings.chunking_fingerprint().encode())
    for path in document_files(folder):
        digest.update(f"{path.relative_to(folder)}|".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def eval_settings(settings: Settings, folder: Path) -> Settings:
    """*settings* pointed at the evaluation store of *folder* (always embedded, local)."""
    store = (
        settings.store.cache_root() / "eval-stores" / f"{folder.name}-{store_key(folder, settings)}"
    )
    return settings.updated(store={"store_dir": store, "seeds_dir": folder, "chroma_url": None})


def open_eval_assistant(settings: Settings, folder: Path, embeddings: Any = None) -> Assistant:
    """The assistant over the store of exactly *folder*'s documents (ingested if new)."""
    local = eval_settings(settings, folder)
    assistant = Assistant(local, embeddings=embeddings)
    report = assistant.ingest([folder])
    log.info(
        "eval store %s: %d documents (%d new chunks)",
        local.store.store_dir,
        report.documents,
        report.chunks,
    )
    return assistant


def document_list(assistant: Assistant) -> list[dict[str, Any]]:
    """Name, title, sha256 and chunk count of every document in the store."""
    return [
        {"source": e.source, "title": e.title, "sha256": e.sha256, "chunks": e.chunks}
        for e in assistant.documents()
    ]
