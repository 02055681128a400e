"""Score how follow-up questions were understood: rewritten when needed, only then, rightly.

A dataset opts in with a column ``expected_standalone``: a list holding, for every
turn of the conversation (the ``history`` questions, then the question), the question
as it should be understood on its own; equal to the question when it must not be
rewritten. A plain string gives the last turn only. Every turn whose expectation is
known is scored, not only the last one:

* a turn *needs* a rewrite when its expected standalone differs from the question;
* the resolver *rewrote* it when the standalone question the pipeline used
  (``RowResult.standalone_question``, ``history_turns[i]["standalone"]``) differs;
* a rewrite is *resolved* when it contains every word the expected standalone adds to
  the question (the antecedent: "Margaret Holloway" for "she"), compared as
  :func:`rag.retrieval.lexical.tokenize` tokens; *strictly* resolved when they are in the
  rewritten question itself, not only in a topic appended in parentheses; *cleanly*
  resolved when, besides, it adds no word that neither the expected standalone nor the
  question has (after "What is the hotel limit in London?", "And in Austin?" read as
  "...in London in Austin?" is resolved strictly but not cleanly).

From these: rewrite precision (of the rewritten turns, the share that needed it),
rewrite recall (of the turns that needed it, the share rewritten), resolution
accuracy (of the turns rightly rewritten, the share resolved; and strictly resolved)
and turn accuracy (of the turns that had a history, the share handled right). Answer
quality on the follow-up rows is split by whether their last turn needed a rewrite.

This module computes; it does not ask questions (the runner records the standalone
questions) and does not format reports (:mod:`rag.eval.report` does).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from rag.eval.dataset import DatasetError, EvalRow
from rag.eval.scoring import RowResult
from rag.eval.summary import metric_stats
from rag.retrieval.lexical import tokenize

log = logging.getLogger(__name__)

COLUMN = "expected_standalone"
_TOPIC = re.compile(r"\s*\([^()]*\)\s*$")  # "When did it close? (station open)"
ANSWER_METRICS = ("containment", "refusal_accuracy", "wrong_refusal_rate")


@dataclass(frozen=True)
class Expectation:
    """The expected standalone form of each turn of one row (None where not given)."""

    row_id: str
    turns: tuple[str | None, ...]
    split: str = ""


@dataclass(frozen=True)
class TurnCheck:
    """One turn: what was asked, what it should mean alone, what the pipeline used."""

    row_id: str
    turn: int
    question: str
    expected: str
    standalone: str
    split: str = ""

    @property
    def needed(self) -> bool:
        """The question cannot be understood alone."""
        return normalise(self.expected) != normalise(self.question)

    @property
    def rewritten(self) -> bool:
        """The pipeline did not use the question as typed."""
        return normalise(self.standalone) != normalise(self.question)

    @property
    def antecedent(self) -> frozenset[str]:
        """Words the expected standalone adds to the question."""
        return frozenset(tokenize(self.expected)) - frozenset(tokenize(self.question))

    @property
    def resolved(self) -> bool:
        """Rewritten, and the rewrite holds every antecedent word."""
        return self.rewritten and self.antecedent <= frozenset(tokenize(self.standalone))

    @property
    def resolved_strictly(self) -> bool:
        """Resolved without help from a topic the resolver appended in parentheses."""
        question = _TOPIC.sub("", self.standalone)
        return self.rewritten and self.antecedent <= frozenset(tokenize(question))

    @property
    def resolved_cleanly(self) -> bool:
        """Resolved strictly, adding no word that neither the expected standalone nor the
        question has ("...the hotel limit in London in Austin?" is not clean)."""
        question = _TOPIC.sub("", self.standalone)
        allowed = frozenset(tokenize(self.expected)) | frozenset(tokenize(self.question))
        return self.resolved_strictly and frozenset(tokenize(question)) <= allowed

    @property
    def correct(self) -> bool:
        """Resolved when it needed a rewrite, left alone when it did not."""
        return self.resolved if self.needed else not self.rewritten

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with the verdicts."""
        verdicts = {"needed": self.needed, "rewritten": self.rewritten}
        verdicts |= {"resolved": self.resolved, "resolved_strictly": self.resolved_strictly}
        verdicts |= {"resolved_cleanly": self.resolved_cleanly, "correct": self.correct}
        return {**asdict(self), **verdicts, "antecedent": sorted(self.antecedent)}


def normalise(text: str) -> str:
    """Case, spacing and apostrophes do not make a rewrite."""
    return " ".join(text.replace("’", "'").lower().split())


