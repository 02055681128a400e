"""The default answerer: the reader's best span, quoted in its sentence, or an honest refusal.

1. The reader (:mod:`rag.answering.reader`) reads every retrieved passage and proposes
   its best spans, with exact character offsets.
2. Each span is placed in its unit (:mod:`rag.answering.units`: the sentence, list item
   or line that holds it); headings and question lines are never answers.
3. The decision (:mod:`rag.answering.decision`) scores every candidate from the reader's
   and the retriever's signals; the most probable one is quoted as *Grounded* when it
   reaches the answer threshold, with its span as the short answer. Below it the answer
   is *Not sure* (the passages are shown, nothing is quoted), or *Not found* when no
   passage is even close to the question.

It never writes words that are not in the documents, and it needs no LLM.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from rag.answer import Answer, AnswerDetails, Citation, Draft, Passage
from rag.answerinfo import AnswerInfo, CandidateNote
from rag.answering.decision import Decision, Signals, load_decision, outcome
from rag.answering.markers import defuse
from rag.answering.protocol import Condensed, resolve_followup
from rag.answering.reader import Reader, SpanReader, bundled_reader_path
from rag.answering.spans import SpanScore
from rag.answering.units import can_answer, unit_of
from rag.config import REFUSAL, UNSURE, Settings

log = logging.getLogger(__name__)

_WORD = re.compile(r"\w+")
# Not a setting: the decision (decision.json) was calibrated with it; changing it needs
# recalibrating the reader.
LEAD_CAP = 10.0  # |lead| beyond this says nothing more (logit units)
NOTES = 8  # candidates recorded in the answer's explanation (and the eval rows)


@dataclass(frozen=True)
class Candidate:
    """A span of a passage in its unit, with the decision's signals and confidence."""

    passage: Passage
    span: SpanScore
    unit_start: int  # in the passage text
    unit_end: int
    words: str  # the span's words, normalised: what "the same answer" means
    signals: Signals | None = None
    confidence: float = 0.0

    @property
    def unit(self) -> str:
        """The quoted sentence, line or list item."""
        return self.passage.text[self.unit_start : self.unit_end]

    @property
    def where(self) -> tuple[str, int, int]:
        """The span's place in its document (one place, whichever chunk it came from)."""
        start = self.passage.start + self.span.char_start
        return self.passage.source, start, self.passage.start + self.span.char_end


def _words(text: str) -> str:
    return " ".join(w.lower() for w in _WORD.findall(text))


def locate(
    spans: Sequence[SpanScore], passages: Sequence[Passage], rules: bool = True
) -> list[Candidate]:
    """Spans that can answer, in their units; each place in a document once (best gap).

    With *rules* off (the ablation), headings and question lines may answer too.
    """
    best: dict[tuple[str, int, int], Candidate] = {}
    for span in spans:
        passage = passages[span.passage]
        words = _words(passage.text[span.char_start : span.char_end])
        unit = unit_of(passage.text, span.char_start, span.char_end)
        if not words or unit is None or (rules and not can_answer(unit.text, passage.title)):
            continue
        candidate = Candidate(passage, span, unit.start, unit.end, words)
        kept = best.get(candidate.where)
        if kept is None or span.score - span.null > kept.span.score - kept.span.null:
            best[candidate.where] = candidate
    return list(best.values())


def signals(
    candidate: Candidate, others: Sequence[Candidate], spans: Sequence[SpanScore]
) -> Signals:
    """The decision's view of *candidate* among all candidates (and spans) of the question."""
    span, passage = candidate.span, candidate.passage
    gap = span.score - span.null
    rivals = [o.span.score - o.span.null for o in others if not same_answer(o, candidate)]
    agreeing = {o.passage.rank for o in others if same_answer(o, candidate)}
    lead = gap - max(rivals) if rivals else LEAD_CAP
    return Signals(
        span=span.score,
        gap=gap,
        answerable=span.answerable,
        probability=span.probability,
        dense=passage.dense_score or 0.0,
        rank=1.0 / max(1, passage.rank),
        agreement=float(len(agreeing - {passage.rank})),
        lead=max(-LEAD_CAP, min(LEAD_CAP, lead)),
        length=math.log1p(len(span_text(candidate))),
        best_answerable=max((s.answerable for s in spans), default=0.0),
        best_dense=max((o.passage.dense_score or 0.0 for o in others), default=0.0),
    )


def same_answer(a: Candidate, b: Candidate) -> bool:
    """Whether two candidates give one answer: overlapping text at one place in a document,
    or words of one that run inside the other's ("Theresa May", "Home Secretary Theresa
    May"), so a span and its own sub-span are not each other's rivals."""
    (source_a, start_a, end_a), (source_b, start_b, end_b) = a.where, b.where
    if source_a == source_b and start_a < end_b and start_b < end_a:
        return True
    return f" {a.words} " in f" {b.words} " or f" {b.words} " in f" {a.words} "


def span_text(candidate: Candidate) -> str:
    """The short answer: the span's exact text."""
    return candidate.passage.text[candidate.span.char_start : candidate.span.char_end]


def decide(
    candidates: Sequence[Candidate], spans: Sequence[SpanScore], decision: Decision
) -> list[Candidate]:
    """The decision applied to every candidate: its signals and confidence, the reader's
    pick first.

    The reader ranks (span score over its window's "no answer" score, measured the best
    pick on every calibration set); the decision says how sure to be of each.
    """
    scored = []
    for c in candidates:
        sig = signals(c, candidates, spans)
        scored.append(replace(c, signals=sig, confidence=round(decision.probability(sig), 4)))
    return sorted(scored, key=lambda c: -(c.span.score - c.span.null))


