"""The answer verifier: how likely a sentence answers a question, from a trained cross-encoder.

An optional part of the answer judge. The model (``model.onnx`` + ``tokenizer/`` in the
judge folder, ``RAG_JUDGE_PATH``: MiniLM-L6 fine-tuned by ``make train-verifier``, exported
to ONNX, int8) reads the question and the candidate sentence together (prefixed by the
document's title) and gives one logit; :class:`Verifier` returns the probability. It runs
on ONNX Runtime with the Rust tokenizer, so answering never imports torch, and it loads
once, on first use, and only when the judge's calibration gives it a weight: the shipped
calibration does not (see rag/models/judge/MODEL_CARD.md for why).

:class:`VerifierScores` is the interface the answerer depends on; tests use a fake that
implements it. This module does not pick sentences or decide outcomes
(:mod:`rag.extractive` does).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rag.confidence import Calibrator, load_calibrator
from rag.errors import ModelMissingError

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

MAX_LENGTH = 96  # tokens: the length the model was trained with (training/train_verifier.py)


class VerifierScores(Protocol):
    """Scores (question, text) pairs, with the calibrator fitted together with it."""

    @property
    def calibrator(self) -> Calibrator:
        """Weights turning a sentence's features into the answer's confidence."""
        ...

    def probabilities(self, question: str, texts: Sequence[str]) -> list[float]:
        """One probability in [0, 1] per text."""
        ...


def pair_text(title: str, sentence: str) -> str:
    """The second input of a pair, exactly as in training: ``title | sentence``."""
    return f"{title} | {sentence}" if title else sentence


class Verifier:
    """The ONNX cross-encoder at *path* (``model.onnx`` + ``tokenizer/tokenizer.json``)."""

    def __init__(self, path: Path, batch_size: int = 8) -> None:
        self.path = path
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None

    @property
    def calibrator(self) -> Calibrator:
        """The calibration shipped beside the model (``calibration.json``)."""
        return load_calibrator(self.path)

    def _load(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model, vocab = self.path / "model.onnx", self.path / "tokenizer" / "tokenizer.json"
        if not model.is_file() or not vocab.is_file():
            raise ModelMissingError(
                f"The judge's calibration uses a verifier model, but {self.path} has none; "
                "train one with `make train-verifier` or use the shipped judge (unset "
                "RAG_JUDGE_PATH)."
            )
        log.info("loading answer verifier from %s", self.path)
        tokenizer = Tokenizer.from_file(str(vocab))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=MAX_LENGTH, strategy="only_second")
        options = ort.SessionOptions()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(model), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = tokenizer

    def probabilities(self, question: str, texts: Sequence[str]) -> list[float]:
        """P(text answers question) for each text."""
        import numpy as np

        if not texts:
            return []
        with self._lock:
            if self._session is None:
                self._load()
        logits = np.concatenate(
            [
                self._run(question, texts[i : i + self.batch_size])
                for i in range(0, len(texts), self.batch_size)
            ]
        )
        return (1.0 / (1.0 + np.exp(-logits))).astype(float).tolist()  # type: ignore[no-any-return]

    def _run(self, question: str, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        encodings = self._tokenizer.encode_batch([(question, t) for t in texts])
        width = max(len(e.ids) for e in encodings)
        shape = (len(encodings), width)
        ids, mask, types = (np.zeros(shape, dtype=np.int64) for _ in range(3))
        for row, enc in enumerate(encodings):
            n = len(enc.ids)
            ids[row, :n], mask[row, :n], types[row, :n] = enc.ids, 1, enc.type_ids
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        return np.asarray(self._session.run(None, feeds)[0]).reshape(-1)
