"""One measurement of :mod:`bench.quantize`, run in its own process.

``python -m bench.quantize_worker onnx MODEL --batch N --threads T [--unsorted]
[--sample N] --out VECTORS.npy`` embeds the benchmark's chunk texts with one ONNX file
through the same :class:`rag.embeddings.OnnxRunner` ingest uses, and
``python -m bench.quantize_worker tutorial --batch 32 --out VECTORS.npy`` does it the
tutorial way (``SentenceTransformer(...).encode(texts, batch_size=32)``, fp32). Each
prints one JSON line: chunks, seconds, chunks/s and the load average before and after.
A separate process per measurement keeps thread pools, allocator state and torch out
of each other's way, and lets ``bench.quantize`` run a worker under an emulated CPU.

It only measures; it decides and writes nothing but the vectors file.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ("seeds", "eval/squad2/dev", "eval/squad2/calibrate")


def chunk_texts(sample: int = 0) -> list[str]:
    """The chunks ingest makes of the seeds and both SQuAD folders (every k-th if *sample*)."""
    from rag.config import Settings
    from rag.documents import iter_files, load_file
    from rag.documents.chunking import chunk_text

    settings = Settings(_env_file=None)
    texts = []
    for path in iter_files(ROOT / folder for folder in CORPORA):
        doc = load_file(path, int(settings.limits.file_mb * 1e6))
        chunks = chunk_text(doc.text, settings.ingest.chunk_size, settings.ingest.chunk_overlap)
        texts.extend(c.text for c in chunks)
    if sample:
        texts = texts[:: max(1, len(texts) // sample)][:sample]
    return texts


def _onnx_encoder(args: argparse.Namespace) -> Any:
    from rag.embeddings import OnnxRunner, bundled_model_path

    runner = OnnxRunner(Path(args.model), bundled_model_path(), args.batch, args.threads)
    if not args.unsorted:
        return runner.encode

    def in_order(texts: list[str]) -> np.ndarray:
        # No length bucketing: one slice of corpus order per call is one batch, padded
        # to its longest text (sorting inside a single batch changes nothing).
        step = args.batch
        return np.concatenate(
            [runner.encode(texts[i : i + step]) for i in range(0, len(texts), step)]
        )

    return in_order


def _tutorial_encoder(args: argparse.Namespace) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    from rag.embeddings import bundled_model_path

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    model = SentenceTransformer(str(bundled_model_path()), device="cpu")
    return lambda texts: model.encode(
        texts, batch_size=args.batch, normalize_embeddings=True, show_progress_bar=False
    )


def measure(encode: Any, texts: list[str]) -> tuple[np.ndarray, dict[str, float]]:
    """Vectors of *texts* and the timing of the call (after a small warm-up)."""
    encode(texts[:8])  # first-run allocations and kernel selection are not ingest speed
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    vectors = np.asarray(encode(texts), dtype=np.float32)
    seconds = time.perf_counter() - start
    timing = {
        "chunks": len(texts),
        "seconds": round(seconds, 3),
        "chunks_per_s": round(len(texts) / seconds, 2),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }
    return vectors, timing


def main() -> None:
    """Parse the command line, measure once, print the JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.quantize_worker")
    parser.add_argument("kind", choices=["onnx", "tutorial"])
    parser.add_argument("model", nargs="?", help="ONNX file (kind onnx)")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--threads", type=int, default=0, help="0: the runtime's default")
    parser.add_argument("--unsorted", action="store_true", help="no length bucketing")
    parser.add_argument("--sample", type=int, default=0, help="every k-th chunk, this many")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    encoder = _onnx_encoder(args) if args.kind == "onnx" else _tutorial_encoder(args)
    vectors, timing = measure(encoder, chunk_texts(args.sample))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.save(args.out, vectors)
    print(json.dumps(timing))


if __name__ == "__main__":
    main()
