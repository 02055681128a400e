"""Unit tests for rag.eval: metrics, relevance by span overlap, row scoring, dataset loading.

Fast: no model and no store; answers are built by hand from the real result types.
"""

from __future__ import annotations

import json
import math
import re
import string
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.answer import Answer, Citation, Passage
from rag.config import REFUSAL
from rag.eval import metrics as m
from rag.eval.dataset import DatasetError, load_dataset
from rag.eval.scoring import blank_result, locate_evidence, relevance_for, score_answer

# ----- SQuAD normalisation, EM, F1 ---------------------------------------------------


def official_normalize(s: str) -> str:
    """Verbatim from the official SQuAD v1.1/v2.0 evaluation script."""

    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def official_f1(prediction: str, ground_truth: str) -> float:
    pred, gold = official_normalize(prediction).split(), official_normalize(ground_truth).split()
    common = Counter(pred) & Counter(gold)
    same = sum(common.values())
    if same == 0:
        return 0.0
    p, r = same / len(pred), same / len(gold)
    return 2 * p * r / (p + r)


@given(st.text(alphabet=string.printable, max_size=60))
def test_normalisation_matches_the_official_script_on_ascii(text):
    assert m.normalize_answer(text) == official_normalize(text)


@given(
    st.text(alphabet=string.ascii_letters + " .,!", min_size=1, max_size=40),
    st.text(alphabet=string.ascii_letters + " .,!", min_size=1, max_size=40),
)
def test_f1_matches_the_official_script(prediction, reference):
    if official_normalize(prediction) and official_normalize(reference):
        assert m.f1_score(prediction, [reference]) == pytest.approx(
            official_f1(prediction, reference)
        )


def test_normalisation_also_strips_unicode_quotes_and_dashes():
    assert m.normalize_answer("The government’s “tough rhetoric” — now!") == (
        "governments tough rhetoric now"
    )
    assert m.containment("drop the “tough rhetoric” on migrants [1]", ["tough rhetoric"]) == 1.0


@pytest.mark.parametrize(
    ("prediction", "references", "em", "f1"),
    [
        # SQuAD v1.1 dev, "Which NFL team represented the AFC at Super Bowl 50?"
        ("Denver Broncos", ["Denver Broncos", "Denver Broncos", "Denver Broncos"], 1.0, 1.0),
        ("the Denver Broncos!", ["Denver Broncos"], 1.0, 1.0),
        ("Broncos of Denver", ["Denver Broncos"], 0.0, 0.8),
        # "Where did Super Bowl 50 take place?": any of the references counts
        ("Levi's Stadium", ["Santa Clara, California", "Levi's Stadium"], 1.0, 1.0),
        ("in Santa Clara", ["Santa Clara, California", "Levi's Stadium"], 0.0, 2 / 3),
        ("Carolina Panthers", ["Denver Broncos"], 0.0, 0.0),
    ],
)
def test_exact_match_and_f1_on_squad_examples(prediction, references, em, f1):
    assert m.exact_match(prediction, references) == em
    assert m.f1_score(prediction, references) == pytest.approx(f1)


def test_token_recall_and_containment_reward_a_long_right_answer():
    answer = "Home Secretary Theresa May will visit Calais on Thursday. [1]"
    assert m.exact_match(m.strip_markers(answer), ["Theresa May"]) == 0.0
    assert m.token_recall(answer, ["Theresa May"]) == 1.0
    assert m.containment(m.strip_markers(answer), ["Theresa May"]) == 1.0
    assert m.token_recall("Theresa visited", ["Theresa May"]) == 0.5


def test_containment_respects_word_boundaries():
    assert m.containment("The Mayor of Calais spoke.", ["May"]) == 0.0
    assert m.containment("Calais, said May.", ["May"]) == 1.0
    assert m.containment("anything", [""]) == 0.0
    assert m.containment("Amnesty International UK’s director", ["Amnesty International UK"]) == 1.0
    assert m.containment("the UK's plan", ["UK’s plan"]) == 1.0


def test_strip_markers():
    assert m.strip_markers("One. [1] Two [2][3].") == "One. Two ."


# ----- spans, ranks ------------------------------------------------------------------


def test_span_overlap_is_half_open_and_per_document():
    a = m.SourceSpan("doc", 0, 10)
    assert a.overlaps(m.SourceSpan("doc", 9, 20))
    assert not a.overlaps(m.SourceSpan("doc", 10, 20))
    assert not a.overlaps(m.SourceSpan("other", 0, 10))
    # gold inside a big chunk
    assert m.SourceSpan("doc", 0, 500).overlaps(m.SourceSpan("doc", 100, 120))


