"""Question/sentence pairs for training the answer verifier, from SQuAD 2.0 articles.

For each question the article's paragraphs are split into sentences with the product's own
splitter (:func:`rag.chunking.split_sentences`), so training sees what the answerer sees.

* answerable question -> its answer sentence(s), label 1; up to three other sentences of
  its paragraph and one of another paragraph, label 0;
* unanswerable question -> the sentence of its ``plausible_answers`` span (what a careless
  reader would quote), label 0, plus one other sentence of its paragraph;
* perturbed answerable question (a name, number or year swapped for another one from the
  same article, a negation inserted, a comparative reversed) -> its answer sentence, label 0.

The perturbations need no labels and work on any text. This module builds data only; it
does not train. Deterministic for a given seed.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rag.chunking import split_sentences
from rag.gates import OPPOSITES

_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")
_NUMBER = re.compile(r"\b\d[\d,.]*\b")
_AUX = re.compile(r"\b(is|are|was|were|did|does|do|can|could|will|would|has|have|had)\b")


@dataclass(frozen=True)
class Pair:
    """One training example: does *text* answer *question*?"""

    question: str
    text: str
    label: float
    kind: str
    article: str


def sentence_of(spans: list[Any], offset: int) -> int | None:
    """Index of the sentence span containing character *offset*."""
    for i, span in enumerate(spans):
        if span.start <= offset < span.end:
            return i
    return None


def _with_title(title: str, text: str) -> str:
    return f"{title} | {text}"


def perturb(question: str, names: list[str], numbers: list[str], rng: random.Random) -> str | None:
    """A near copy of *question* that the same sentence no longer answers, or None."""
    options = []
    q_names = [m.group() for m in _NAME.finditer(question) if m.start() > 0]
    others = [n for n in names if n not in question]
    if q_names and others:
        options.append(question.replace(rng.choice(q_names), rng.choice(others), 1))
    q_numbers = _NUMBER.findall(question)
    other_numbers = [n for n in numbers if n not in question]
    if q_numbers and other_numbers:
        options.append(question.replace(rng.choice(q_numbers), rng.choice(other_numbers), 1))
    words = re.findall(r"\b\w+\b", question)
    flips = [w for w in words if w.lower() in OPPOSITES]
    if flips:
        word = rng.choice(flips)
        opposite = min(OPPOSITES[word.lower()])  # the answer rules' table; first if several
        options.append(re.sub(rf"\b{word}\b", opposite, question, count=1))
    if match := _AUX.search(question):
        options.append(question[: match.end()] + " not" + question[match.end() :])
    return rng.choice(options) if options else None


def article_pairs(article: dict[str, Any], rng: random.Random) -> Iterator[Pair]:
    """Every training pair of one SQuAD article."""
    title = article["title"].replace("_", " ")
    paragraphs = [split_sentences(p["context"]) for p in article["paragraphs"]]
    all_text = " ".join(p["context"] for p in article["paragraphs"])
    names = sorted({m.group() for m in _NAME.finditer(all_text) if len(m.group()) > 3})
    numbers = sorted(set(_NUMBER.findall(all_text)))
    for spans, paragraph in zip(paragraphs, article["paragraphs"], strict=True):
        for qa in paragraph["qas"]:
            yield from _question_pairs(qa, spans, paragraphs, title, names, numbers, rng)


def _question_pairs(  # noqa: PLR0917 - one call site, all parts of one article
    qa: dict[str, Any],
    spans: list[Any],
    paragraphs: list[list[Any]],
    title: str,
    names: list[str],
    numbers: list[str],
    rng: random.Random,
) -> Iterator[Pair]:
    question = qa["question"].strip()
    answers = qa.get("plausible_answers" if qa["is_impossible"] else "answers") or []
    gold = {sentence_of(spans, a["answer_start"]) for a in answers} - {None}
    if not gold:
        return
    label = 0.0 if qa["is_impossible"] else 1.0
    kind = "plausible" if qa["is_impossible"] else "answer"
    for i in sorted(gold):
        yield Pair(question, _with_title(title, spans[i].text), label, kind, title)
    texts = [a["text"] for a in qa.get("answers") or []]
    others = [s for i, s in enumerate(spans) if i not in gold and not _holds(s.text, texts)]
    for span in rng.sample(others, min(3 if label else 1, len(others))):
        yield Pair(question, _with_title(title, span.text), 0.0, "same-paragraph", title)
    far = rng.choice(paragraphs)
    if far is not spans and far and not _holds((pick := rng.choice(far)).text, texts):
        yield Pair(question, _with_title(title, pick.text), 0.0, "other", title)
    if label and (changed := perturb(question, names, numbers, rng)):
        first = spans[min(gold)].text
        yield Pair(changed, _with_title(title, first), 0.0, "perturbed", title)


def _holds(sentence: str, answers: list[str]) -> bool:
    """True when *sentence* contains one of the answer texts (not a negative then)."""
    return any(a and a.lower() in sentence.lower() for a in answers)


def squad_pairs(data: dict[str, Any], seed: int = 13) -> list[Pair]:
    """All pairs of a SQuAD file's articles, in a fixed order."""
    rng = random.Random(seed)
    return [pair for article in data["data"] for pair in article_pairs(article, rng)]
