"""The shipped eval set eval/qa_calais.jsonl: well-formed, grounded in the article, big enough."""

from __future__ import annotations

from collections import Counter

import pytest

from rag.eval.dataset import load_dataset
from rag.eval.metrics import contains_reference
from tests.conftest import ROOT

QA_FILE = ROOT / "eval" / "qa_calais.jsonl"


@pytest.fixture(scope="module")
def rows():
    return load_dataset(QA_FILE)


def test_sizes(rows):
    assert len(rows) >= 40
    assert sum(not r.answerable for r in rows) >= 8
    assert sum(r.follow_up for r in rows) >= 6


def test_ids_are_unique_and_prefixed_by_kind(rows):
    assert len({r.id for r in rows}) == len(rows)
    for row in rows:
        kind = "f" if row.follow_up else ("a" if row.answerable else "u")
        assert row.id.startswith(kind), row.id


def test_every_evidence_quote_occurs_verbatim_in_the_article(rows, article_text):
    missing = [(r.id, q) for r in rows for q in r.evidence if q not in article_text]
    assert missing == []


def test_every_answerable_row_has_evidence_that_supports_its_reference(rows):
    for row in (r for r in rows if r.answerable):
        assert row.references and row.evidence, row.id
        joined = " ".join(row.evidence)
        assert contains_reference(joined, row.references), (row.id, row.references)


def test_unanswerable_rows_have_no_reference_or_evidence(rows):
    for row in (r for r in rows if not r.answerable):
        assert row.references == () and row.evidence == (), row.id


def test_questions_are_not_repeated(rows):
    counts = Counter(r.question.lower() for r in rows)
    assert [q for q, n in counts.items() if n > 1] == []
