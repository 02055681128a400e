"""Rules that decide whether a sentence *can* be an answer to a question at all.

A sentence the rules reject is never quoted as an answer, however well it scores:

* **fragments** (:mod:`rag.gates.fragments`): headings (``# ...``), the document's
  title, and verbless or title-cased lines without closing punctuation (menus, captions,
  list labels);
* **answer type** (:mod:`rag.gates.kinds`): what the question asks for must be in the
  quoted sentence itself, not only in the one it continues: ``who`` -> a person or
  organisation not already named in the question, ``when`` -> a date or time, ``how
  many/much`` -> a number, ``where`` -> a place, "the name(s) of" -> a proper name;
* **alignment** (:mod:`rag.gates.alignment`): every number the question names must be in
  the sentence (or the sentence it continues), and every name it names must be in the
  passage or the document's title, so "the race in 2019" is not answered by the race of
  2018; a "how many" question is not answered by a sentence that names its year only as
  the base of a comparison ("double the figure for 2019");
* **contradiction** (:mod:`rag.gates.contradiction`): a negated question ("what is *not*
  ...") needs a negated sentence, and a question about one of two common opposites
  ("exit") is not answered by a sentence stating the other ("enter").

How words are compared (stems, demonyms, initialisms, typos) lives in
:mod:`rag.gates.words`. This module applies the rules in order and gives the verdict;
the names other modules use are importable from here.

The rules are about English questions in general, not about any one document; each has
tests on text written for them. This package scores nothing and loads no model: it
says yes or no, with the reason (for the answer's explanation and the eval).
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.gates.alignment import (
    mentions_number,
    missing_names,
    only_relative,
    question_names,
    question_numbers,
)
from rag.gates.contradiction import OPPOSITES, contradiction
from rag.gates.fragments import fragment_reason
from rag.gates.kinds import NUMBER_WORDS, Kind, holds_kind, question_kind
from rag.gates.words import LEADING_FUNCTION_WORDS, STOPWORDS, stem

__all__ = [
    "LEADING_FUNCTION_WORDS",
    "NUMBER_WORDS",
    "OK",
    "OPPOSITES",
    "STOPWORDS",
    "Kind",
    "Verdict",
    "check",
    "contradiction",
    "fragment_reason",
    "holds_kind",
    "missing_names",
    "only_relative",
    "question_kind",
    "question_names",
    "question_numbers",
    "stem",
]


@dataclass(frozen=True)
class Verdict:
    """Whether a sentence may answer, and if not, why (a short reason for people)."""

    ok: bool
    reason: str = ""


OK = Verdict(True)


def check(
    question: str, sentence: str, context: str, title: str = "", passage: str = ""
) -> Verdict:
    """May *sentence* answer *question*?

    *context* is the sentence with the one it continues (for pronouns), *passage* the
    retrieved text around it and *title* the document's title.
    """
    if reason := fragment_reason(sentence, title):
        return Verdict(False, reason)
    # The quote is what the reader is shown as the answer: the date, number, name or
    # place asked for must be in it, not only in the sentence it continues.
    kind = question_kind(question)
    if not holds_kind(kind, sentence, question):
        return Verdict(False, f"no {kind} in it")
    # A sentence that continues an earlier one ("It also means...") may leave the
    # question's number to the passage; any other sentence must state it.
    where = context if context == sentence else f"{context} {passage}"
    for number in question_numbers(question):
        if not mentions_number(number, where):
            return Verdict(False, f"does not mention {number}")
        if kind == "number" and only_relative(number, sentence):
            return Verdict(False, f"gives the figure for {number} only relative to another")
    missing = missing_names(question, " ".join((passage or context, title)))
    if missing:
        return Verdict(False, f"does not mention {missing[0]}")
    if reason := contradiction(question, context):
        return Verdict(False, reason)
    return OK
