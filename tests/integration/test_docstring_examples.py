"""The examples in the public API's docstrings run, and print what they say.

Each module's ``Example:`` blocks are run by :mod:`doctest` with the real bundled
model and real Chroma, in temporary folders (the examples make their own), on
documents written for the examples, not the bundled article.
"""

from __future__ import annotations

import doctest
import importlib
import os

import pytest

pytestmark = pytest.mark.integration

MODULES = ["rag.service.assistant", "rag.eval.runner", "rag.store.store", "rag.retrieval.hybrid"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    for key in [k for k in os.environ if k.startswith("RAG_")]:
        monkeypatch.delenv(key)
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed"
    if name in ("rag.service.assistant", "rag.eval.runner"):
        assert result.attempted >= 5


def test_the_public_entry_points_have_examples() -> None:
    finder = doctest.DocTestFinder()
    for name in ("rag.service.assistant", "rag.eval.runner"):
        tests = [t for t in finder.find(importlib.import_module(name)) if t.examples]
        assert tests, f"{name} has no runnable example"