def test_coverage_merges_overlapping_spans():
    evidence = [m.SourceSpan("d", 100, 200)]
    # union [0, 160) covers 60 of 100 characters (not 50 + 40: overlaps count once)
    assert m.coverage(evidence, [m.SourceSpan("d", 0, 150), m.SourceSpan("d", 120, 160)]) == 0.6
    assert m.coverage(evidence, [m.SourceSpan("d", 0, 1000)]) == 1.0
    assert m.coverage(evidence, [m.SourceSpan("x", 0, 1000)]) == 0.0
    assert m.coverage([], [m.SourceSpan("d", 0, 1)]) == 0.0


def test_rank_metrics():
    flags = [False, False, True, True]
    assert m.first_relevant_rank(flags) == 3
    assert (m.hit_at(flags, 1), m.hit_at(flags, 3)) == (0.0, 1.0)
    assert m.reciprocal_rank(flags) == pytest.approx(1 / 3)
    assert m.reciprocal_rank([False]) == 0.0
    assert m.first_relevant_rank([]) is None
    assert m.precision([True, False, False, True]) == 0.5
    assert m.precision([]) is None


# ----- statistics --------------------------------------------------------------------


def test_bootstrap_interval_is_deterministic_and_brackets_the_mean():
    values = [1.0] * 30 + [0.0] * 10 + [None] * 5
    first, second = m.bootstrap_ci(values), m.bootstrap_ci(values)
    assert first == second
    low, high = first
    assert low < 0.75 < high
    assert low > 0.5
    assert high < 0.95
    assert m.bootstrap_ci([1.0, 1.0, 1.0]) == (1.0, 1.0)
    assert m.bootstrap_ci([None, None]) is None


def test_no_nan_anywhere():
    assert m.mean([]) is None
    assert m.mean([None]) is None
    assert m.percentile([], 50) is None
    assert m.best_cosine(lambda texts: None, [], []) == []


def test_best_cosine_takes_the_best_reference():
    import numpy as np

    vectors = {"a": [1.0, 0.0], "x": [0.0, 1.0], "y": [0.6, 0.8]}

    def encode(texts):
        return np.asarray([vectors[t] for t in texts])

    assert m.best_cosine(encode, ["a", "a"], [["x", "y"], ["x"]]) == [
        pytest.approx(0.6),
        pytest.approx(0.0),
    ]


# ----- row scoring with hand-built answers ---------------------------------------------

DOC = (
    "Britain is to build a police command center in Calais. It will tackle smuggling. "
    "Home Secretary Theresa May will visit Calais on Thursday. She will sign a declaration."
)
SOURCE = "seeds/doc.txt"


def _passage(rank: int, start: int, end: int) -> Passage:
    return Passage(rank, SOURCE, "Doc", start, end, 1.0 / rank, DOC[start:end])


def _cite(n: int, passage: Passage, quote: str) -> Citation:
    start = DOC.index(quote)
    return Citation(
        n, SOURCE, "Doc", quote, start, start + len(quote), passage.text, passage.rank,
        passage.start, passage.end,
    )  # fmt: skip


def _row(**fields):
    from rag.eval.dataset import parse_row

    raw = {"id": "q1", "question": "Who will visit Calais?", "reference": "Theresa May"}
    return parse_row({**raw, **fields}, "test line 1")


def _score(row, answer, k=4):
    spans = locate_evidence(row.evidence, {SOURCE: DOC})
    return score_answer(blank_result(row), answer, relevance_for(row, spans), k, lambda s: DOC)


SENTENCE = "Home Secretary Theresa May will visit Calais on Thursday."


def test_evidence_inside_a_larger_chunk_counts_as_retrieved_and_cited():
    big, other = _passage(2, 0, len(DOC)), _passage(1, 0, 54)
    answer = Answer.answered(
        "q", f"{SENTENCE} [1]", citations=[_cite(1, big, SENTENCE)], passages=[other, big]
    )
    result = _score(_row(evidence="Theresa May will visit Calais"), answer)
    assert result.relevance_basis == "evidence"
    assert [p["relevant"] for p in result.retrieved] == [False, True]
    assert result.metrics["hit@1"] == 0.0 and result.metrics["hit@3"] == 1.0
    assert result.metrics["mrr"] == 0.5
    assert result.metrics["recall@k"] == 1.0
    assert result.metrics["citation_precision"] == 1.0
    assert result.metrics["containment"] == 1.0 and result.metrics["exact_match"] == 0.0
    assert result.metrics["marker_validity"] == 1.0
    assert result.diagnosis == m.OK


