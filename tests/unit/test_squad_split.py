"""The SQuAD split is by article, complete, and reproducible from the source file."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

SQUAD = ROOT / "eval" / "squad2"


def _titles(name: str) -> set[str]:
    return {a["title"] for a in json.loads((SQUAD / f"{name}.json").read_text())["data"]}


def test_split_is_by_article_and_covers_every_question() -> None:
    train, dev = _titles("train"), _titles("dev")
    source = json.loads((SQUAD / "squad2-six-articles.json").read_text())["data"]
    assert not train & dev and train | dev == {a["title"] for a in source}
    count = sum(len(p["qas"]) for a in source for p in a["paragraphs"])
    split = sum(
        len(p["qas"])
        for name in ("train", "dev")
        for a in json.loads((SQUAD / f"{name}.json").read_text())["data"]
        for p in a["paragraphs"]
    )
    assert split == count == 2273
    assert {p.stem for p in (SQUAD / "dev").glob("*.md")} == dev


def test_split_script_reproduces_the_committed_files(tmp_path) -> None:
    before = {p.relative_to(SQUAD): p.read_bytes() for p in SQUAD.rglob("*") if p.is_file()}
    subprocess.run([sys.executable, str(ROOT / "scripts" / "split_squad.py")], check=True)
    after = {p.relative_to(SQUAD): p.read_bytes() for p in SQUAD.rglob("*") if p.is_file()}
    assert after == before
