"""The one settings object for the whole assistant.

Every tunable value lives here, read from environment variables with the ``RAG_``
prefix (or a ``.env`` file) when :class:`Settings` is *instantiated*, never at import
time. Code receives a ``Settings`` instance as an argument.

This module does not open stores or load models; it only describes them.
"""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path
from typing import Literal, get_args

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REFUSAL = "I could not find this in the documents."
UNSURE = "No sentence in the documents clearly answers this; the closest passages are below."


DATABASE_URL_EXAMPLE = "postgresql+psycopg://user:password@host:5432/rag"


def database_url(text: str) -> str:
    """*text* as the SQLAlchemy URL to connect with; ValueError if it is not one we can use.

    ``postgres://`` and ``postgresql://`` (no driver) mean psycopg 3, the driver that is
    installed; other PostgreSQL drivers and other databases are refused.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(text)
    except ArgumentError:
        raise ValueError(f"must be a URL like {DATABASE_URL_EXAMPLE}") from None
    backend, _, driver = url.drivername.partition("+")
    if backend in ("postgres", "postgresql") and driver in ("", "psycopg"):
        url = url.set(drivername="postgresql+psycopg")
    elif not (backend == "sqlite" and driver in ("", "pysqlite")):
        raise ValueError(
            f"must be a PostgreSQL URL like {DATABASE_URL_EXAMPLE} (psycopg 3 is the driver "
            "installed), or sqlite:///path"
        )
    return url.render_as_string(hide_password=False)


def ray_address(text: str) -> str | None:
    """*text* as a Ray cluster address (None when empty); ValueError if it is not one.

    ``auto`` (the cluster started on this machine), ``local`` (a private one for the
    run), ``host:port`` or ``ray://host:port``.
    """
    value = text.strip()
    if not value or value in ("auto", "local"):
        return value or None
    host, _, port = value.removeprefix("ray://").rpartition(":")
    if not host or "/" in host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("must be auto, local, host:port (127.0.0.1:6379) or ray://host:port")
    return value


class Settings(BaseSettings):
    """Paths, model, chunking, retrieval and answering settings (env prefix ``RAG_``)."""

    model_config = SettingsConfigDict(env_prefix="RAG_", env_file=".env", extra="ignore")

    # Paths and store
    seeds_dir: Path = Field(Path("seeds"), description="Documents ingested by default.")
    store_dir: Path = Field(Path("vectorstore"), description="Persisted Chroma folder.")
    chroma_url: str | None = Field(None, description="http://host:port of a Chroma server.")
    collection: str = Field("rag", description="Prefix of the Chroma collection names.")
    database_url: SecretStr | None = Field(
        None,
        description="SQLAlchemy URL of a PostgreSQL database (postgresql+psycopg://user:"
        "password@host:5432/rag) that holds the conversations and the ingest lock, shared "
        "by app replicas and machines; default: SQLite in the store folder, file lock.",
    )
    ray_address: str | None = Field(
        None,
        description="Ray cluster that ingest loads, chunks and embeds on: auto (the cluster "
        "started here with `ray start`), host:port, ray://host:port, or local (a private one "
        "for the run); default: no Ray, one machine. Needs requirements-scale.txt.",
    )

    # Embedding model
    embedding_model: str = Field(
        "all-MiniLM-L6-v2", description="Name recorded in chunk ids and metadata."
    )
    embedding_path: Path | None = Field(
        None, description="Folder of a sentence-transformers model; default: bundled."
    )
    embedding_batch_size: int = Field(64, ge=1)
    embedding_backend: Literal["auto", "onnx", "torch"] = Field(
        "auto",
        description="auto: ONNX Runtime (exported once from the local weights) when "
        "possible, else sentence-transformers on torch.",
    )
    embedding_precision: Literal["auto", "fp32", "bf16", "int8"] = Field(
        "auto",
        description="Precision of bulk ingest embedding. bf16 runs sentence-transformers "
        "under torch bf16 autocast (~2.5x faster on CPUs with AMX or AVX512-BF16, cosine "
        "0.99998 to fp32); int8 runs an int8 copy of the ONNX export (made once; cosine "
        "p1 0.98-0.99 to fp32; 1.3x fp32 on AVX2-only CPUs; opt-in, see docs/QUANTIZATION.md); "
        "auto: bf16 when the CPU has "
        "it, else fp32. Questions and answer sentences are always fp32.",
    )
    # Machine-tuned embedding numbers, each measured on 2 cores (docs/BENCHMARKS.md).
    # Per padded token, ONNX Runtime runs batches of 4 fastest (10.3k tokens/s against
    # 8.7k at 16), and sorted short batches waste little padding on answer sentences of
    # very different lengths.
    embedding_onnx_max_batch: int = Field(
        4, ge=1, description="Largest batch ONNX Runtime embeds at once."
    )
    # Two single-threaded batches at once beat one batch on two threads by 16-19%.
    embedding_onnx_workers: int = Field(
        0,
        ge=0,
        description="Batches ONNX Runtime embeds at once, one core each; 0: one per usable core.",
    )
    # Below this, loading torch for bf16 costs more than it saves.
    embedding_bulk_min_texts: int = Field(
        64, ge=1, description="Fewest texts in one embed_documents call that use bulk precision."
    )
    # Fastest bf16 autocast batch on 2 cores (129 chunks/s against 115 at 32).
    embedding_bf16_batch: int = Field(
        16, ge=1, description="Batch size of bf16 bulk ingest (torch autocast)."
    )
    # 20k x 384 floats = 30 MB.
    embedding_sentence_cache: int = Field(
        20_000, ge=0, description="Sentence vectors kept by encode() for reuse across questions."
    )
    cache_dir: Path | None = Field(
        None, description="Where the exported ONNX model is kept; default ~/.cache/rag."
    )

    # Chunking
    chunk_size: int = Field(600, ge=50, description="Target chunk length in characters.")
    chunk_overlap: int = Field(1, ge=0, description="Sentences repeated between chunks.")
    max_file_mb: float = Field(20.0, gt=0, description="Largest file accepted for ingest.")
    ingest_batch: int = Field(
        256, ge=1, description="Chunks embedded and committed together (the resume unit)."
    )

    # Retrieval
    k: int = Field(4, ge=1, le=50, description="Passages retrieved per question.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    candidates: int = Field(20, ge=1, description="Candidates taken from each retriever.")
    max_per_document: int = Field(
        20,
        ge=1,
        description="Candidates one document may hold on each side before fusion (near-"
        "duplicate chunks already count once), so one document cannot take over retrieval.",
    )

    # Answering
    llm: str = Field(
        "extractive",
        description="Answer provider: extractive (no model), llamacpp[:PATH.gguf], "
        "ollama:MODEL or openai:MODEL (see rag.llm.registry).",
    )
    reader_path: Path | None = Field(
        None,
        description="Folder of the trained reader (model.onnx, tokenizer.json, decision.json); "
        "default: rag/models/reader.",
    )
    reader_threads: int = Field(
        0, ge=0, description="Threads ONNX Runtime gives the reader; 0: one per core."
    )
    refusal_threshold: float | None = Field(
        None,
        ge=-1,
        le=1,
        description="Best passage cosine below which nothing is about the question ('not "
        "found'). Default: the one chosen with the reader on calibration articles.",
    )
    answer_threshold: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Minimum confidence to quote an answer as Grounded; below it 'not sure'. "
        "Default: the threshold chosen with the reader on calibration articles only "
        "(its decision.json).",
    )
    unit_rules: bool = Field(
        True,
        description="Never quote a heading or a question line as an answer (the one rule "
        "beside the reader; off only for its ablation, see rag/models/reader/MODEL_CARD.md).",
    )
    max_answer_sentences: int = Field(
        2, ge=1, le=5, description="Units quoted at most (others must reach the threshold too)."
    )
    max_question_chars: int = Field(2000, ge=10)

    # Generation (only used when ``llm`` names a model)
    llm_temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature.")
    llm_max_tokens: int = Field(256, ge=16, le=4096, description="Longest generated answer.")
    llm_context: int = Field(
        2048,
        ge=512,
        description="Model context window in tokens; passages that do not fit "
        "are dropped whole (and counted in the answer's info).",
    )
    llm_threads: int | None = Field(None, ge=1, description="llama.cpp threads; default: auto.")
    llm_timeout: float = Field(120.0, gt=0, description="Seconds to wait for a remote model.")
    llm_seed: int = Field(0, description="Sampling seed (llama.cpp, Ollama, OpenAI).")
    ollama_host: str = Field("http://127.0.0.1:11434", description="Ollama server URL.")
    openai_base_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible server (…/v1); default: OpenAI."
    )
    openai_api_key: SecretStr | None = Field(
        None, description="API key for openai:MODEL (falls back to OPENAI_API_KEY)."
    )
    citation_min_overlap: float = Field(
        0.6,
        ge=0,
        le=1,
        description="Share of a generated sentence's content words that "
        "its cited span must contain.",
    )
    citation_min_similarity: float = Field(
        0.55,
        ge=-1,
        le=1,
        description="Minimum embedding cosine between a generated sentence and its cited span.",
    )

    @field_validator("chroma_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("RAG_CHROMA_URL must look like http://127.0.0.1:8000")
        return value or None

    @field_validator("ray_address")
    @classmethod
    def _check_ray_address(cls, value: str | None) -> str | None:
        return ray_address(value or "")

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: SecretStr | None) -> SecretStr | None:
        """A PostgreSQL (psycopg 3) or SQLite SQLAlchemy URL; ``postgresql://`` gets psycopg."""
        if value is None or not value.get_secret_value().strip():
            return None
        return SecretStr(database_url(value.get_secret_value().strip()))

    @field_validator("*", mode="before")
    @classmethod
    def _finite(cls, value: object, info: ValidationInfo) -> object:
        """Refuse NaN and infinities for every float setting.

        Bounds alone do not (``inf`` passes ``gt=0``, and ``nan`` would switch a
        threshold off: every comparison with it is false), so this runs first.
        """
        annotation = cls.model_fields[info.field_name or ""].annotation
        if float not in (get_args(annotation) or (annotation,)):
            return value
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return value  # not a number at all: pydantic's own message says so
        if not math.isfinite(number):
            raise ValueError(f"must be a finite number, not {value!r}")
        return value

    @property
    def uploads_dir(self) -> Path:
        """Where documents uploaded through the browser are kept (inside the store)."""
        return self.store_dir / "uploads"

    def default_paths(self) -> list[Path]:
        """What a plain ``ingest`` covers: the seeds, plus uploads when there are any."""
        return [self.seeds_dir] + ([self.uploads_dir] if self.uploads_dir.is_dir() else [])

    def cache_root(self) -> Path:
        """Where derived files live (ONNX exports, evaluation stores)."""
        default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rag"
        return self.cache_dir or default

    def chunking_fingerprint(self) -> str:
        """Short hash of everything that changes chunk ids (chunker and model)."""
        key = f"{self.chunk_size}|{self.chunk_overlap}|{self.embedding_model}|chunker-v3"
        return hashlib.sha256(key.encode()).hexdigest()[:12]
