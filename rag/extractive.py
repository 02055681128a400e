"""The default answerer: quote the sentences that answer the question, or refuse.

Every sentence of every retrieved passage is scored by meaning (cosine similarity
with the embedding model), by word overlap with the question (BM25-style IDF
weighting over the candidate sentences) and by whether it holds the kind of thing
the question asks for (a number for "how many", a name for "who"...). The best
sentences become the answer, each followed by an ``[n]`` marker whose citation is
that exact sentence in the source. Below ``refusal_threshold`` it refuses with
:data:`rag.config.REFUSAL`.

It never writes words that are not in the documents, and it needs no LLM.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.answer import Answer, Citation, Passage
from rag.chunking import split_sentences
from rag.config import REFUSAL, Settings
from rag.embeddings import Encoder
from rag.lexical import STOPWORDS, tokenize

log = logging.getLogger(__name__)

_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|million|billion)\b",
    re.I,
)
_TIME = re.compile(
    r"\b(\d{4}|monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|tomorrow|"
    r"yesterday|january|february|march|april|may|june|july|august|september|october|"
    r"november|december|since|week|month|year)\b",
    re.I,
)
_NAME = re.compile(r"\b[A-Z][a-z]+")
W_SEMANTIC, W_LEXICAL, W_TYPE, W_RANK = 0.55, 0.45, 0.06, 0.03
W_ENTITY, W_FOLLOWUP = 0.15, 0.08
# A "how many" question and a sentence without a number cannot match: near veto.
TYPE_MISS = -5.0
# A sentence opening with one of these needs the one before it to be understood.
_POINTS_BACK = re.compile(
    r"(it|its|he|she|his|her|they|their|this|that|these|those|however|but|the agency|the group)\b",
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
    q = question.lower()
    if re.search(r"\bhow (many|much)\b|\bwhat (number|percentage|amount)\b", q):
        return 1.0 if _NUMBER.search(sentence) else TYPE_MISS
    if re.search(r"\bwhen\b|\bwhat (year|day|date|month)\b|\bsince when\b", q):
        return 1.0 if _TIME.search(sentence) else TYPE_MISS
    if re.search(r"\bwho(m|se)?\b|\bname\b|\bcalled\b", q):
        asked = set(tokenize(question))
        names = [m for m in _NAME.finditer(sentence) if m.start() and _stem_of(m) not in asked]
        return 0.5 if names else -0.5
    return 0.0


def _stem_of(match: re.Match[str]) -> str:
    words = tokenize(match.group(), keep_stopwords=True)
    return words[0] if words else ""


def _missing_entities(question: str, context: str) -> int:
    """Names in the question (capitalised, not first word) absent from the context."""
    names = {_stem_of(m) for m in _NAME.finditer(question) if m.start()}
    present = set(tokenize(context, keep_stopwords=True))
    return len({n for n in names if n and n not in STOPWORDS and n not in present})


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


def select(scored: Sequence[Scored], settings: Settings) -> list[Scored]:
    """The best sentence, plus close runners-up, in reading order; empty to refuse."""
    if not scored or scored[0].score < settings.refusal_threshold:
        return []
    floor = max(settings.refusal_threshold, scored[0].score - settings.answer_margin)
    chosen = [s for s in scored if s.score >= floor][: settings.max_answer_sentences]
    return sorted(chosen, key=lambda s: (s.candidate.passage.rank, s.candidate.start))


def to_citations(chosen: Sequence[Scored]) -> list[Citation]:
    """Number the chosen sentences 1..n in answer order."""
    return [
        Citation.of_span(
            i,
            s.candidate.passage,
            start=s.candidate.start,
            end=s.candidate.end,
            quote=s.candidate.text,
            score=s.score,
        )
        for i, s in enumerate(chosen, start=1)
    ]


def answer_extractively(
    question: str,
    passages: Sequence[Passage],
    embeddings: Encoder,
    settings: Settings,
    previous_answer: str = "",
) -> Answer:
    """Quote the best supporting sentences with ``[n]`` markers, or refuse.

    *previous_answer* (a follow-up's last answer) favours sentences at or next to
    the ones it quoted: follow-ups usually continue where the last answer was.
    """
    scored = score_candidates(question, candidates(passages), embeddings, previous_answer)
    chosen = select(scored, settings)
    best = scored[0].score if scored else 0.0
    info = {"best_score": round(best, 4), "threshold": settings.refusal_threshold}
    if not chosen:
        return Answer(question, REFUSAL, True, [], list(passages), question, info=info)
    citations = to_citations(chosen)
    text = " ".join(f"{c.quote} [{c.id}]" for c in citations)
    return Answer(question, text, False, citations, list(passages), question, info=info)
