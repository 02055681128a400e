"""Load question/answer datasets for the evaluation: JSONL, CSV and JSON (SQuAD or a list).

Every row becomes an :class:`EvalRow` with a question, its acceptable reference
answers, optional evidence quotes, whether it is answerable and an optional
``history`` of earlier questions. Column names used by other tools are accepted
(see :data:`ALIASES`), e.g. RAGAS's ``user_input`` / ``reference`` /
``reference_contexts``. A malformed row raises :class:`DatasetError` naming the file
and line (or JSON position); no row is ever skipped silently.

This module only reads and validates; it does not locate evidence in documents or
ask any question.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import RagError

log = logging.getLogger(__name__)

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


def load_dataset(path: Path) -> list[EvalRow]:
    """Read *path* (``.jsonl``, ``.csv``/``.tsv`` or ``.json``) into validated rows."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path} does not exist; pass a .jsonl, .csv or .json question file.")
    suffix = path.suffix.lower()
    readers = {".jsonl": _read_jsonl, ".ndjson": _read_jsonl, ".csv": _read_csv}
    readers |= {".tsv": _read_csv, ".json": _read_json}
    if suffix not in readers:
        raise DatasetError(
            f"{path.name}: unsupported file type {suffix!r}; use .jsonl, .csv or .json."
        )
    rows = [parse_row(raw, where) for where, raw in readers[suffix](path)]
    _check_unique(rows)
    if not rows:
        raise DatasetError(f"{path} holds no questions.")
    unscored = sorted({column for row in rows for column in row.extra})
    log.info("loaded %d rows from %s (columns not scored: %s)", len(rows), path, unscored)
    return rows


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(
            f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8."
        ) from None


def _read_jsonl(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    # split on "\n" only: str.splitlines would also cut at U+2028 inside JSON strings
    for number, line in enumerate(_read_text(path).split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path.name} line {number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(
                f"{where}: not valid JSON ({exc.msg} at column {exc.colno})."
            ) from None
        if not isinstance(raw, dict):
            raise DatasetError(f"{where}: expected a JSON object, got {type(raw).__name__}.")
        yield where, raw


def _read_csv(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    reader = csv.DictReader(io.StringIO(_read_text(path), newline=""), delimiter=delimiter)
    first_line = 2  # line 1 is the header
    for raw in reader:
        where = f"{path.name} line {first_line}"
        first_line = reader.line_num + 1
        if None in raw:
            raise DatasetError(f"{where}: more fields than the header has columns.")
        if all(not (v or "").strip() for v in raw.values()):
            continue
        yield where, {k.strip(): v for k, v in raw.items()}


def _read_json(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        data = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path.name} line {exc.lineno}: not valid JSON ({exc.msg}).") from None
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        yield from _squad_rows(path.name, data["data"])
    elif isinstance(data, list):
        for index, raw in enumerate(data):
            where = f"{path.name} item {index}"
            if not isinstance(raw, dict):
                raise DatasetError(f"{where}: expected a JSON object, got {type(raw).__name__}.")
            yield where, raw
    else:
        raise DatasetError(
            f"{path.name}: expected SQuAD JSON ({{'data': [...]}}) or a list of row objects."
        )


def _squad_rows(name: str, articles: list[Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """SQuAD v1/v2: the reference is every distinct answer text; evidence its sentence."""
    for a, article in enumerate(articles):
        for p, paragraph in enumerate(article.get("paragraphs", [])):
            context = paragraph.get("context", "")
            for q, qa in enumerate(paragraph.get("qas", [])):
                where = f"{name} data[{a}].paragraphs[{p}].qas[{q}]"
                answers = qa.get("answers") or []
                texts = list(dict.fromkeys(x.get("text", "") for x in answers if x.get("text")))
                evidence = [_sentence_at(context, x.get("answer_start", -1)) for x in answers]
                yield (
                    where,
                    {
                        "id": qa.get("id"),
                        "question": qa.get("question"),
                        "reference": texts,
                        "evidence": [e for e in dict.fromkeys(evidence) if e],
                        "answerable": not qa.get("is_impossible", False) and bool(texts),
                    },
                )


def _sentence_at(context: str, offset: int) -> str:
    """The sentence of *context* that contains character *offset* ('' when unknown)."""
    if not 0 <= offset < len(context):
        return ""
    start = max(context.rfind(". ", 0, offset), context.rfind("\n", 0, offset))
    start = 0 if start < 0 else start + 1
    end = context.find(". ", offset)
    end = len(context) if end < 0 else end + 1
    return context[start:end].strip()


# ----- one row ---------------------------------------------------------------------
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


def _check_unique(rows: list[EvalRow]) -> None:
    seen: dict[str, str] = {}
    for row in rows:
        if row.id in seen:
            raise DatasetError(
                f"{row.location}: id {row.id!r} is already used at {seen[row.id]}; "
                "ids must be unique."
            )
        seen[row.id] = row.location
