"""One evaluation row: the :class:`EvalRow` type, its column names, validating one raw row.

A raw row is a dict of column -> value from any reader. Column names used by other
tools are accepted (see :data:`ALIASES`), e.g. RAGAS's ``user_input`` / ``reference`` /
``reference_contexts``; columns that describe another system's output (:data:`IGNORED`)
are known but never scored, and any other column is kept in ``extra``. Lists may be
real lists, JSON or Python list literals in a CSV cell, or ``" || "``-joined history.
A malformed row raises :class:`DatasetError` saying where it is and what to fix.

This module reads no file (the formats are :mod:`rag.eval.dataset`'s) and checks
nothing across rows.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rag.errors import RagError

# Canonical field -> accepted column names, in order of preference.
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "qid", "question_id", "uid"),
    "question": ("question", "user_input", "query", "input", "prompt"),
    "reference": (
        "reference",
        "references",
        "ground_truth",
        "ground_truths",
        "reference_answer",
        "expected_output",
        "expected_answer",
        "answers",
        "answer",  # only a reference when no column above is present (see _reference)
    ),
    "evidence": ("evidence", "reference_contexts", "reference_context", "supporting_facts"),
    "answerable": ("answerable", "is_answerable"),
    "history": ("history", "previous_questions", "conversation"),
}
# Columns that describe *another* system's output: known, recorded, never scored.
IGNORED = frozenset({"response", "retrieved_contexts", "contexts", "context", "is_impossible"})
_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f"}


class DatasetError(RagError):
    """A dataset file cannot be read or one of its rows is malformed."""


@dataclass(frozen=True)
class EvalRow:
    """One question to evaluate. ``references`` are alternatives: any one is correct."""

    id: str
    question: str
    references: tuple[str, ...]
    evidence: tuple[str, ...] = ()
    answerable: bool = True
    history: tuple[str, ...] = ()
    location: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def follow_up(self) -> bool:
        """True when earlier questions are asked first in the same conversation."""
        return bool(self.history)


def parse_row(raw: dict[str, Any], where: str) -> EvalRow:
    """Validate one raw row (column aliases resolved); raise :class:`DatasetError`."""
    try:
        return _parse(raw, where)
    except (TypeError, ValueError) as exc:
        raise DatasetError(f"{where}: {exc}") from None


def _parse(raw: dict[str, Any], where: str) -> EvalRow:
    question = _text(_pick(raw, "question"), "question")
    if not question:
        names = "/".join(ALIASES["question"])
        raise ValueError(f"no question (expected a non-empty column {names}).")
    references = _strings(_reference(raw), "reference")
    answerable = _answerable(_pick(raw, "answerable"))
    if answerable and not references:
        raise ValueError(
            "no reference answer; add one (reference/ground_truth/...) "
            'or mark the row "answerable": false.'
        )
    return EvalRow(
        id=_text(_pick(raw, "id"), "id") or _default_id(where),
        question=question,
        references=tuple(references),
        evidence=tuple(_strings(_pick(raw, "evidence"), "evidence")),
        answerable=answerable,
        history=tuple(_history(_pick(raw, "history"))),
        location=where,
        extra=_extra(raw),
    )


def _default_id(where: str) -> str:
    """``qa.csv line 7`` -> ``line-7``: stable, and says where the row came from."""
    return where.split(" ", 1)[-1].replace(" ", "-")


def _pick(raw: dict[str, Any], name: str) -> Any:
    for column in ALIASES[name]:
        if column in raw and raw[column] not in (None, ""):
            return raw[column]
    return None


def _reference(raw: dict[str, Any]) -> Any:
    """``answer`` is a reference only in plain Q/A files (RAGAS v1 uses it for output)."""
    for column in ALIASES["reference"][:-1]:
        if column in raw and raw[column] not in (None, ""):
            return raw[column]
    return raw.get("answer")


def _extra(raw: dict[str, Any]) -> dict[str, Any]:
    known = {c for names in ALIASES.values() for c in names} | IGNORED
    return {k: v for k, v in raw.items() if k not in known}


def _text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TypeError(f"{name} must be text, got {type(value).__name__}.")
    return " ".join(str(value).split())


def _decode_list(value: str) -> Any:
    """CSV cells may hold a JSON list or a Python list literal (pandas writes those)."""
    stripped = value.strip()
    if not stripped.startswith("["):
        return value
    try:
        return json.loads(stripped)
    except json.JSONDecodeError:
        try:
            return ast.literal_eval(stripped)
        except (ValueError, SyntaxError):
            return value


def _strings(value: Any, name: str) -> list[str]:
    if isinstance(value, str):
        value = _decode_list(value)
    if value is None:
        return []
    if isinstance(value, dict) and "text" in value:  # SQuAD-like {"text": [...]}
        value = value["text"]
    items = value if isinstance(value, list | tuple) else [value]
    texts = [_text(item, name) for item in items]
    return [t for t in dict.fromkeys(texts) if t]


def _answerable(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(f"answerable must be true or false, got {value!r}.")


def _history(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        value = _decode_list(value)
        if isinstance(value, str):  # one earlier question, or several joined by " || "
            value = [q for q in re.split(r"\s*\|\|\s*", value) if q.strip()]
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise TypeError(f"history must be a list of earlier questions, got {type(value).__name__}.")
    turns = [turn.get("question") if isinstance(turn, dict) else turn for turn in value]
    questions = [_text(turn, "history") for turn in turns]
    if not all(questions):
        raise ValueError("history holds an empty question.")
    return questions
