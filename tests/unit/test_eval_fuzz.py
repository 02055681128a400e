"""Fuzzing the eval loader: arbitrary Unicode rows survive JSONL and CSV unchanged."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from rag.eval.dataset import DatasetError, load_dataset

_text = st.text(min_size=1, max_size=80).filter(
    lambda t: t.split() and not t.lstrip().startswith("[")
)


def _norm(text: str) -> str:
    return " ".join(text.split())


_rows = st.lists(
    st.fixed_dictionaries(
        {"question": _text, "reference": _text, "evidence": _text, "answerable": st.booleans()}
    ),
    min_size=1,
    max_size=5,
)


def _load(name: str, content: str):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(content, encoding="utf-8", newline="")
        return load_dataset(path)


def _check(rows, loaded) -> None:
    assert len(loaded) == len(rows), "no row is silently dropped"
    for raw, row in zip(rows, loaded, strict=True):
        assert row.question == _norm(raw["question"])
        assert row.references == (_norm(raw["reference"]),)
        assert row.evidence == (_norm(raw["evidence"]),)
        assert row.answerable is raw["answerable"]


@settings(max_examples=150, deadline=None)
@given(rows=_rows)
def test_jsonl_round_trips_any_unicode(rows):
    content = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n"
    _check(rows, _load("qa.jsonl", content))


@settings(max_examples=150, deadline=None)
@given(rows=_rows)
def test_csv_round_trips_any_unicode(rows):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["question", "reference", "evidence", "answerable"])
    writer.writeheader()
    writer.writerows(rows)
    _check(rows, _load("qa.csv", out.getvalue()))


@settings(max_examples=100, deadline=None)
@given(junk=st.text(max_size=200))
def test_arbitrary_text_either_loads_or_fails_with_a_dataset_error(junk):
    try:
        _load("qa.jsonl", junk)
    except DatasetError as exc:
        assert "qa.jsonl" in str(exc)
