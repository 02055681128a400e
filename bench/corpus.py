"""Build a real, offline text corpus for the benchmarks, deterministically.

Text comes from what is installed on this machine: the docstrings of Python
modules, the README / docs / METADATA files of packages in the virtualenv, and
Debian's ``/usr/share/doc`` (``.gz`` files decompressed). Each candidate becomes
one ``.txt`` file (first line: a title) under ``.cache/bench/corpus-<n>/``.
Long texts are cut at paragraph breaks into parts of at most ``MAX_CHARS``
characters; parts are deduplicated by content and ordered by a hash of their
origin (a stable shuffle: the 1,000-document corpus mixes all sources and is a
prefix of the larger one); the first ``n`` are written.

It does not download anything and does not ingest or embed anything.
"""

from __future__ import annotations

import argparse
import ast
import gzip
import hashlib
import json
import os
import re
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# BENCH_CACHE moves corpora and stores elsewhere (the benchmark's own test uses a tmp dir).
CACHE = Path(os.environ.get("BENCH_CACHE") or ROOT / ".cache" / "bench")
SITE = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
SITE = SITE / "site-packages"
DEBIAN_DOC = Path("/usr/share/doc")
MIN_CHARS = 300
MAX_CHARS = 3000
DOC_SUFFIXES = (".md", ".rst", ".txt")
SKIP_NAMES = re.compile(
    r"(licen[cs]e|copying|copyright|record|entry_points|top_level|"
    r"requires|sources|dependency_links|authors|notice)",
    re.I,
)


def _docstrings(path: Path) -> str:
    """Module, class and function docstrings of one Python file, in file order."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError, OSError):
        return ""
    parts = []
    nodes = [tree] + [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    ]
    for node in nodes:
        doc = ast.get_docstring(node)
        if doc and len(doc) > 40:
            name = getattr(node, "name", "")
            parts.append(f"{name}\n{doc}" if name else doc)
    return "\n\n".join(parts)


def _read(path: Path) -> str:
    try:
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile):
        return ""
    if b"\x00" in data[:4096]:
        return ""
    return data.decode("utf-8", errors="replace")


def _candidates() -> Iterator[tuple[str, str, str]]:
    """(origin, title, text) for every usable file, in a stable order."""
    for path in sorted(SITE.rglob("*")):
        if not path.is_file() or SKIP_NAMES.search(path.name):
            continue
        origin = str(path.relative_to(SITE))
        if path.suffix == ".py":
            yield origin, f"Docstrings of {origin}", _docstrings(path)
        elif path.suffix.lower() in DOC_SUFFIXES or path.name in ("METADATA", "PKG-INFO"):
            yield origin, f"{origin}", _read(path)
    for path in sorted(DEBIAN_DOC.rglob("*")):
        if (
            path.is_file()
            and not SKIP_NAMES.search(path.name)
            and "changelog.Debian" not in path.name
        ):
            origin = "debian-doc/" + str(path.relative_to(DEBIAN_DOC))
            yield origin, origin, _read(path)


def _parts(text: str) -> list[str]:
    """*text* cut at paragraph breaks into parts of at most ``MAX_CHARS`` characters."""
    text = text.replace("\r\n", "\n").strip()
    parts = []
    while len(text) > MAX_CHARS:
        cut = text.rfind("\n\n", MAX_CHARS // 2, MAX_CHARS)
        cut = cut if cut > 0 else MAX_CHARS
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*parts, text]


def collect() -> list[tuple[str, str, str]]:
    """Every deduplicated candidate, in the stable shuffled order (cached as JSON)."""
    index = CACHE / "candidates.json"
    if index.exists():
        return [tuple(item) for item in json.loads(index.read_text())]
    seen: set[str] = set()
    items = []
    for origin, title, whole in _candidates():
        for number, text in enumerate(_parts(whole), start=1):
            digest = hashlib.sha256(text.encode()).hexdigest()
            if len(text) < MIN_CHARS or digest in seen:
                continue
            seen.add(digest)
            key = hashlib.sha256(f"{origin}#{number}".encode()).hexdigest()
            items.append((key, f"{title} (part {number})" if number > 1 else title, text))
    items.sort()
    CACHE.mkdir(parents=True, exist_ok=True)
    index.write_text(json.dumps(items))
    return items


def _folder(n: int) -> Path:
    return CACHE / f"corpus-{n}"


def is_built(n: int) -> bool:
    """Whether the *n*-document corpus is complete on disk (so :func:`build` reads nothing)."""
    return (_folder(n) / ".complete").exists()


def build(n: int) -> Path:
    """Folder holding the first *n* documents (built once, then reused)."""
    folder = _folder(n)
    if is_built(n):
        return folder
    items = collect()
    if len(items) < n:
        raise SystemExit(f"only {len(items)} documents available on this machine, asked for {n}")
    folder.mkdir(parents=True, exist_ok=True)
    for position, (key, title, text) in enumerate(items[:n]):
        sub = folder / f"{position // 1000:03d}"
        sub.mkdir(exist_ok=True)
        (sub / f"{key[:16]}.txt").write_text(f"{title}\n\n{text}\n", encoding="utf-8")
    (folder / ".complete").write_text(str(n))
    return folder


def main() -> None:
    """``python -m bench.corpus N``: build the N-document corpus and print its folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="+")
    for n in parser.parse_args().n:
        folder = build(n)
        chars = sum(p.stat().st_size for p in folder.rglob("*.txt"))
        print(f"{folder}  ({n} documents, {chars / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
