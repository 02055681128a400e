"""Result types shared by every answerer: :class:`Passage`, :class:`Citation`, :class:`Answer`.

An :class:`Answer` is one of three outcomes, built with :meth:`Answer.answered`,
:meth:`Answer.unsure` or :meth:`Answer.not_found`. A generating answerer streams
:class:`Draft` snapshots (model text not yet checked, no citations) before its answer.

A :class:`Citation` is a checked span: ``quote == source_text[start:end]`` for the
document named by ``source``. ``id`` is the number printed in the answer's ``[n]``
marker. Only cited passages become citations; every retrieved passage stays
available in ``passages``.

This module holds data and conversions only; answerers live in their own modules.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, TypedDict, Unpack

from langchain_core.documents import Document

from rag.answerinfo import AnswerInfo
from rag.answerinfo import known as _known
from rag.answering.markers import marker_numbers
from rag.config import REFUSAL, UNSURE

Outcome = Literal["answered", "unsure", "not_found"]
OUTCOMES: tuple[Outcome, ...] = ("answered", "unsure", "not_found")
# What the page, CLI and exports call each outcome.
OUTCOME_LABELS: dict[str, str] = {
    "answered": "Grounded",
    "unsure": "Not sure",
    "not_found": "Not in the documents",
}


def elapsed_ms(since: float) -> float:
    """Milliseconds from *since* (a ``time.perf_counter()`` value) to now, for timings."""
    return (time.perf_counter() - since) * 1000


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk, ranked, located in its source."""

    rank: int
    source: str
    title: str
    start: int
    end: int
    score: float
    text: str
    doc_sha256: str = ""
    dense_score: float | None = None
    lexical_score: float | None = None
    # The headings the passage sits under, " > "-joined ("4. Hotels > London"); "" if none.
    heading: str = ""

    @classmethod
    def from_document(cls, doc: Document) -> Passage:
        """Build from a retriever ``Document`` (see :mod:`rag.retrieval.hybrid`)."""
        meta = doc.metadata
        return cls(
            rank=int(meta.get("rank", 0)),
            source=str(meta.get("source", "")),
            title=str(meta.get("title", "")),
            start=int(meta.get("start", 0)),
            end=int(meta.get("end", len(doc.page_content))),
            score=float(meta.get("score", 0.0)),
            text=doc.page_content,
            doc_sha256=str(meta.get("doc_sha256", "")),
            dense_score=meta.get("dense_score"),
            lexical_score=meta.get("lexical_score"),
            heading=str(meta.get("heading") or ""),
        )


@dataclass(frozen=True)
class Citation:
    """An exact cited span: ``quote`` lies at ``[start, end)`` in ``source``'s text."""

    id: int
    source: str
    title: str
    quote: str
    start: int
    end: int
    text: str
    passage_rank: int
    passage_start: int
    passage_end: int
    doc_sha256: str = ""
    score: float | None = None
    # The words inside the quote that answer (a number, date, name or phrase): offsets
    # into the source like start/end, so source_text[answer_start:answer_end] is them.
    answer_start: int | None = None
    answer_end: int | None = None
    heading: str = ""  # the cited passage's heading path (see Passage.heading)

    @property
    def short_answer(self) -> str:
        """The answering words inside :attr:`quote` ('' when none were found)."""
        if self.answer_start is None or self.answer_end is None:
            return ""
        return self.quote[self.answer_start - self.start : self.answer_end - self.start]

    @classmethod
    def of_span(
        cls, number: int, passage: Passage, *, start: int, end: int, quote: str, score: float
    ) -> Citation:
        """Citation *number* for the span ``[start, end)`` (text *quote*) inside *passage*."""
        return cls(
            id=number,
            source=passage.source,
            title=passage.title,
            quote=quote,
            start=start,
            end=end,
            text=passage.text,
            passage_rank=passage.rank,
            passage_start=passage.start,
            passage_end=passage.end,
            doc_sha256=passage.doc_sha256,
            score=score,
            heading=passage.heading,
        )


class AnswerDetails(TypedDict, total=False):
    """What every outcome may carry besides its text (the keywords of the constructors)."""

    passages: Sequence[Passage]
    standalone_question: str
    mode: str
    timings_ms: Mapping[str, float]
    info: AnswerInfo
    confidence: float | None