def test_citation_precision_counts_off_evidence_citations():
    p = _passage(1, 0, len(DOC))
    cites = [_cite(1, p, SENTENCE), _cite(2, p, "It will tackle smuggling.")]
    answer = Answer.answered(
        "q", f"{SENTENCE} [1] It will tackle smuggling. [2]", citations=cites, passages=[p]
    )
    result = _score(_row(evidence=SENTENCE), answer)
    assert result.metrics["citation_precision"] == 0.5
    assert result.metrics["citation_recall"] == 1.0
    assert [c["relevant"] for c in result.citations] == [True, False]


def test_without_evidence_relevance_falls_back_to_the_reference():
    p1, p2 = _passage(1, 0, 54), _passage(2, 55, len(DOC))
    answer = Answer.answered(
        "q", f"{SENTENCE} [1]", citations=[_cite(1, p2, SENTENCE)], passages=[p1, p2]
    )
    result = _score(_row(), answer)
    assert result.relevance_basis == "reference"
    assert result.relevant_rank == 2
    assert result.metrics["citation_precision"] == 1.0


def test_evidence_not_in_any_document_falls_back_to_the_reference():
    row = _row(evidence="a sentence that is not in the document")
    assert locate_evidence(row.evidence, {SOURCE: DOC}) == []
    assert relevance_for(row, []).basis == "reference"


def test_evidence_is_found_across_line_breaks():
    doc = "She will sign\na declaration."
    assert locate_evidence(["sign a declaration"], {"d": doc}) == [m.SourceSpan("d", 9, 27)]


@pytest.mark.parametrize(
    ("text", "citations", "problem"),
    [
        ("May. [2]", "ok", "marker [2] has no citation"),
        ("May.", "ok", "the answer has no [n] marker"),
        ("May. [1]", "outside", "does not lie in retrieved passage"),
        ("May. [1]", "wrong quote", "differs from the source text"),
        ("May. [1]", "extra", "citation [2] is listed but not used"),
    ],
)
def test_marker_validity_catches_broken_citations(text, citations, problem):
    p = _passage(1, 81, len(DOC))
    good = _cite(1, p, SENTENCE)
    cites = {
        "ok": [good],
        "outside": [_cite(1, p, "It will tackle smuggling.")],  # lies before the passage
        "wrong quote": [Citation(**{**good.__dict__, "quote": "Theresa May"})],
        "extra": [good, _cite(2, p, "She will sign a declaration.")],
    }[citations]
    result = _score(
        _row(evidence=SENTENCE), Answer.answered("q", text, citations=cites, passages=[p])
    )
    assert result.metrics["marker_validity"] == 0.0
    assert problem in result.marker_problem


def test_diagnosis_of_each_failure():
    far = _passage(1, 0, 54)
    near = _passage(1, 81, len(DOC))
    wrong = Answer.answered(
        "q", "Britain [1]", citations=[_cite(1, far, "Britain")], passages=[far]
    )
    assert _score(_row(evidence=SENTENCE), wrong).diagnosis == m.RETRIEVAL_MISS
    sign = "She will sign a declaration."
    wrong_near = Answer.answered(
        "q", f"{sign} [1]", citations=[_cite(1, near, sign)], passages=[near]
    )
    assert _score(_row(evidence=SENTENCE), wrong_near).diagnosis == m.WRONG_ANSWER
    refused = Answer.not_found("q", REFUSAL, passages=[near])
    result = _score(_row(evidence=SENTENCE), refused)
    assert result.diagnosis == m.WRONG_REFUSAL
    assert "rank 1" in result.diagnosis_detail
    assert result.metrics["wrong_refusal_rate"] == 1.0
    assert result.metrics["f1"] == 0.0
    assert result.metrics["citation_precision"] is None


def test_unanswerable_rows_score_only_refusal():
    p = _passage(1, 81, len(DOC))
    row = _row(reference="", answerable=False)
    refused = _score(row, Answer.not_found("q", REFUSAL, passages=[p]))
    assert refused.diagnosis == m.OK
    assert refused.metrics["refusal_accuracy"] == 1.0
    assert refused.metrics["hit@3"] is None and refused.metrics["f1"] is None
    answered = _score(
        row,
        Answer.answered("q", f"{SENTENCE} [1]", citations=[_cite(1, p, SENTENCE)], passages=[p]),
    )
    assert answered.diagnosis == m.FALSE_ANSWER
    assert answered.metrics["refusal_accuracy"] == 0.0
    assert answered.metrics["decision_accuracy"] == 0.0
    values = [v for v in answered.metrics.values() if v is not None]
    assert not any(math.isnan(v) for v in values)


