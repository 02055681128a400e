"""The interfaces call the service only (issue 28): the import rule, read from the source.

The page (``app.py`` and its ``ui`` package) and the CLI (``rag/interfaces/cli.py``) may
import from ``rag`` only the service (:mod:`rag.service`), the answer types
(:mod:`rag.answer`), the errors (:mod:`rag.errors`) and their own rendering helpers
(:mod:`rag.interfaces.highlight` and :mod:`rag.interfaces.rendering` for the page's
Markdown, :mod:`rag.interfaces.terminal` for the CLI's terminal). Imports inside
functions count too. Streamlit is imported by the page only (nowhere in ``rag``).
"""

from __future__ import annotations

import ast

import pytest

from tests.conftest import ROOT

SHARED = {"rag.service", "rag.answer", "rag.errors"}
PAGE = SHARED | {"rag.interfaces.highlight", "rag.interfaces.rendering"}
ALLOWED = {
    "app.py": PAGE,
    **{f"ui/{path.name}": PAGE for path in sorted((ROOT / "ui").glob("*.py"))},
    "rag/interfaces/cli.py": SHARED | {"rag.interfaces.terminal"},
}


def rag_imports(source: str) -> list[tuple[int, str]]:
    """(line, module) of every ``rag`` module *source* imports, anywhere in it."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "rag"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "rag":  # `from rag import x` imports the module rag.x
                found += [(node.lineno, f"rag.{a.name}") for a in node.names]
            elif node.module.startswith("rag."):
                found.append((node.lineno, node.module))
    return found


def forbidden(source: str, allowed: set[str]) -> list[str]:
    """The ``rag`` imports of *source* outside *allowed* (a package allows its submodules)."""
    return [
        f"line {line}: {module}"
        for line, module in rag_imports(source)
        if not any(module == ok or module.startswith(ok + ".") for ok in allowed)
    ]


@pytest.mark.parametrize("path", sorted(ALLOWED))
def test_the_interface_imports_only_the_service_the_answer_types_and_its_helpers(path) -> None:
    source = (ROOT / path).read_text(encoding="utf-8")
    if path != "ui/__init__.py":
        assert rag_imports(source), f"{path} imports nothing from rag: the rule reads a wrong file"
    assert forbidden(source, ALLOWED[path]) == []


def test_the_rule_catches_every_way_of_importing_a_core_module() -> None:
    page = """
import streamlit as st
from rag.service import Assistant
from rag.service.providers import provider_choices
from rag.interfaces.highlight import escape_markdown
import rag.store
from rag import ingest

def later():
    from rag.conversations.labels import distinct_labels
"""
    assert forbidden(page, ALLOWED["app.py"]) == [
        "line 6: rag.store",
        "line 7: rag.ingest",
        "line 10: rag.conversations.labels",
    ]
    assert forbidden("from rag.servicelike import x", {"rag.service"}) == [
        "line 1: rag.servicelike"
    ]


def test_streamlit_is_imported_by_the_page_only() -> None:
    importers = []
    for path in sorted((ROOT / "rag").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name.split(".")[0] == "streamlit" for name in names):
                importers.append(str(path.relative_to(ROOT)))
    assert importers == []


def test_the_service_keeps_no_any() -> None:
    """``Assistant``'s collaborators and the history are typed (mypy --strict checks the rest)."""
    for path in sorted((ROOT / "rag" / "service").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        attrs = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert "Any" not in names | attrs, path.name
