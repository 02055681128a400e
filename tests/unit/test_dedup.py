"""Repetition cannot take over retrieval: collapse, per-document cap, the ingest flag.

Fast: fake embeddings (bag of words) and a fake vector index that, like an HNSW graph
full of copies, answers with whatever is nearest in its records, trusted or not.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from pathlib import Path

import pytest
from langchain_core.documents import Document

from rag.config import IngestSettings, RetrievalSettings, Settings
from rag.documents import SourceDocument
from rag.documents.chunking import chunk_text
from rag.ingest.pipeline import IngestReport, _groups, _Planned
from rag.retrieval.dedup import (
    Collapser,
    Repetition,
    collapse,
    distinct_chunks,
    repetition_warning,
    text_key,
)
from rag.retrieval.hybrid import HybridRetriever
from rag.retrieval.lexical import LexicalIndex
from rag.retrieval.lexical_snapshot import Snapshot
from rag.store import DocumentStore, ManifestEntry, Owners, StoreView
from tests.fakes import HashingEmbeddings

FP = "fp"
INGEST = IngestSettings()
NEAR = RetrievalSettings().near_duplicate
ORCHARD = (
    "Holloway orchard\n\n"
    "The Holloway orchard pressed 4,200 jars of quince jelly in 2019. "
    "Its cider press was mended by Ada Birch after the spring floods. "
    "Rain in June cut the plum harvest by a third. "
    "Visitors may walk the lower meadow on Sundays from April to October. "
    "The beehives behind the barn gave 60 kilograms of honey. "
    "A new hedge of hawthorn now shelters the young pear trees."
)
# Repetition that shares the question's words, so it is near the question too.
JUNK_SENTENCE = "The orchard jars are jars of the orchard. "


# ---- the definitions --------------------------------------------------------------


def test_same_words_are_one_text_whatever_the_case_spacing_and_punctuation():
    assert text_key("The tide  turns at Noon!") == text_key("the tide turns, at noon")
    assert text_key("The tide turns at noon") != text_key("The tide turns at one")
    assert text_key("*** ***") != text_key("--- ---")  # no words: the symbols decide


def test_repeated_chunks_of_a_document_are_kept_once_with_their_own_offsets():
    text = "Ferry times.\n\n" + "The ferry leaves at dawn. " * 300 + "\n\nFares are £3."
    chunks = chunk_text(text, size=200, overlap=1)
    kept, repetition = distinct_chunks(chunks)
    assert len(chunks) > 30 and len(kept) <= 4
    assert [c.index for c in kept] == sorted(c.index for c in kept)
    assert all(text[c.start : c.end] == c.text for c in kept)
    assert any("£3" in c.text for c in kept)  # what differs is never dropped
    assert repetition == Repetition(len(chunks), len(kept))
    assert repetition.mostly_repeated(INGEST)


def test_a_document_without_repeats_keeps_every_chunk_and_is_not_flagged():
    chunks = chunk_text(ORCHARD, size=120, overlap=1)
    kept, repetition = distinct_chunks(chunks)
    assert kept == chunks and repetition.share == 0
    assert repetition_warning("notes/orchard.txt", repetition, INGEST) is None


def test_the_flag_names_the_document_and_the_share_that_repeats():
    warning = repetition_warning("uploads/junk.txt", Repetition(total=1667, distinct=2), INGEST)
    assert warning is not None
    assert warning.startswith("uploads/junk.txt: 99% of its 1,667 chunks repeat one another")
    assert "2 stored" in warning


@pytest.mark.parametrize(
    ("total", "distinct", "flagged"),
    [(10, 5, True), (10, 6, False), (3, 1, False), (4, 2, True)],
)
def test_mostly_repeated_means_at_least_half_of_at_least_four_chunks(total, distinct, flagged):
    assert Repetition(total, distinct).mostly_repeated(INGEST) is flagged


def test_what_mostly_repeated_means_is_a_setting():
    stricter = IngestSettings(mostly_repeated=0.7, mostly_repeated_min_chunks=12)
    assert Repetition(10, 5).mostly_repeated(INGEST)
    assert not Repetition(10, 5).mostly_repeated(stricter)  # too few chunks
    assert not Repetition(20, 10).mostly_repeated(stricter)  # half is not 70%
    assert Repetition(20, 6).mostly_repeated(stricter)


def test_how_near_a_duplicate_is_is_a_setting():
    a = _hit("a1", "The ferry leaves the harbour at dawn every day of the week.", "x")
    b = _hit("b1", "The ferry leaves the harbour at dawn every day of the month.", "y")
    assert collapse([a, b], Collapser(NEAR), 5, 5).keys == ["a1", "b1"]
    assert collapse([a, b], Collapser(0.5), 5, 5).keys == ["a1"]


def test_ingest_stores_a_repeated_text_once_and_reports_the_document(tmp_path: Path):
    settings = Settings(_env_file=None, store={"store_dir": tmp_path}, ingest={"chunk_size": 200})
    junk = _source("uploads/junk.txt", JUNK_SENTENCE * 400)
    orchard = _source("notes/orchard.txt", ORCHARD)
    plan = [_Planned(None, d.source, 0, d) for d in (junk, orchard)]
    report = IngestReport()
    stored = {
        doc.source: chunks for group in _groups(plan, settings, report) for doc, chunks in group
    }
    assert len(stored["uploads/junk.txt"]) <= 2
    assert stored["notes/orchard.txt"] == chunk_text(ORCHARD, 200, settings.ingest.chunk_overlap)
    [warning] = report.warnings
    assert warning.startswith("uploads/junk.txt: 9") and "repeat one another" in warning


# ---- query time: collapse and cap ---------------------------------------------------


def _hit(cid: str, text: str, sha: str, score: float = 1.0) -> tuple[Document, float]:
    return Document(page_content=text, metadata={"doc_sha256": sha}, id=cid), score


def test_a_sentence_repeated_five_times_and_three_times_is_one_candidate():
    hits = [
        _hit("a", "The lock opens at six. " * 5, "doc-a"),
        _hit("b", "The lock opens at six. " * 3, "doc-b"),
        _hit("c", "The lock closes at nine.", "doc-c"),
    ]
    side = collapse(hits, Collapser(NEAR), per_document=10, limit=10)
    assert side.keys == ["a", "c"]


def test_chunks_that_differ_by_a_figure_are_not_collapsed():
    base = (
        "In {} the Holloway orchard pressed 4,200 jars of quince jelly and sold them at the fair."
    )
    hits = [_hit("y1", base.format(2019), "d1"), _hit("y2", base.format(2020), "d2")]
    assert collapse(hits, Collapser(NEAR), per_document=10, limit=10).keys == ["y1", "y2"]


def test_each_document_keeps_at_most_its_cap_and_the_others_fill_the_list():
    hits = [_hit(f"big{i}", f"Passage {i} of the big report.", "big") for i in range(10)]
    hits += [_hit("small", "The one passage of the small note.", "small")]
    side = collapse(hits, Collapser(NEAR), per_document=3, limit=5)
    assert side.keys == ["big0", "big1", "big2", "small"]
    assert side.crowding == {"big"}


def test_one_collapser_names_a_group_after_the_side_that_saw_it_first():
    collapser = Collapser(NEAR)
    dense = collapse([_hit("d7", "Tea is served at four.", "x")], collapser, 5, 5)
    lexical = collapse([_hit("d9", "tea is served at FOUR", "y")], collapser, 5, 5)
    assert dense.keys == lexical.keys == ["d7"]  # fused as one passage


# ---- the retriever, over a fake store -------------------------------------------------


class _Index(DocumentStore):
    """A fake vector store: exact cosine over every record, trusted or not, like a
    graph index whose neighbours are copies; untrusted records are dropped after the
    query unless ``trusted_only`` (as :class:`rag.store.DocumentStore` does)."""

    def __init__(self, records: list[Document], owners: Owners) -> None:  # no Chroma
        self.embeddings = HashingEmbeddings()
        self.records = records
        self.vectors = self.embeddings.embed_documents([d.page_content for d in records])
        self.owners = owners
        self.calls: list[tuple[frozenset[str], bool]] = []

    def view(self) -> StoreView:
        return StoreView("g1", {}, self.owners)

    def dense_search(
        self,
        vector: list[float],
        n: int,
        owners: Owners | None = None,
        *,
        skip: Collection[str] = (),
        trusted_only: bool = False,
    ) -> list[tuple[Document, float]]:
        self.calls.append((frozenset(skip), trusted_only))
        trusted = {sha for sha, _ in self.owners}
        scored = [
            (doc, _cosine(vector, vec))
            for doc, vec in zip(self.records, self.vectors, strict=True)
            if doc.metadata["doc_sha256"] not in skip
            and (not trusted_only or doc.metadata["doc_sha256"] in trusted)
        ]
        scored.sort(key=lambda pair: -pair[1])
        return [(d, s) for d, s in scored[:n] if d.metadata["doc_sha256"] in trusted]

    def chunk_vectors(self, ids: Sequence[str]) -> dict[str, Sequence[float]]:
        vectors = {d.id: v for d, v in zip(self.records, self.vectors, strict=True)}
        return {cid: vectors[cid] for cid in ids if cid in vectors}


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / (
        math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)) or 1.0
    )


def _source(name: str, text: str) -> SourceDocument:
    return SourceDocument(source=name, title=name, text=text, sha256=f"sha-{name}")


def _chunks(doc: SourceDocument, size: int = 120) -> list[Document]:
    return [
        Document(
            page_content=c.text,
            metadata={
                "source": doc.source,
                "title": doc.title,
                "start": c.start,
                "end": c.end,
                "index": c.index,
                "doc_sha256": doc.sha256,
                "fingerprint": FP,
            },
            id=f"{doc.source}#{c.index}",
        )
        for c in chunk_text(doc.text, size, 1)
    ]


def _retriever(
    trusted: list[SourceDocument],
    stray: Sequence[Document] = (),
    chars: dict[str, int] | None = None,
    **settings: dict[str, object],
) -> tuple[HybridRetriever, _Index]:
    """A retriever over *trusted* (each document's manifest ``chars`` from *chars*, else
    its text's length) and *stray* chunks no document vouches for."""
    records = [chunk for doc in trusted for chunk in _chunks(doc)]
    sizes = {d.source: (chars or {}).get(d.source, len(d.text)) for d in trusted}
    stored = {d.source: sum(r.metadata["source"] == d.source for r in records) for d in trusted}
    owners: Owners = {
        (d.sha256, FP): [
            ManifestEntry(d.source, d.title, d.sha256, FP, stored[d.source], sizes[d.source], "t")
        ]
        for d in trusted
    }
    index = _Index([*records, *stray], owners)
    config = Settings(_env_file=None, retrieval={"candidates": 5}).updated(**settings)
    retriever = HybridRetriever(k=3, settings=config, store=index)
    chunks = [{"id": d.id, "text": d.page_content, "metadata": d.metadata} for d in records]
    snapshot = Snapshot("g1", LexicalIndex(c["text"] for c in chunks), chunks, owners)
    retriever._snapshot = snapshot
    return retriever, index


QUESTION = "How many jars did the orchard press?"


def test_a_junk_document_of_copies_cannot_push_the_answer_out():
    junk = _source("uploads/junk.txt", JUNK_SENTENCE * 300)  # 100+ identical chunks
    retriever, index = _retriever([junk, _source("notes/orchard.txt", ORCHARD)])
    found = retriever.invoke(QUESTION)  # the junk is near the question: one place at most
    assert any("4,200 jars" in d.page_content for d in found)
    assert sum(d.metadata["source"] == "uploads/junk.txt" for d in found) <= 1
    assert len({d.page_content for d in found}) == len(found)
    assert len(index.calls) >= 2 and "sha-uploads/junk.txt" in index.calls[-1][0]


def test_the_same_passage_in_two_documents_is_returned_once():
    copy = _source("uploads/orchard-copy.txt", ORCHARD.replace("Holloway orchard\n\n", ""))
    retriever, _ = _retriever([_source("notes/orchard.txt", ORCHARD), copy])
    found = retriever.invoke(QUESTION)
    texts = [text_key(d.page_content) for d in found]
    assert len(texts) == len(set(texts))


def test_chunks_left_by_a_killed_removal_cannot_crowd_out_trusted_ones():
    gone = _source("old/junk.txt", JUNK_SENTENCE * 300)
    stray = _chunks(gone)  # in the index, no longer in the manifest
    retriever, index = _retriever([_source("notes/orchard.txt", ORCHARD)], stray)
    found = retriever.invoke(QUESTION)
    assert found and "4,200 jars" in found[0].page_content
    assert index.calls[-1][1] is True  # asked again over trusted documents only


def test_a_document_stored_as_a_few_repeats_ranks_after_the_real_ones():
    # 300 KB of one paragraph, stored as its one distinct chunk: it is near the
    # question, yet every chunk of the real document comes before it.
    junk = _source("uploads/filler.txt", JUNK_SENTENCE * 2)
    orchard = _source("notes/orchard.txt", ORCHARD)
    retriever, _ = _retriever([junk, orchard], chars={"uploads/filler.txt": 300_000})
    found = retriever.invoke(QUESTION)
    assert [d.metadata["source"] for d in found] == ["notes/orchard.txt"] * 3
    kept, _ = _retriever([junk, orchard])  # the same chunk, not a repeat: ranked on merit
    assert "uploads/filler.txt" in [d.metadata["source"] for d in kept.invoke(QUESTION)]


def test_the_per_document_cap_is_a_setting():
    other = _source("notes/bees.txt", "The beehives gave honey. The orchard jars held it.")
    capped, _ = _retriever(
        [_source("notes/orchard.txt", ORCHARD), other], retrieval={"max_per_document": 1}
    )
    found = capped.invoke(QUESTION)
    assert len({d.metadata["source"] for d in found}) == len(found) == 2  # one each
    with pytest.raises(ValueError, match="max_per_document"):
        Settings(_env_file=None, retrieval={"max_per_document": 0})


def test_how_hard_a_crowded_question_is_asked_again_is_a_setting():
    gone = _source("old/junk.txt", JUNK_SENTENCE * 300)
    stray = _chunks(gone)
    for requeries, calls in [(2, 2), (1, 2), (0, 1)]:
        retriever, index = _retriever(
            [_source("notes/orchard.txt", ORCHARD)], stray, retrieval={"requeries": requeries}
        )
        retriever.invoke(QUESTION)
        assert len(index.calls) == calls  # the first query, then at most *requeries* more


def test_without_repeats_nothing_is_asked_twice():
    retriever, index = _retriever([_source("notes/orchard.txt", ORCHARD)])
    assert "4,200 jars" in retriever.invoke(QUESTION)[0].page_content
    assert len(index.calls) == 1
