"""The one settings object for the whole assistant.

Every tunable value lives here, read from environment variables with the ``RAG_``
prefix (or a ``.env`` file) when :class:`Settings` is *instantiated*, never at import
time. Code receives a ``Settings`` instance as an argument.

This module does not open stores or load models; it only describes them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REFUSAL = "I could not find this in the documents."


class Settings(BaseSettings):
    """Paths, model, chunking, retrieval and answering settings (env prefix ``RAG_``)."""

    model_config = SettingsConfigDict(env_prefix="RAG_", env_file=".env", extra="ignore")

    # Paths and store
    seeds_dir: Path = Field(Path("seeds"), description="Documents ingested by default.")
    store_dir: Path = Field(Path("vectorstore"), description="Persisted Chroma folder.")
    chroma_url: str | None = Field(None, description="http://host:port of a Chroma server.")
    collection: str = Field("rag", description="Prefix of the Chroma collection names.")

    # Embedding model
    embedding_model: str = Field(
        "all-MiniLM-L6-v2", description="Name recorded in chunk ids and metadata."
    )
    embedding_path: Path | None = Field(
        None, description="Folder of a sentence-transformers model; default: bundled."
    )
    embedding_batch_size: int = Field(64, ge=1)

    # Chunking
    chunk_size: int = Field(600, ge=50, description="Target chunk length in characters.")
    chunk_overlap: int = Field(1, ge=0, description="Sentences repeated between chunks.")
    max_file_mb: float = Field(20.0, gt=0, description="Largest file accepted for ingest.")

    # Retrieval
    k: int = Field(4, ge=1, le=50, description="Passages retrieved per question.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    candidates: int = Field(20, ge=1, description="Candidates taken from each retriever.")

    # Answering
    llm: str = Field("extractive", description="Answer mode: extractive (no model).")
    refusal_threshold: float = Field(
        0.36, description="Minimum sentence score for an extractive answer."
    )
    max_answer_sentences: int = Field(2, ge=1, le=5)
    answer_margin: float = Field(
        0.05, ge=0, description="Runner-up sentences within this of the best are quoted too."
    )
    max_question_chars: int = Field(2000, ge=10)

    @field_validator("chroma_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("RAG_CHROMA_URL must look like http://127.0.0.1:8000")
        return value or None

    @property
    def uploads_dir(self) -> Path:
        """Where documents uploaded through the browser are kept (inside the store)."""
        return self.store_dir / "uploads"

    def default_paths(self) -> list[Path]:
        """What a plain ``ingest`` covers: the seeds, plus uploads when there are any."""
        return [self.seeds_dir] + ([self.uploads_dir] if self.uploads_dir.is_dir() else [])

    def chunking_fingerprint(self) -> str:
        """Short hash of everything that changes chunk ids (chunker and model)."""
        key = f"{self.chunk_size}|{self.chunk_overlap}|{self.embedding_model}|chunker-v1"
        return hashlib.sha256(key.encode()).hexdigest()[:12]
