"""Fast unit tests of the core: ids, fusion, questions, files, citations."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rag.answer import Answer, Passage
from rag.answering.extractive import answer_extractively
from rag.chain import clean_question
from rag.config import REFUSAL, Settings
from rag.documents import parse_bytes
from rag.errors import DocumentError, QuestionError
from rag.retrieval.hybrid import reciprocal_rank_fusion
from rag.store import chunk_id
from tests.fakes import GAP_DECISION, OverlapReader

# ---- ids and fusion ----------------------------------------------------------


def test_chunk_ids_stay_those_earlier_versions_wrote():
    # An id must be found again after an upgrade: a changed formula would store every
    # chunk a second time (or re-embed every document) on the next ingest.
    assert chunk_id("h1", "fp", 0) == "6208c9590a5fbc70c6a04cb1f126ea93"


def test_chunk_ids_depend_on_content_chunking_settings_and_position():
    a = Settings(_env_file=None)
    fp = a.chunking_fingerprint()
    assert len({chunk_id("h1", fp, 0), chunk_id("h2", fp, 0), chunk_id("h1", fp, 1)}) == 3
    assert len(chunk_id("h1", fp, 0)) == 32
    assert fp != Settings(_env_file=None, ingest={"chunk_size": 300}).chunking_fingerprint()
    assert fp != Settings(_env_file=None, embedding={"model": "other"}).chunking_fingerprint()
    # Answer settings do not touch the chunks: changing them re-embeds nothing.
    answer_only = Settings(_env_file=None, retrieval={"k": 8}, answer={"threshold": 0.3})
    assert answer_only.chunking_fingerprint() == fp


def test_rrf_rewards_agreement_between_rankings():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "d", "a"]], k=60)
    ids = [i for i, _ in fused]
    assert ids == ["b", "a", "d", "c"]  # ranks 2+1 beat 1+3; d and c appear once
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)
    assert dict(fused)["d"] == pytest.approx(1 / 62)


def test_rrf_of_one_list_keeps_its_order():
    assert [i for i, _ in reciprocal_rank_fusion([["x", "y", "z"]])] == ["x", "y", "z"]


# ---- questions ------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["", "   ", "\x00\x01\n", None, 42])
def test_empty_or_non_text_questions_are_rejected(bad):
    with pytest.raises(QuestionError):
        clean_question(bad, 100)


def test_long_questions_get_a_clear_error_and_control_chars_are_removed():
    with pytest.raises(QuestionError, match="under 2,000"):
        clean_question("x" * 100_000, 2000)
    assert clean_question("Who\x07 is\tshe?\r\n", 100) == "Who is she?"


# ---- files ------------------------------------------------------------------


def test_html_is_reduced_to_visible_text():
    html = (
        b"<html><head><title>T</title><script>alert(1)</script></head>"
        b"<body><p>Hello <b>world</b>.</p></body></html>"
    )
    doc = parse_bytes(html, "page.html", "page.html")
    assert doc.title == "T"
    assert "alert" not in doc.text and "Hello" in doc.text and "world" in doc.text


def test_text_files_keep_their_first_line_as_title_and_normalise_newlines():
    doc = parse_bytes("\ufeffMy title\r\n\r\nBody.".encode(), "a.txt", "a.txt")
    assert doc.title == "My title" and doc.text == "My title\n\nBody."


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.txt", "contains no text"),
        (b"\x00\x01\x02binary", "x.txt", "binary"),
        (b"caf\xe9 au lait", "latin1.txt", "not UTF-8"),
        (b"hello", "sheet.xlsx", "unsupported file type"),
        (b"not a pdf", "broken.pdf", "not a readable PDF"),
    ],
)
def test_bad_files_get_a_clear_error(data, name, message):
    with pytest.raises(DocumentError, match=message):
        parse_bytes(data, name, name)


# ---- extractive answers and citation mapping -----------------------------------

SOURCE = (
    "Calais deal\n\nBritain is to build a police command center in Calais. "
    "The UK has pledged £22 million towards security at the port. "
    "Some 5,000 people are camped in the port."
)


def _passage(start: int, end: int, rank: int, dense: float = 0.5) -> Passage:
    return Passage(rank, "doc.txt", "Calais deal", start, end, 0.1, SOURCE[start:end], "sha", dense)


def _answer(question: str, passages: list[Passage], **settings) -> Answer:
    config = Settings(_env_file=None, **settings)
    return answer_extractively(question, passages, OverlapReader(), GAP_DECISION, config)


def test_citations_point_at_the_exact_sentence_in_the_source():
    passages = [_passage(13, len(SOURCE), 1)]
    answer = _answer("How much has the UK pledged towards security?", passages)
    assert not answer.refused
    assert answer.markers() == [1]
    cite = answer.citations[0]
    assert cite.quote == "The UK has pledged £22 million towards security at the port."
    assert SOURCE[cite.start : cite.end] == cite.quote
    assert SOURCE[cite.answer_start : cite.answer_end] == "£22 million"
    assert cite.text == passages[0].text and cite.passage_rank == 1
    assert answer.answer == f"{cite.quote} [1]"


def test_offsets_hold_for_a_passage_in_the_middle_of_its_document():
    start = SOURCE.index("The UK")
    question = "How much has the UK pledged towards security?"
    answer = _answer(question, [_passage(start, len(SOURCE), 1)])
    cite = answer.citations[0]
    assert SOURCE[cite.start : cite.end] == cite.quote
    assert SOURCE[cite.answer_start : cite.answer_end] == cite.short_answer == "£22 million"


def test_the_same_answer_in_two_documents_is_cited_in_both_numbered_in_order():
    first = _passage(13, len(SOURCE), 1)
    copy = replace(first, rank=2, source="copy.txt")
    other = replace(_passage(13, len(SOURCE), 3), source="other.txt", text="Rain fell in June.")
    question = "How much has the UK pledged towards security?"
    answer = _answer(question, [first, copy, other])
    assert answer.markers() == [c.id for c in answer.citations] == [1, 2]
    assert [c.source for c in answer.citations] == ["doc.txt", "copy.txt"]
    assert {c.short_answer for c in answer.citations} == {"£22 million"}
    for cite in answer.citations:
        assert SOURCE[cite.start : cite.end] == cite.quote


def test_the_same_span_from_overlapping_chunks_is_cited_once():
    a = _passage(13, len(SOURCE), 1)
    b = _passage(SOURCE.index("The UK"), len(SOURCE), 2)
    answer = _answer("How much has the UK pledged towards security?", [a, b])
    assert len(answer.citations) == 1


def test_weak_evidence_far_in_meaning_is_refused_with_the_fixed_sentence():
    answer = _answer("What is the boiling point of water?", [_passage(13, len(SOURCE), 1, 0.0)])
    assert answer.refused and answer.answer == REFUSAL and answer.citations == []


def test_footnote_markers_in_a_quote_are_not_read_as_citations():
    text = "Cyrus created the largest empire the world had yet seen.[8] It fell in 330 BC.[9]"
    passage = Passage(1, "wiki.md", "Empire", 0, len(text), 0.1, text, "sha", 0.5)
    answer = _answer("Who created the largest empire the world had yet seen?", [passage])
    assert answer.outcome == "answered"
    assert answer.markers() == [1]  # not 8: the footnote is inert in the answer text
    cite = answer.citations[0]
    assert text[cite.start : cite.end] == cite.quote and "[8]" in cite.quote  # exact quote
