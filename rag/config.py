"""The one settings object for the whole assistant: a tree of groups.

:class:`Settings` holds one group per stage: ``store`` (where documents, vectors and
conversations live), ``ingest`` (chunking and the ingest lock), ``ray`` (ingest on a Ray
cluster), ``embedding`` (the embedding model and how it runs), ``retrieval``, ``answer``
(the reader and its thresholds), ``llm`` (a generative model, when one answers) and
``limits`` (what a user may send). Code reads ``settings.retrieval.k``.

Every tunable value lives here, each with the reason for its default (what was measured,
or that it was chosen and why). Values come from environment variables (or a ``.env``
file) when :class:`Settings` is *instantiated*, never at import time: each field has one
flat ``RAG_`` name, listed in :data:`VARIABLES` (``RAG_K`` sets ``retrieval.k``; the names
predate the tree and keep their meaning), and ``RAG_<GROUP>__<FIELD>`` works too
(``RAG_RETRIEVAL__K``). Code receives a ``Settings`` instance as an argument and changes
it with :meth:`Settings.updated`.

Properties of the trained reader (window length, stride, answer length) are not settings:
changing them without retraining breaks the model (see :mod:`rag.answering.windows`).

This module does not open stores or load models; it only describes them.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

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


class Group(BaseModel):
    """One group of settings; an unknown field is an error, never ignored."""

    model_config = ConfigDict(extra="forbid")

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


class StoreSettings(Group):
    """Where documents, chunks, vectors, conversations and derived files live."""

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
    cache_dir: Path | None = Field(
        None, description="Where the exported ONNX model is kept; default ~/.cache/rag."
    )

    @field_validator("chroma_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("RAG_CHROMA_URL must look like http://127.0.0.1:8000")
        return value or None

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: SecretStr | None) -> SecretStr | None:
        """A PostgreSQL (psycopg 3) or SQLite SQLAlchemy URL; ``postgresql://`` gets psycopg."""
        if value is None or not value.get_secret_value().strip():
            return None
        return SecretStr(database_url(value.get_secret_value().strip()))

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


class IngestSettings(Group):
    """How documents become chunks, and how ingests take turns."""

    # ~600 characters fit one 192-token window of the reader (rag/answering/windows.py), so
    # a chunk is read whole; one sentence of overlap keeps an answer that straddles two
    # chunks whole in one. Both change every chunk id (chunking_fingerprint).
    chunk_size: int = Field(600, ge=50, description="Target chunk length in characters.")
    chunk_overlap: int = Field(1, ge=0, description="Sentences repeated between chunks.")
    # The resume unit: a killed ingest redoes at most this many chunks. Embedding 6,144
    # chunks in groups of 256 grew the process by ~500 MB (docs/BENCHMARKS.md).
    batch: int = Field(
        256, ge=1, description="Chunks embedded and committed together (the resume unit)."
    )
    # Chosen, not measured: about 40 MB of Python strings, so the second pass of a folder
    # ingest rarely reads a file twice while memory stays bounded.
    keep_chars: int = Field(
        20_000_000,
        ge=0,
        description="Document text kept in memory between the two passes of a folder "
        "ingest, at most; documents beyond it are read again.",
    )
    # Chosen with the junk-document tests (issue 29): half the chunks repeating is
    # "mostly"; below 4 chunks one repeat would already be a quarter or more.
    mostly_repeated: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Share of a document's chunks repeating earlier ones from which "
        "ingest warns that it is mostly repetition.",
    )
    mostly_repeated_min_chunks: int = Field(
        4, ge=1, description="Fewer chunks than this are never called mostly repetition."
    )
    # Chosen, not measured: a Chroma server round trip is a few ms, so 0.5 s lets a
    # competing claim land before ours is read back, at a cost a waiting ingest ignores.
    lease_settle: float = Field(
        0.5,
        ge=0,
        description="Seconds between writing an ingest claim in a Chroma server's lease and "
        "reading it back.",
    )
    lock_poll: float = Field(
        1.0,
        gt=0,
        description="Seconds between attempts to take the ingest lock another machine holds.",
    )
    lock_notice_every: float = Field(
        30.0, gt=0, description="Seconds between 'still waiting for the ingest lock' lines."
    )


