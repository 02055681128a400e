"""Unit tests: sentence splitting and chunking keep exact offsets and whole sentences."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from rag.documents.chunking import chunk_text, indexed_text, split_sentences


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


# ---- text as written: hard-wrapped prose, structure ---------------------------------

SENTENCES = [
    "The hopper holds up to 25 grams of beans, enough for two cups.",
    "Unscrew the top nut and lift out the inner burr before you brush it.",
    "Every grinder is assembled by hand in our workshop in Sheffield.",
    "Allotment holders must keep their plot tidy and cultivated all year.",
    "The committee inspects every plot in April, July and October.",
    "Water butts may be filled from the mains tap only after 6 pm.",
    "Bonfires are not allowed between 1 May and 30 September.",
    "A replacement key for the main gate costs £12 from the treasurer.",
]


@settings(max_examples=200, deadline=None)
@given(
    picks=st.lists(st.integers(0, len(SENTENCES) - 1), min_size=2, max_size=14),
    width=st.integers(min_value=40, max_value=90),
    breaks=st.lists(st.integers(1, 4), min_size=1, max_size=4),
)
def test_hard_wrapped_paragraphs_split_into_whole_sentences_with_exact_offsets(
    picks, width, breaks
):
    """Property: prose wrapped at any width splits into the sentences as written, never
    at a wrap, and every span indexes the original (unchanged) text."""
    import textwrap

    paragraphs, expected, start = [], [], 0
    for size in breaks:
        chosen = [SENTENCES[i] for i in picks[start : start + size]] or [SENTENCES[0]]
        start += size
        paragraphs.append(textwrap.fill(" ".join(chosen), width=width))
        expected.extend(chosen)
    text = "\n\n".join(paragraphs) + "\n"
    spans = split_sentences(text)
    assert [" ".join(s.text.split()) for s in spans] == expected
    for span in spans:
        assert text[span.start : span.end] == span.text
    for chunk in chunk_text(text, size=200, overlap=1):
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.text.rstrip().endswith("."), "a chunk ends where a sentence ends"


def test_list_items_label_lines_and_table_rows_are_units_of_their_own():
    text = (
        "Opening hours:\n"
        "Monday to Friday: 7:00 to 21:00\n"
        "Saturday: 8:00 to 18:00\n\n"
        "- Adult swim: £5.20\n"
        "- Child swim (under 16): £2.60\n\n"
        "| Lane | Use |\n|---|---|\n| 1 | Slow |\n| 2 | Fast |\n"
    )
    assert [s.text for s in split_sentences(text)] == [
        "Opening hours:",
        "Monday to Friday: 7:00 to 21:00",
        "Saturday: 8:00 to 18:00",
        "- Adult swim: £5.20",
        "- Child swim (under 16): £2.60",
        "| Lane | Use |",
        "|---|---|",
        "| 1 | Slow |",
        "| 2 | Fast |",
    ]


POLICY = """# Travel policy

Intro line about the policy as a whole.

## 4. Hotels

Nightly limits, including taxes:

- Manchester: up to £140 per night

### London

- Central: up to £210 per night
- Outer boroughs: up to £150 per night

## 5. Mileage

| Vehicle | Rate per mile |
|---|---|
| Car | 45p |
| Motorcycle | 24p |
| Bicycle | 20p |
"""


def test_chunks_carry_their_heading_path_and_never_hold_a_heading_line():
    from rag.documents.structure import markdown_headings

    chunks = chunk_text(POLICY, size=600, overlap=1, headings=markdown_headings(POLICY))
    by_heading = {c.heading: c.text for c in chunks}
    assert by_heading == {
        "": "Intro line about the policy as a whole.",
        "4. Hotels": "Nightly limits, including taxes:\n\n- Manchester: up to £140 per night",
        "4. Hotels > London": (
            "- Central: up to £210 per night\n- Outer boroughs: up to £150 per night"
        ),
        "5. Mileage": POLICY[POLICY.index("| Vehicle") :].rstrip(),
    }  # the only h1 is the document's title: not part of any path
    for chunk in chunks:
        assert "#" not in chunk.text
        assert POLICY[chunk.start : chunk.end] == chunk.text


def test_a_chunk_starting_inside_a_table_carries_its_header_row_for_retrieval():
    from rag.documents.structure import markdown_headings

    chunks = chunk_text(POLICY, size=60, overlap=0, headings=markdown_headings(POLICY))
    rows = [c for c in chunks if c.heading == "5. Mileage"]
    assert rows[0].text.startswith("| Vehicle | Rate per mile |\n|---|---|\n| Car | 45p |")
    later = rows[1:]
    assert later and all(c.context == "| Vehicle | Rate per mile |" for c in later)
    assert all("Vehicle" not in c.text for c in later)
    indexed = indexed_text(later[0].text, {"title": "Travel policy", **vars(later[0])})
    assert indexed.splitlines()[:3] == [
        "Travel policy",
        "5. Mileage",
        "| Vehicle | Rate per mile |",
    ]


def test_an_faq_question_line_stays_in_the_chunk_of_its_answer():
    faq = "\n\n".join(
        f"Q: Question number {n} about the grinder?\n"
        f"A: Answer number {n} is a sentence long enough to fill the chunk.\n"
        "It goes on for a second sentence here."
        for n in range(1, 8)
    )
    for size in (120, 200, 300):
        for chunk in chunk_text(faq, size=size, overlap=1):
            first = chunk.text.splitlines()[0]
            if first.startswith("Q:"):
                assert "\nA: " in chunk.text, "a question is never cut from its answer"
            else:  # a chunk that starts inside an answer names its question
                assert chunk.context.startswith("Q: Question number")
            assert not chunk.text.rstrip().endswith("?")


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(list("ab #=-|:*?Q\n\r\t1.\x00é")), max_size=600),
    size=st.integers(min_value=20, max_value=300),
)
def test_offsets_and_headings_stay_exact_on_any_markdown_like_text(text, size):
    """Property: on text full of markup characters (and NUL, CR), reflow keeps the length,
    every heading found lies on its line, and every chunk indexes the text exactly."""
    from rag.documents.structure import markdown_headings, reflow

    assert len(reflow(text)) == len(text)
    headings = markdown_headings(text)
    for heading in headings:
        assert heading.name and text[heading.start : heading.end].strip()
    for chunk in chunk_text(text, size=size, overlap=1, headings=headings):
        assert text[chunk.start : chunk.end] == chunk.text
        assert not any(h.start <= chunk.start < h.end for h in headings if h.end > h.start)
