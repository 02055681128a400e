"""Repetition: chunks that say the same thing, found at ingest and collapsed at query time.

Two chunks are *the same* when their normalised text is equal: the words of
:func:`rag.retrieval.lexical.tokenize` (case, punctuation and spacing ignored, stopwords kept).
Two chunks are *near-duplicates* when, in addition, the sets of their word 3-grams
overlap by at least the setting ``retrieval.near_duplicate`` (Jaccard): a sentence
repeated 500 times and the same sentence repeated 3 times are near-duplicates (same
3-grams), two chunks that differ by a figure or a name are not.

At ingest, :func:`distinct_chunks` keeps the first of each run of *same* chunks of one
document (a chunk repeated 30,000 times is stored once, so its copies cannot crowd the
vector index's graph) and :func:`repetition_warning` flags a document that is mostly
repetition. At query time, :class:`Collapser` gives every candidate the key of its
group of near-duplicates (across documents too), and :func:`collapse` keeps each
group's best-ranked member and at most a given number of candidates per document;
:func:`stored_mostly_repeats` tells, from the manifest, which stored documents were
mostly repetition, so retrieval can rank their candidates after all the others.

This module does not search, rank or fuse (see :mod:`rag.retrieval.hybrid`) and does not
store anything.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from langchain_core.documents import Document

from rag.config import IngestSettings
from rag.documents.chunking import Chunk
from rag.retrieval.lexical import tokenize

log = logging.getLogger(__name__)


@lru_cache(maxsize=8192)  # a query's candidates are met again by its other passes
def text_key(text: str) -> str:
    """The normalised form of *text* as a short hash: same words, same key.

    Text without any word (only symbols) keys on its spacing-collapsed, lower-cased self.
    """
    words = tokenize(text, keep_stopwords=True)
    basis = " ".join(words) if words else " ".join(text.lower().split())
    return hashlib.blake2b(basis.encode("utf-8"), digest_size=12).hexdigest()


@lru_cache(maxsize=1024)  # ~10 KB each
def shingles(text: str) -> frozenset[tuple[str, ...]]:
    """The set of word 3-grams of *text* (the words themselves when it has fewer than 3)."""
    words = tokenize(text, keep_stopwords=True)
    if len(words) < 3:
        return frozenset({tuple(words)})
    return frozenset(zip(words, words[1:], words[2:], strict=False))


def jaccard(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]]) -> float:
    """|a & b| / |a | b| (1.0 for two empty sets)."""
    union = len(a | b)
    return len(a & b) / union if union else 1.0


# ----- ingest -------------------------------------------------------------------------


@dataclass(frozen=True)
class Repetition:
    """How much of one document repeats itself: ``total`` chunks, ``distinct`` kept."""

    total: int
    distinct: int

    @property
    def share(self) -> float:
        """Share of the chunks that repeat an earlier chunk of the same document."""
        return (self.total - self.distinct) / self.total if self.total else 0.0

    def mostly_repeated(self, ingest: IngestSettings) -> bool:
        """Whether the share that repeats reaches ``ingest.mostly_repeated`` (of enough chunks)."""
        return (
            self.total >= ingest.mostly_repeated_min_chunks and self.share >= ingest.mostly_repeated
        )


def distinct_chunks(chunks: Sequence[Chunk]) -> tuple[list[Chunk], Repetition]:
    """The first chunk of each normalised text, in order, and how many were repeats.

    Kept chunks keep their ``index`` (position in the full chunking), so their ids and
    offsets are those of the same chunks when nothing repeats.
    """
    seen: set[str] = set()
    kept = []
    for chunk in chunks:
        key = text_key(chunk.text)
        if key not in seen:
            seen.add(key)
            kept.append(chunk)
    return kept, Repetition(len(chunks), len(kept))


def stored_mostly_repeats(stored_chunks: int, chars: int, chunk_size: int) -> bool:
    """Whether a stored document is mostly repetition, from its manifest numbers alone.

    Chunks hold at most *chunk_size* characters and every distinct chunk is stored, so a
    document whose *stored_chunks* could not hold even half of its *chars* had at least
    half of its text dropped as repeats at ingest.
    """
    return stored_chunks * chunk_size * 2 < chars


def repetition_warning(name: str, repetition: Repetition, ingest: IngestSettings) -> str | None:
    """The line an ingest shows for a document that is mostly repetition, else None."""
    if not repetition.mostly_repeated(ingest):
        return None
    percent = int(repetition.share * 100)  # floor: never says 100% while one chunk differs
    return (
        f"{name}: {percent}% of its {repetition.total:,} chunks repeat one another; "
        f"each text is kept once ({repetition.distinct:,} stored), so it ranks as "
        f"{repetition.distinct:,} passage{'s' if repetition.distinct != 1 else ''}"
    )


# ----- query time ---------------------------------------------------------------------


@dataclass
class Collapser:
    """Gives each candidate chunk the key of its group of near-duplicates.

    A group's key is the id of the first member seen, so the candidates of the list
    given first (the dense side) name the groups. Meant for a query's few dozen
    candidates: near-duplicates are compared pairwise.
    """

    threshold: float  # retrieval.near_duplicate
    _exact: dict[str, str] = field(default_factory=dict)  # text key -> group key
    _groups: list[tuple[str, frozenset[tuple[str, ...]]]] = field(default_factory=list)
    _by_id: dict[str, str] = field(default_factory=dict)  # chunk id -> group key

    def key(self, doc: Document) -> str:
        """The group key of *doc* (its own id when nothing seen before is like it)."""
        cid = doc.id or ""
        if cid in self._by_id:
            return self._by_id[cid]
        exact = text_key(doc.page_content)
        group = self._exact.get(exact)
        if group is None:
            grams = shingles(doc.page_content)
            group = self._near(grams)
            if group is None:
                group = cid
                self._groups.append((group, grams))
            self._exact[exact] = group
        self._by_id[cid] = group
        return group

    def _near(self, grams: frozenset[tuple[str, ...]]) -> str | None:
        for group, other in self._groups:
            if jaccard(grams, other) >= self.threshold:
                return group
        return None


@dataclass(frozen=True)
class Collapsed:
    """One side's candidates after collapsing: group keys in rank order, and who crowded."""

    keys: list[str]
    docs: dict[str, tuple[Document, float]]  # group key -> best-ranked member and its score
    crowding: set[str]  # documents (content hashes) that lost candidates to the collapse


