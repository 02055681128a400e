"""Fakes for fast unit tests: real subclasses with deterministic, correctly shaped output."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.answer import Answer, Citation, Passage
from rag.answering.decision import Decision, Signals
from rag.answering.extractive import ExtractiveAnswerer
from rag.answering.spans import SpanScore
from rag.config import REFUSAL, UNSURE, Settings
from rag.documents.chunking import split_sentences
from rag.retrieval.lexical import tokenize
from rag.service import Assistant
from rag.store import ManifestEntry


class HashingEmbeddings(Embeddings):
    """Bag-of-words vectors (feature hashing), L2-normalised; same text, same vector."""

    name = "hashing-fake"

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        for token in tokenize(text, keep_stopwords=True):
            slot = int(hashlib.md5(token.encode()).hexdigest()[:8], 16) % self.dim
            vec[slot] += 1.0
        norm = np.linalg.norm(vec)
        if norm == 0:
            vec[0] = 1.0
            norm = 1.0
        return vec / norm

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text).tolist()


class OverlapReader:
    """A reader fake: in each passage, the sentence sharing most words with the question.

    Its span is the sentence's first run of words that the question does not contain
    (the "new information"); its score grows with the share of the question's words
    the sentence holds (10 x share), against a fixed no-answer score of 5, so a sentence
    that repeats half the question or more beats "no answer". Deterministic and
    correctly shaped (one :class:`SpanScore` per passage that has a sentence).
    """

    def read(self, question: str, passages: Sequence[str]) -> list[SpanScore]:
        asked = set(tokenize(question))
        out = []
        for index, text in enumerate(passages):
            best = max(
                split_sentences(text),
                key=lambda s: len(asked & set(tokenize(s.text))),
                default=None,
            )
            if best is None or not asked:
                continue
            share = len(asked & set(tokenize(best.text))) / len(asked)
            start, end = _new_words(best.text, asked)
            out.append(
                SpanScore(
                    window=index,
                    passage=index,
                    char_start=best.start + start,
                    char_end=best.start + end,
                    score=10.0 * share,
                    null=5.0,
                    answerable=10.0 * share - 5.0,
                    probability=share,
                )
            )
        return out


def _new_words(sentence: str, asked: set[str]) -> tuple[int, int]:
    """Character span of the sentence's first run of content words not in *asked*."""
    import re

    run: list[re.Match[str]] = []
    for match in re.finditer(r"[\w£$%]+(?:[,.]\w+)*", sentence):
        words = set(tokenize(match.group()))
        if words and not words & asked:
            run.append(match)
        elif run:
            break
    if not run:
        return 0, len(sentence)
    return run[0].start(), run[-1].end()


# P = sigmoid(gap): a span that beats "no answer" by its score is answered at 0.5.
GAP_DECISION = Decision(
    weights=tuple(1.0 if name == "gap" else 0.0 for name in Signals.names()),
    bias=0.0,
    answer_threshold=0.5,
    refusal_threshold=0.05,
)


def fake_answerer(settings: Settings | None = None) -> ExtractiveAnswerer:
    """The extractive answerer over :class:`OverlapReader` and :data:`GAP_DECISION`."""
    return ExtractiveAnswerer(settings or Settings(_env_file=None), OverlapReader(), GAP_DECISION)


# ---- canned answers, one per outcome, over a hostile little document -------------------
# The title, the cited sentence, its short answer and the passages all carry markup a
# renderer must not obey: HTML, a script, a remote image, a javascript: link, bold stars.
DOC_SOURCE = "seeds/quince.txt"
DOC_TITLE = "Quince <b>report</b>"
DOC_SHA = "ab" * 32
DOC_TEXT = (
    "Quince report\n\n"
    "The orchard made **4,200** jars <script>alert(1)</script> of marmalade. "
    "Its press ![x](http://evil/p.png) was mended.\n\n"
    "Rain fell in [June](javascript:alert(2)) and July, and the pickers went home early."
)
QUOTE = "The orchard made **4,200** jars <script>alert(1)</script> of marmalade."
SHORT_ANSWER = "**4,200** jars"


