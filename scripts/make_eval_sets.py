"""Write the evaluation sets under ``eval/``: questions and documents, split by article.

For every set, ``<folder>/<split>.json`` holds its questions in the SQuAD JSON format
that ``python -m rag.eval`` reads, ``<folder>/<split>/`` one Markdown document per
article (``# Title``, then the paragraphs separated by blank lines; a safe file name,
the title kept in the heading), and ``<folder>/README.md`` says where the data comes
from, its license and attribution, the counts, the split rule and whether anything is
tuned on it. ``split`` is ``dev`` (never tuned on) or ``calibrate`` (thresholds and the
decision model are fitted on it).

Which article goes where is decided by :mod:`training.reader.splits`, the rules the
reader is trained by, never here:

- ``squad2/``: SQuAD 2.0 articles of both files by ``squad2_split``.
- ``tydi/``: TyDi QA English entries by ``tydi_split(title)``; entries sharing a title
  become one article (one paragraph per distinct passage, in file order).
- ``squad11-dev-extra/``: all 13 articles. ``squad11/``: the SQuAD 1.1 training articles
  that ``squad11_split`` keeps for calibration.
- ``squadshifts/``: a fixed subset, the first :data:`SQUADSHIFTS_ARTICLES` articles in
  title order, so that ``make eval`` stays affordable.

Training articles are never written here: the reader reads them from ``../shared/data``.

Run from the project root: ``python -m scripts.make_eval_sets [--out DIR] [--data DIR]``.
Deterministic: re-running rewrites identical files (stale documents are removed). This
module only writes files; it trains, tunes and scores nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training.reader.splits import (
    DATA,
    SQUAD2_SIX,
    SQUAD2_TEN,
    SQUAD11_DEV_EXTRA,
    SQUAD11_TRAIN,
    SQUADSHIFTS,
    TYDI,
    Article,
    load,
    squad2_split,
    squad11_split,
    tydi_split,
)

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "eval"
SQUADSHIFTS_ARTICLES = 8
SPLITS = ("dev", "calibrate")
USE = {
    "dev": "never tuned on: only scored, to report and to choose between variants",
    "calibrate": "tuned on: the answer thresholds and the decision model are fitted on it "
    "(the reader never trains on these articles)",
}
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")


@dataclass(frozen=True)
class Source:
    """Where a folder's articles come from and the terms they are shared under."""

    folder: str  # under eval/
    heading: str
    about: str
    files: tuple[str, ...]  # relative to ../shared/data
    version: str  # the SQuAD format of the written JSON
    attribution: str


@dataclass(frozen=True)
class EvalSet:
    """One set: its articles (SQuAD JSON objects) and the rule that chose them."""

    source: Source
    split: str  # dev | calibrate
    rule: str
    articles: tuple[dict[str, Any], ...]


