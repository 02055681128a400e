"""Export the trained reader to ONNX (fp32, and int8 when it holds up), with its tokenizer.

Writes into the target folder ``model.onnx`` (inputs ``input_ids``, ``attention_mask``,
``token_type_ids``; outputs ``start_logits``, ``end_logits``, ``answerable_logit``) and
``tokenizer.json``, after checking that ONNX Runtime reproduces the torch network.
``quantize`` writes ``model-int8.onnx`` beside it (ONNX Runtime dynamic quantisation);
:func:`choose_precision` keeps it only when the reader's accuracy on the calibration
sets holds within one point (``python -m training.reader.export DIR``).
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
    for stale in ("model-fp32.onnx", "model-int8.onnx", "precision.json"):
        (target / stale).unlink(missing_ok=True)  # from an earlier export's int8 choice
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


def choose_precision(folder: Path, sets: tuple[str, ...], tolerance: float = 0.01) -> dict:
    """Quantise, score fp32 and int8 on *sets* (the reader alone), keep int8 if it holds.

    int8 is kept when, on every set, span F1 and no-answer accuracy drop by at most
    *tolerance*: then ``model.onnx`` becomes the int8 file and the fp32 one is kept as
    ``model-fp32.onnx``. Returns both scores and the choice (also ``precision.json``).
    """
    import json

    from rag.answering.reader import Reader
    from training.reader.evaluate import SETS, questions, score
    from training.reader.splits import ROOT

    if (folder / "model-fp32.onnx").is_file():  # chosen before: start again from fp32
        os.replace(folder / "model-fp32.onnx", folder / "model.onnx")
    quantize(folder)
    result: dict = {"sets": {}, "tolerance": tolerance}
    for name in sets:
        items = questions(ROOT / SETS[name], 0)
        result["sets"][name] = {
            model: score(Reader(folder, model_file=model), items)
            for model in ("model.onnx", "model-int8.onnx")
        }
    result["int8"] = all(
        _holds(s["model.onnx"], s["model-int8.onnx"], tolerance) for s in result["sets"].values()
    )
    if result["int8"]:
        os.replace(folder / "model.onnx", folder / "model-fp32.onnx")
        os.replace(folder / "model-int8.onnx", folder / "model.onnx")
    (folder / "precision.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


def _holds(fp32: dict, int8: dict, tolerance: float) -> bool:
    keys = [k for k in ("f1", "no_answer_accuracy") if fp32[k] is not None]
    return all(int8[k] >= fp32[k] - tolerance for k in keys)


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m training.reader.export DIR`` chooses fp32 or int8 in DIR."""
    import argparse
    import json

    parser = argparse.ArgumentParser(description="Keep an int8 reader only if it holds up.")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--sets", default="squad2-calibrate,tydi-calibrate")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    result = choose_precision(args.folder, tuple(args.sets.split(",")))
    log.info("%s", json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
