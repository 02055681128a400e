"""The default answerer: quote the sentences that answer the question, say "not sure", or refuse.

1. **Relevance**: every sentence of every retrieved passage is scored by meaning
   (cosine similarity with the embedding model), word overlap with the question
   (IDF-weighted over the candidates) and whether it holds the kind of thing the
   question asks for. Below ``refusal_threshold`` nothing is about the question:
   *not found* (:data:`rag.config.REFUSAL`).
2. **Rules** (:mod:`rag.gates`): headings, titles, fragments and sentences lacking
   what the question asks for, missing the names and numbers it names, or
   contradicting it, are never quoted.
3. **Judge** (:mod:`rag.confidence`): the most relevant sentence that passes the rules
   gets a calibrated confidence from its relevance, its margin over the next candidate
   and whether the most relevant sentence broke a rule (the optional cross-encoder of
   :mod:`rag.verifier` only when the calibration gives it a weight). At
   ``answer_threshold`` or above it is quoted with an ``[n]`` marker whose citation is
   that exact sentence in the source, its answering words located
   (:mod:`rag.shortanswer`); below it the answer is *not sure*
   (:data:`rag.config.UNSURE`) and the passages are shown without a quoted answer.

It never writes words that are not in the documents, and it needs no LLM.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from rag import gates
from rag.answer import Answer, Citation, Passage
from rag.chunking import split_sentences
from rag.confidence import Features
from rag.config import REFUSAL, UNSURE, Settings
from rag.embeddings import Encoder
from rag.lexical import tokenize
from rag.shortanswer import short_answer
from rag.verifier import VerifierScores, pair_text

log = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class Judged:
    """A candidate after the rules and the calibrator: may it answer, and how surely."""

    scored: Scored
    confidence: float
    reason: str = ""  # why the rules rejected it ('' when they did not)
    features: Features | None = None


def judge(
    question: str,
    scored: Sequence[Scored],
    verifier: VerifierScores | None,
    settings: Settings,
) -> list[Judged]:
    """Rules on every candidate, then confidence for the best few that pass.

    *scored* is in relevance order, and so is the result: the most relevant sentence
    that passes the rules is the answer candidate (measured: relevance picks the right
    sentence more often than the cross-encoder did), and the calibrator
    (:mod:`rag.confidence`) says how sure to be. Without a judge (``verifier`` None:
    unit tests) the relevance score stands in for the confidence.
    """
    verdicts = [
        gates.check(
            question,
            s.candidate.text,
            s.candidate.context,
            s.candidate.passage.title,
            s.candidate.passage.text,
        )
        for s in scored
    ]
    passed = [s for s, v in zip(scored, verdicts, strict=True) if v.ok][: settings.verify_top]
    probabilities = _verify(question, passed, verifier)
    top_rejected = float(bool(verdicts) and not verdicts[0].ok)
    judged = []
    for item, probability in zip(passed, probabilities, strict=True):
        best_other = max((s.score for s in scored if s is not item), default=0.0)
        features = Features(
            relevance=item.score,
            margin=item.score - best_other,
            semantic=item.semantic,
            lexical=item.lexical,
            verifier=probability,
            top_rejected=top_rejected,
        )
        sure = verifier.calibrator.probability(features) if verifier else _clamp(item.score)
        judged.append(Judged(item, round(sure, 4), "", features))
    rejected = [Judged(s, 0.0, v.reason) for s, v in zip(scored, verdicts, strict=True) if not v.ok]
    return judged + rejected


def _verify(question: str, items: Sequence[Scored], verifier: VerifierScores | None) -> list[float]:
    if verifier is None or not items or not verifier.calibrator.uses("verifier"):
        return [0.0 for _ in items]  # the calibration does without it: skip the model
    texts = [pair_text(i.candidate.passage.title, i.candidate.context) for i in items]
    return verifier.probabilities(question, texts)


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def answer_threshold(settings: Settings, verifier: VerifierScores | None) -> float:
    """The configured threshold, else the one fitted with the verifier (0 without one)."""
    if settings.answer_threshold is not None:
        return settings.answer_threshold
    return verifier.calibrator.threshold if verifier is not None else 0.0


def select(judged: Sequence[Judged], threshold: float, settings: Settings) -> list[Judged]:
    """The answer sentence, plus runners-up as relevant, in reading order; empty if unsure."""
    if not judged or judged[0].reason or judged[0].confidence < threshold:
        return []
    floor = judged[0].scored.score - settings.answer_margin
    chosen = [j for j in judged if not j.reason and j.scored.score >= floor]
    chosen = chosen[: settings.max_answer_sentences]
    return sorted(chosen, key=lambda j: (j.scored.candidate.passage.rank, j.scored.candidate.start))


def to_citations(question: str, chosen: Sequence[Judged]) -> list[Citation]:
    """Number the chosen sentences 1..n in answer order, with their short answers."""
    citations = []
    for number, item in enumerate(chosen, start=1):
        c = item.scored.candidate
        cite = Citation.of_span(
            number, c.passage, start=c.start, end=c.end, quote=c.text, score=item.confidence
        )
        span = short_answer(question, c.text)
        if span is not None:
            cite = replace(cite, answer_start=c.start + span[0], answer_end=c.start + span[1])
        citations.append(cite)
    return citations


def _info(
    scored: Sequence[Scored], judged: Sequence[Judged], settings: Settings, threshold: float
) -> dict[str, Any]:
    best = judged[0] if judged else None
    info: dict[str, Any] = {
        "best_score": round(scored[0].score, 4) if scored else 0.0,
        "threshold": settings.refusal_threshold,
        "answer_threshold": threshold,
        "rejected_by_rules": sum(bool(j.reason) for j in judged),
    }
    if best is not None:
        info["best_candidate"] = best.scored.candidate.text
        if best.reason:
            info["best_candidate_rejected"] = best.reason
    by_relevance = sorted(judged, key=lambda j: -j.scored.score)[:8]
    info["candidates"] = [_explain(j) for j in by_relevance]
    return info


def _explain(item: Judged) -> dict[str, Any]:
    """One candidate as the answer's explanation shows it (and the eval records it)."""
    s = item.scored
    return {
        "text": s.candidate.text,
        "source": s.candidate.passage.source,
        "start": s.candidate.start,
        "relevance": round(s.score, 4),
        "semantic": round(s.semantic, 4),
        "lexical": round(s.lexical, 4),
        "passage_rank": s.candidate.passage.rank,
        "confidence": item.confidence,
        "rejected": item.reason,
        "features": asdict(item.features) if item.features else None,
    }


