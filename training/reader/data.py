"""Training examples for the reader: (question, passage, answer span or none).

From the articles of one split (:mod:`training.reader.splits`):

- every answerable question with its own paragraph and the first acceptable answer
  (SQuAD 1.1, SQuAD 2.0, TyDi QA); SQuAD 2.0's unanswerable questions with their
  paragraph and no answer (written to look answerable: the hardest negatives there are);
- **other-passage negatives**: a question against the passage of its own article (or,
  for TyDi QA's one-passage articles, of the whole set) that shares the most rare words
  with it but does not contain the answer: what retrieval hands the reader next to the
  right passage;
- **perturbed questions**: a number or a capitalised name of the question swapped for
  another of the same article that its paragraph does not contain, paired with the
  original paragraph and no answer (the one-changed-word trick of SQuAD 2.0);
- **answer-removed passages**: the question's own paragraph with every sentence that
  holds the answer cut out, and no answer: same topic, same names, often an entity of
  the asked kind, but not the fact asked for (what a near-topic question meets).

Everything is deterministic given the seed. This module builds text examples; it does
not tokenize (:mod:`training.reader.features`) or train.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rag.documents.chunking import split_sentences
from training.reader.splits import Article

_WORD = re.compile(r"\w+")
_NUMBER = re.compile(r"\b\d[\d,.]*\b")
_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*\b")


@dataclass(frozen=True)
class Example:
    """A question and one passage; ``answer_start`` None when the passage holds no answer."""

    qid: str
    question: str
    context: str
    answer_start: int | None
    answer_text: str
    kind: str  # gold | unanswerable | other-passage | perturbed | answer-removed
    dataset: str
    article: str


@dataclass(frozen=True)
class Mix:
    """How many of each derived example to make, per answerable question."""

    squad11_share: float = 0.6  # of SQuAD 1.1's questions (CPU time: ~13 windows/s here)
    other_passage: float = 0.35
    perturbed: float = 0.08
    answer_removed: float = 0.0  # off in stages 1 and 2 (their plans stay reproducible)
    squad2_repeat: int = 3  # SQuAD 2.0's few adversarial articles, seen this many times
    tydi_repeat: int = 2  # natural questions, seen this many times


def gold_examples(articles: Iterable[Article]) -> list[Example]:
    """Each question with its own paragraph (no answer for SQuAD 2.0's impossible ones)."""
    out = []
    for article in articles:
        for paragraph in article.paragraphs:
            for qa in paragraph["qas"]:
                out.append(_gold(article, paragraph["context"], qa))
    return out


def _gold(article: Article, context: str, qa: dict) -> Example:
    answers = [] if qa.get("is_impossible") else qa.get("answers", [])
    kind = "gold" if answers else "unanswerable"
    start, text = (answers[0]["answer_start"], answers[0]["text"]) if answers else (None, "")
    if start is not None and context[start : start + len(text)] != text:
        found = context.find(text)
        start = found if found >= 0 else None
        kind = "gold" if found >= 0 else "unanswerable"
    return Example(
        qa["id"], qa["question"], context, start, text, kind, article.dataset, article.title
    )


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


class _Overlap:
    """IDF-weighted shared words between a question and each of a set of passages."""

    def __init__(self, passages: Sequence[str]) -> None:
        self.passages = list(passages)
        self.sets = [set(_words(p)) for p in self.passages]
        df = Counter(w for s in self.sets for w in s)
        n = len(self.sets)
        self.idf = {w: math.log((n + 1) / (c + 0.5)) for w, c in df.items()}
        self.index: dict[str, list[int]] = {}
        for i, s in enumerate(self.sets):
            for w in s:
                self.index.setdefault(w, []).append(i)

    def best(self, question: str, exclude: Iterable[int], answer: str) -> int | None:
        """The passage sharing most rare words with *question* that lacks *answer*."""
        scores: Counter[int] = Counter()
        for w in set(_words(question)):
            for i in self.index.get(w, ()):
                scores[i] += self.idf[w]
        skip = set(exclude)
        for i, _ in scores.most_common(len(skip) + 8):
            if i not in skip and (not answer or answer.lower() not in self.passages[i].lower()):
                return i
        return None


def other_passage_negatives(
    examples: Sequence[Example], rate: float, rng: random.Random
) -> list[Example]:
    """For a share *rate* of answerable examples: the best other passage, no answer.

    SQuAD articles give their own other paragraphs; one-passage "articles" (TyDi QA)
    draw from every passage of their data set instead.
    """
    groups: dict[tuple[str, str], list[Example]] = {}
    for e in examples:
        key = (e.dataset, e.article if e.dataset != "tydi" else "")
        groups.setdefault(key, []).append(e)
    out = []
    for group in groups.values():
        contexts = sorted({e.context for e in group})
        overlap = _Overlap(contexts)
        where = {c: i for i, c in enumerate(contexts)}
        for e in group:
            if e.answer_start is None or rng.random() >= rate:
                continue
            i = overlap.best(e.question, [where[e.context]], e.answer_text)
            if i is not None:
                out.append(_negative(e, contexts[i], "other-passage", e.question))
    return out


def _negative(e: Example, context: str, kind: str, question: str) -> Example:
    return Example(f"{e.qid}#{kind}", question, context, None, "", kind, e.dataset, e.article)


def perturbed_questions(
    examples: Sequence[Example], rate: float, rng: random.Random
) -> list[Example]:
    """For a share *rate* of answerable examples: one number or name swapped, no answer."""
    by_article: dict[str, set[str]] = {}
    for e in examples:
        by_article.setdefault(e.article, set()).add(e.context)
    pools = {
        title: (_pool(_NUMBER, texts), _pool(_NAME, texts)) for title, texts in by_article.items()
    }
    out = []
    for e in examples:
        if e.answer_start is None or e.dataset == "tydi" or rng.random() >= rate:
            continue
        question = _swap(e, *pools[e.article], rng)
        if question is not None:
            out.append(_negative(e, e.context, "perturbed", question))
    return out


def _pool(pattern: re.Pattern[str], texts: Iterable[str]) -> list[str]:
    return sorted({m.group() for t in texts for m in pattern.finditer(t)})


def _swap(e: Example, numbers: list[str], names: list[str], rng: random.Random) -> str | None:
    """The question with one number or name (not its first word) replaced, or None."""
    spots = [(m, numbers) for m in _NUMBER.finditer(e.question)]
    spots += [(m, names) for m in _NAME.finditer(e.question) if m.start() > 0]
    rng.shuffle(spots)
    for match, pool in spots:
        choices = [p for p in pool if p != match.group() and p.lower() not in e.context.lower()]
        if choices:
            new = rng.choice(choices)
            return e.question[: match.start()] + new + e.question[match.end() :]
    return None


def answer_removed_negatives(
    examples: Sequence[Example], rate: float, rng: random.Random
) -> list[Example]:
    """For a share *rate* of answerable examples: the paragraph without its answer."""
    out = []
    for e in examples:
        if e.answer_start is None or rng.random() >= rate:
            continue
        context = _without_answer(e)
        if context is not None:
            out.append(_negative(e, context, "answer-removed", e.question))
    return out


def _without_answer(e: Example) -> str | None:
    """*e*'s paragraph minus the sentences holding the answer; None if too little is left."""
    assert e.answer_start is not None
    kept = [
        e.context[s.start : s.end]
        for s in split_sentences(e.context)
        if s.end <= e.answer_start or s.start >= e.answer_start + len(e.answer_text)
    ]
    context = " ".join(kept)
    if len(kept) < 2 or (e.answer_text and e.answer_text.lower() in context.lower()):
        return None  # one sentence left says little; a repeated answer is still there
    return context


def training_examples(articles: Sequence[Article], mix: Mix, seed: int) -> list[Example]:
    """Gold, unanswerable, other-passage and perturbed examples, repeated per *mix*."""
    rng = random.Random(seed)
    gold = [
        e
        for e in gold_examples(articles)
        if e.dataset != "squad11" or rng.random() < mix.squad11_share
    ]
    derived = other_passage_negatives(gold, mix.other_passage, rng)
    derived += perturbed_questions(gold, mix.perturbed, rng)
    if mix.answer_removed:  # drawn last, so earlier stages' examples are unchanged
        derived += answer_removed_negatives(gold, mix.answer_removed, rng)
    out = []
    for e in [*gold, *derived]:
        repeat = {"squad2": mix.squad2_repeat, "tydi": mix.tydi_repeat}.get(e.dataset, 1)
        out.extend([e] * repeat)
    rng.shuffle(out)
    return out
