"""Check every sentence of a generated answer against the passage it cites.

A language model writes ``[n]`` markers that refer to the numbered passages of its
prompt. Nothing guarantees that passage *n* says what the sentence claims, so each
sentence (a *claim*) is checked:

1. it must carry at least one marker that points to a passage of the prompt;
2. it must be a complete sentence (not cut off on "the", "is", "of"...);
3. one of the cited passages must contain a span (one sentence, or two neighbouring
   sentences) that *supports* it: the span holds at least ``answer.citation_min_overlap`` of
   the claim's content words (:func:`rag.retrieval.lexical.tokenize`), every number the claim
   states, and its embedding cosine with the claim is at least
   ``answer.citation_min_similarity``.

A supported claim keeps only the markers whose passage supports it, each tied to the
exact supporting span (``passage.text`` offsets shifted by ``passage.start``, so
``quote == source_text[start:end]``); :func:`renumber` turns them into citations
numbered 1..n in reading order. Every other sentence is reported as unsupported,
with the reason. A leading refusal sentence means the model refused.

This module does not call a model and does not decide what to do with an answer
that has no supported sentence (see :mod:`rag.answering.generate`).
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rag.answer import Citation, Passage
from rag.answerinfo import CheckReport, Unsupported
from rag.answering.markers import MARKER, marker_numbers
from rag.config import Settings
from rag.documents.chunking import split_sentences
from rag.embeddings import Encoder
from rag.retrieval.lexical import tokenize

log = logging.getLogger(__name__)

_LEADING_MARKERS = re.compile(rf"^(?:\s*{MARKER.pattern})+", MARKER.flags)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
# A sentence that ends on one of these was cut off ("The passage with the number is.").
_DANGLING = frozenset(
    "a an the of to in on at by for from with and or but is are was were be been has have had "
    "that which as than".split()
)
_REFUSALS = (
    re.compile(r"\bnot (?:able to )?find\b.*\b(?:documents?|passages?|information|answer)\b"),
    re.compile(r"\b(?:documents?|passages?) (?:do|does) not (?:contain|mention|say|provide)\b"),
    re.compile(r"^no (?:information|answer)\b"),
)


@dataclass(frozen=True)
class Claim:
    """One sentence of the answer: its text without markers, and the markers it cites."""

    raw: str
    text: str
    markers: tuple[int, ...]


@dataclass(frozen=True)
class CandidateSpan:
    """A candidate supporting span: absolute offsets in ``passage.source``."""

    passage: Passage
    start: int
    end: int
    text: str
    sentences: int


@dataclass(frozen=True)
class Support:
    """Marker *marker* of a claim is backed by *span*, with these scores."""

    marker: int
    span: CandidateSpan
    overlap: float
    similarity: float

    @property
    def score(self) -> float:
        """Combined score (for ranking spans and for the citation's ``score``)."""
        return round((self.overlap + self.similarity) / 2, 4)


@dataclass(frozen=True)
class ClaimVerdict:
    """The check of one claim: its supports (empty when unsupported) and why not."""

    claim: Claim
    supports: tuple[Support, ...] = ()
    reason: str = ""
    ignored_markers: tuple[int, ...] = ()


@dataclass(frozen=True)
class Check:
    """The check of a whole answer."""

    verdicts: list[ClaimVerdict] = field(default_factory=list)
    # The model wrote the refusal sentence (``Answer.refused`` is the answer's outcome).
    model_refused: bool = False

    @property
    def supported(self) -> list[ClaimVerdict]:
        """Claims with at least one supporting span."""
        return [v for v in self.verdicts if v.supports]

    @property
    def unsupported(self) -> list[ClaimVerdict]:
        """Claims that are removed from the answer."""
        return [v for v in self.verdicts if not v.supports]

    def report(self) -> CheckReport:
        """What the check found, for ``Answer.info``."""
        return CheckReport(
            sentences=len(self.verdicts),
            supported_sentences=len(self.supported),
            unsupported=[Unsupported(v.claim.raw, v.reason) for v in self.unsupported],
            ignored_markers=sorted({m for v in self.verdicts for m in v.ignored_markers}),
        )


def _clean(text: str) -> str:
    text = _BULLET.sub("", MARKER.sub(" ", text)).replace("**", "")
    return re.sub(r"\s+([.,;:!?])", r"\1", " ".join(text.split())).strip()


def claim_of(raw: str) -> Claim:
    """A sentence split into its text and its marker numbers (in order, once each)."""
    return Claim(raw.strip(), _clean(raw), tuple(dict.fromkeys(marker_numbers(raw))))


def split_claims(text: str) -> list[Claim]:
    """Sentences of *text*; a marker that opens a sentence belongs to the one before."""
    pieces: list[str] = []
    for span in split_sentences(text):
        piece = span.text
        lead = _LEADING_MARKERS.match(piece)
        if lead and pieces:
            pieces[-1] += " " + lead.group().strip()
            piece = piece[lead.end() :].strip()
        if piece:
            pieces.append(piece)
    return [claim_of(p) for p in pieces if _clean(p)]


def is_refusal(text: str) -> bool:
    """True for the fixed refusal sentence and its usual paraphrases."""
    norm = text.lower().replace("n't", " not").replace("cannot", "can not")
    norm = " ".join(re.sub(r"[^\w\s]", " ", MARKER.sub(" ", norm)).split())
    return any(pattern.search(norm) for pattern in _REFUSALS)


def passage_spans(passage: Passage) -> list[CandidateSpan]:
    """Each sentence of *passage*, and each pair of neighbouring sentences."""
    sentences, shift = split_sentences(passage.text), passage.start
    spans = [CandidateSpan(passage, shift + s.start, shift + s.end, s.text, 1) for s in sentences]
    for a, b in itertools.pairwise(sentences):
        text = passage.text[a.start : b.end]
        spans.append(CandidateSpan(passage, shift + a.start, shift + b.end, text, 2))
    return spans


def _overlap(claim_words: set[str], span_text: str) -> float:
    return len(claim_words & set(tokenize(span_text))) / len(claim_words)


def _numbers_present(claim: str, span_text: str) -> bool:
    wanted = {t for t in tokenize(claim, keep_stopwords=True) if any(c.isdigit() for c in t)}
    return wanted <= set(tokenize(span_text, keep_stopwords=True))


class _Vectors:
    """Embeddings of every claim and candidate span, computed in one call."""

    def __init__(
        self, claims: Sequence[Claim], spans: Sequence[CandidateSpan], encoder: Encoder
    ) -> None:
        texts = list(dict.fromkeys([c.text for c in claims] + [s.text for s in spans]))
        rows = encoder.encode(texts) if texts else np.zeros((0, 1))
        self._row = {text: rows[i] for i, text in enumerate(texts)}

    def cosine(self, a: str, b: str) -> float:
        return float(self._row[a] @ self._row[b])


def _best_support(
    claim: Claim, marker: int, spans: Sequence[CandidateSpan], vectors: _Vectors, settings: Settings
) -> tuple[Support | None, Support | None]:
    """(best supporting span or None, best candidate overall for the reason)."""
    words = set(tokenize(claim.text))
    scored = [
        Support(marker, s, _overlap(words, s.text), vectors.cosine(claim.text, s.text))
        for s in spans
    ]
    passing = [
        s
        for s in scored
        if s.overlap >= settings.answer.citation_min_overlap
        and s.similarity >= settings.answer.citation_min_similarity
        and _numbers_present(claim.text, s.span.text)
    ]
    best = max(scored, key=lambda s: s.score, default=None)
    # One sentence is the tightest span; a pair only when no single sentence is enough.
    chosen = max(passing, key=lambda s: (s.span.sentences == 1, s.score), default=None)
    return chosen, best


def check_claim(
    claim: Claim,
    passages: Sequence[Passage],
    spans: dict[int, list[CandidateSpan]],
    vectors: _Vectors,
    settings: Settings,
) -> ClaimVerdict:
    """Supported when a marker's passage holds a span that backs the claim."""
    valid = tuple(m for m in claim.markers if 1 <= m <= len(passages))
    invalid = tuple(m for m in claim.markers if m not in valid)
    if not tokenize(claim.text):
        return ClaimVerdict(claim, reason="no checkable content", ignored_markers=claim.markers)
    if _incomplete(claim.text):
        return ClaimVerdict(claim, reason="incomplete sentence", ignored_markers=claim.markers)
    if not claim.markers:
        return ClaimVerdict(claim, reason="no [n] citation marker")
    if not valid:
        return ClaimVerdict(
            claim, reason=f"[{invalid[0]}] points to no passage", ignored_markers=invalid
        )
    supports, nearest = [], []
    for marker in valid:
        chosen, best = _best_support(claim, marker, spans[marker], vectors, settings)
        supports += [chosen] if chosen else []
        nearest += [best] if best else []
    if supports:
        kept = {s.marker for s in supports}
        ignored = tuple(m for m in claim.markers if m not in kept)
        return ClaimVerdict(claim, tuple(supports), ignored_markers=ignored)
    return ClaimVerdict(claim, reason=_why_not(valid, nearest), ignored_markers=claim.markers)


def _incomplete(text: str) -> bool:
    words = tokenize(text, keep_stopwords=True)
    return bool(words) and words[-1] in _DANGLING


def _why_not(markers: Sequence[int], nearest: Sequence[Support]) -> str:
    cited = ", ".join(f"[{m}]" for m in markers)
    if not nearest:
        return f"passage {cited} has no sentence to compare"
    best = max(nearest, key=lambda s: s.score)
    return (
        f"not supported by passage {cited} (closest sentence shares "
        f"{best.overlap:.0%} of its words, similarity {best.similarity:.2f})"
    )


def is_supported(claim: str, span: str, embeddings: Encoder, settings: Settings) -> bool:
    """The check's rule for one claim and one span (used to audit shown citations)."""
    words = set(tokenize(_clean(claim)))
    if not words:
        return False
    vectors = embeddings.encode([_clean(claim), span])
    return (
        _overlap(words, span) >= settings.answer.citation_min_overlap
        and float(vectors[0] @ vectors[1]) >= settings.answer.citation_min_similarity
        and _numbers_present(_clean(claim), span)
    )


def check_answer(
    text: str, passages: Sequence[Passage], embeddings: Encoder, settings: Settings
) -> Check:
    """Check every sentence of *text*; passages are numbered 1..n as in the prompt."""
    claims = split_claims(text)
    if claims and is_refusal(claims[0].text):
        return Check(model_refused=True)
    claims = [c for c in claims if not is_refusal(c.text)]
    spans = {i: passage_spans(p) for i, p in enumerate(passages, start=1)}
    vectors = _Vectors(claims, [s for group in spans.values() for s in group], embeddings)
    verdicts = [check_claim(c, passages, spans, vectors, settings) for c in claims]
    return Check(verdicts)


def renumber(check: Check) -> tuple[str, list[Citation]]:
    """The answer text of the supported claims, with markers renumbered 1..n, and citations.

    Two claims backed by the same span share its number.
    """
    ids: dict[tuple[str, int, int], Citation] = {}
    sentences = []
    for verdict in check.supported:
        numbers = []
        for support in verdict.supports:
            span = support.span
            key = (span.passage.source, span.start, span.end)
            if key not in ids:
                ids[key] = _citation(len(ids) + 1, support)
            numbers.append(ids[key].id)
        markers = " ".join(f"[{n}]" for n in dict.fromkeys(numbers))
        sentences.append(f"{verdict.claim.text} {markers}")
    return " ".join(sentences), list(ids.values())


def _citation(number: int, support: Support) -> Citation:
    span = support.span
    return Citation.of_span(
        number, span.passage, start=span.start, end=span.end, quote=span.text, score=support.score
    )
