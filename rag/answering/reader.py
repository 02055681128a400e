"""The trained reader on ONNX Runtime: question + passages in, scored answer spans out.

The model (``model.onnx`` + ``tokenizer.json`` in ``rag/models/reader``, or
``RAG_READER_PATH``) is MiniLM-L6 fine-tuned for extractive question answering with a
no-answer decision (``make train-reader``; see its MODEL_CARD.md). :class:`Reader`
cuts each passage into windows (:mod:`rag.answering.windows`), runs them in one padded
batch, and returns every window's best spans (:mod:`rag.answering.spans`). It loads
once, on first use, and never imports torch.

:class:`SpanReader` is the interface the answerer depends on; tests use fakes that
implement it. This module does not choose the answer or decide the outcome
(:mod:`rag.answering.decision` does).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rag.answering.spans import SpanScore, window_spans
from rag.answering.windows import WindowMaker
from rag.errors import ModelMissingError

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

MODEL_FILE = "model.onnx"


class SpanReader(Protocol):
    """Reads passages for a question: the best answer spans of each passage."""

    def read(self, question: str, passages: Sequence[str]) -> list[SpanScore]:
        """Scored spans, located by characters in ``passages[span.passage]``."""
        ...


def bundled_reader_path() -> Path:
    """The reader shipped with the package: ``rag/models/reader``."""
    return Path(__file__).resolve().parent.parent / "models" / "reader"


class Reader:
    """The ONNX reader in *folder* (``model.onnx``, ``tokenizer.json``)."""

    def __init__(
        self, folder: Path, threads: int = 0, top: int = 3, model_file: str = MODEL_FILE
    ) -> None:
        self.folder = folder
        self.model_file = model_file
        self.threads = threads
        self.top = top
        self._lock = threading.Lock()
        self._session: Any = None
        self._maker: WindowMaker | None = None

    def _load(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model, vocab = self.folder / self.model_file, self.folder / "tokenizer.json"
        if not model.is_file() or not vocab.is_file():
            raise ModelMissingError(
                f"No reader model in {self.folder} ({self.model_file}, tokenizer.json); restore it "
                "with `git checkout rag/models/reader`, or train one with `make train-reader` "
                "and point RAG_READER_PATH at its folder."
            )
        log.info("loading the reader from %s", self.folder)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(model), options, providers=["CPUExecutionProvider"]
        )
        self._maker = WindowMaker(Tokenizer.from_file(str(vocab)))

    def warm(self) -> None:
        """Load the model now (the page does it once, before the first question)."""
        with self._lock:
            if self._session is None:
                self._load()

    def read(self, question: str, passages: Sequence[str]) -> list[SpanScore]:
        """The best spans of every window of every passage (see :class:`SpanReader`)."""
        if not passages:
            return []
        self.warm()
        assert self._maker is not None
        windows = self._maker.windows(question, passages)
        start, end, answerable = self._run([w.ids for w in windows], [w.type_ids for w in windows])
        return window_spans(windows, start, end, answerable, self.top)

    def _run(
        self, ids: Sequence[Sequence[int]], types: Sequence[Sequence[int]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        import numpy as np

        width = max(len(row) for row in ids)
        shape = (len(ids), width)
        feeds = {name: np.zeros(shape, dtype=np.int64) for name in _INPUTS}
        for row, (tokens, kinds) in enumerate(zip(ids, types, strict=True)):
            n = len(tokens)
            feeds["input_ids"][row, :n] = tokens
            feeds["attention_mask"][row, :n] = 1
            feeds["token_type_ids"][row, :n] = kinds
        start, end, answerable = self._session.run(None, feeds)
        return start, end, answerable


_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