@dataclass(frozen=True, kw_only=True)
class Answer:
    """One answered (or refused) question with its evidence and timings.

    ``outcome`` is ``answered`` (grounded in the citations), ``unsure`` (the passages are
    about the question but no sentence clearly answers it: no citation, the closest
    passages are in ``passages``) or ``not_found``. ``refused`` is derived from it: True
    for the last two, so consumers that only know answered/refused keep working.
    ``confidence`` is the answerer's probability that its best sentence answers (None
    when it has none). Build one with :meth:`answered`, :meth:`unsure` or
    :meth:`not_found`; an answer is always checked (``complete``): what a generating
    answerer streams before the check is a :class:`Draft`.
    """

    question: str
    answer: str
    outcome: Outcome
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    standalone_question: str = ""
    mode: str = "extractive"
    timings_ms: dict[str, float] = field(default_factory=dict)
    info: AnswerInfo = field(default_factory=AnswerInfo)
    confidence: float | None = None

    @classmethod
    def answered(
        cls,
        question: str,
        text: str,
        *,
        citations: Sequence[Citation],
        **details: Unpack[AnswerDetails],
    ) -> Answer:
        """Grounded: *text* carries ``[n]`` markers for *citations*."""
        return cls._of("answered", question, text, list(citations), details)

    @classmethod
    def unsure(cls, question: str, text: str = UNSURE, **details: Unpack[AnswerDetails]) -> Answer:
        """Not sure: no citation; the closest passages go in ``passages``."""
        return cls._of("unsure", question, text, [], details)

    @classmethod
    def not_found(
        cls, question: str, text: str = REFUSAL, **details: Unpack[AnswerDetails]
    ) -> Answer:
        """Not in the documents: the refusal, no citation."""
        return cls._of("not_found", question, text, [], details)

    @classmethod
    def _of(
        cls,
        outcome: Outcome,
        question: str,
        text: str,
        citations: list[Citation],
        details: AnswerDetails,
    ) -> Answer:
        return cls(
            question=question,
            answer=text,
            outcome=outcome,
            citations=citations,
            passages=list(details.get("passages", ())),
            standalone_question=details.get("standalone_question", ""),
            mode=details.get("mode", "extractive"),
            timings_ms=dict(details.get("timings_ms", {})),
            info=details.get("info", AnswerInfo()),
            confidence=details.get("confidence"),
        )

    @property
    def refused(self) -> bool:
        """True for both refusals (``unsure`` and ``not_found``)."""
        return self.outcome != "answered"

    @property
    def complete(self) -> bool:
        """Always True: an answer is checked (see :class:`Draft` for what is not)."""
        return True

    @property
    def label(self) -> str:
        """The outcome as people read it: Grounded, Not sure, Not in the documents."""
        return OUTCOME_LABELS[self.outcome]

    def with_timings(self, **timings: float) -> Answer:
        """A copy with extra timing entries (milliseconds)."""
        merged = {**self.timings_ms, **{k: round(v, 1) for k, v in timings.items()}}
        return replace(self, timings_ms=merged)

    def markers(self) -> list[int]:
        """Every ``[n]`` number in the answer text, in order."""
        return marker_numbers(self.answer)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the CLI's ``--json`` output, stored conversations, exports).

        The keys and their order are those every earlier version wrote, ``refused`` and
        ``complete`` included, so stored conversations and exports stay byte-identical.
        """
        values = asdict(self)
        values.update(refused=self.refused, complete=self.complete)
        return {key: values[key] for key in JSON_KEYS}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Answer:
        """Rebuild an answer (with its Citation and Passage objects) from :meth:`to_dict`.

        Keys that are not fields (written by another version) are ignored, in ``info``
        too. Data without an ``outcome`` (written before there were three) reads
        ``refused`` as not found.
        """
        values = _known(cls, data)
        values.setdefault("outcome", "not_found" if data.get("refused") else "answered")
        values["info"] = AnswerInfo.from_dict(data.get("info"))
        values["citations"] = [Citation(**_known(Citation, c)) for c in data.get("citations", [])]
        values["passages"] = [Passage(**_known(Passage, p)) for p in data.get("passages", [])]
        return cls(**values)


# The keys of Answer.to_dict, in the order stored conversations and exports have them.
JSON_KEYS = (
    "question",
    "answer",
    "refused",
    "citations",
    "passages",
    "standalone_question",
    "mode",
    "timings_ms",
    "info",
    "complete",
    "outcome",
    "confidence",
)


@dataclass(frozen=True, kw_only=True)
class Draft:
    """What a generating answerer has written so far, before its citations are checked.

    A stream yields growing drafts and then one :class:`Answer`. A draft is shown while
    it grows, never stored, exported or scored; it has no citations and no outcome.
    """

    question: str
    answer: str  # the text so far (named as in Answer, so a stream reads alike)
    passages: list[Passage] = field(default_factory=list)
    standalone_question: str = ""
    mode: str = "extractive"
    info: AnswerInfo = field(default_factory=AnswerInfo)

    @property
    def complete(self) -> bool:
        """Always False: the checked :class:`Answer` follows."""
        return False


def draft_deltas(answers: Iterable[Answer | Draft], done: list[Answer]) -> Iterator[str]:
    """What to show next of a streamed answer: the new text of each growing draft.

    Drafts that extend what was shown yield their new tail; the answer at the end of
    the stream is appended to *done* instead. The CLI prints these deltas and the page
    streams them, so both show the same draft.
    """
    shown = ""
    for answer in answers:
        if isinstance(answer, Answer):
            done.append(answer)
        elif answer.answer.startswith(shown):
            yield answer.answer[len(shown) :]
            shown = answer.answer