_SQUAD_LICENSE = (
    "License: CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/): keep this "
    "attribution with any copy, and share derived data under the same license."
)
SQUAD2 = Source(
    "squad2",
    "SQuAD 2.0 articles, split by article",
    "Wikipedia articles of the SQuAD 2.0 development set with crowd-written questions, "
    "about half of which the article cannot answer (`is_impossible: true`). In the "
    "ten-article file `answer_start` was rebuilt as the first occurrence of the answer "
    "text; the six-article file's question ids are not the official ones.",
    (SQUAD2_SIX, SQUAD2_TEN),
    "v2.0",
    "Source: SQuAD 2.0 development set, Rajpurkar, Jia and Liang, \"Know What You Don't "
    'Know: Unanswerable Questions for SQuAD", ACL 2018 '
    "(https://rajpurkar.github.io/SQuAD-explorer/). " + _SQUAD_LICENSE,
)
TYDI_QA = Source(
    "tydi",
    "TyDi QA GoldP (English), split by Wikipedia title",
    "Questions written by people who wanted to know the answer and had not seen the "
    "passage, each with the English Wikipedia passage that answers it. All answerable. "
    "TyDi QA has one passage per question; here the questions on one Wikipedia title are "
    "one article (one paragraph per distinct passage, in file order).",
    (TYDI,),
    "1.1",
    'Source: Clark et al., "TyDi QA: A Benchmark for Information-Seeking Question '
    'Answering in Typologically Diverse Languages", TACL 2020 '
    "(google-research-datasets/tydiqa), English split as published in the repository "
    "sagorbrur/tydiqa-language-specific. License: Apache License 2.0; passages are English "
    "Wikipedia text (CC BY-SA 4.0, https://creativecommons.org/licenses/by-sa/4.0/): keep "
    "this attribution with any copy, and share derived passages under the same license.",
)
SQUAD11_DEV = Source(
    "squad11-dev-extra",
    "Thirteen SQuAD 1.1 dev articles",
    "The 13 articles of the SQuAD 1.1 development set that are in no SQuAD 2.0 set, "
    "crowd-written questions with several acceptable answers each. All answerable. "
    "`answer_start` was rebuilt as the first occurrence of the answer text.",
    (SQUAD11_DEV_EXTRA,),
    "1.1",
    'Source: Rajpurkar, Zhang, Lopyrev and Liang, "SQuAD: 100,000+ Questions for Machine '
    'Comprehension of Text", EMNLP 2016 (https://rajpurkar.github.io/SQuAD-explorer/). '
    + _SQUAD_LICENSE,
)
SQUAD11 = Source(
    "squad11",
    "SQuAD 1.1 training articles kept for calibration",
    "Wikipedia articles of the SQuAD 1.1 training set, crowd-written questions with one "
    "answer span each. All answerable. `answer_start` was rebuilt as the first occurrence "
    "of the answer text; question ids are made up (`<title>_<paragraph>_<question>`).",
    (SQUAD11_TRAIN,),
    "1.1",
    SQUAD11_DEV.attribution,
)
SHIFTS = Source(
    "squadshifts",
    "SQuADShifts New-Wiki: a fixed subset",
    "Wikipedia articles that are in no SQuAD set, questions in the SQuAD style with "
    "several acceptable answers each. All answerable.",
    (SQUADSHIFTS,),
    "1.1",
    'Source: Miller, Krauth, Recht and Schmidt, "The Effect of Natural Distribution Shift '
    'on Question Answering Models", ICML 2020 (modestyachts/squadshifts-website). '
    "License: CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/, dataset card): "
    "keep this attribution with any copy; contexts are Wikipedia text (CC BY-SA 4.0).",
)
SOURCES = (SQUAD2, TYDI_QA, SQUAD11_DEV, SQUAD11, SHIFTS)


# ----- documents -----------------------------------------------------------------
def document_text(article: dict[str, Any]) -> str:
    """The article as a Markdown document: title heading, then paragraphs."""
    title = article["title"].replace("_", " ")
    paragraphs = [p["context"].strip() for p in article["paragraphs"]]
    return f"# {title}\n\n" + "\n\n".join(paragraphs) + "\n"


def file_name(title: str) -> str:
    """A portable file name for *title*: the title itself when it is plain ASCII words,
    else an ASCII slug plus 8 hex digits of its SHA-256 (so two titles never collide)."""
    if _SAFE_NAME.fullmatch(title):
        return f"{title}.md"
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "_", ascii_title).strip("_")[:80] or "article"
    return f"{slug}-{hashlib.sha256(title.encode('utf-8')).hexdigest()[:8]}.md"


