"""The examples in the DocumentStore and HybridRetriever docstrings run as written."""

from __future__ import annotations

import textwrap

import pytest

from rag.retrieval import HybridRetriever
from rag.store import DocumentStore
from tests.conftest import ROOT

pytestmark = pytest.mark.integration


def example(obj: object) -> str:
    """The code block after the ``::`` line of *obj*'s docstring."""
    doc = textwrap.dedent(obj.__doc__ or "")
    _, _, rest = doc.partition("::\n")
    lines = []
    for line in rest.splitlines():
        if line and not line.startswith(" "):
            break
        lines.append(line)
    code = textwrap.dedent("\n".join(lines)).strip()
    assert code, f"{obj} has no example"
    return code


def test_the_store_example_runs(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    exec(example(DocumentStore), {})
    source, start, score = capsys.readouterr().out.split()
    assert source == "seeds/fortress-calais.txt"
    assert int(start) >= 0 and 0 < float(score) <= 1


def test_the_retriever_example_runs(ingested, monkeypatch, capsys):
    monkeypatch.setenv("RAG_STORE_DIR", str(ingested.settings.store_dir))
    exec(example(HybridRetriever), {})
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["1", "2"]
    assert all(line.split()[1] == "seeds/fortress-calais.txt" for line in lines)
