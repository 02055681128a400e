"""Who the conversation calls "he" and who "she".

Gender is not read from a name (no lists of first names): a person is "he" or "she"
only when a text says so. Two kinds of evidence count:

* in a text (an earlier question, its answer), a person named and then referred to by
  a gendered pronoun before the next name: "Margery Quill, a retired watchmaker, who
  gave it her collection" makes Quill "she";
* an earlier turn whose "she" or "he" was rewritten to a name: the user said so.

This module only collects the evidence; :mod:`rag.followup.resolve` uses it to keep
"he" from resolving to a woman and "she" to a man. A person with no evidence either
way may still be meant by either pronoun.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rag.followup.mentions import Mention, mentions, strip_possessive, tokens
from rag.followup.words import PERSON, UNKNOWN

MALE, FEMALE = "he", "she"
_PRONOUNS = {
    **dict.fromkeys(("he", "him", "his", "himself"), MALE),
    **dict.fromkeys(("she", "her", "hers", "herself"), FEMALE),
}


def pronoun_gender(word: str) -> str:
    """ "he" for he/him/his/himself, "she" for she/her/hers/herself, else ""."""
    return _PRONOUNS.get(word.lower(), "")


def _keys(m: Mention) -> list[str]:
    """What a gender is recorded under: a name's capitalised words, or a phrase's text."""
    if m.name:
        return [w for w in m.text.split() if w[:1].isupper()]
    return [m.text.lower()]


def _in_text(text: str, known: frozenset[str]) -> Iterable[tuple[str, str]]:
    """(key, gender) for each person followed by a gendered pronoun before the next name."""
    toks = tokens(text)
    people = [m for m in mentions(text, known) if m.kind == PERSON and not m.wh]
    starts = sorted(m.lead for m in people if m.name)
    for m in people:
        stop = next((s for s in starts if s >= m.end), len(toks))
        found = (pronoun_gender(t.low) for t in toks[m.end : stop])
        gender = next((g for g in found if g), "")
        for key in _keys(m) if gender else []:
            yield key, gender


def _in_rewrite(question: str, standalone: str) -> Iterable[tuple[str, str]]:
    """(word, gender) for the person an earlier "she" or "he" was rewritten to."""
    said = {pronoun_gender(t.low) for t in tokens(question)} - {""}
    if len(said) != 1 or not standalone:
        return
    asked = {strip_possessive(t.text) for t in tokens(question)}
    for m in mentions(standalone):
        if m.name and m.kind in (PERSON, UNKNOWN) and not set(m.text.split()) & asked:
            for key in _keys(m):
                yield key, next(iter(said))


def genders(
    texts: Sequence[str], rewrites: Sequence[tuple[str, str]], known: frozenset[str]
) -> dict[str, str]:
    """Name word (or phrase) -> "he"/"she", from *texts* and (question, standalone) pairs.

    A key with evidence both ways is dropped: contradictory evidence is no evidence.
    """
    seen: dict[str, set[str]] = {}
    for text in texts:
        for key, gender in _in_text(text, known):
            seen.setdefault(key, set()).add(gender)
    for question, standalone in rewrites:
        for key, gender in _in_rewrite(question, standalone):
            seen.setdefault(key, set()).add(gender)
    return {key: next(iter(g)) for key, g in seen.items() if len(g) == 1}


def gender_of(m: Mention, table: dict[str, str]) -> str:
    """The gender the evidence gives *m* ("" when none, or when its words disagree)."""
    found = {table[k] for k in _keys(m) if k in table}
    return next(iter(found)) if len(found) == 1 else ""