def file_names(articles: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Title -> file name, checked unique even on a case-insensitive file system."""
    names = {a["title"]: file_name(a["title"]) for a in articles}
    seen: dict[str, str] = {}
    for title, name in names.items():
        other = seen.setdefault(name.lower(), title)
        if other != title:
            raise ValueError(f"{title!r} and {other!r} would share the file name {name}")
    return names


# ----- which articles ------------------------------------------------------------
def as_json(article: Article) -> dict[str, Any]:
    """The SQuAD JSON object of *article*."""
    return {"title": article.title, "paragraphs": article.paragraphs}


def merge_by_title(articles: Iterable[Article]) -> list[dict[str, Any]]:
    """One article per title, in file order; identical passages become one paragraph."""
    merged: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for article in articles:
        passages = merged.setdefault(article.title, {})
        for paragraph in article.paragraphs:
            passages.setdefault(paragraph["context"], []).extend(paragraph["qas"])
    return [
        {"title": title, "paragraphs": [{"context": c, "qas": q} for c, q in passages.items()]}
        for title, passages in merged.items()
    ]


def squad2_sets(data: Path) -> list[EvalSet]:
    """SQuAD 2.0 dev and calibration articles, from both files."""
    six, ten = load(SQUAD2_SIX, "squad2", data), load(SQUAD2_TEN, "squad2", data)
    split, articles = squad2_split(six, ten), [*six, *ten]
    rules = {
        "dev": "`squad2_split`: every third title in sorted order of the six older "
        "articles, every second of the ten newer ones",
        "calibrate": "`squad2_split`: every third title in sorted order of the remaining "
        "(training) articles",
    }
    return [
        EvalSet(
            SQUAD2, name, rules[name], tuple(as_json(a) for a in articles if split[a.title] == name)
        )
        for name in SPLITS
    ]


def tydi_sets(data: Path) -> list[EvalSet]:
    """TyDi QA entries by title hash, entries of one title merged into one article."""
    entries = load(TYDI, "tydi", data)
    rules = {
        "dev": "`tydi_split(title)`: SHA-256 of the Wikipedia title puts 20% of titles here",
        "calibrate": "`tydi_split(title)`: SHA-256 of the Wikipedia title puts 10% of titles here",
    }
    return [
        EvalSet(
            TYDI_QA,
            name,
            rules[name],
            tuple(merge_by_title(e for e in entries if tydi_split(e.title) == name)),
        )
        for name in SPLITS
    ]


def squad11_sets(data: Path) -> list[EvalSet]:
    """All of SQuAD 1.1 dev-extra (dev), and the calibration articles of its training set."""
    extra = load(SQUAD11_DEV_EXTRA, "squad11-dev-extra", data)
    train = load(SQUAD11_TRAIN, "squad11", data)
    return [
        EvalSet(
            SQUAD11_DEV,
            "dev",
            "every article (the set is never trained or tuned on)",
            tuple(as_json(a) for a in extra),
        ),
        EvalSet(
            SQUAD11,
            "calibrate",
            "`squad11_split(title)`: SHA-256 of the title keeps 3% "
            "of the training articles out of the reader's training, for calibration",
            tuple(as_json(a) for a in train if squad11_split(a.title) == "calibrate"),
        ),
    ]


def squadshifts_set(data: Path) -> EvalSet:
    """The first :data:`SQUADSHIFTS_ARTICLES` SQuADShifts articles in title order."""
    articles = sorted(load(SQUADSHIFTS, "squadshifts", data), key=lambda a: a.title)
    rule = (
        f"a fixed subset: the first {SQUADSHIFTS_ARTICLES} of its {len(articles)} articles "
        "in title order, to keep `make eval` affordable (the set is never trained or tuned on)"
    )
    return EvalSet(SHIFTS, "dev", rule, tuple(as_json(a) for a in articles[:SQUADSHIFTS_ARTICLES]))


def _key(title: str) -> str:
    return " ".join(title.replace("_", " ").casefold().split())


def used_titles(data: Path) -> dict[str, set[str]]:
    """Normalised titles the reader trains on ("train") and calibration reads ("calibrate")."""
    six, ten = load(SQUAD2_SIX, "squad2", data), load(SQUAD2_TEN, "squad2", data)
    squad2 = squad2_split(six, ten)
    used: dict[str, set[str]] = {"train": set(), "calibrate": set()}
    for a in [*six, *ten]:
        used.setdefault(squad2[a.title], set()).add(_key(a.title))
    for a in load(SQUAD11_TRAIN, "squad11", data):
        used[squad11_split(a.title)].add(_key(a.title))
    for a in load(TYDI, "tydi", data):
        used.setdefault(tydi_split(a.title), set()).add(_key(a.title))
    return used


def without_overlap(eval_set: EvalSet, used: dict[str, set[str]]) -> EvalSet:
    """The set minus articles whose Wikipedia title another data set trains or tunes on.

    The same article can be in two data sets (TyDi QA's "Energy" is a SQuAD 1.1 training
    article): a dev set keeps none the reader trained on or calibration read, and a
    calibration set none the reader trained on.
    """
    banned = used["train"] | (used["calibrate"] if eval_set.split == "dev" else set())
    own = {_key(a["title"]) for a in eval_set.articles}
    if eval_set.split == "calibrate":  # its own titles are calibration titles by definition
        banned = banned - (own - used["train"])
    kept = tuple(a for a in eval_set.articles if _key(a["title"]) not in banned)
    dropped = len(eval_set.articles) - len(kept)
    if not dropped:
        return eval_set
    rule = (
        f"{eval_set.rule}; minus {dropped} article(s) whose title the reader trains on"
        + (" or calibration reads" if eval_set.split == "dev" else "")
        + " in another data set"
    )
    return EvalSet(eval_set.source, eval_set.split, rule, kept)


def build_sets(data: Path = DATA) -> list[EvalSet]:
    """Every evaluation set, in README order, without articles used elsewhere."""
    sets = [*squad2_sets(data), *tydi_sets(data), *squad11_sets(data), squadshifts_set(data)]
    used = used_titles(data)
    return [without_overlap(s, used) for s in sets]


# ----- writing -------------------------------------------------------------------
def counts(eval_set: EvalSet) -> tuple[int, int, int]:
    """Articles, questions and unanswerable questions (as ``rag.eval`` counts them)."""
    qas = [q for a in eval_set.articles for p in a["paragraphs"] for q in p["qas"]]
    unanswerable = sum(bool(q.get("is_impossible")) or not q.get("answers") for q in qas)
    return len(eval_set.articles), len(qas), unanswerable


def write_set(eval_set: EvalSet, out: Path) -> None:
    """``<split>.json`` and ``<split>/*.md`` of one set (old documents removed first)."""
    folder = out / eval_set.source.folder / eval_set.split
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.md"):
        old.unlink()
    names = file_names(eval_set.articles)
    for article in eval_set.articles:
        (folder / names[article["title"]]).write_text(document_text(article), encoding="utf-8")
    data = {
        "version": eval_set.source.version,
        "split": eval_set.split,
        "source": [f"../shared/data/{f}" for f in eval_set.source.files],
        "data": list(eval_set.articles),
    }
    text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    (folder.parent / f"{eval_set.split}.json").write_text(text, encoding="utf-8")


def readme_text(source: Source, sets: Sequence[EvalSet]) -> str:
    """The README of one folder: what, how many, which rule, what is tuned on, license."""
    rows = [_readme_row(s) for s in sets]
    lines = [
        f"# {source.heading}",
        "",
        f"{source.about} Written by `python -m scripts.make_eval_sets` from "
        + ", ".join(f"`../shared/data/{f}`" for f in source.files)
        + "; do not edit by hand, re-run it (it rewrites identical files).",
        "",
        "| set | articles | questions | unanswerable | split rule | used for |",
        "| --- | ---: | ---: | ---: | --- | --- |",
        *rows,
        "",
        "Split by article (by Wikipedia title), never by question: questions about one "
        "paragraph are near duplicates. The rules live in `training/reader/splits.py` "
        "(the SQuADShifts subset in `scripts/make_eval_sets.py`), fixed before any result "
        "was seen. Each document is the article's title as a heading, then its paragraphs.",
        "",
        "```bash",
        *(_eval_command(s) for s in sets),
        "```",
        "",
        *_readme_titles(sets),
        "## Source and license",
        "",
        source.attribution,
        "",
        "The derived files here (the split, the Markdown documents) are shared under the "
        "same terms.",
    ]
    return "\n".join(lines) + "\n"


def _readme_row(eval_set: EvalSet) -> str:
    articles, questions, unanswerable = counts(eval_set)
    name = eval_set.split
    return (
        f"| `{name}.json`, `{name}/` | {articles:,} | {questions:,} | {unanswerable:,} | "
        f"{eval_set.rule} | {USE[name]} |"
    )


def _eval_command(eval_set: EvalSet) -> str:
    """The command that scores *eval_set* (its report folder named as ``make eval`` does)."""
    folder, split = eval_set.source.folder, eval_set.split
    name = folder if split in folder.split("-") else f"{folder}-{split}"  # squad11-dev-extra
    where = f"eval/{folder}/{split}"
    return f"python -m rag.eval {where}.json --documents {where} --out reports/eval/{name}"


def _readme_titles(sets: Sequence[EvalSet], limit: int = 30) -> list[str]:
    """The article titles of each set (a count only when there are more than *limit*)."""
    lines = []
    for eval_set in sets:
        titles = [a["title"] for a in eval_set.articles]
        shown = ", ".join(titles) if len(titles) <= limit else f"{len(titles):,} titles"
        lines += [f"Articles of `{eval_set.split}`: {shown}.", ""]
    return lines


def write_all(out: Path = OUT, data: Path = DATA) -> list[EvalSet]:
    """Write every set and README under *out* from the data in *data*; returns the sets."""
    sets = build_sets(data)
    for eval_set in sets:
        write_set(eval_set, out)
    for source in SOURCES:
        mine = [s for s in sets if s.source == source]
        (out / source.folder / "README.md").write_text(readme_text(source, mine), "utf-8")
    return sets


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m scripts.make_eval_sets [--out DIR] [--data DIR]``."""
    parser = argparse.ArgumentParser(
        prog="python -m scripts.make_eval_sets",
        description="Write the evaluation sets under eval/, split by article.",
    )
    parser.add_argument("--out", type=Path, default=OUT, help=f"output root ({OUT})")
    parser.add_argument("--data", type=Path, default=DATA, help=f"public data ({DATA})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for eval_set in write_all(args.out, args.data):
        articles, questions, unanswerable = counts(eval_set)
        log.info(
            "%s/%s: %d articles, %d questions (%d unanswerable)",
            eval_set.source.folder,
            eval_set.split,
            articles,
            questions,
            unanswerable,
        )


if __name__ == "__main__":
    main()
