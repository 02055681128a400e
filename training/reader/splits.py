"""Which article of each public data set is for training, calibration or dev.

Every split is by article (SQuAD) or by Wikipedia title (TyDi QA), never by question:
questions about one paragraph are near-duplicates. The rules are fixed, written before
any result was seen, and deterministic:

- SQuAD 2.0, the six older articles: the split the project always had (every third
  title in sorted order is dev: Harvard_University, Scottish_Parliament).
- SQuAD 2.0, the ten newer articles: every second title in sorted order is dev.
- Of the SQuAD 2.0 training articles, every third in sorted order is kept out of the
  reader's training for the answer decision's calibration (the reader's scores on
  articles it trained on would be over-confident).
- TyDi QA and SQuAD 1.1 training articles: a stable hash of the title (SHA-256) picks
  dev (TyDi only, 20%) and calibration (10% of TyDi, 3% of SQuAD 1.1).
- SQuAD 1.1 dev-extra (13 articles) and SQuADShifts are never trained or calibrated on.

This module only names splits; :mod:`training.reader.data` builds examples from them.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Split = Literal["train", "calibrate", "dev"]

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
SQUAD2_SIX = "squad2/squad2-six-articles.json"
SQUAD2_TEN = "squad2/squad2-ten-more-articles.json"
SQUAD11_TRAIN = "squad11-train"
SQUAD11_DEV_EXTRA = "squad11-dev-extra/squad11-dev-13-articles.json"
TYDI = "tydiqa-en/tydiqa-goldp-en-train.json"
SQUADSHIFTS = "squadshifts/new_wiki_v1.0.json"


@dataclass(frozen=True)
class Article:
    """One article of a SQuAD-format file, with the data set it came from."""

    dataset: str  # squad2 | squad11 | tydi | squad11-dev-extra | squadshifts
    title: str
    paragraphs: list[dict[str, Any]]


def data_dir() -> Path:
    """``$RAG_TRAINING_DATA``, else ``../shared/data`` beside the project; must exist."""
    folder = Path(os.environ.get("RAG_TRAINING_DATA") or DATA)
    if not folder.is_dir():
        raise SystemExit(
            f"No training data in {folder}: set RAG_TRAINING_DATA to the folder holding "
            "squad2/, squad11-train/ and tydiqa-en/ (see ../shared/data/README.md)."
        )
    return folder


def load(relative: str, dataset: str, root: Path | None = None) -> list[Article]:
    """The articles of one SQuAD-format file (or of every ``.json`` in a folder)."""
    path = (root or data_dir()) / relative
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    return [
        Article(dataset, a["title"], a["paragraphs"])
        for file in files
        for a in json.loads(file.read_text(encoding="utf-8"))["data"]
    ]


def _every(titles: list[str], n: int) -> set[str]:
    ordered = sorted(set(titles))
    return {t for i, t in enumerate(ordered, start=1) if i % n == 0}


def _bucket(title: str) -> int:
    """A stable number 0-99 for a title (SHA-256, not Python's salted hash)."""
    return int(hashlib.sha256(title.encode("utf-8")).hexdigest()[:8], 16) % 100


def squad2_split(six: list[Article], ten: list[Article]) -> dict[str, Split]:
    """SQuAD 2.0 title -> split (see the module docstring)."""
    dev = _every([a.title for a in six], 3) | _every([a.title for a in ten], 2)
    train = [a.title for a in [*six, *ten] if a.title not in dev]
    calibrate = _every(train, 3)
    return {
        a.title: "dev" if a.title in dev else "calibrate" if a.title in calibrate else "train"
        for a in [*six, *ten]
    }


def tydi_split(title: str) -> Split:
    """TyDi QA: 20% dev, 10% calibration, 70% training, by Wikipedia title."""
    bucket = _bucket(title)
    return "dev" if bucket < 20 else "calibrate" if bucket < 30 else "train"


def squad11_split(title: str) -> Split:
    """SQuAD 1.1 training articles: 3% kept for calibration, the rest trains the reader."""
    return "calibrate" if _bucket(title) < 3 else "train"


def articles(split: Split, root: Path | None = None) -> Iterator[Article]:
    """Every article of *split* over SQuAD 2.0, SQuAD 1.1 training and TyDi QA."""
    six, ten = load(SQUAD2_SIX, "squad2", root), load(SQUAD2_TEN, "squad2", root)
    squad2 = squad2_split(six, ten)
    yield from (a for a in [*six, *ten] if squad2[a.title] == split)
    if split != "dev":
        yield from (
            a for a in load(SQUAD11_TRAIN, "squad11", root) if squad11_split(a.title) == split
        )
    yield from (a for a in load(TYDI, "tydi", root) if tydi_split(a.title) == split)
