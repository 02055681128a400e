"""The embedding backends give the same vectors: ONNX vs torch, batched vs alone, bf16 bulk.

Real model throughout (the bundled all-MiniLM-L6-v2), except the fallback test, whose
loader fails on purpose.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings
from rag.embeddings import (
    Bf16Bulk,
    OnnxEmbeddings,
    SentenceTransformerEmbeddings,
    bf16_ingest,
    bundled_model_path,
    cpu_has_bf16,
    describe,
    load_embeddings,
)

ROOT = Path(__file__).resolve().parents[2]
ARTICLE = (ROOT / "seeds" / "fortress-calais.txt").read_text(encoding="utf-8")
BULK_MIN_TEXTS = Settings(_env_file=None).embedding.bulk_min_texts


def _texts(n: int) -> list[str]:
    """*n* real, distinct texts of very different lengths cut from the article."""
    words = ARTICLE.split()
    return [" ".join(words[i * 7 : i * 7 + 3 + (i * 13) % 120]) for i in range(n)]


def _rowwise_cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(np.asarray(a) * np.asarray(b), axis=1)


@pytest.fixture(scope="module")
def torch_fp32() -> SentenceTransformerEmbeddings:
    return load_embeddings(Settings(_env_file=None, embedding={"backend": "torch"}))


def test_onnx_and_torch_give_the_same_vectors(embeddings, torch_fp32) -> None:
    assert isinstance(embeddings, OnnxEmbeddings)
    texts = _texts(20)
    cos = _rowwise_cosine(embeddings.encode(texts), torch_fp32.encode(texts))
    assert cos.min() > 0.9999


def test_a_text_gets_the_same_vector_alone_or_in_a_padded_batch(embeddings) -> None:
    texts = _texts(11)  # lengths from 3 to 120+ words: batches need padding
    together = embeddings._encode(texts)
    alone = np.stack([embeddings._encode([t])[0] for t in texts])
    assert np.allclose(together, alone, atol=1e-5)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_batches_run_in_parallel_give_each_text_its_own_vector(embeddings) -> None:
    from rag.embeddings.onnx import OnnxRunner

    texts = _texts(37)  # ten batches of four, of very different lengths, out of order
    runner = embeddings.runner
    parallel = OnnxRunner(runner.file, bundled_model_path(), runner.batch_size, 3)
    serial = OnnxRunner(runner.file, bundled_model_path(), runner.batch_size, 1)
    together, one_by_one = parallel.encode(texts), serial.encode(texts)
    assert np.array_equal(together, one_by_one)  # same kernels, same rows, any thread
    assert parallel._pool is not None and serial._pool is None
    assert parallel.encode([]).shape[0] == 0


def test_one_batch_split_across_threads_gives_the_same_vectors(embeddings) -> None:
    from rag.embeddings.onnx import OnnxRunner

    texts = _texts(9)
    runner = embeddings.runner
    split = OnnxRunner(runner.file, bundled_model_path(), runner.batch_size, 1, intra_op_threads=2)
    serial = OnnxRunner(runner.file, bundled_model_path(), runner.batch_size, 1)
    assert split._session.get_session_options().intra_op_num_threads == 2
    assert np.allclose(split.encode(texts), serial.encode(texts), atol=1e-5)


def test_bf16_bulk_ingest_stays_within_rounding_of_fp32(torch_fp32) -> None:
    bf16 = load_embeddings(Settings(_env_file=None, embedding={"precision": "bf16"}))
    texts = _texts(BULK_MIN_TEXTS)
    fast = np.asarray(bf16.embed_documents(texts))
    exact = torch_fp32.encode(texts)
    assert bf16.bulk is not None and bf16.bulk._model is not None  # the bf16 path really ran
    assert describe(bf16)["ingest_precision"] == "bf16"
    assert _rowwise_cosine(fast, exact).min() > 0.999
    # What matters for retrieval: every question finds the same best passage.
    questions = torch_fp32.encode(["Who is the mayor of Calais?", "How long is the fence?"])
    assert ((questions @ fast.T).argmax(1) == (questions @ exact.T).argmax(1)).all()


def test_small_batches_and_fp32_setting_never_load_torch() -> None:
    small = load_embeddings(Settings(_env_file=None, embedding={"precision": "bf16"}))
    small.embed_documents(_texts(BULK_MIN_TEXTS - 1))
    assert small.bulk is not None and small.bulk._model is None
    exact = load_embeddings(Settings(_env_file=None, embedding={"precision": "fp32"}))
    assert exact.bulk is None
    assert describe(exact)["ingest_precision"] == "fp32"


def test_bulk_falls_back_to_fp32_when_torch_cannot_load(embeddings) -> None:
    def missing() -> None:
        raise ImportError("No module named 'torch'")

    bulk = Bf16Bulk(missing, batch_size=16)
    assert bulk.encode(["a text"]) is None
    assert bulk.encode(["again"]) is None  # tried once, then remembered
    onnx = load_embeddings(Settings(_env_file=None, embedding={"precision": "fp32"}))
    onnx.bulk = bulk
    texts = _texts(BULK_MIN_TEXTS)
    assert np.allclose(onnx.embed_documents(texts), embeddings._encode(texts), atol=1e-6)


def test_auto_precision_follows_the_cpu() -> None:
    assert bf16_ingest(Settings(_env_file=None)) is cpu_has_bf16()
    assert bf16_ingest(Settings(_env_file=None, embedding={"precision": "bf16"})) is True
    assert bf16_ingest(Settings(_env_file=None, embedding={"precision": "fp32"})) is False
    assert bundled_model_path().is_dir()
