"""Export the trained reader to ONNX (fp32, and int8 when it holds up), with its tokenizer.

Writes into the target folder ``model.onnx`` (inputs ``input_ids``, ``attention_mask``,
``token_type_ids``; outputs ``start_logits``, ``end_logits``, ``answerable_logit``) and
``tokenizer.json``, after checking that ONNX Runtime reproduces the torch network.
``quantize`` writes ``model-int8.onnx`` beside it (ONNX Runtime dynamic quantisation);
whether answering uses it is decided by measurement (``training.reader.calibrate``).
"""

from __future__ import annotations

import logging
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rag.answering.windows import WindowMaker
from rag.embeddings import bundled_model_path

log = logging.getLogger(__name__)

INPUTS = ["input_ids", "attention_mask", "token_type_ids"]
OUTPUTS = ["start_logits", "end_logits", "answerable_logit"]


def _sample() -> dict[str, np.ndarray]:
    from training.reader.data import Example
    from training.reader.features import collate, featurize
    from training.reader.train import tokenizer

    maker = WindowMaker(tokenizer())
    examples = [
        Example(
            "a",
            "Who opened it?",
            "The hall was opened by the mayor in 1987.",
            22,
            "the mayor",
            "gold",
            "x",
            "x",
        ),
        Example("b", "When?", "It rained.", None, "", "gold", "x", "x"),
    ]
    batch = collate(featurize(maker, examples))
    return {k: batch[k] for k in INPUTS}


def export(model: Any, target: Path) -> Path:
    """``model.onnx`` + ``tokenizer.json`` in *target*; checked against torch."""
    import onnxruntime as ort

    target.mkdir(parents=True, exist_ok=True)
    feeds = _sample()
    tensors = tuple(torch.from_numpy(feeds[k]) for k in INPUTS)
    model = model.float().eval()
    partial = target / f"model.onnx.{os.getpid()}.partial"
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        expected = [t.numpy() for t in model(*tensors)]
        torch.onnx.export(
            model,
            tensors,
            str(partial),
            input_names=INPUTS,
            output_names=OUTPUTS,
            dynamic_axes={
                **{n: {0: "batch", 1: "tokens"} for n in INPUTS},
                "start_logits": {0: "batch", 1: "tokens"},
                "end_logits": {0: "batch", 1: "tokens"},
                "answerable_logit": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,
        )
    got = ort.InferenceSession(str(partial), providers=["CPUExecutionProvider"]).run(None, feeds)
    for a, b in zip(got, expected, strict=True):
        if not np.allclose(a, b, atol=1e-3):
            partial.unlink(missing_ok=True)
            raise RuntimeError("the ONNX export does not reproduce the torch reader")
    os.replace(partial, target / "model.onnx")
    shutil.copyfile(bundled_model_path() / "tokenizer.json", target / "tokenizer.json")
    return target / "model.onnx"


def quantize(folder: Path) -> Path:
    """``model-int8.onnx`` beside ``model.onnx`` (dynamic int8, per-channel weights)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out = folder / "model-int8.onnx"
    quantize_dynamic(
        str(folder / "model.onnx"), str(out), weight_type=QuantType.QInt8, per_channel=True
    )
    return out
