"""Relevance: which sentences of the retrieved passages are about the question.

Every sentence of every passage becomes a :class:`Candidate` (located in its source,
with the sentence before it when it points back: "It will be..."), and gets one
relevance score from its meaning (cosine similarity with the embedding model), its
word overlap with the question (IDF-weighted over the candidates), whether it holds
the kind of thing the question asks for, the question's names it misses, its
passage's rank, and (in a follow-up) closeness to what the previous answer quoted.

It ranks; it does not decide. The rules and the judge that decide whether the best
candidate may be quoted live in :mod:`rag.extractive` and :mod:`rag.gates`.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag import gates
from rag.answer import Passage
from rag.chunking import split_sentences
from rag.embeddings import Encoder
from rag.lexical import tokenize

W_SEMANTIC, W_LEXICAL, W_TYPE, W_RANK = 0.55, 0.45, 0.06, 0.03
W_ENTITY, W_FOLLOWUP = 0.15, 0.08
# A "how many" question and a sentence without a number cannot match: near veto.
TYPE_MISS = -5.0
# A sentence opening with one of these needs the one before it to be understood.
_POINTS_BACK = re.compile(
    r"(it|its|he|she|his|her|they|their|this|that|these|those|however|but|"
    r"the (agency|group|company|organi[sz]ation|government|council|party|team|city|town))\b",
    re.I,
)


@dataclass(frozen=True)
class Candidate:
    """A sentence from a retrieved passage, located in its source.

    ``context`` is the sentence with the one before it when it opens with a word
    that points back ("It will be charged with..."), so it can be understood alone.
    """

    passage: Passage
    start: int
    end: int
    text: str
    context: str


@dataclass(frozen=True)
class Scored:
    """A candidate with its score parts (for the explanation in ``info``)."""

    candidate: Candidate
    score: float
    semantic: float
    lexical: float


def candidates(passages: Sequence[Passage]) -> list[Candidate]:
    """Sentences of all passages, each source position once (best-ranked passage wins)."""
    seen: set[tuple[str, int]] = set()
    found: list[Candidate] = []
    for passage in passages:
        previous = ""
        for span in split_sentences(passage.text):
            key = (passage.source, passage.start + span.start)
            context = f"{previous} {span.text}" if _POINTS_BACK.match(span.text) else span.text
            previous = span.text
            if key in seen or len(tokenize(span.text, keep_stopwords=True)) < 3:
                continue
            seen.add(key)
            start = passage.start + span.start
            found.append(Candidate(passage, start, start + len(span.text), span.text, context))
    return found


def _lexical_scores(question: str, texts: Sequence[str]) -> list[float]:
    """Share of the question's IDF weight whose words each text contains."""
    q_terms = set(tokenize(question))
    if not q_terms:
        return [0.0] * len(texts)
    docs = [set(tokenize(t)) for t in texts]
    df = Counter(term for doc in docs for term in doc & q_terms)
    n = len(docs)
    idf = {t: math.log(1 + (n + 1) / (df.get(t, 0) + 0.5)) for t in q_terms}
    total = sum(idf.values())
    return [sum(idf[t] for t in q_terms & doc) / total for doc in docs]


def _type_fit(question: str, sentence: str) -> float:
    """+1 when the sentence holds what the question asks for, negative when it cannot."""
    kind = gates.question_kind(question)
    if kind == "other":
        return 0.0
    fits = gates.holds_kind(kind, sentence, question)
    if kind in ("number", "time"):
        return 1.0 if fits else TYPE_MISS
    return 0.5 if fits else -0.5


def _missing_entities(question: str, context: str) -> int:
    """Names the question uses that the context does not mention."""
    return len(gates.missing_names(question, context))


def _near(cand: Candidate, anchors: Sequence[tuple[str, int, int]]) -> bool:
    """Same sentence as, or next to, a sentence quoted in the previous answer."""
    return any(
        cand.passage.source == src and (cand.start - 3 <= end and start - 3 <= cand.end)
        for src, start, end in anchors
    )


def anchors_from(previous_answer: str, found: Sequence[Candidate]) -> list[tuple[str, int, int]]:
    """Locations of the sentences the previous answer quoted, among *found*."""
    if not previous_answer:
        return []
    return [(c.passage.source, c.start, c.end) for c in found if c.text in previous_answer]


def score_candidates(
    question: str,
    found: Sequence[Candidate],
    embeddings: Encoder,
    previous_answer: str = "",
) -> list[Scored]:
    """Score every candidate sentence; best first."""
    if not found:
        return []
    contexts = [c.context for c in found]
    vectors = embeddings.encode([question] + [c.text for c in found] + contexts)
    n = len(found)
    semantic = np.maximum(vectors[1 : n + 1] @ vectors[0], vectors[n + 1 :] @ vectors[0])
    lexical = _lexical_scores(question, contexts)
    anchors = anchors_from(previous_answer, found)
    scored = []
    for cand, sem, lex in zip(found, semantic.tolist(), lexical, strict=True):
        score = W_SEMANTIC * sem + W_LEXICAL * lex + W_RANK / max(cand.passage.rank, 1)
        score += W_TYPE * _type_fit(question, cand.context)
        score -= W_ENTITY * min(_missing_entities(question, cand.context), 2)
        score += W_FOLLOWUP if anchors and _near(cand, anchors) else 0.0
        scored.append(Scored(cand, round(float(score), 6), sem, lex))
    return sorted(scored, key=lambda s: -s.score)