class RaySettings(Group):
    """Ingest on a Ray cluster (``python -m rag ingest --ray``); needs requirements-scale.txt."""

    address: str | None = Field(
        None,
        description="Ray cluster that ingest loads, chunks and embeds on: auto (the cluster "
        "started here with `ray start`), host:port, ray://host:port, or local (a private one "
        "for the run); default: no Ray, one machine. Needs requirements-scale.txt.",
    )
    # A task is the unit a dead worker redoes: 8 files / ~256 KB (~400 chunks of prose)
    # keeps each worker's embedding batches full while a lost task costs seconds
    # (docs/SCALING.md).
    task_files: int = Field(8, ge=1, description="Files per Ray task, at most.")
    task_bytes: int = Field(
        256_000, ge=1, description="File bytes per Ray task, about (~400 chunks of prose)."
    )
    # Two queued tasks per actor: one running, one waiting, so no worker idles while the
    # driver writes the previous group.
    in_flight: int = Field(2, ge=1, description="Tasks queued per Ray worker.")
    # A SIGKILLed worker is replaced and its tasks re-run (tests/integration/test_ray_ingest).
    max_restarts: int = Field(4, ge=0, description="Times a dead Ray worker is started again.")
    # 200 MB fits a 2-core, few-GB test machine next to the workers' models (docs/SCALING.md).
    object_store_bytes: int = Field(
        200_000_000, ge=78_643_200, description="Object store of a private ('local') cluster."
    )

    @field_validator("address")
    @classmethod
    def _check_ray_address(cls, value: str | None) -> str | None:
        return ray_address(value or "")


class EmbeddingSettings(Group):
    """The embedding model and how it runs. Machine-tuned numbers: docs/BENCHMARKS.md."""

    model: str = Field("all-MiniLM-L6-v2", description="Name recorded in chunk ids and metadata.")
    path: Path | None = Field(
        None, description="Folder of a sentence-transformers model; default: bundled."
    )
    batch_size: int = Field(64, ge=1, description="Batch of sentence-transformers on torch.")
    backend: Literal["auto", "onnx", "torch"] = Field(
        "auto",
        description="auto: ONNX Runtime (exported once from the local weights) when "
        "possible, else sentence-transformers on torch.",
    )
    precision: Literal["auto", "fp32", "bf16", "int8"] = Field(
        "auto",
        description="Precision of bulk ingest embedding. bf16 runs sentence-transformers "
        "under torch bf16 autocast (~2.5x faster on CPUs with AMX or AVX512-BF16, cosine "
        "0.99998 to fp32); int8 runs an int8 copy of the ONNX export (made once; cosine "
        "p1 0.98-0.99 to fp32; 1.3x fp32 on AVX2-only CPUs; opt-in, see docs/QUANTIZATION.md); "
        "auto: bf16 when the CPU has "
        "it, else fp32. Questions and answer sentences are always fp32.",
    )
    # Per padded token, ONNX Runtime runs batches of 4 fastest on 2 cores (10.3k tokens/s
    # against 8.7k at 16), and sorted short batches waste little padding on answer
    # sentences of very different lengths.
    onnx_max_batch: int = Field(4, ge=1, description="Largest batch ONNX Runtime embeds at once.")
    # Two single-threaded batches at once beat one batch on two threads by 16-19%.
    onnx_workers: int = Field(
        0,
        ge=0,
        description="Batches ONNX Runtime embeds at once, one core each; 0: one per usable core.",
    )
    # Below this, loading torch for bf16 costs more than it saves.
    bulk_min_texts: int = Field(
        64, ge=1, description="Fewest texts in one embed_documents call that use bulk precision."
    )
    # Fastest bf16 autocast batch on 2 cores (129 chunks/s against 115 at 32).
    bf16_batch: int = Field(
        16, ge=1, description="Batch size of bf16 bulk ingest (torch autocast)."
    )
    # 20k x 384 floats = 30 MB.
    sentence_cache: int = Field(
        20_000, ge=0, description="Sentence vectors kept by encode() for reuse across questions."
    )