def answer_extractively(
    question: str,
    passages: Sequence[Passage],
    embeddings: Encoder,
    settings: Settings,
    previous_answer: str = "",
    *,
    verifier: VerifierScores | None = None,
) -> Answer:
    """Quote the sentences that answer, say "not sure", or "not found".

    *Not found*: no sentence of the passages is even about the question (relevance
    below ``refusal_threshold``). *Not sure*: some are, but none passes the rules with
    the verifier's confidence at least ``answer_threshold``; the passages are kept for
    the reader, and no sentence is presented as the answer. *previous_answer* (a
    follow-up's last answer) favours sentences at or next to the ones it quoted.
    """
    scored = score_candidates(question, candidates(passages), embeddings, previous_answer)
    threshold = answer_threshold(settings, verifier)
    if not scored or scored[0].score < settings.refusal_threshold:
        info = _info(scored, [], settings, threshold)
        return Answer(
            question,
            REFUSAL,
            True,
            [],
            list(passages),
            question,
            info=info,
            outcome="not_found",
            confidence=0.0,
        )
    judged = judge(question, scored, verifier, settings)
    info = _info(scored, judged, settings, threshold)
    confidence = judged[0].confidence if judged else 0.0
    chosen = select(judged, threshold, settings)
    if not chosen:
        return Answer(
            question,
            UNSURE,
            True,
            [],
            list(passages),
            question,
            info=info,
            outcome="unsure",
            confidence=confidence,
        )
    citations = to_citations(question, chosen)
    text = " ".join(f"{c.quote} [{c.id}]" for c in citations)
    return Answer(
        question,
        text,
        False,
        citations,
        list(passages),
        question,
        info=info,
        outcome="answered",
        confidence=confidence,
    )
