"""int8 bulk ingest: close to fp32, made once and atomically, chosen by the CPU's flags.

Real model (the bundled all-MiniLM-L6-v2 and its ONNX export) except the selection
tests, which read fake CPU flags.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import rag.embeddings.int8 as int8_module
from rag.config import Settings
from rag.embeddings import (
    Int8Bulk,
    bulk_precision,
    bundled_model_path,
    describe,
    int8_file,
    load_embeddings,
    onnx_file,
    quantize_int8,
)

ROOT = Path(__file__).resolve().parents[2]
# Not the bundled article: passages and questions about something else entirely.
PASSAGES = [
    "The lighthouse keeper climbed the spiral stairs every evening at dusk to light the lamp.",
    "Honeybees communicate the direction of flowers to their hive mates with a waggle dance.",
    "The 1998 treaty capped fishing quotas for cod in the northern Atlantic for ten years.",
    "A sourdough starter is a culture of wild yeast and lactic acid bacteria fed with flour.",
    "Glaciers carve U-shaped valleys as they grind slowly downhill over thousands of years.",
    "The orchestra tuned to the oboe's A before the conductor raised her baton.",
    "Copper wiring carries electricity well because its outer electrons move freely.",
    "In chess, castling moves the king two squares towards a rook, which jumps over it.",
]
QUESTIONS = [
    ("How do bees tell each other where flowers are?", 1),
    ("What limited cod fishing?", 2),
    ("How are valleys shaped by ice?", 4),
    ("Which instrument does an orchestra tune to?", 5),
]


def _settings(**embedding: object) -> Settings:
    return Settings(_env_file=None, embedding={"bulk_min_texts": 1, **embedding})


def _fp32_file() -> Path:
    target = onnx_file(Settings(_env_file=None), bundled_model_path())
    if not target.is_file():
        load_embeddings(Settings(_env_file=None))  # exports it once
    return target


@pytest.mark.integration
def test_int8_document_vectors_are_close_to_fp32_and_find_the_same_passages() -> None:
    int8 = load_embeddings(_settings(precision="int8"))
    fp32 = load_embeddings(_settings(precision="fp32"))
    fast = np.asarray(int8.embed_documents(PASSAGES))
    exact = np.asarray(fp32.embed_documents(PASSAGES))
    assert describe(int8)["ingest_precision"] == "int8"
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    assert np.sum(fast * exact, axis=1).min() > 0.97
    # Questions stay fp32, and each still finds its own passage first.
    questions = np.asarray([int8.embed_query(q) for q, _ in QUESTIONS])
    assert np.allclose(questions, [fp32.embed_query(q) for q, _ in QUESTIONS], atol=1e-6)
    assert list((questions @ fast.T).argmax(1)) == [best for _, best in QUESTIONS]


@pytest.mark.integration
def test_the_int8_file_is_made_once_next_to_the_export_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fp32 = tmp_path / "onnx" / "digest" / "model.onnx"
    fp32.parent.mkdir(parents=True)
    fp32.symlink_to(_fp32_file())
    first = Int8Bulk(fp32, bundled_model_path(), batch_size=4)
    assert first.encode(PASSAGES[:2]) is not None
    assert first.file == int8_file(fp32) and first.file.parent == fp32.parent
    assert sorted(p.name for p in fp32.parent.iterdir()) == sorted([fp32.name, first.file.name])
    made = first.file.stat().st_mtime_ns

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the int8 file was made again")

    monkeypatch.setattr(int8_module, "quantize_int8", never)
    again = Int8Bulk(fp32, bundled_model_path(), batch_size=4)
    assert again.encode(PASSAGES[:2]) is not None
    assert first.file.stat().st_mtime_ns == made


@pytest.mark.integration
def test_a_failed_quantization_leaves_no_file_and_ingest_stays_fp32(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import onnxruntime.quantization as quantization

    def crash(model_input: Path, model_output: Path, **options: object) -> None:
        Path(model_output).write_bytes(b"half a model")  # then the process "dies"
        raise OSError("disk full")

    monkeypatch.setattr(quantization, "quantize_dynamic", crash)
    target = tmp_path / "model.int8.onnx"
    with pytest.raises(OSError, match="disk full"):
        quantize_int8(_fp32_file(), target)
    assert list(tmp_path.iterdir()) == []  # neither the target nor a temporary folder

    bulk = Int8Bulk(_fp32_file(), bundled_model_path(), batch_size=4)
    bulk.file = target  # where this one would write: fails the same way
    assert bulk.encode(PASSAGES) is None  # the caller then embeds in fp32
    assert not target.exists()


def test_auto_picks_bf16_from_the_cpu_flags_and_int8_only_when_asked() -> None:
    auto = Settings(_env_file=None)
    assert bulk_precision(auto, frozenset({"avx2", "avx512f", "amx_bf16"})) == "bf16"
    assert bulk_precision(auto, frozenset({"avx2", "avx512_bf16"})) == "bf16"
    assert bulk_precision(auto, frozenset({"avx2", "fma"})) == "fp32"  # AVX2-only EPYC
    assert bulk_precision(auto, frozenset()) == "fp32"  # flags unreadable (not Linux)


def test_an_explicit_precision_ignores_the_cpu() -> None:
    amx = frozenset({"avx2", "amx_bf16"})
    for precision in ("fp32", "bf16", "int8"):
        chosen = bulk_precision(Settings(_env_file=None, embedding={"precision": precision}), amx)
        assert chosen == precision


@pytest.mark.integration
def test_int8_ingest_and_questions_never_import_torch() -> None:
    script = (
        "import sys\n"
        "from rag.config import Settings\n"
        "from rag.embeddings import load_embeddings\n"
        "e = load_embeddings(Settings(_env_file=None, embedding={'precision': 'int8',"
        " 'bulk_min_texts': 1}))\n"
        "assert e.bulk.encode(['a passage', 'another one']) is not None\n"
        "e.embed_documents(['a passage', 'another one'])\n"
        "e.embed_query('a question?')\n"
        "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    _fp32_file()
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["False", "False"]
