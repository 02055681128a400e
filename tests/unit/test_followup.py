"""Follow-up questions: when a question is rewritten, what it is rewritten to, and the metrics.

Fast: no model, no store. The conversations are written for these tests (a town on a
river crossing, a rowing race, a harbour); none comes from the follow-up dev set in
``eval/followups/``, so the rules are not tested on the data they are measured on, and
only the few tests moved from ``test_core_unit.py`` use the bundled article's names.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from rag.config import REFUSAL, UNSURE, Settings
from rag.eval import followups as fu
from rag.eval.dataset import DatasetError, parse_row
from rag.eval.markdown import render_markdown
from rag.eval.runner import run_dataset
from rag.eval.scoring import RowResult
from rag.followup import Turn, as_turns, condense, depends_on_history, mentions, resolve
from tests.fakes import CannedAssistant, HashingEmbeddings, answered

BRIDGE = "The Lunt Bridge was designed by the engineer Margaret Holloway and opened in 1887. [1]"
TOWN = "Ashwick Ferry grew up around a river crossing on the Lunt. [1]"
MILL = "When the mill closed in 1931, about 2,000 people lost their jobs. [1]"


def turns(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"question": q, "answer": a} for q, a in pairs]


AFTER_BRIDGE = turns(("When did the Lunt Bridge open?", BRIDGE), ("Who designed it?", BRIDGE))


# ---- the reported bugs ----------------------------------------------------------------
@pytest.mark.parametrize(
    "question",
    [
        "How many people lost their jobs when the paper mill closed?",
        "What did the council decide about its budget?",
        "Why did the miners strike after their pay was cut?",
        "Which company moved its offices to Leeds?",
        "When did Holloway retire, and where did she live afterwards?",
        "How many members has the rowing club had since it moved to the quay?",
    ],
)
def test_a_complete_question_with_a_pronoun_of_its_own_is_not_rewritten(question):
    assert not depends_on_history(question)
    assert resolve(question, AFTER_BRIDGE) == resolve(question, [])
    assert condense(question, AFTER_BRIDGE) == question


def test_a_person_pronoun_is_never_resolved_to_a_place():
    history = turns(("Where is Ashwick Ferry?", TOWN))
    res = resolve("When was she first elected?", history)
    assert "Ashwick" not in res.question and "Lunt" not in res.question
    assert res.question == "When was she first elected?"  # nobody to point at: words kept


def test_a_person_pronoun_is_resolved_to_the_person_not_the_bridge():
    res = resolve("When was she first elected?", AFTER_BRIDGE)
    assert res.question == res.query == "When was Margaret Holloway first elected?"


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("Who is Davies?", "Davies, the club's treasurer, said he would stand down in June. [1]"),
        ("Who rowed stroke?", "Brandt, known as ‘Doc’ to his crew, rowed stroke in 1952. [1]"),
        ("Who rowed stroke?", "The stroke was Dr Brandt of the Priory crew. [1]"),
    ],
)
def test_a_single_word_name_is_used_for_a_person_pronoun(question, answer):
    res = resolve("When did he join the club?", turns((question, answer)))
    assert res.question in ("When did Davies join the club?", "When did Brandt join the club?")


@pytest.mark.parametrize(
    "question",
    ["Why did the mill close?", "How did the town get its name?", "Why is the race held?"],
)
def test_why_and_how_with_a_subject_of_their_own_are_not_follow_ups(question):
    assert not depends_on_history(question)
    assert condense(question, turns(("When did the mill close?", MILL))) == question


@pytest.mark.parametrize("question", ["Why?", "How so?", "Why not?", "When?"])
def test_a_bare_why_or_how_is_asked_as_it_was_and_marked_unsure(question):
    res = resolve(question, turns(("When did the mill close?", MILL)))
    assert res.question == res.query == question  # no words appended
    assert res.unsure and res.unresolved == (question,)
    assert res.previous_answer == MILL


def test_why_with_a_pronoun_subject_is_resolved():
    history = turns(("Who designed the Lunt Bridge?", BRIDGE))
    assert resolve("Why did she leave?", history).question == "Why did Margaret Holloway leave?"


# ---- it / they / there ---------------------------------------------------------------
def test_it_is_the_last_thing_named_not_a_person_or_a_date():
    history = turns(
        ("Who designed the Lunt Bridge?", BRIDGE),
    )
    res = resolve("How many arches does it have?", history)
    assert res.question == "How many arches does the Lunt Bridge have?"


def test_it_comes_from_the_answer_when_the_question_asked_which_thing():
    answer = "The lighthouse on Gannet Rock, two miles off the coast, was first lit in 1868. [1]"
    history = turns(("Which lighthouse was first lit in 1868?", answer))
    assert resolve("Who kept it?", history).question == "Who kept the lighthouse on Gannet Rock?"


def test_they_is_the_last_group_and_its_possessive_follows():
    answer = "The first ferry was run by the monks of Ashwick Priory, who charged a penny. [1]"
    history = turns(("Who ran the first ferry?", answer))
    res = resolve("What did they charge for a cart?", history)
    assert res.question == "What did the monks of Ashwick Priory charge for a cart?"
    res = resolve("Where was their priory?", history)
    assert res.question == "Where was the monks of Ashwick Priory’s priory?"


def test_an_object_pronoun_is_not_bound_to_the_subject_of_its_own_clause():
    history = turns(("When did the public toilets open?", "They opened in 1921. [1]"))
    res = resolve("Why did the council close them?", history)
    assert res.question == "Why did the council close the public toilets?"


def test_there_is_the_last_place_with_its_preposition():
    answer = "The boat race runs from the bridge to the old ferry steps in Ashwick Ferry. [1]"
    history = turns(("Where is the boat race held?", answer))
    res = resolve("Who can row there?", history)
    assert res.question == "Who can row in Ashwick Ferry?"
    res = resolve("How far is it from there to the sea?", history)
    assert "from Ashwick Ferry to the sea" in res.question


@pytest.mark.parametrize(
    "question",
    [
        "Is there a museum in the town?",
        "How many boats are there?",
        "What is the name of the boat that won the race?",
        "How long did it take to build the bridge?",
        "Is it true that the mill burned down?",
        "Who rowed the boat themselves?",
    ],
)
def test_existential_there_relative_that_and_dummy_it_are_not_pointers(question):
    assert not depends_on_history(question)
    assert condense(question, AFTER_BRIDGE) == question


def test_a_pointer_that_cannot_be_replaced_is_asked_as_it_was_and_marked_unsure():
    history = turns(("How much did the bridge cost?", "The bridge cost £14,000. [1]"))
    res = resolve("And how much is that today?", history)
    assert res.question == res.query == "And how much is that today?"
    assert res.unsure and res.unresolved == ("that",)


# ---- ellipsis, greetings, data flow -----------------------------------------------------
def test_and_x_and_what_about_x_are_read_in_the_previous_question():
    history = turns(("When did the Lunt Bridge open?", BRIDGE))
    assert resolve("And the lighthouse?", history).question == "When did the lighthouse open?"
    assert resolve("What about the mill?", history).query == "When did the mill open?"
    assert (
        resolve("And in Ashwick Ferry?", turns(("How many shops are open on Sundays?", "")))
    ).question == "How many shops are open on Sundays in Ashwick Ferry?"


def test_what_about_x_that_does_not_fit_is_asked_as_it_was():
    res = resolve("What about rowers under 16?", turns(("When was the race first held?", "")))
    assert res.question == res.query == "What about rowers under 16?"
    assert res.unsure and res.unresolved == ("rowers under 16",)


@pytest.mark.parametrize("greeting", ["hi", "Hello!", "Thanks", "thank you", "ok"])
def test_greetings_are_never_rewritten(greeting):
    assert not depends_on_history(greeting)
    assert resolve(greeting, AFTER_BRIDGE) == resolve(greeting, [])


def test_a_greeting_turn_is_skipped_when_looking_back():
    history = turns(("Who designed the Lunt Bridge?", BRIDGE), ("thanks", REFUSAL))
    res = resolve("When was she born?", history)
    assert res.question == "When was Margaret Holloway born?"
    assert res.previous_answer == BRIDGE


def test_after_a_who_question_the_new_person_in_the_answer_is_meant():
    answer = "Holloway was replaced by the surveyor Arthur Penn in 1895. [1]"
    history = turns(("Who replaced Margaret Holloway as town engineer?", answer))
    assert resolve("When did he retire?", history).question == "When did Arthur Penn retire?"


@pytest.mark.parametrize("answer", [REFUSAL, UNSURE])
def test_refused_or_unsure_answers_give_no_antecedent_and_no_context(answer):
    history = turns(("Who designed the Lunt Bridge?", answer))
    res = resolve("When was she born?", history)
    assert res.question == "When was she born?" and res.previous_answer == ""


def test_a_complete_question_gets_no_previous_answer():
    assert resolve("When did the mill close?", AFTER_BRIDGE).previous_answer == ""
    assert resolve("When did it open?", AFTER_BRIDGE).previous_answer == BRIDGE


def test_resolved_standalones_in_the_history_are_used():
    history = [
        {"question": "Who designed the Lunt Bridge?", "answer": BRIDGE},
        {
            "question": "Where did she train?",
            "answer": "",
            "standalone": "Where did Margaret Holloway train?",
        },
    ]
    assert resolve("When did she die?", history).question == "When did Margaret Holloway die?"


def test_history_comes_as_strings_turns_dicts_or_chat_messages():
    messages = [
        {"role": "user", "content": "Who designed the Lunt Bridge?"},
        {"role": "assistant", "content": BRIDGE},
    ]
    assert as_turns(messages) == [Turn("Who designed the Lunt Bridge?", BRIDGE)]
    assert as_turns(["Who designed it?"]) == [Turn("Who designed it?")]
    assert resolve("When was she born?", messages).question == "When was Margaret Holloway born?"


def test_no_history_means_no_rewrite():
    assert condense("Who is she meeting?", []) == "Who is she meeting?"
    assert depends_on_history("Who is she meeting?")


# ---- moved from test_core_unit.py (the bundled article's names) ----------------------
HISTORY = [
    {
        "question": "Who will visit Calais on Thursday?",
        "answer": "Home Secretary Theresa May will visit Calais on Thursday. [1]",
    }
]


@pytest.mark.parametrize(
    "question",
    ["hi", "What is Frontex?", "How many migrants entered the EU in July?", "Thanks"],
)
def test_self_contained_questions_are_not_rewritten(question):
    assert not depends_on_history(question)
    assert condense(question, HISTORY) == question


def test_pronoun_is_resolved_to_the_person_from_the_previous_turn():
    res = resolve("Who is she meeting?", HISTORY)
    assert res.question == res.query == "Who is Theresa May meeting?"
    assert res.previous_answer.startswith("Home Secretary Theresa May")


def test_organisations_are_not_taken_for_people():
    history = [
        {
            "question": "Who was the interpreter?",
            "answer": "He served as an interpreter for the British Army. [1]",
        }
    ]
    assert "British Army" not in resolve("How old is he?", history).question


def test_a_refusal_is_not_used_as_context():
    history = [{"question": "Who is the mayor?", "answer": REFUSAL}]
    assert resolve("Where does she live?", history).previous_answer == ""


# ---- metrics (rag.eval.followups) -----------------------------------------------------
def _row(history: list[str], question: str, expected: Any, **extra: Any):
    raw = {"id": extra.pop("id", "r1"), "question": question, "reference": "x"}
    raw |= {"history": history, "expected_standalone": expected, **extra}
    return parse_row(raw, "test line 1")


def _result(row, standalones: list[str], **fields: Any) -> RowResult:
    history = [
        {"question": q, "answer": "", "standalone": s}
        for q, s in zip(row.history, standalones, strict=False)
    ]
    result = RowResult(
        id=row.id, question=row.question, reference=list(row.references), evidence=[],
        answerable=row.answerable, follow_up=row.follow_up, history=list(row.history),
        standalone_question=standalones[-1], history_turns=history,
    )  # fmt: skip
    result.metrics.update(fields)
    return result


def test_a_turn_needs_a_rewrite_when_its_expected_standalone_differs():
    check = fu.TurnCheck(
        "r", 1, "When did it close?", "When did the mill close?", "When did it close?"
    )
    assert check.needed and not check.rewritten and not check.correct
    resolved = replace(check, standalone="When did the mill close? (mill open)")
    assert resolved.rewritten and resolved.resolved and resolved.correct
    assert resolved.antecedent == {"mill"}
    assert resolved.resolved_strictly
    topic_only = replace(check, standalone="When did it close? (mill open)")
    assert topic_only.resolved and not topic_only.resolved_strictly
    wrong = replace(check, standalone="When did the bridge close?")
    assert wrong.rewritten and not wrong.resolved and not wrong.correct
    same = fu.TurnCheck("r", 1, "Why did the mill close?", "Why did the mill close?", "")
    assert not same.needed and not replace(same, standalone=same.question).rewritten
    assert not replace(same, standalone="Why did the mill close? (x)").correct


def test_spacing_case_and_apostrophes_are_no_rewrite():
    check = fu.TurnCheck("r", 1, "Who owns Brigg's Mill?", "Who owns Brigg’s mill?", "")
    assert not check.needed


def test_expectations_per_turn_or_for_the_last_turn_only():
    row = _row(["Q1?", "Q2?"], "Q3?", ["Q1?", "Q2 resolved?", "Q3?"], split="dev")
    assert fu.expectation(row) == fu.Expectation("r1", ("Q1?", "Q2 resolved?", "Q3?"), "dev")
    last = fu.expectation(_row(["Q1?"], "Q2?", "Q2 resolved?"))
    assert last is not None and last.turns == (None, "Q2 resolved?")
    assert fu.expectation(_row([], "Q?", None)) is None
    assert fu.expectations([_row([], "Q?", None)]) == {}


@pytest.mark.parametrize("bad", [["Q1?"], ["Q1?", "Q2?", "Q3?"], [1, 2], {"a": 1}])
def test_malformed_expectations_name_the_row(bad):
    with pytest.raises(DatasetError, match="test line 1"):
        fu.expectation(_row(["Q1?"], "Q2?", bad))


def _checked() -> tuple[dict[str, fu.Expectation], list[RowResult]]:
    rows = [
        # needed, rewritten, resolved
        _row(
            ["Who built it?"], "When did it close?", ["Who built it?", "When did the mill close?"]
        ),
        # needed, rewritten, wrongly
        _row(["Q?"], "Who was she?", ["Q?", "Who was Ann Lee?"], id="r2", split="x"),
        # not needed, rewritten anyway
        _row(["Q?"], "Why did it shut?", ["Q?", "Why did it shut?"], id="r3", split="x"),
        # needed, not rewritten
        _row(["Q?"], "And then?", ["Q?", "What happened next?"], id="r4"),
    ]
    results = [
        _result(rows[0], ["Who built it?", "When did the mill close?"], containment=1.0),
        _result(rows[1], ["Q?", "Who was Ashwick Ferry?"], containment=0.0),
        _result(rows[2], ["Q?", "Why did it shut? (Q)"], containment=1.0),
        _result(rows[3], ["Q?", "And then?"], containment=0.0),
    ]
    return fu.expectations(rows), results


def test_rates_count_every_turn():
    expected, results = _checked()
    rates = fu.rates(fu.turn_checks(expected, results))
    assert (rates["turns"], rates["turns_with_history"], rates["needed"]) == (8, 4, 3)
    assert rates["rewritten"] == 3 and rates["rewritten_and_needed"] == 2
    assert rates["rewrite_precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert rates["rewrite_recall"] == pytest.approx(2 / 3, abs=1e-4)
    assert rates["resolution_accuracy"] == 0.5 and rates["strict_resolution_accuracy"] == 0.5
    assert rates["turn_accuracy"] == 0.25
    assert fu.rates([])["rewrite_precision"] is None


def test_the_block_splits_by_split_and_by_whether_the_last_turn_needed_a_rewrite():
    expected, results = _checked()
    block = fu.summary_update(expected, results)["followups"]
    assert set(block["by_split"]) == {"x"} and block["by_split"]["x"]["turns"] == 4
    answers = block["answers"]
    assert answers["last_turn_needed_rewrite"]["containment"]["value"] == pytest.approx(
        1 / 3, abs=1e-4
    )
    assert answers["last_turn_complete"]["containment"]["value"] == 1.0
    assert len(block["turn_checks"]) == 8
    assert fu.summary_update({}, results) == {}


def test_an_errored_row_is_not_scored():
    expected, results = _checked()
    results[0].error = "bad question"
    assert {c.row_id for c in fu.turn_checks(expected, results)} == {"r2", "r3", "r4"}


class ResolvingAssistant(CannedAssistant):
    """Answers every question the same way, but resolves it with the real resolver."""

    def ask(self, question: str, history: Any = None, k: int | None = None) -> Any:
        query = resolve(question, history).query
        return replace(answered(question), question=question, standalone_question=query)


def test_an_eval_with_expected_standalones_reports_a_follow_ups_section(tmp_path):
    lines = [
        '{"id": "a", "question": "Who designed it?", "reference": "jars",'
        ' "history": ["When did the Lunt Bridge open?"],'
        ' "expected_standalone": ["When did the Lunt Bridge open?", "Who designed X?"]}',
        '{"id": "b", "question": "Why did the mill close?", "reference": "jars",'
        ' "history": ["Who designed the Lunt Bridge?"],'
        ' "expected_standalone": ["Who designed the Lunt Bridge?", "Why did the mill close?"]}',
    ]
    path = tmp_path / "fu.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assistant = ResolvingAssistant(Settings(_env_file=None), HashingEmbeddings())
    report = run_dataset(path, assistant)
    block = report["summary"]["followups"]
    assert (block["turns"], block["needed"], block["rewritten"]) == (4, 1, 1)
    assert block["rewrite_precision"] == 1.0 and block["rewrite_recall"] == 1.0
    markdown = render_markdown(report)
    assert "## Follow-ups" in markdown and "Rewrite precision" in markdown
    assert "Who designed X?" in markdown  # the wrongly resolved turn is listed


def test_an_eval_without_expected_standalones_has_no_follow_ups_block(tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_text('{"question": "How many jars?", "reference": "jars"}\n', encoding="utf-8")
    assistant = ResolvingAssistant(Settings(_env_file=None), HashingEmbeddings())
    report = run_dataset(path, assistant)
    assert "followups" not in report["summary"]
    assert "## Follow-ups" not in render_markdown(report)


# ---- noun phrases and names --------------------------------------------------------------
def test_a_time_word_ends_a_noun_phrase():
    history = turns(("Who owns the harbour walls today?", "The harbour board owns them. [1]"))
    res = resolve("When are they repaired?", history)
    assert res.question == "When are the harbour walls repaired?"


def test_a_phrase_about_time_is_no_antecedent_but_a_time_trial_is():
    history = turns(("When is the ten-mile time trial run?", "It is run every June. [1]"))
    assert (
        resolve("Where is it held?", history).question == "Where is the ten-mile time trial held?"
    )
    history = turns(("What did the rowers buy after the war?", "They bought a boathouse. [1]"))
    res = resolve("How much did they pay for it?", history)
    assert res.question == "How much did the rowers pay for the boathouse?"


def test_a_family_or_team_after_a_name_is_a_group():
    answer = "The ferry was run by the Dobson family until 1887. [1]"
    res = resolve("Why did they sell it?", turns(("Which family ran the ferry?", answer)))
    assert res.question == "Why did the Dobson family sell the ferry?"


def test_a_number_between_the_article_and_the_name_is_kept():
    answer = "Ann Lee rowed at the 1952 Summer Games in Helsinki. [1]"
    res = resolve("Where were they held?", turns(("Who rowed at the 1952 Summer Games?", answer)))
    assert res.question == "Where were the 1952 Summer Games held?"


def test_the_place_next_to_the_question_s_verb_is_meant_not_the_first_one():
    answer = (
        "The boathouse flooded in 1968, and the rowers met in the old barn of the Swan Inn "
        "in Ashwick for a year until a new boathouse opened at Mill Quay in 1970. [1]"
    )
    history = turns(("Where did the rowers meet after the boathouse flooded?", answer))
    res = resolve("How long did they meet there?", history)
    assert res.question == "How long did the rowers meet in the Swan Inn?"
    answer = "Penn was born in Ashwick in 1850 and trained as a clerk before he moved to Leeds. [1]"
    history = turns(("Where did Arthur Penn move to?", answer))
    assert resolve("What did he do there?", history).question == "What did Arthur Penn do in Leeds?"


def test_a_name_in_the_question_beats_a_common_noun_in_the_answer_for_it():
    answer = "The firm was founded in 1890 by the engineer Margaret Holloway. [1]"
    res = resolve("When did she found it?", turns(("Who founded Holloway Engineering?", answer)))
    assert res.question == "When did Margaret Holloway found Holloway Engineering?"


# ---- the question keeps every character it had; numbers, quotes and places --------------
def test_quotes_and_symbols_in_the_question_are_kept():
    history = turns(("Who designed the Lunt Bridge?", BRIDGE))
    res = resolve("Did she call the design ‘plain’ and was it worth £400?", history)
    assert res.question == "Did Margaret Holloway call the design ‘plain’ and was it worth £400?"


def test_a_count_of_people_is_not_used_for_they():
    history = turns(
        ("How many people live in Ashwick Ferry?", "About 12,000 people live there. [1]")
    )
    res = resolve("Where do most of them work?", history)
    assert res.question == res.query == "Where do most of them work?"
    assert res.unsure  # nothing to point at: asked as it was


def test_a_name_followed_by_where_is_a_place():
    answer = "Holloway will visit Stoneham on Friday, where she will open the new bridge. [1]"
    history = turns(("Which engineer will visit Stoneham?", answer))
    res = resolve("What will she open there?", history)
    assert res.question == "What will Holloway open in Stoneham?"


def test_a_noun_phrase_ends_before_a_verb_or_a_number():
    found = mentions("Figures for this year surpassed 2,000 orders.")
    assert [(m.text, m.kind) for m in found] == [("this year", "time")]


def test_after_what_job_it_is_not_a_name_beside_the_answer_so_the_question_is_kept():
    answer = (
        "Brandt, known as ‘Doc’ to his old Priory Club friends, worked as a boatman "
        "in Ashwick Ferry. [1]"
    )
    history = turns(("What job did Brandt do for the Priory Club?", answer))
    res = resolve("In which year did he do it?", history)
    assert res.question == "In which year did he do it?"  # not "...do the Priory Club?"
    assert res.unsure and res.unresolved == ("it",)


def test_after_an_unanswered_what_job_it_is_not_taken_from_an_older_turn():
    history = turns(
        ("Who rowed stroke in Ashwick Ferry?", "Brandt rowed stroke, and he coached the crew. [1]"),
        ("What job did Brandt do at the boatyard?", "He mended the boats. [1]"),
    )
    res = resolve("In which year did he do it?", history)
    assert res.question == "In which year did he do it?"  # not "do Ashwick Ferry"
    assert res.unsure


def test_after_which_organisation_it_is_the_organisation_or_the_question_s_thing():
    answer = "The boatyard was bought by the Dobson family in 1901. [1]"
    res = resolve("When did they sell it?", turns(("Which family bought the boatyard?", answer)))
    assert res.question == "When did the Dobson family sell the boatyard?"


def test_a_person_pronoun_needs_a_name_not_a_role():
    history = turns(("Who mended the boats?", "A boatman from the quay mended them. [1]"))
    assert resolve("How old is he?", history).question == "How old is he?"


@pytest.mark.parametrize(
    "question",
    [
        "Who was the former mayor of Ashwick Ferry?",
        "Why did the RNLI move their lifeboat to the quay?",
        "When do rowers vote on whether they accept the new rules?",
        "Who said she would row the race alone?",
        "What did the council ask June to do with her allotment?",
        "Why is the bridge built as it is?",
        "How often do Ashwick and Stoneham hold their joint regatta?",
        "What happened to Brandt after he left the crew?",
        "What else did the rowing club build in 1952?",
    ],
)
def test_more_complete_questions_are_left_alone(question):
    assert not depends_on_history(question)
    assert condense(question, AFTER_BRIDGE) == question


def test_but_a_bare_plural_that_cannot_act_does_not_bind_they():
    assert depends_on_history("How many jobs were lost when they closed?")


def test_the_former_alone_still_points_back():
    assert depends_on_history("When was the former built?")


def test_a_place_joined_by_two_overlapping_phrases_does_not_crash() -> None:
    # "2019 - 20 season at Ashwick": two phrases end right before "at Ashwick"; the place
    # joins both, once marked nested (this raised ValueError before).
    from rag.followup.mentions import mentions

    found = mentions("The fee for the 2019 - 20 season at Ashwick was raised.")
    assert [m.text for m in found if m.nested] == ["Ashwick"]
    assert "the 2019 - 20 season at Ashwick" in [m.text for m in found]
    history = [
        {
            "question": "What was the fee for the 2019 - 20 season at Ashwick?",
            "answer": "The fee for the 2019 - 20 season at Ashwick was 40 pounds.",
        }
    ]
    resolved = resolve("Why was it raised?", history)  # resolved, not an exception
    # the number range belongs to its phrase: "it" is the fee, not "the 2019"
    assert resolved.question == "Why was the fee raised?"


# ---- follow-ups as people talk (a bakery, a car park, a drone shop; not the eval's text) --
STARTED = "It was started by Ada Lowe, a former nurse, who baked her first loaves in 1972. [1]"
DELIVERS = "The bread is delivered by Sam Okoro, who took over the round from his uncle. [1]"


@pytest.mark.parametrize(
    ("frame", "follow_up", "expected"),
    [
        ("What is the parking fee in Leeds?", "And in York?", "What is the parking fee in York?"),
        ("What is the parking fee in Hull?", "What about Ely?", "What is the parking fee in Ely?"),
        ("How many visitors came in 2019?", "And in 2021?", "How many visitors came in 2021?"),
        (
            "How long does the battery of the Kite Mini last?",
            "What about the Max?",
            "How long does the battery of the Max last?",
        ),
        ("Who signs off domestic orders?", "And export orders?", "Who signs off export orders?"),
        ("What is the bakery's phone number?", "And its address?", "What is the bakery's address?"),
        ("How much is a day pass?", "And for members?", "How much is a day pass for members?"),
    ],
)
def test_an_elliptical_follow_up_takes_the_place_of_its_counterpart(frame, follow_up, expected):
    res = resolve(follow_up, turns((frame, "")))
    assert res.question == res.query == expected
    assert not res.unsure


def test_and_in_a_place_replaces_the_place_and_chains_over_turns():
    history = [
        {"question": "What is the parking fee in Leeds?", "answer": ""},
        {"question": "And in York?", "standalone": "What is the parking fee in York?"},
    ]
    res = resolve("And in Hull?", history)
    assert res.question == "What is the parking fee in Hull?"  # not "...in Leeds in Hull?"


def test_a_number_does_not_replace_a_place():
    res = resolve("And in 2021?", turns(("What is the parking fee in Leeds?", "")))
    assert res.question == "What is the parking fee in Leeds in 2021?"


def test_a_phrase_describing_a_person_is_a_person():
    found = {m.text: m.kind for m in mentions(STARTED)}
    assert found["Ada Lowe"] == found["the former nurse"] == "person"


def test_it_never_resolves_to_a_person_and_looks_back_past_a_turn_about_one():
    history = turns(
        ("Who started the Corner Bakery?", STARTED), ("What was her job before?", STARTED)
    )
    res = resolve("Who runs it today?", history)
    assert res.question == "Who runs the Corner Bakery today?"  # not "the former nurse"


def test_they_never_resolves_to_a_person():
    answer = "The flour comes from the Marsh Mill Company, which is run by Tom Marsh. [1]"
    res = resolve("Where are they based?", turns(("Who supplies the flour?", answer)))
    assert "Tom Marsh" not in res.question


def test_he_is_never_a_woman_the_documents_call_she():
    res = resolve("Where did he train?", turns(("Who started the Corner Bakery?", STARTED)))
    assert res.question == res.query == "Where did he train?"
    assert res.unsure and res.unresolved == ("he",)


def test_he_is_the_man_the_documents_call_he_even_when_a_woman_was_named_since():
    history = turns(("Who delivers the bread?", DELIVERS), ("Who started the bakery?", STARTED))
    assert resolve("When did he take over?", history).question == "When did Sam Okoro take over?"
    assert resolve("When did she retire?", history).question == "When did Ada Lowe retire?"


def test_a_person_the_user_called_she_is_not_he():
    history = [
        {"question": "Who bakes the rye bread?", "answer": "The rye is baked by Jo Quayle. [1]"},
        {"question": "When did she start?", "standalone": "When did Jo Quayle start?"},
    ]
    res = resolve("Does he bake the rolls too?", history)
    assert res.question == "Does he bake the rolls too?" and res.unsure


def test_a_resolved_or_standalone_question_is_not_marked_unsure():
    assert not resolve("Who runs the Corner Bakery?", turns(("Who started it?", STARTED))).unsure
    history = turns(("Who started the Corner Bakery?", STARTED))
    res = resolve("When did she open it?", history)
    assert res.question == "When did Ada Lowe open the Corner Bakery?" and not res.unsure