def cite(chosen: Sequence[Candidate]) -> list[Citation]:
    """Citations 1..n: each candidate's unit, with its span as the short answer."""
    out = []
    for number, c in enumerate(chosen, start=1):
        p = c.passage
        cite = Citation.of_span(
            number,
            p,
            start=p.start + c.unit_start,
            end=p.start + c.unit_end,
            quote=c.unit,
            score=c.confidence,
        )
        where = c.where
        out.append(replace(cite, answer_start=where[1], answer_end=where[2]))
    return out


def choose(decided: Sequence[Candidate], threshold: float, most: int) -> list[Candidate]:
    """The reader's pick, plus other units giving the same answer at the threshold.

    A second unit is quoted only when it says the same words (the answer stated twice,
    in two documents or two places): one answer, every place that supports it.
    """
    if not decided or decided[0].confidence < threshold:
        return []
    chosen = [decided[0]]
    units = {(decided[0].passage.source, decided[0].passage.start + decided[0].unit_start)}
    for c in decided[1:]:
        unit = (c.passage.source, c.passage.start + c.unit_start)
        if len(chosen) >= most or c.confidence < threshold or unit in units:
            continue
        if c.words == chosen[0].words:
            chosen.append(c)
            units.add(unit)
    return chosen


def _note(c: Candidate) -> CandidateNote:
    return CandidateNote(
        text=c.unit,
        source=c.passage.source,
        start=c.passage.start + c.unit_start,
        relevance=round(c.span.score - c.span.null, 4),
        semantic=round(c.passage.dense_score or 0.0, 4),
        lexical=round(c.passage.lexical_score or 0.0, 4),
        passage_rank=c.passage.rank,
        confidence=c.confidence,
        short_answer=span_text(c),
        features=c.signals.as_dict() if c.signals else None,
    )


def answer_extractively(
    question: str,
    passages: Sequence[Passage],
    reader: SpanReader,
    decision: Decision,
    settings: Settings,
) -> Answer:
    """Grounded (the reader's best span in its sentence), not sure, or not found."""
    spans = reader.read(question, [p.text for p in passages]) if passages else []
    decided = decide(locate(spans, passages, settings.answer.unit_rules), spans, decision)
    best = decided[0].confidence if decided else 0.0
    best_dense = max((p.dense_score or 0.0 for p in passages), default=0.0)
    threshold, refusal = _threshold(settings, decision), _refusal(settings, decision)
    result = outcome(best, best_dense, threshold, refusal)
    info = AnswerInfo(
        best_score=round(best_dense, 4),
        threshold=refusal,
        answer_threshold=threshold,
        best_candidate=decided[0].unit if decided else "",
        candidates=[_note(c) for c in decided[:NOTES]],
    )
    found = AnswerDetails(
        passages=passages, standalone_question=question, info=info, confidence=best
    )
    if result == "not_found":
        return Answer.not_found(question, REFUSAL, **found)
    if result == "unsure":
        return Answer.unsure(question, UNSURE, **found)
    citations = cite(choose(decided, threshold, settings.answer.max_sentences))
    text = " ".join(f"{defuse(c.quote)} [{c.id}]" for c in citations)
    return Answer.answered(question, text, citations=citations, **found)


class ExtractiveAnswerer:
    """The reader and the decision, loaded once: an :class:`~rag.answering.protocol.Answerer`.

    Follow-ups are read by the heuristic resolver (no model); the answer arrives whole,
    so :meth:`stream` yields it alone.

    Args:
        settings: The one settings object (reader path, thresholds).
        reader: A :class:`SpanReader` to use (tests); default: the ONNX reader of
            ``settings.answer.reader_path`` (or the bundled one), loaded on first use.
        decision: The decision to use; default: ``decision.json`` beside the reader.
    """

    def __init__(
        self,
        settings: Settings,
        reader: SpanReader | None = None,
        decision: Decision | None = None,
    ) -> None:
        self.settings = settings
        self.folder = settings.answer.reader_path or bundled_reader_path()
        self._reader = reader
        self._decision = decision

    @property
    def reader(self) -> SpanReader:
        """The span reader (the ONNX model loads on first use)."""
        if self._reader is None:
            self._reader = Reader(self.folder, threads=self.settings.answer.reader_threads)
        return self._reader

    @property
    def decision(self) -> Decision:
        """The fitted decision (weights and thresholds)."""
        if self._decision is None:
            self._decision = load_decision(self.folder)
        return self._decision

    @property
    def answer_threshold(self) -> float:
        """The confidence a Grounded answer needs: the setting, else the decision's."""
        return _threshold(self.settings, self.decision)

    def answer(self, question: str, passages: Sequence[Passage]) -> Answer:
        """Grounded, not sure or not found for *question* over *passages*."""
        return answer_extractively(question, passages, self.reader, self.decision, self.settings)

    def condense(self, question: str, history: Sequence[Any] | None) -> Condensed:
        """The heuristic reading of a follow-up (:func:`rag.followup.resolve`)."""
        return resolve_followup(question, history)

    def stream(
        self, question: str, passages: Sequence[Passage], *, started: float | None = None
    ) -> Iterator[Answer | Draft]:
        """The whole answer, at once (nothing is drafted)."""
        yield self.answer(question, passages)


def _threshold(settings: Settings, decision: Decision) -> float:
    return (
        decision.answer_threshold
        if settings.answer.threshold is None
        else settings.answer.threshold
    )


def _refusal(settings: Settings, decision: Decision) -> float:
    return (
        decision.refusal_threshold
        if settings.answer.refusal_threshold is None
        else settings.answer.refusal_threshold
    )
