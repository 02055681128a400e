"""The CLI names the heading path a quote or passage sits under (issue 26 item 2)."""

from __future__ import annotations

import io
from dataclasses import replace

from rag.interfaces.terminal import render_answer
from tests.fakes import answered, unsure


def _rendered(answer) -> str:
    out = io.StringIO()
    render_answer(answer, out)
    return out.getvalue()


def test_a_citation_names_its_heading_path_after_the_title() -> None:
    answer = answered()
    cite = replace(answer.citations[0], heading="4. Hotels > London")
    text = _rendered(replace(answer, citations=[cite]))
    assert f"[1] {cite.title} > 4. Hotels > London ({cite.source}, characters" in text


def test_a_passage_of_an_unsure_answer_names_its_heading_path() -> None:
    answer = unsure()
    first = replace(answer.passages[0], heading="Opening hours")
    text = _rendered(replace(answer, passages=[first, *answer.passages[1:]]))
    assert f"#{first.rank} {first.title} > Opening hours ({first.source}" in text


def test_without_a_heading_path_the_place_line_is_as_before() -> None:
    cite = answered().citations[0]
    assert f"[1] {cite.title} ({cite.source}, characters" in _rendered(answered())
