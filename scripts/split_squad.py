"""Split the six SQuAD 2.0 articles by article into training and dev sets.

Writes, under ``eval/squad2/``: ``train.json`` and ``dev.json`` (SQuAD 2.0 format, the
questions of each split's articles) and ``train/``, ``dev/`` (one ``.md`` document per
article: the title as a heading, then its paragraphs). The dev articles are every third
article in title order, a rule fixed before any result was seen; nothing else is chosen.

Run: ``python scripts/split_squad.py`` (deterministic; re-running rewrites the same files).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "eval" / "squad2" / "squad2-six-articles.json"
OUT = ROOT / "eval" / "squad2"


def dev_titles(titles: list[str]) -> set[str]:
    """Every third title in sorted order (the 3rd, 6th, ...)."""
    ordered = sorted(titles)
    return {title for i, title in enumerate(ordered, start=1) if i % 3 == 0}


def document_text(article: dict[str, Any]) -> str:
    """The article as a Markdown document: title heading, then paragraphs."""
    title = article["title"].replace("_", " ")
    paragraphs = [p["context"].strip() for p in article["paragraphs"]]
    return f"# {title}\n\n" + "\n\n".join(paragraphs) + "\n"


def write_split(name: str, articles: list[dict[str, Any]]) -> None:
    folder = OUT / name
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.md"):
        old.unlink()
    for article in articles:
        (folder / f"{article['title']}.md").write_text(document_text(article), encoding="utf-8")
    data = {"version": "v2.0", "split": name, "data": articles}
    text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    (OUT / f"{name}.json").write_text(text, encoding="utf-8")


def main() -> None:
    articles = json.loads(SOURCE.read_text(encoding="utf-8"))["data"]
    dev = dev_titles([a["title"] for a in articles])
    write_split("dev", [a for a in articles if a["title"] in dev])
    write_split("train", [a for a in articles if a["title"] not in dev])


if __name__ == "__main__":
    main()
