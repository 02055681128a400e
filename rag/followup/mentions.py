"""Mentions: the names, places, groups and things a text talks about, in order.

:func:`mentions` joins the capitalised names (:mod:`rag.followup.names`) and the common
noun phrases (:mod:`rag.followup.phrases`) of a text, attaching a place to the phrase
it qualifies ("the shop in Mill Lane"); :func:`people_words` collects the words of
names shown to be people, so a later lone "Holloway" is known to be one. The token and
mention records (:mod:`rag.followup.tokens`) are importable from here too.

It finds mentions by capitalisation and the words around them; it does not decide what
a pronoun points to (:mod:`rag.followup.pointers`, :mod:`rag.followup.resolve`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from rag.followup.names import DATE_WORDS, name_mentions
from rag.followup.phrases import phrase_mentions
from rag.followup.tokens import (
    Mention,
    Tok,
    is_plural,
    prev_is,
    strip_possessive,
    tokens,
    verb_like,
)
from rag.followup.words import PERSON

__all__ = [
    "DATE_WORDS",
    "Mention",
    "Tok",
    "is_plural",
    "mentions",
    "people_words",
    "prev_is",
    "strip_possessive",
    "tokens",
    "verb_like",
]


def _attach_places(toks: Sequence[Tok], nps: list[Mention], names: list[Mention]) -> list[Mention]:
    """ "the shop in Mill Lane": the place joins the phrase and is marked nested."""
    at = {m.lead: i for i, m in enumerate(names)}  # by position: a place may join twice
    out = list(names)
    for k, np in enumerate(nps):
        where = at.get(np.end + 1)
        inner = names[where] if where is not None else None
        joins = np.end < len(toks) and toks[np.end].low in ("in", "on", "at", "of")
        if inner and where is not None and joins and inner.kind != PERSON:
            joined = " ".join([np.text, toks[np.end].text, inner.text])
            nps[k] = replace(np, text=joined, end=inner.end)
            out[where] = replace(inner, nested=True)
    return out + nps


def _said_of_a_person(toks: Sequence[Tok], np: Mention, people: Sequence[Mention]) -> bool:
    """A phrase that describes a person: "Margery Quill, a retired watchmaker," or "a
    retired watchmaker who gave ..." (so "it" never resolves to the watchmaker)."""
    after = [t.low for t in toks[np.end : np.end + 2]]
    if after[:1] == ["who"] or after == [",", "who"]:
        return True
    before = np.lead - 1
    return before > 0 and toks[before].low == "," and any(m.end == before for m in people)


def _people_phrases(toks: Sequence[Tok], found: list[Mention]) -> list[Mention]:
    people = [m for m in found if m.kind == PERSON and m.name]
    return [
        replace(m, kind=PERSON, plural=False)
        if not m.name and not m.wh and not m.plural and _said_of_a_person(toks, m, people)
        else m
        for m in found
    ]


def mentions(text: str, known: frozenset[str] = frozenset()) -> list[Mention]:
    """Names and noun phrases of *text*, in order of position."""
    toks = tokens(text)
    question = text.rstrip().endswith("?")
    names = name_mentions(toks, known, question)
    nps = phrase_mentions(toks, names)
    found = sorted(_attach_places(toks, nps, names), key=lambda m: (m.lead, m.end))
    return _people_phrases(toks, found)


def people_words(texts: Sequence[str]) -> frozenset[str]:
    """Words of the names in *texts* shown to be people ("Holloway" of "Margaret Holloway")."""
    words: set[str] = set()
    for text in texts:
        for m in mentions(text):
            if m.kind == PERSON and m.person_evidence and not m.wh:
                words.update(w for w in m.text.split() if w[:1].isupper())
    return frozenset(words)
