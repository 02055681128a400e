"""Result types shared by every answerer: :class:`Passage`, :class:`Citation`, :class:`Answer`.

An :class:`Answer` whose ``complete`` is False is a streamed draft: model text not
yet checked, with no citations; only the last answer of a stream is complete.

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
from typing import Any, Literal, Protocol

from langchain_core.documents import Document

from rag.answerinfo import AnswerInfo
from rag.answerinfo import known as _known
from rag.markers import marker_numbers

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
        """Build from a retriever ``Document`` (see :mod:`rag.retrieval`)."""
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


@dataclass(frozen=True)
class Answer:
    """One answered (or refused) question with its evidence and timings.

    ``outcome`` is ``answered`` (grounded in the citations), ``unsure`` (the passages are
    about the question but no sentence clearly answers it: no citation, the closest
    passages are in ``passages``) or ``not_found``. ``refused`` is True for the last two,
    so consumers that only know answered/refused keep working. ``confidence`` is the
    answerer's probability that its best sentence answers (None when it has none).
    """

    question: str
    answer: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    standalone_question: str = ""
    mode: str = "extractive"
    timings_ms: dict[str, float] = field(default_factory=dict)
    info: AnswerInfo = field(default_factory=AnswerInfo)
    # False for the drafts a generating answerer streams before its citations are checked.
    complete: bool = True
    outcome: Outcome = "answered"
    confidence: float | None = None

    def __post_init__(self) -> None:
        # Answerers that only say "refused" (the LLM path) mean "not found".
        if self.refused and self.outcome == "answered":
            object.__setattr__(self, "outcome", "not_found")
        elif not self.refused and self.outcome != "answered":
            object.__setattr__(self, "refused", True)

    @property
    def label(self) -> str:
        """The outcome as people read it: Grounded, Not sure, Not in the documents."""
        return OUTCOME_LABELS[self.outcome]

    def __add__(self, other: Answer) -> Answer:
        # Streams yield growing snapshots; LangChain adds chunks, the newest wins.
        return other

    def with_timings(self, **timings: float) -> Answer:
        """A copy with extra timing entries (milliseconds)."""
        merged = {**self.timings_ms, **{k: round(v, 1) for k, v in timings.items()}}
        return replace(self, timings_ms=merged)

    def markers(self) -> list[int]:
        """Every ``[n]`` number in the answer text, in order."""
        return marker_numbers(self.answer)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the CLI's ``--json`` output)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Answer:
        """Rebuild an answer (with its Citation and Passage objects) from :meth:`to_dict`.

        Keys that are not fields (written by another version) are ignored, in ``info``
        too.
        """
        values = _known(cls, data)
        values["info"] = AnswerInfo.from_dict(data.get("info"))
        values["citations"] = [Citation(**_known(Citation, c)) for c in data.get("citations", [])]
        values["passages"] = [Passage(**_known(Passage, p)) for p in data.get("passages", [])]
        return cls(**values)


def draft_deltas(answers: Iterable[Answer], done: list[Answer]) -> Iterator[str]:
    """What to show next of a streamed answer: the new text of each growing draft.

    Drafts (``complete=False``) that extend what was shown yield their new tail; the
    complete answer at the end of the stream is appended to *done* instead. The CLI
    prints these deltas and the page streams them, so both show the same draft.
    """
    shown = ""
    for answer in answers:
        if answer.complete:
            done.append(answer)
        elif answer.answer.startswith(shown):
            yield answer.answer[len(shown) :]
            shown = answer.answer


class Answerer(Protocol):
    """Anything that answers a question from retrieved passages (the extractive reader)."""

    def answer(self, question: str, passages: Sequence[Passage]) -> Answer:
        """Grounded, not sure or not found for *question* over *passages*."""
        ...
