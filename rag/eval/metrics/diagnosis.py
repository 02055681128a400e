"""Diagnosis: which stage failed for one row, in one sentence saying where to look.

From an :class:`Outcome` (answerable or not, refused, correct, rank of the evidence,
citation checks) :func:`diagnose` names one label of :data:`DIAGNOSES`: ok, retrieval
miss, wrong answer, wrong refusal, false answer on an unanswerable question or citation
miss (``error``, the last label, is given by whoever catches a row that raised).

This module only labels; the facts come from :mod:`rag.eval.scoring`.
"""

from __future__ import annotations

from dataclasses import dataclass

OK = "ok"
RETRIEVAL_MISS = "retrieval miss"
WRONG_ANSWER = "retrieved but wrong answer"
WRONG_REFUSAL = "wrong refusal"
FALSE_ANSWER = "false answer on unanswerable"
CITATION_MISS = "right answer, wrong citation"
ERROR = "error"
DIAGNOSES = (OK, RETRIEVAL_MISS, WRONG_ANSWER, WRONG_REFUSAL, FALSE_ANSWER, CITATION_MISS, ERROR)


@dataclass(frozen=True)
class Outcome:
    """The facts about one answered row that decide its diagnosis."""

    answerable: bool
    refused: bool
    correct: bool
    relevant_rank: int | None
    cited_evidence: bool
    markers_valid: bool
    cited_reference: bool = False


def diagnose(outcome: Outcome) -> tuple[str, str]:
    """(label, one sentence saying what went wrong and where to look)."""
    o = outcome
    found = f"the evidence was retrieved at rank {o.relevant_rank}"
    if not o.answerable:
        if o.refused:
            return OK, "Correctly refused: the documents do not answer this."
        return (
            FALSE_ANSWER,
            "Answered a question the documents cannot answer: raise the refusal bar.",
        )
    if o.refused:
        where = found if o.relevant_rank else "the evidence was not retrieved either"
        return WRONG_REFUSAL, f"Refused although the documents answer it; {where}."
    if not o.correct:
        if o.relevant_rank is None:
            return RETRIEVAL_MISS, "No retrieved passage overlaps the evidence: fix retrieval."
        return WRONG_ANSWER, f"{found.capitalize()} but the answer picked other text."
    if not o.markers_valid:
        return CITATION_MISS, "The answer is right but its [n] markers are broken."
    if not o.cited_evidence:
        hint = (
            " (the cited text does contain the reference: the row's evidence may be incomplete)"
            if o.cited_reference
            else ""
        )
        return CITATION_MISS, f"The answer is right but no citation overlaps the evidence{hint}."
    return OK, "Right answer, cited on the evidence."
