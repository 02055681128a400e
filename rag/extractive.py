"""The default answerer: quote the sentences that answer the question, say "not sure", or refuse.

1. **Relevance** (:mod:`rag.relevance`): every sentence of every retrieved passage is
   scored by meaning (cosine similarity with the embedding model), word overlap with
   the question (IDF-weighted over the candidates) and whether it holds the kind of
   thing the question asks for. Below ``refusal_threshold`` nothing is about the
   question: *not found* (:data:`rag.config.REFUSAL`).
2. **Rules** (:mod:`rag.gates`): headings, titles, fragments and sentences lacking
   what the question asks for, missing the names and numbers it names, or
   contradicting it, are never quoted.
3. **Judge** (:mod:`rag.confidence`): the most relevant sentence that passes the rules
   gets a calibrated confidence from its relevance, its margin over the next candidate
   that says something else, whether the most relevant sentence broke a rule, and how
   its words line up with the question's (:mod:`rag.alignment_features`; the optional
   cross-encoder of :mod:`rag.verifier` only when the calibration gives it a weight). At
   ``answer_threshold`` or above it is quoted with an ``[n]`` marker whose citation is
   that exact sentence in the source, its answering words located
   (:mod:`rag.shortanswer`); below it the answer is *not sure*
   (:data:`rag.config.UNSURE`) and the passages are shown without a quoted answer.

It never writes words that are not in the documents, and it needs no LLM.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

from rag import gates
from rag.alignment_features import align, same_sentence
from rag.answer import Answer, Citation, Passage
from rag.answerinfo import AnswerInfo, CandidateNote
from rag.confidence import Features
from rag.config import REFUSAL, UNSURE, Settings
from rag.embeddings import Encoder
from rag.relevance import Scored, candidates, score_candidates
from rag.shortanswer import short_answer
from rag.verifier import VerifierScores, pair_text

log = logging.getLogger(__name__)


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
    embeddings: Encoder,
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
    rejected = [Judged(s, 0.0, v.reason) for s, v in zip(scored, verdicts, strict=True) if not v.ok]
    # The candidates the answer's explanation lists: rivals for the alignment facts.
    shown = sorted([*passed, *(j.scored for j in rejected)], key=lambda s: -s.score)
    judged = []
    for item, probability in zip(passed, probabilities, strict=True):
        best_other = _best_rival_score(item, scored)
        features = Features(
            relevance=item.score,
            margin=item.score - best_other,
            semantic=item.semantic,
            lexical=item.lexical,
            verifier=probability,
            top_rejected=top_rejected,
            **asdict(align(question, item, shown, scored, embeddings)),
        )
        sure = verifier.calibrator.probability(features) if verifier else _clamp(item.score)
        judged.append(Judged(item, round(sure, 4), "", features))
    return judged + rejected


def _best_rival_score(item: Scored, scored: Sequence[Scored]) -> float:
    """The best score of a candidate that says something else.

    The same sentence in another document (a copy, a second version of a file) is the
    same answer, not a rival: it must not make a clear winner look like a close call.
    """
    others = (s.score for s in scored if s is not item and not same_sentence(s, item))
    return max(others, default=0.0)


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
) -> AnswerInfo:
    best = judged[0] if judged else None
    by_relevance = sorted(judged, key=lambda j: -j.scored.score)[:8]
    return AnswerInfo(
        best_score=round(scored[0].score, 4) if scored else 0.0,
        threshold=settings.refusal_threshold,
        answer_threshold=threshold,
        rejected_by_rules=sum(bool(j.reason) for j in judged),
        best_candidate=best.scored.candidate.text if best else "",
        best_candidate_rejected=best.reason if best else "",
        candidates=[_explain(j) for j in by_relevance],
    )


def _explain(item: Judged) -> CandidateNote:
    """One candidate as the answer's explanation shows it (and the eval records it)."""
    s = item.scored
    return CandidateNote(
        text=s.candidate.text,
        source=s.candidate.passage.source,
        start=s.candidate.start,
        relevance=round(s.score, 4),
        semantic=round(s.semantic, 4),
        lexical=round(s.lexical, 4),
        passage_rank=s.candidate.passage.rank,
        confidence=item.confidence,
        rejected=item.reason,
        features=asdict(item.features) if item.features else None,
    )


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
    judged = judge(question, scored, verifier, settings, embeddings)
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