def doc_entry() -> ManifestEntry:
    """The manifest entry of :data:`DOC_TEXT`."""
    return ManifestEntry(DOC_SOURCE, DOC_TITLE, DOC_SHA, "fp", 2, len(DOC_TEXT), "2026-01-01")


def passage(rank: int) -> Passage:
    """Paragraph *rank* (1 or 2) of the body as a retrieved passage."""
    start = DOC_TEXT.index("The orchard") if rank == 1 else DOC_TEXT.index("Rain")
    end = DOC_TEXT.index("\n\nRain") if rank == 1 else len(DOC_TEXT)
    return Passage(rank, DOC_SOURCE, DOC_TITLE, start, end, 0.5, DOC_TEXT[start:end], DOC_SHA)


def answered(question: str = "How many jars did the orchard make?") -> Answer:
    """A grounded answer citing :data:`QUOTE`, its short answer marked, confidence 83%."""
    start = DOC_TEXT.index(QUOTE)
    short = DOC_TEXT.index(SHORT_ANSWER)
    cite = replace(
        Citation.of_span(
            1, passage(1), start=start, end=start + len(QUOTE), quote=QUOTE, score=0.83
        ),
        answer_start=short,
        answer_end=short + len(SHORT_ANSWER),
    )
    return Answer.answered(
        question,
        QUOTE + " [1]",
        citations=[cite],
        passages=[passage(1), passage(2)],
        standalone_question=question,
        confidence=0.83,
    )


def unsure(question: str = "Who mended the press?") -> Answer:
    """'Not sure': no citation, the two closest passages, best sentence at 41%."""
    return Answer.unsure(
        question,
        UNSURE,
        passages=[passage(1), passage(2)],
        standalone_question=question,
        confidence=0.41,
    )


def not_found(question: str = "What is the capital of Peru?") -> Answer:
    """'Not in the documents': the refusal, no citation, no passage."""
    return Answer.not_found(question, REFUSAL, standalone_question=question, confidence=0.0)


class CannedAssistant(Assistant):
    """An :class:`Assistant` over :data:`DOC_TEXT` that answers from ``answers`` by question.

    Nothing is embedded or stored: documents, document text and answers are canned,
    so the page and the CLI can be driven through every outcome in milliseconds.
    """

    answers: ClassVar[dict[str, Answer]] = {}

    def __init__(self, settings: Settings | None = None, embeddings: Any = None) -> None:
        settings = settings or Settings(_env_file=None)
        # A fixed threshold, so no reader decision is read.
        fixed = settings.updated(answer={"threshold": settings.answer.threshold or 0.5})
        super().__init__(fixed, embeddings, fake_answerer(fixed))

    @property
    def retriever(self) -> Any:
        return SimpleNamespace(snapshot=lambda: None)  # the page warms the index up

    @property
    def llm(self) -> None:
        return None

    def documents(self) -> list[ManifestEntry]:
        return [doc_entry()]

    def document_text(self, source: str) -> str:
        return DOC_TEXT

    def ask(
        self, question: str, history: Sequence[Any] | None = None, k: int | None = None
    ) -> Answer:
        return self.answers[question.strip()]


def asked_as_typed(question: str = "Who mended it before he left?") -> Answer:
    """A follow-up the resolver was unsure of: asked as typed, saying what stayed open."""
    answer = unsure(question)
    return replace(answer, info=replace(answer.info, condensed_by="unsure: he"))


def rewritten(question: str = "And how many jars?") -> Answer:
    """A follow-up the resolver rewrote: :func:`answered` under another question."""
    return replace(answered(question), standalone_question="How many jars did the orchard make?")


class RemovableAssistant(CannedAssistant):
    """A :class:`CannedAssistant` whose document can be removed; it records each removal."""

    removed: ClassVar[list[str]] = []

    def documents(self) -> list[ManifestEntry]:
        return [] if DOC_SOURCE in self.removed else [doc_entry()]

    def remove_document(self, name: str) -> Any:
        from rag.service import RemovedDocument

        self.removed.append(name)
        entry = doc_entry()
        return RemovedDocument(
            source=entry.source,
            title=entry.title,
            sha256=entry.sha256,
            names=entry.names,
            chunks=entry.chunks,
            uploads_deleted=(),
            still_on_disk=(entry.source,),
        )