class RetrievalSettings(Group):
    """Hybrid retrieval: dense and BM25 candidates, near-duplicates collapsed, fused."""

    # At 4, recall@k is 0.96 on SQuAD 2.0 dev and 0.97 on TyDi dev (docs/QUANTIZATION.md,
    # fp32) and a whole answer takes ~53 ms p50 (docs/BENCHMARKS.md); the reader's time
    # grows with every passage. 20 candidates per side were in force for those figures.
    k: int = Field(4, ge=1, le=50, description="Passages retrieved per question.")
    # The constant of the reciprocal rank fusion paper (Cormack et al. 2009), not tuned here.
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    candidates: int = Field(20, ge=1, description="Candidates taken from each retriever.")
    # 10 cost SQuAD 2.0 dev recall@k 0.004, so at 20 it only binds when candidates rise.
    max_per_document: int = Field(
        20,
        ge=1,
        description="Candidates one document may hold on each side before fusion (near-"
        "duplicate chunks already count once), so one document cannot take over retrieval.",
    )
    # Twice the candidates leaves room for the near-duplicates the collapse removes
    # (tests/integration/test_junk_documents.py); the dense side's requery covers the rest.
    fetch_factor: int = Field(
        2, ge=1, description="Each side fetches this many times the candidates it keeps."
    )
    # The three below bound the extra work when copies or chunks of a removal killed halfway
    # crowd a question's candidates. Chosen with tests/integration/test_junk_documents.py
    # (every crowded case there is resolved within them), not tuned on a benchmark.
    requeries: int = Field(
        2,
        ge=0,
        description="Dense queries asked again at most when crowded candidates leave "
        "fewer than needed.",
    )
    lexical_reach: int = Field(
        32, ge=1, description="The keyword side looks at most this many times deeper when crowded."
    )
    # 5,000 chunks x 384 floats is scored exactly in milliseconds.
    exact_limit: int = Field(
        5000,
        ge=0,
        description="Stores of at most this many chunks score every chunk exactly when the "
        "dense side stays crowded.",
    )
    # Word 3-gram Jaccard 0.9: a sentence repeated 500 or 3 times is one candidate, two
    # chunks that differ by a figure or a name are two (tests/unit/test_dedup.py).
    near_duplicate: float = Field(
        0.9,
        gt=0,
        le=1,
        description="Word 3-gram Jaccard at or above which two candidates count once.",
    )