def collapse(
    hits: Iterable[tuple[Document, float]], collapser: Collapser, per_document: int, limit: int
) -> Collapsed:
    """Keep the best-ranked member of each near-duplicate group, at most *per_document*
    candidates per document, and at most *limit* candidates in all.

    *hits* are ranked best first. A document is counted by its content hash
    (``doc_sha256``), so one file under two names is one document. It is *crowding*
    when more of its candidates were dropped (repeats, or over its cap) than kept.
    """
    keys: list[str] = []
    docs: dict[str, tuple[Document, float]] = {}
    kept: dict[str, int] = {}
    dropped: dict[str, int] = {}
    for doc, score in hits:
        owner = document_of(doc)
        group = collapser.key(doc)
        if group in docs or kept.get(owner, 0) >= per_document:
            dropped[owner] = dropped.get(owner, 0) + 1
            continue
        if len(keys) >= limit:
            break
        kept[owner] = kept.get(owner, 0) + 1
        keys.append(group)
        docs[group] = (doc, score)
    crowding = {owner for owner, n in dropped.items() if n > kept.get(owner, 0)}
    return Collapsed(keys, docs, crowding)


def document_of(doc: Document) -> str:
    """The document a chunk belongs to: its content hash (its source when it has none)."""
    return str(doc.metadata.get("doc_sha256") or doc.metadata.get("source", ""))
