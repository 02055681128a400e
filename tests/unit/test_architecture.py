"""The README's architecture section follows the tree, and every stage package says its limits.

Read from the files themselves, so a module added, moved or renamed without its README line
fails here (issue 28: the layout shows the stages, and the README follows the tree).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RAG = ROOT / "rag"


def architecture_listing() -> str:
    """The module listing of the README's Architecture section (its last code block)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Architecture\n", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"```\n(.*?)```", section, flags=re.S)[-1]


def entries(listing: str) -> dict[str, str]:
    """Each listed path with the text of its entry (its line and the indented ones after)."""
    found: dict[str, str] = {}
    current = ""
    for line in listing.splitlines():
        head = line.split(" ", 1)[0]
        if head.startswith(("rag/", "ui/", "app.py")):
            current = head
            found[current] = line
        elif current and line.startswith(" "):
            found[current] += " " + line.strip()
        else:
            current = ""
    return found


def packages() -> list[Path]:
    """Every package of rag/, and the page's ui/."""
    return [*sorted(p.parent for p in RAG.glob("*/__init__.py")), ROOT / "ui"]


def test_every_top_level_module_has_its_line() -> None:
    listed = entries(architecture_listing())
    modules = sorted(p for p in RAG.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert modules, "no modules found: the test reads the wrong folder"
    missing = [f"rag/{p.name}" for p in modules if f"rag/{p.name}" not in listed]
    assert missing == []


@pytest.mark.parametrize("package", packages(), ids=lambda p: p.name)
def test_every_package_and_its_modules_are_named(package: Path) -> None:
    listed = entries(architecture_listing())
    path = f"{package.relative_to(ROOT)}/"
    entry = listed.get(path)
    assert entry is not None, f"{path} has no line in the README architecture"
    modules = sorted(p.stem for p in package.glob("*.py") if p.stem not in ("__init__", "__main__"))
    unnamed = [m for m in modules if not re.search(rf"\b{m}\b", entry)]
    assert unnamed == [], f"{path} modules missing from its README line"


def test_no_line_names_a_module_that_is_gone() -> None:
    listed = entries(architecture_listing())
    gone = [path for path in listed if not (ROOT / path).exists()]
    assert gone == []


@pytest.mark.parametrize("package", packages(), ids=lambda p: p.name)
def test_every_package_says_what_it_owns_and_what_it_does_not(package: Path) -> None:
    tree = ast.parse((package / "__init__.py").read_text(encoding="utf-8"))
    doc = ast.get_docstring(tree) or ""
    assert len(doc.split()) >= 15, f"rag/{package.name} has no docstring worth the name"
    assert re.search(r"\bnot\b|\bnever\b|\bnothing\b|\bonly\b", doc), (
        f"rag/{package.name}'s docstring does not say what it does not do"
    )


def test_the_entry_reader_finds_lines_and_their_continuations() -> None:
    listing = "rag/a/    one (x), two\n          three\nrag/b.py  the b\n\nOutside\nbench/ z\n"
    assert entries(listing) == {
        "rag/a/": "rag/a/    one (x), two three",
        "rag/b.py": "rag/b.py  the b",
    }