class AnswerSettings(Group):
    """The trained reader, the answer decision and the citation check of written answers."""

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
    threshold: float | None = Field(
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
    max_sentences: int = Field(
        2, ge=1, le=5, description="Units quoted at most (others must reach the threshold too)."
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


class LlmSettings(Group):
    """A generative model (only used when ``provider`` names one)."""

    provider: str = Field(
        "extractive",
        description="Answer provider: extractive (no model), llamacpp[:PATH.gguf], "
        "ollama:MODEL or openai:MODEL (see rag.llm.registry).",
    )
    # 0 and a fixed seed: the same question gives the same answer (and the eval's judge
    # the same verdict).
    temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature.")
    # Chosen, not measured: a few cited sentences; a 2048-token context holds the prompt
    # and k=4 passages of ~600 characters with room to spare.
    max_tokens: int = Field(256, ge=16, le=4096, description="Longest generated answer.")
    context: int = Field(
        2048,
        ge=512,
        description="Model context window in tokens; passages that do not fit "
        "are dropped whole (and counted in the answer's info).",
    )
    threads: int | None = Field(None, ge=1, description="llama.cpp threads; default: auto.")
    timeout: float = Field(120.0, gt=0, description="Seconds to wait for a remote model.")
    seed: int = Field(0, description="Sampling seed (llama.cpp, Ollama, OpenAI).")
    ollama_host: str = Field("http://127.0.0.1:11434", description="Ollama server URL.")
    openai_base_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible server (…/v1); default: OpenAI."
    )
    openai_api_key: SecretStr | None = Field(
        None, description="API key for openai:MODEL (falls back to OPENAI_API_KEY)."
    )
    # Chosen, not measured: a rewrite that drops more than 40% of the question's content
    # words has usually answered or changed it ("hi" -> another question), so the
    # question is asked as typed (tests/unit/test_generation.py).
    condense_keep_share: float = Field(
        0.6,
        ge=0,
        le=1,
        description="Share of a follow-up's content words its standalone rewrite must keep.",
    )


class LimitsSettings(Group):
    """What a user may send: files, questions, uploads.

    Chosen, not measured: bounds against a mistaken upload or paste, far above a real
    document or question.
    """

    file_mb: float = Field(20.0, gt=0, description="Largest file accepted for ingest.")
    question_chars: int = Field(2000, ge=10, description="Longest question accepted.")
    # Well below the 255 bytes most filesystems allow, room left for "-2" and a suffix.
    upload_name_chars: int = Field(
        120, ge=16, description="Characters an uploaded file's saved name keeps, at most."
    )
    # Chosen, not measured: a bound on the name-2, name-3... search, never reached by use.
    upload_copies: int = Field(
        1000, ge=1, description="Different uploads of one file name kept, at most."
    )


# Every field's flat environment variable. The names predate the tree (they were the
# flat fields' names) and keep their meaning; tests/unit/test_settings_tree.py pins them.
VARIABLES: dict[str, tuple[str, str]] = {
    "RAG_SEEDS_DIR": ("store", "seeds_dir"),
    "RAG_STORE_DIR": ("store", "store_dir"),
    "RAG_CHROMA_URL": ("store", "chroma_url"),
    "RAG_COLLECTION": ("store", "collection"),
    "RAG_DATABASE_URL": ("store", "database_url"),
    "RAG_CACHE_DIR": ("store", "cache_dir"),
    "RAG_CHUNK_SIZE": ("ingest", "chunk_size"),
    "RAG_CHUNK_OVERLAP": ("ingest", "chunk_overlap"),
    "RAG_INGEST_BATCH": ("ingest", "batch"),
    "RAG_INGEST_KEEP_CHARS": ("ingest", "keep_chars"),
    "RAG_MOSTLY_REPEATED": ("ingest", "mostly_repeated"),
    "RAG_MOSTLY_REPEATED_MIN_CHUNKS": ("ingest", "mostly_repeated_min_chunks"),
    "RAG_LEASE_SETTLE": ("ingest", "lease_settle"),
    "RAG_LOCK_POLL": ("ingest", "lock_poll"),
    "RAG_LOCK_NOTICE_EVERY": ("ingest", "lock_notice_every"),
    "RAG_RAY_ADDRESS": ("ray", "address"),
    "RAG_RAY_TASK_FILES": ("ray", "task_files"),
    "RAG_RAY_TASK_BYTES": ("ray", "task_bytes"),
    "RAG_RAY_IN_FLIGHT": ("ray", "in_flight"),
    "RAG_RAY_MAX_RESTARTS": ("ray", "max_restarts"),
    "RAG_RAY_OBJECT_STORE_BYTES": ("ray", "object_store_bytes"),
    "RAG_EMBEDDING_MODEL": ("embedding", "model"),
    "RAG_EMBEDDING_PATH": ("embedding", "path"),
    "RAG_EMBEDDING_BATCH_SIZE": ("embedding", "batch_size"),
    "RAG_EMBEDDING_BACKEND": ("embedding", "backend"),
    "RAG_EMBEDDING_PRECISION": ("embedding", "precision"),
    "RAG_EMBEDDING_ONNX_MAX_BATCH": ("embedding", "onnx_max_batch"),
    "RAG_EMBEDDING_ONNX_WORKERS": ("embedding", "onnx_workers"),
    "RAG_EMBEDDING_BULK_MIN_TEXTS": ("embedding", "bulk_min_texts"),
    "RAG_EMBEDDING_BF16_BATCH": ("embedding", "bf16_batch"),
    "RAG_EMBEDDING_SENTENCE_CACHE": ("embedding", "sentence_cache"),
    "RAG_K": ("retrieval", "k"),
    "RAG_RRF_K": ("retrieval", "rrf_k"),
    "RAG_CANDIDATES": ("retrieval", "candidates"),
    "RAG_MAX_PER_DOCUMENT": ("retrieval", "max_per_document"),
    "RAG_FETCH_FACTOR": ("retrieval", "fetch_factor"),
    "RAG_NEAR_DUPLICATE": ("retrieval", "near_duplicate"),
    "RAG_REQUERIES": ("retrieval", "requeries"),
    "RAG_LEXICAL_REACH": ("retrieval", "lexical_reach"),
    "RAG_EXACT_LIMIT": ("retrieval", "exact_limit"),
    "RAG_READER_PATH": ("answer", "reader_path"),
    "RAG_READER_THREADS": ("answer", "reader_threads"),
    "RAG_REFUSAL_THRESHOLD": ("answer", "refusal_threshold"),
    "RAG_ANSWER_THRESHOLD": ("answer", "threshold"),
    "RAG_UNIT_RULES": ("answer", "unit_rules"),
    "RAG_MAX_ANSWER_SENTENCES": ("answer", "max_sentences"),
    "RAG_CITATION_MIN_OVERLAP": ("answer", "citation_min_overlap"),
    "RAG_CITATION_MIN_SIMILARITY": ("answer", "citation_min_similarity"),
    "RAG_LLM": ("llm", "provider"),
    "RAG_LLM_TEMPERATURE": ("llm", "temperature"),
    "RAG_LLM_MAX_TOKENS": ("llm", "max_tokens"),
    "RAG_LLM_CONTEXT": ("llm", "context"),
    "RAG_LLM_THREADS": ("llm", "threads"),
    "RAG_LLM_TIMEOUT": ("llm", "timeout"),
    "RAG_LLM_SEED": ("llm", "seed"),
    "RAG_OLLAMA_HOST": ("llm", "ollama_host"),
    "RAG_OPENAI_BASE_URL": ("llm", "openai_base_url"),
    "RAG_OPENAI_API_KEY": ("llm", "openai_api_key"),
    "RAG_CONDENSE_KEEP_SHARE": ("llm", "condense_keep_share"),
    "RAG_MAX_FILE_MB": ("limits", "file_mb"),
    "RAG_MAX_QUESTION_CHARS": ("limits", "question_chars"),
    "RAG_MAX_UPLOAD_NAME_CHARS": ("limits", "upload_name_chars"),
    "RAG_MAX_UPLOAD_COPIES": ("limits", "upload_copies"),
}
_PATHS = {path: name for name, path in VARIABLES.items()}


def variable(group: str, field: str) -> str:
    """The ``RAG_`` variable that sets *group*.*field* (``retrieval``, ``k`` -> ``RAG_K``)."""
    return _PATHS.get((group, field)) or f"RAG_{group.upper()}__{field.upper()}"


class Settings(BaseSettings):
    """The settings tree; read from ``RAG_*`` variables and ``.env`` (see :data:`VARIABLES`).

    Override fields by group, as dicts: ``Settings(retrieval={"k": 3})`` keeps the
    variables' values for every other field.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="forbid")

    store: StoreSettings = Field(default_factory=StoreSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    ray: RaySettings = Field(default_factory=RaySettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments first, then ``RAG_*`` variables (environment over ``.env``)."""
        return init_settings, Variables(settings_cls, env_settings, dotenv_settings)

    def updated(self, **groups: Mapping[str, Any]) -> Settings:
        """A validated copy with some fields changed: ``s.updated(retrieval={"k": 3})``."""
        data = self.model_dump()
        for group, changes in groups.items():
            if group not in data:
                raise TypeError(f"Settings has no group {group!r}")
            data[group] = {**data[group], **changes}
        return type(self).model_validate(data)

    def chunking_fingerprint(self) -> str:
        """Short hash of everything that changes chunk ids (chunker and model)."""
        chunks, model = self.ingest, self.embedding.model
        key = f"{chunks.chunk_size}|{chunks.chunk_overlap}|{model}|chunker-v3"
        return hashlib.sha256(key.encode()).hexdigest()[:12]


def setting_field(group: str, name: str) -> FieldInfo | None:
    """The field *group*.*name* of the tree, or None when there is none."""
    model = getattr(Settings.model_fields.get(group), "annotation", None)
    fields = model.model_fields if isinstance(model, type) and issubclass(model, Group) else {}
    return fields.get(name)


def setting_path(name: str) -> tuple[str, str] | None:
    """The (group, field) a variable *name* sets, in any case; None when it sets none."""
    upper = name.upper()
    if upper in VARIABLES:
        return VARIABLES[upper]
    group, _, field = upper.removeprefix("RAG_").lower().partition("__")
    found = upper.startswith("RAG_") and setting_field(group, field) is not None
    return (group, field) if found else None


class Variables(PydanticBaseSettingsSource):
    """The ``RAG_*`` variables as the tree's nested dict: ``RAG_K=3`` -> retrieval.k."""

    def __init__(
        self,
        settings_cls: type[BaseSettings],
        env: PydanticBaseSettingsSource,
        dotenv: PydanticBaseSettingsSource,
    ) -> None:
        super().__init__(settings_cls)
        # pydantic-settings has read both already (``_env_file=None`` means no file).
        self._layers = [
            source.env_vars
            for source in (dotenv, env)  # later wins
            if isinstance(source, EnvSettingsSource)  # DotEnvSettingsSource is one too
        ]

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """Unused: :meth:`__call__` reads every variable at once."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        tree: dict[str, dict[str, str]] = {}
        for layer in self._layers:
            nested = sorted(layer.items(), key=lambda item: "__" in item[0])  # nested wins
            for name, value in nested:
                path = setting_path(name)
                if path is not None and value is not None:
                    tree.setdefault(path[0], {})[path[1]] = value
        return tree
