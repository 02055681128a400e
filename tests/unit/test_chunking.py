"""Unit tests: sentence splitting and chunking keep exact offsets and whole sentences."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from rag.chunking import chunk_text, split_sentences


def test_sentences_have_exact_offsets_and_respect_abbreviations():
    text = "Mr. Smith met the U.S. envoy. It went well!  Did it?\nTitle line\n\nLast one."
    spans = split_sentences(text)
    assert [s.text for s in spans] == [
        "Mr. Smith met the U.S. envoy.",
        "It went well!",
        "Did it?",
        "Title line",
        "Last one.",
    ]
    for span in spans:
        assert text[span.start : span.end] == span.text


def test_closing_quote_stays_with_its_sentence():
    text = "He said “go home.” Then he left."
    assert [s.text for s in split_sentences(text)] == ["He said “go home.”", "Then he left."]


def test_numbers_with_decimal_points_do_not_split():
    text = "The UK pledged £22 million (US$34.5 million) so far. Next."
    assert split_sentences(text)[0].text.endswith("so far.")


def test_chunks_are_whole_sentences_with_one_sentence_overlap(article_text):
    chunks = chunk_text(article_text, size=400, overlap=1)
    sentence_starts = {s.start for s in split_sentences(article_text)}
    sentence_ends = {s.end for s in split_sentences(article_text)}
    assert len(chunks) > 5
    for previous, chunk in itertools.pairwise(chunks):
        assert chunk.start in sentence_starts and chunk.end in sentence_ends
        if len(split_sentences(previous.text)) > 1:
            assert chunk.start < previous.end, "neighbouring chunks share a sentence"
        assert chunk.start > previous.start, "chunking always advances"
    assert chunks[0].start == 0 and chunks[-1].end == len(article_text.rstrip())


def test_every_sentence_is_in_some_chunk(article_text):
    chunks = chunk_text(article_text, size=300, overlap=0)
    for sentence in split_sentences(article_text):
        assert any(c.start <= sentence.start and sentence.end <= c.end for c in chunks)


def test_an_over_long_sentence_is_cut_at_word_boundaries():
    text = "word " * 500 + "end."
    chunks = chunk_text(text, size=100, overlap=0)
    assert all(len(c.text) <= 100 for c in chunks)
    assert all(not c.text.startswith(" ") and not c.text.endswith(" ") for c in chunks)
    assert chunks[-1].text.endswith("end.")


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(max_size=2000),
    size=st.integers(min_value=20, max_value=500),
    overlap=st.integers(min_value=0, max_value=3),
)
def test_offsets_are_exact_for_any_unicode(text, size, overlap):
    for span in split_sentences(text):
        assert text[span.start : span.end] == span.text
        assert span.text.strip() == span.text and span.text
    chunks = chunk_text(text, size=size, overlap=overlap)
    for i, chunk in enumerate(chunks):
        assert chunk.index == i
        assert text[chunk.start : chunk.end] == chunk.text
    if text.strip():
        assert chunks, "non-blank text yields at least one chunk"
