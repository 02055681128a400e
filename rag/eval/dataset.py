"""Load question/answer datasets for the evaluation: JSONL, CSV and JSON (SQuAD or a list).

Every row becomes an :class:`~rag.eval.rows.EvalRow` with a question, its acceptable
reference answers, optional evidence quotes, whether it is answerable and an optional
``history`` of earlier questions (column aliases and validation: :mod:`rag.eval.rows`).
SQuAD JSON rows take every distinct answer text as a reference and the sentence around
each answer as evidence. A malformed row raises :class:`DatasetError` naming the file
and line (or JSON position); no row is ever skipped silently, and ids must be unique.

This module only reads and validates; it does not locate evidence in documents or
ask any question.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rag.eval.rows import ALIASES, IGNORED, DatasetError, EvalRow, parse_row

__all__ = ["ALIASES", "IGNORED", "DatasetError", "EvalRow", "load_dataset", "parse_row"]

log = logging.getLogger(__name__)


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


def _check_unique(rows: list[EvalRow]) -> None:
    seen: dict[str, str] = {}
    for row in rows:
        if row.id in seen:
            raise DatasetError(
                f"{row.location}: id {row.id!r} is already used at {seen[row.id]}; "
                "ids must be unique."
            )
        seen[row.id] = row.location
