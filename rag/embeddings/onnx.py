"""The ONNX Runtime backend: the model's transformer exported once, run without torch.

:func:`export_onnx` turns the local weights into an ONNX file in the cache folder
(:func:`onnx_file`), checked against torch and written atomically;
:class:`OnnxEmbeddings` runs it with ONNX Runtime and the Rust ``tokenizers``, with
mean pooling and normalisation in numpy, exactly as sentence-transformers does them.
Running never imports torch, transformers or sentence-transformers (exporting and
bf16 bulk ingest do). It does not decide whether ONNX is used: see
:func:`rag.embeddings.load_embeddings`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.config import Settings
from rag.embeddings.cache import BulkEncoder, CachedQueries
from rag.embeddings.model import max_seq_length, offline

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

_EXPORT_VERSION = "onnx-export-v1"
_ST_MODULES = [
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
]


class OnnxRunner:
    """One ONNX Runtime session plus the tokenizer: texts in, normalised vectors out.

    *onnx_file* maps ``input_ids``/``attention_mask``(/``token_type_ids``) to the
    transformer's last hidden state; pooling (mean over real tokens) and
    normalisation happen here, exactly as sentence-transformers does them. Texts are
    sorted by token length and run *batch_size* at a time, so padding stays small.

    *workers* batches run at once, each on one core (0: one per usable core). On 2
    cores two single-threaded runs of one session beat one run on two threads by
    16-19% (AVX2 EPYC, docs/BENCHMARKS.md): a batch of 4 short texts is too small to
    split across cores without waiting. The vectors are the same either way.
    *intra_op_threads* > 1 (with ``workers=1``) is the older layout, one batch split
    across threads, kept for the levers study that compares the two.
    """

    def __init__(
        self,
        onnx_file: Path,
        model_path: Path,
        batch_size: int,
        workers: int = 0,
        intra_op_threads: int = 1,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.file = onnx_file
        self.batch_size = batch_size
        self.workers = workers or usable_cores()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=max_seq_length(model_path))
        self._pad_id = self._tokenizer.token_to_id("[PAD]") or 0
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = intra_op_threads  # 1: parallel across batches instead
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(onnx_file), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}

    def encode(self, texts: list[str]) -> np.ndarray:
        """Normalised float32 matrix, one row per text (batched by token length)."""
        import numpy as np

        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        tokens = [[encodings[i].ids for i in rows] for rows in batches]
        if len(batches) == 1 or self.workers == 1:
            results = list(map(self._run, tokens))
        else:  # ONNX Runtime releases the GIL in run(): the batches really run in parallel
            results = list(self._executor().map(self._run, tokens))
        width = results[0].shape[1] if results else 0
        out = np.zeros((len(texts), width), dtype=np.float32)
        for rows, vectors in zip(batches, results, strict=True):
            out[rows] = vectors
        return out

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:  # made on first use: nothing starts at construction
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="onnx")
            return self._pool

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


class OnnxEmbeddings(CachedQueries):
    """The same model run by ONNX Runtime (:class:`OnnxRunner`): no torch in the process.

    *bulk* (optional) embeds large ``embed_documents`` calls: bf16 through torch or
    int8 through a quantized copy of *onnx_file* (:mod:`rag.embeddings.int8`).
    """

    backend = "onnx"

    def __init__(
        self,
        onnx_file: Path,
        model_path: Path,
        settings: Settings,
        bulk: BulkEncoder | None = None,
    ) -> None:
        super().__init__(settings, bulk)
        log.info("loading embedding model %s from %s (onnx)", settings.embedding.model, onnx_file)
        self.name = settings.embedding.model
        # ONNX Runtime materialises the attention of the whole batch: big batches
        # cost memory (64 x 256 tokens peaks at ~1.4 GB) and run slower here.
        batch = min(settings.embedding.batch_size, settings.embedding.onnx_max_batch)
        self.runner = OnnxRunner(onnx_file, model_path, batch, settings.embedding.onnx_workers)
        self.batch_size = batch

    def _encode(self, texts: list[str]) -> np.ndarray:
        """Normalised float32 matrix, one row per text (batched by token length)."""
        return self.runner.encode(texts)


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, where the OS reports one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


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
    return settings.store.cache_root() / "onnx" / digest / "model.onnx"


def export_onnx(model_path: Path, target: Path) -> Path:
    """Export the transformer of *model_path* to *target*, checked against torch.

    Needs torch, transformers and the ``onnx`` package; runs once per model. The file
    appears atomically, so concurrent processes never read half an export.
    """
    offline()
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