def _short(cite: Citation, words: str) -> Citation:
    """*cite* with *words* (inside its quote) marked as the short answer."""
    start = cite.start + cite.quote.index(words)
    return replace(cite, answer_start=start, answer_end=start + len(words))


@pytest.mark.parametrize(
    ("words", "em", "f1"),
    [
        ("Theresa May", 1.0, 1.0),
        ("Home Secretary Theresa May", 0.0, pytest.approx(2 / 3)),  # P 2/4, R 1
        (None, 0.0, 0.0),  # the reader marked no words: scored 0, not skipped
    ],
)
def test_short_answer_is_scored_like_squad_on_answered_questions(words, em, f1):
    p = _passage(1, 81, len(DOC))
    cite = _cite(1, p, SENTENCE)
    cite = _short(cite, words) if words else cite
    result = _score(
        _row(evidence=SENTENCE),
        Answer.answered("q", f"{SENTENCE} [1]", citations=[cite], passages=[p]),
    )
    assert result.citations[0]["short_answer"] == (words or "")
    assert result.metrics["short_answer_em"] == em
    assert result.metrics["short_answer_f1"] == f1


def test_short_answer_uses_the_first_citation_only():
    p = _passage(1, 0, len(DOC))
    first = _short(_cite(1, p, "It will tackle smuggling."), "smuggling")
    second = _short(_cite(2, p, SENTENCE), "Theresa May")
    text = f"It will tackle smuggling. [1] {SENTENCE} [2]"
    result = _score(_row(), Answer.answered("q", text, citations=[first, second], passages=[p]))
    assert result.metrics["short_answer_em"] == 0.0
    assert result.metrics["short_answer_f1"] == 0.0


def test_short_answer_does_not_apply_to_refusals_unsure_or_unanswerable_rows():
    p = _passage(1, 81, len(DOC))
    cite = _short(_cite(1, p, SENTENCE), "Theresa May")
    refused = _score(_row(), Answer.not_found("q", REFUSAL, passages=[p]))
    unsure = _score(_row(), Answer.unsure("q", SENTENCE, passages=[p]))
    unanswerable = _score(
        _row(reference="", answerable=False),
        Answer.answered("q", f"{SENTENCE} [1]", citations=[cite], passages=[p]),
    )
    for result in (refused, unsure, unanswerable):
        assert result.metrics["short_answer_em"] is None
        assert result.metrics["short_answer_f1"] is None


# ----- dataset loading -----------------------------------------------------------------


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_jsonl_with_ragas_column_names(tmp_path):
    rows = [
        {"user_input": "Who?", "reference": "May", "reference_contexts": ["May will visit."]},
        {"query": "Where?", "ground_truth": ["Calais", "Calais, France"], "response": "x"},
        {"question": "What?", "expected_output": "A deal", "retrieved_contexts": ["ignored"]},
        {"question": "Plain Q/A pair?", "answer": "yes"},
        {"question": "Legacy RAGAS?", "answer": "model output", "ground_truths": ["gold"]},
        {"question": "When?", "reference_answer": "Thursday", "history": ["Who?"]},
    ]
    path = _write(tmp_path, "qa.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n\n")
    loaded = load_dataset(path)
    assert [r.question for r in loaded] == ["Who?", "Where?", "What?", "Plain Q/A pair?",
                                            "Legacy RAGAS?", "When?"]  # fmt: skip
    assert loaded[0].evidence == ("May will visit.",)
    assert loaded[1].references == ("Calais", "Calais, France")
    assert loaded[3].references == ("yes",)
    assert loaded[4].references == ("gold",)  # `answer` is the system's output here
    assert loaded[5].history == ("Who?",) and loaded[5].follow_up
    assert [r.id for r in loaded] == ["line-1", "line-2", "line-3", "line-4", "line-5", "line-6"]


