"""Ingest embedding levers, measured alone: precision, batch size, how cores are used.

``python -m bench.levers [--docs N]`` chunks the first N documents of the 1,000-document
benchmark corpus (:mod:`bench.corpus`) as ingest does and embeds them with ONNX Runtime
in each configuration: fp32 or the int8 copy ingest uses, one batch on all cores
(intra-op threads) or one single-threaded batch per core at once (what
:class:`rag.embeddings.onnx.OnnxRunner` does), batches of 4 or 8. It prints chunks/s and
the cosine of int8 to fp32, and writes them with the machine to
``bench/results/<machine>/studies/levers.json``. Only the forward passes are timed (after one
warm-up call): the whole ingest, with Chroma and the tutorial side by side, is
:mod:`bench.run`. It asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench import machine as host
from bench.corpus import build
from bench.quantize import fp32_file
from bench.run import RESULTS

Encode = Callable[[list[str]], np.ndarray]


def _texts(docs: int) -> list[str]:
    from rag.config import Settings
    from rag.documents.chunking import chunk_text

    settings = Settings(_env_file=None)
    files = sorted(build(1000).rglob("*.txt"))[:docs]
    return [
        c.text
        for f in files
        for c in chunk_text(f.read_text(encoding="utf-8"), settings.ingest.chunk_size)
    ]


def _models() -> tuple[Path, Path, Path]:
    from rag.embeddings import bundled_model_path
    from rag.embeddings.int8 import int8_file, quantize_int8

    model, fp32 = bundled_model_path(), fp32_file()
    if not int8_file(fp32).exists():
        quantize_int8(fp32, int8_file(fp32))
    return model, fp32, int8_file(fp32)


def _intra_op(file: Path, model: Path, batch: int, threads: int) -> Encode:
    """One batch at a time on *threads* cores (ONNX Runtime's intra-op threads)."""
    from rag.embeddings.onnx import OnnxRunner

    return OnnxRunner(file, model, batch, workers=1, intra_op_threads=threads).encode


def _parallel(file: Path, model: Path, batch: int, workers: int) -> Encode:
    from rag.embeddings.onnx import OnnxRunner

    return OnnxRunner(file, model, batch, workers=workers).encode


def _timed(encode: Encode, texts: list[str]) -> tuple[float, np.ndarray]:
    encode(texts[:16])  # warm-up: first-run allocations
    started = time.perf_counter()
    vectors = encode(texts)
    return len(texts) / (time.perf_counter() - started), vectors


def measure(docs: int) -> dict[str, Any]:
    """chunks/s of every configuration on the chunks of the first *docs* documents."""
    from rag.embeddings.onnx import usable_cores

    texts = _texts(docs)
    model, fp32, int8 = _models()
    cores = usable_cores()
    configs: dict[str, Callable[[], Encode]] = {
        f"fp32, batch 4, one batch on {cores} threads": lambda: _intra_op(fp32, model, 4, cores),
        f"fp32, batch 4, {cores} batches at once": lambda: _parallel(fp32, model, 4, cores),
        f"int8, batch 4, one batch on {cores} threads": lambda: _intra_op(int8, model, 4, cores),
        f"int8, batch 4, {cores} batches at once": lambda: _parallel(int8, model, 4, cores),
        f"int8, batch 8, {cores} batches at once": lambda: _parallel(int8, model, 8, cores),
        "int8, batch 4, 1 thread": lambda: _parallel(int8, model, 4, 1),
    }
    rows, reference = {}, None
    for name, make in configs.items():
        load = os.getloadavg()[0]
        rate, vectors = _timed(make(), texts)
        reference = vectors if reference is None else reference
        cosine = (vectors * reference).sum(axis=1)
        rows[name] = {
            "chunks_per_s": round(rate, 1),
            "cos_to_fp32_p1": round(float(np.percentile(cosine, 1)), 4),
            "cos_to_fp32_median": round(float(np.median(cosine)), 4),
            "load": [round(load, 2), round(os.getloadavg()[0], 2)],
        }
    return {"documents": docs, "chunks": len(texts), "configs": rows}


def main() -> None:
    """Measure, print one line per configuration, write the results file."""
    parser = argparse.ArgumentParser(prog="python -m bench.levers")
    parser.add_argument("--docs", type=int, default=120, help="documents of the 1k corpus")
    args = parser.parse_args()
    result = measure(args.docs)
    info = host.describe()
    result.update(machine=info, measured_at=time.strftime("%Y-%m-%d %H:%M:%S"))
    result["command"] = f"python -m bench.levers --docs {args.docs}"
    for name, row in result["configs"].items():
        print(f"{name:44s} {row['chunks_per_s']:6.1f} chunks/s  cos p1 {row['cos_to_fp32_p1']}")
    out = RESULTS / info["tag"] / "studies" / "levers.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
