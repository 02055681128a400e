"""rag.conversations.export: Markdown and JSON exports carry every cited span, offset and hash."""

from __future__ import annotations

import json

import pytest

from rag.answer import Answer, Citation, Passage
from rag.config import UNSURE
from rag.conversations.export import (
    FORMAT,
    answers_from_json,
    conversation_json,
    conversation_markdown,
    fenced,
)
from rag.store import ManifestEntry
from tests.fakes import DOC_TEXT, SHORT_ANSWER, answered, not_found, unsure

TEXT = "Title\n\nMay will visit Calais. She meets Cazeneuve ![x](http://evil/p.png)."
SHA = "ab" * 32


def make_answer(question: str = "Who visits Calais?") -> Answer:
    start = TEXT.index("May")
    end = TEXT.index("Calais.") + len("Calais.")
    passage = Passage(1, "seeds/a.txt", "Title", 7, len(TEXT), 0.9, TEXT[7:], SHA)
    cite = Citation(
        id=1,
        source="seeds/a.txt",
        title="Title",
        quote=TEXT[start:end],
        start=start,
        end=end,
        text=TEXT[7:],
        passage_rank=1,
        passage_start=7,
        passage_end=len(TEXT),
        doc_sha256=SHA,
        score=0.8,
    )
    return Answer.answered(
        question,
        TEXT[start:end] + " [1]",
        citations=[cite],
        passages=[passage],
        standalone_question=question,
    )


REFUSED = Answer.not_found("Capital of Peru?", "I could not find this in the documents.")
DOC = ManifestEntry("seeds/a.txt", "Title", SHA, "fp", 1, len(TEXT), "2026-01-01T00:00:00")


def test_json_round_trips_answers_with_spans_and_hashes() -> None:
    answers = [make_answer(), REFUSED]
    data = json.loads(conversation_json(answers, [DOC], {"k": 4, "mode": "extractive"}))
    assert data["format"] == FORMAT
    assert data["settings"] == {"k": 4, "mode": "extractive"}
    assert data["documents"][0]["sha256"] == SHA
    cite = data["turns"][0]["citations"][0]
    assert TEXT[cite["start"] : cite["end"]] == cite["quote"]
    assert cite["doc_sha256"] == SHA and cite["passage_start"] == 7
    assert data["turns"][1]["refused"] is True
    assert answers_from_json(conversation_json(answers)) == answers


def test_markdown_lists_questions_answers_and_cited_spans() -> None:
    md = conversation_markdown([make_answer(), REFUSED], [DOC], {"k": 4})
    assert "## 1. `Who visits Calais?`" in md
    assert "Answer (Grounded; mode extractive)" in md
    assert "Answer (Not in the documents; mode extractive)" in md
    assert f"sha256 `{SHA}`" in md
    cite = make_answer().citations[0]
    assert f"characters {cite.start}-{cite.end}" in md
    assert fenced(cite.quote) in md
    assert "Settings: k=4." in md


def test_document_text_in_markdown_is_fenced_so_images_do_not_render() -> None:
    markdown_it = pytest.importorskip("markdown_it")
    hostile = Answer.answered(
        "![q](http://evil/q.png)?", "See ![x](http://evil/p.png) [1]", citations=[]
    )
    rendered = markdown_it.MarkdownIt("commonmark").render(conversation_markdown([hostile]))
    assert "<img" not in rendered
    assert "evil/p.png" in rendered  # still there, as text
    assert fenced("a ``` b").startswith("````text\n")


def test_empty_conversation_exports() -> None:
    assert json.loads(conversation_json([]))["turns"] == []
    assert "(none)" in conversation_markdown([])


def test_json_carries_outcome_confidence_and_short_answer_offsets() -> None:
    turns = json.loads(conversation_json([answered(), unsure(), not_found()]))["turns"]
    assert [t["outcome"] for t in turns] == ["answered", "unsure", "not_found"]
    assert [t["confidence"] for t in turns] == [0.83, 0.41, 0.0]
    cite = turns[0]["citations"][0]
    assert DOC_TEXT[cite["answer_start"] : cite["answer_end"]] == SHORT_ANSWER
    assert turns[1]["citations"] == [] and len(turns[1]["passages"]) == 2
    back = answers_from_json(conversation_json([answered(), unsure(), not_found()]))
    assert back == [answered(), unsure(), not_found()]
    assert back[0].citations[0].short_answer == SHORT_ANSWER


def test_markdown_shows_each_outcome_confidence_and_short_answer() -> None:
    md = conversation_markdown([answered(), unsure(), not_found()])
    turns = md.split("\n## ")[2:]  # after the documents section
    assert "Answer (Grounded, confidence 83%; mode extractive)" in turns[0]
    cite = answered().citations[0]
    short = f"Short answer (characters {cite.answer_start}-{cite.answer_end}):"
    assert f"{short}\n\n{fenced(SHORT_ANSWER)}" in turns[0]
    assert "Answer (Not sure, best sentence 41%; mode extractive)" in turns[1]
    assert fenced(UNSURE) in turns[1] and "Cited spans" not in turns[1]
    assert "Closest passages (not an answer):" in turns[1]
    for p in unsure().passages:  # title, source and characters of each
        assert f"- #{p.rank} `Quince <b>report</b>` (`seeds/quince.txt`), " in turns[1]
        assert f"characters {p.start}-{p.end}" in turns[1]
    assert "Answer (Not in the documents; mode extractive)" in turns[2]
    assert "Closest passages" not in turns[2] and "Short answer" not in turns[2]


def test_hostile_short_answer_and_titles_stay_text_in_markdown() -> None:
    markdown_it = pytest.importorskip("markdown_it")
    rendered = markdown_it.MarkdownIt("commonmark").render(
        conversation_markdown([answered(), unsure()])
    )
    assert "<img" not in rendered and "<script" not in rendered and "<b>" not in rendered
    assert "<strong>" not in rendered  # the document's **4,200** is shown, not obeyed
    assert "**4,200** jars" in rendered


def test_markdown_says_when_a_follow_up_was_asked_as_typed() -> None:
    from tests.fakes import asked_as_typed

    md = conversation_markdown([answered(), asked_as_typed()])
    assert "Asked as typed: not sure what `he` refers to." in md
    assert "Understood as" not in md


def test_markdown_of_a_not_sure_turn_carries_each_passage_text_fenced() -> None:
    turn = conversation_markdown([unsure()]).split("\n## ")[-1]
    passages = turn.split("Closest passages (not an answer):")[1]
    for p in unsure().passages:  # offsets alone would not let a reader judge a passage
        assert f"characters {p.start}-{p.end}" in passages
        assert fenced(p.text) in passages
    assert passages.index(fenced(unsure().passages[0].text)) < passages.index("- #2 ")