@pytest.mark.parametrize(
    ("lines", "line", "message"),
    [
        (['{"question": "a", "reference": "b"}', "{not json"], 2, "not valid JSON"),
        (['{"question": "a", "reference": "b"}', "", '{"reference": "b"}'], 3, "no question"),
        (['{"question": "a"}'], 1, "no reference answer"),
        (['{"question": "a", "reference": "b", "answerable": "maybe"}'], 1, "answerable"),
        (['{"question": "a", "reference": "b", "history": 3}'], 1, "history"),
        (['["a", "b"]'], 1, "expected a JSON object"),
        (
            ['{"id": 1, "question": "a", "reference": "b"}'] * 2,
            2,
            "already used at qa.jsonl line 1",
        ),
    ],
)
def test_malformed_jsonl_row_names_its_line(tmp_path, lines, line, message):
    path = _write(tmp_path, "qa.jsonl", "\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=f"qa.jsonl line {line}: .*{re.escape(message)}"):
        load_dataset(path)


def test_jsonl_keeps_unicode_line_separators_inside_strings(tmp_path):
    row = {"question": "Who said\u2028this?", "reference": "May\u2029"}
    text = json.dumps(row, ensure_ascii=False) + "\r\n" + json.dumps(row | {"id": "b"}) + "\r\n"
    rows = load_dataset(_write(tmp_path, "qa.jsonl", text))
    assert [r.id for r in rows] == ["line-1", "b"]
    assert rows[0].question == "Who said this?"


def test_unanswerable_rows_need_no_reference(tmp_path):
    path = _write(tmp_path, "qa.jsonl", '{"question": "Capital of Peru?", "answerable": false}\n')
    (row,) = load_dataset(path)
    assert row.answerable is False and row.references == ()


def test_csv_in_ragas_column_names(tmp_path):
    text = (
        "user_input,reference,reference_contexts,response,retrieved_contexts\n"
        'Who visits Calais?,Theresa May,"[\'Theresa May will visit Calais on Thursday\']",,"[]"\n'
        '"Multi-line\nquestion?","[""France"", ""French""]",,,\n'
    )
    rows = load_dataset(_write(tmp_path, "ragas.csv", text))
    assert rows[0].question == "Who visits Calais?"
    assert rows[0].evidence == ("Theresa May will visit Calais on Thursday",)
    assert rows[1].question == "Multi-line question?"
    assert rows[1].references == ("France", "French")
    assert rows[1].id == "line-3"


def test_csv_error_names_the_line(tmp_path):
    text = "question,reference,answerable\nA?,a,true\nB?,,\nC?,c,perhaps\n"
    with pytest.raises(DatasetError, match=r"qa\.csv line 3: no reference"):
        load_dataset(_write(tmp_path, "qa.csv", text))
    text = "question,reference,answerable\nA?,a,true\nC?,c,perhaps\n"
    with pytest.raises(DatasetError, match=r"qa\.csv line 3: answerable must be true or false"):
        load_dataset(_write(tmp_path, "qa.csv", text))


def test_csv_history_and_answerable_cells(tmp_path):
    text = (
        "question,reference,answerable,history\n"
        "C?,,no,\n"
        'D?,d,yes,"[""A?"", ""B?""]"\n'
        "E?,e,1,A? || B?\n"
    )
    rows = load_dataset(_write(tmp_path, "qa.csv", text))
    assert [r.answerable for r in rows] == [False, True, True]
    assert rows[1].history == ("A?", "B?") and rows[2].history == ("A?", "B?")


def test_squad_json(tmp_path):
    context = "Super Bowl 50 was played in Santa Clara. The Denver Broncos won it."
    squad = {
        "version": "v2.0",
        "data": [
            {
                "title": "Super_Bowl_50",
                "paragraphs": [
                    {
                        "context": context,
                        "qas": [
                            {
                                "id": "56be4db0",
                                "question": "Who won Super Bowl 50?",
                                "answers": [
                                    {"text": "Denver Broncos", "answer_start": 46},
                                    {"text": "The Denver Broncos", "answer_start": 42},
                                ],
                            },
                            {"id": "5a8d", "question": "Who lost?", "answers": [],
                             "is_impossible": True},
                        ],
                    }
                ],
            }
        ],
    }  # fmt: skip
    rows = load_dataset(_write(tmp_path, "dev.json", json.dumps(squad)))
    assert rows[0].id == "56be4db0"
    assert rows[0].references == ("Denver Broncos", "The Denver Broncos")
    assert rows[0].evidence == ("The Denver Broncos won it.",)
    assert rows[1].answerable is False


def test_squad_json_error_names_the_question(tmp_path):
    squad = {"data": [{"paragraphs": [{"context": "c", "qas": [{"id": "x", "answers": []}]}]}]}
    with pytest.raises(DatasetError, match=r"data\[0\]\.paragraphs\[0\]\.qas\[0\]: no question"):
        load_dataset(_write(tmp_path, "bad.json", json.dumps(squad)))


def test_unsupported_or_missing_file(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(tmp_path / "nope.jsonl")
    with pytest.raises(DatasetError, match="unsupported file type"):
        load_dataset(_write(tmp_path, "qa.txt", "x"))
    with pytest.raises(DatasetError, match="holds no questions"):
        load_dataset(_write(tmp_path, "empty.jsonl", "\n"))