# ----- expectations --------------------------------------------------------------
def expectation(row: EvalRow) -> Expectation | None:
    """The row's expectations, or None when it has no ``expected_standalone``."""
    value = row.extra.get(COLUMN)
    if value in (None, "", []):
        return None
    count = len(row.history) + 1
    if isinstance(value, str):
        turns: tuple[str | None, ...] = (*[None] * (count - 1), value)
    elif isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value):
        turns = tuple(value)
    else:
        raise DatasetError(f"{row.location}: {COLUMN} must be a string or a list of questions.")
    if len(turns) != count:
        raise DatasetError(
            f"{row.location}: {COLUMN} has {len(turns)} entries but the conversation has "
            f"{count} turns (history + question); give one per turn."
        )
    return Expectation(row.id, turns, str(row.extra.get("split") or ""))


def expectations(rows: Iterable[EvalRow]) -> dict[str, Expectation]:
    """Every row's expectations by id (empty when the dataset has none); checks them."""
    found = {row.id: e for row in rows if (e := expectation(row)) is not None}
    if found:
        log.info("%d rows carry %s: follow-up resolution will be scored", len(found), COLUMN)
    return found


# ----- checks --------------------------------------------------------------------
def turn_checks(expected: dict[str, Expectation], results: Sequence[RowResult]) -> list[TurnCheck]:
    """One check per turn with a known expectation, in row then turn order."""
    checks = []
    for result in results:
        exp = expected.get(result.id)
        if exp is None or result.error is not None:
            continue
        questions = [*result.history, result.question]
        used = [str(t.get("standalone") or t["question"]) for t in result.history_turns]
        used.append(result.standalone_question or result.question)
        for turn, (question, want, got) in enumerate(zip(questions, exp.turns, used, strict=True)):
            if want is not None:
                checks.append(TurnCheck(result.id, turn, question, want, got, exp.split))
    return checks


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def rates(checks: Sequence[TurnCheck]) -> dict[str, Any]:
    """Counts and the four rates over *checks* (a rate with nothing to count is None)."""
    later = [c for c in checks if c.turn > 0]
    needed = [c for c in checks if c.needed]
    rewritten = [c for c in checks if c.rewritten]
    right = [c for c in rewritten if c.needed]
    return {
        "turns": len(checks),
        "turns_with_history": len(later),
        "needed": len(needed),
        "rewritten": len(rewritten),
        "rewritten_and_needed": len(right),
        "resolved": sum(c.resolved for c in right),
        "resolved_strictly": sum(c.resolved_strictly for c in right),
        "resolved_cleanly": sum(c.resolved_cleanly for c in right),
        "rewrite_precision": _share(len(right), len(rewritten)),
        "rewrite_recall": _share(len(right), len(needed)),
        "resolution_accuracy": _share(sum(c.resolved for c in right), len(right)),
        "strict_resolution_accuracy": _share(sum(c.resolved_strictly for c in right), len(right)),
        "clean_resolution_accuracy": _share(sum(c.resolved_cleanly for c in right), len(right)),
        "turn_accuracy": _share(sum(c.correct for c in later), len(later)),
    }


def answer_quality(
    checks: Sequence[TurnCheck], results: Sequence[RowResult]
) -> dict[str, dict[str, Any]]:
    """Answer metrics of follow-up rows, by whether their scored (last) turn needed a rewrite."""
    last = {c.row_id: c for c in checks}  # checks are in turn order: the last one wins
    rows = [r for r in results if r.follow_up and r.id in last and last[r.id].turn > 0]
    groups = {
        "last_turn_needed_rewrite": [r for r in rows if last[r.id].needed],
        "last_turn_complete": [r for r in rows if not last[r.id].needed],
    }
    return {
        name: {key: metric_stats(group, key) for key in ANSWER_METRICS}
        for name, group in groups.items()
    }


def followup_block(checks: Sequence[TurnCheck], results: Sequence[RowResult]) -> dict[str, Any]:
    """The ``followups`` object of the summary."""
    splits = sorted({c.split for c in checks if c.split})
    return {
        "column": COLUMN,
        **rates(checks),
        "by_split": {s: rates([c for c in checks if c.split == s]) for s in splits},
        "answers": answer_quality(checks, results),
        "turn_checks": [c.to_dict() for c in checks],
    }


def summary_update(
    expected: dict[str, Expectation], results: Sequence[RowResult]
) -> dict[str, Any]:
    """``{"followups": ...}`` for ``summary.update``, or ``{}`` when nothing is expected."""
    if not expected:
        return {}
    return {"followups": followup_block(turn_checks(expected, results), results)}
