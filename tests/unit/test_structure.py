"""rag.documents.structure.reflow: soft line breaks become spaces, hard ones stay.

Offsets never move.
"""

from __future__ import annotations

import random
from pathlib import Path

from rag.documents.structure import reflow

NEWCOMER = Path(__file__).resolve().parents[1] / "newcomer"

WRAPPED = (
    "The Kestrel K40 is an electric burr grinder for the home. Its motor runs at 450 rpm\n"
    "so the beans stay cool, and it switched the motor off because it got too warm only\n"
    "once in our tests. The price is EUR 189 for the K40, EUR 299 for the K40 Pro and\n"
    "EUR 49 for a spare set of burrs.\n"
)


def _differences(before: str, after: str) -> list[tuple[str, str]]:
    return [(a, b) for a, b in zip(before, after, strict=True) if a != b]


def test_soft_breaks_inside_a_wrapped_paragraph_become_spaces_and_the_length_stays() -> None:
    flowed = reflow(WRAPPED)
    assert len(flowed) == len(WRAPPED)
    assert flowed.count("\n") == 1  # only the paragraph's end
    assert "450 rpm so the beans" in flowed
    assert _differences(WRAPPED, flowed) == [("\n", " ")] * 3


def test_structure_lines_keep_their_breaks() -> None:
    text = (
        "# Opening hours\n"
        "Monday to Friday: 9:00 to 17:00\n"
        "Saturday: 10:00 to 16:00\n"
        "- Adult: £9.50\n"
        "- Child: £4.00\n"
        "| Vehicle | Rate |\n"
        "|---|---|\n"
        "| Car | 45p |\n"
        "Q: Is there a warranty?\n"
        "A: Yes, two years.\n"
    )
    assert reflow(text) == text


def test_fenced_code_and_short_lines_are_kept_line_by_line() -> None:
    text = (
        "Harlow Museum\n12 Quay Street\nFalmouth TR11 3AA\n\n"
        "```\nsudo make install and then run the grinder calibration tool\n"
        "with the default settings from the manual\n```\n"
    )
    assert reflow(text) == text


def test_an_faq_answer_wrapped_over_lines_is_one_line_once_reflowed() -> None:
    text = (NEWCOMER / "grinder-faq.txt").read_text(encoding="utf-8")
    flowed = reflow(text)
    assert "18 mm ceramic burrs, which stay sharp" in flowed
    assert "\nQ: How do I clean the burrs?\nA: Unscrew" in flowed


def test_every_offset_points_at_the_same_character_on_random_wrapped_text() -> None:
    rng = random.Random(7)
    words = "the grinder holds beans and Sheffield. workshop: - # | Q: 12 A:".split()
    for _ in range(200):
        text = "".join(rng.choice([*words, "\n", "\n\n", " "]) + " " for _ in range(60))
        flowed = reflow(text)
        assert len(flowed) == len(text)
        for before, after in _differences(text, flowed):
            assert (before, after) == ("\n", " ")


def test_a_wrapped_line_going_on_in_lower_case_after_a_colon_is_not_a_label_line() -> None:
    text = (
        "The committee may end a tenancy for any of the following three\n"
        "reasons: rent unpaid for three months, a neglected plot, or abuse.\n"
    )
    assert reflow(text) == text.replace("three\nreasons", "three reasons")
