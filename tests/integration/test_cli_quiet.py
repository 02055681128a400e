"""The CLI's stderr carries messages to its user, never a library's loading bars."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ARTICLE, run_module, store_env

pytestmark = pytest.mark.integration


def test_first_run_prints_no_loading_weights_bar(tmp_path: Path, settings) -> None:
    # A fresh cache: the first ingest and question export the model to ONNX, which
    # loads its weights through transformers (the "Loading weights 0/103" bar).
    env = {**store_env(settings), "RAG_CACHE_DIR": str(tmp_path / "cache")}
    ingest = run_module("rag", ["ingest", str(ARTICLE)], env)
    asked = run_module("rag", ["ask", "Who will visit Calais?"], env)
    assert ingest.returncode == 0 and asked.returncode == 0, ingest.stderr + asked.stderr
    assert "Theresa May" in asked.stdout
    for stderr in (ingest.stderr, asked.stderr):
        assert "Loading weights" not in stderr and "it/s]" not in stderr
