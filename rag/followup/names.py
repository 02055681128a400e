"""Capitalised names in a text, and what kind of thing each names.

A name is a run of capitalised words ("of"/"the" allowed inside: "Bank of the North"),
trimmed of sentence openers, wh-words and titles ("Home Secretary Theresa May" ->
"Theresa May"), and extended over lowercase head nouns ("Ashwick station"). Its kind
(person, place, organisation, thing) comes from its head words and the words around
it: a title or role noun, "in X", "X, who", "X, where", a later "she" or "its". A lone
capitalised word at a sentence start, an acronym or a month in a date is no name.

This module only finds names (common noun phrases such as "the paper mill" are found
by :mod:`rag.followup.phrases`); nothing here decides what a pronoun points to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rag.followup.tokens import Mention, Tok, is_plural, strip_possessive, verb_like
from rag.followup.words import (
    DETERMINERS,
    FUNCTION_WORDS,
    GREETINGS,
    GROUP_NOUNS,
    LOCATIVE,
    MONTHS_DAYS,
    ORG,
    ORG_HEADS,
    PERSON,
    PERSON_VERBS,
    PLACE,
    PLACE_HEADS,
    POSSESSIVES,
    ROLE_NOUNS,
    SENTENCE_OPENERS,
    TEMPORAL,
    THING,
    THING_HEADS,
    TITLES,
    UNKNOWN,
    WH,
    word_set,
)


def _name_runs(toks: Sequence[Tok]) -> list[tuple[int, int]]:
    """Spans of capitalised words, "of"/"the" allowed inside ("Bank of the North")."""
    runs, i = [], 0
    while i < len(toks):
        if not toks[i].cap or toks[i].punct:
            i += 1
            continue
        j = i + 1
        while j < len(toks) and _continues(toks, j):
            j += 1
        runs.append((i, j))
        i = j
    return runs


def _continues(toks: Sequence[Tok], j: int) -> bool:
    if toks[j].cap and not toks[j].punct and not toks[j].initial:
        return True
    return toks[j].low in ("of", "the") and _joins(toks, j)


def _joins(toks: Sequence[Tok], j: int) -> bool:
    """ "of" / "of the" continue a name when a capitalised word follows."""
    k = j + 1
    if toks[j].low == "of" and k < len(toks) and toks[k].low == "the":
        k += 1
    return k < len(toks) and toks[k].cap and not toks[k].punct


def _leading_function_word(tok: Tok) -> bool:
    """ "The", "When", "Hello" open a sentence; mid-sentence "May" or "Will" is a name."""
    never_names = DETERMINERS | LOCATIVE | WH | TEMPORAL
    if tok.low in never_names or tok.low in GREETINGS:
        return True
    return tok.initial and tok.low in FUNCTION_WORDS


def _trim_run(toks: Sequence[Tok], i: int, j: int) -> tuple[int, int, bool, bool]:
    """Drop function words and titles from a run: (start, end, titled, opened by a wh-word)."""
    wh = False
    while i < j and _leading_function_word(toks[i]):
        wh, i = wh or toks[i].low in WH, i + 1
    titles = [k for k in range(i, j) if strip_possessive(toks[k].text).rstrip(".") in TITLES]
    if titles:
        i = titles[-1] + 1  # "Home Secretary Theresa May" -> "Theresa May"
        ofs = [k for k in range(i, j) if toks[k].low == "of"]
        j = ofs[0] if ofs else j  # "Dr Brandt of the Priory crew" -> "Brandt"
    while j > i and toks[j - 1].low in ("of", "the"):
        j -= 1
    return i, j, bool(titles), wh


def _absorb_heads(toks: Sequence[Tok], j: int) -> int:
    """Extend a name over lowercase head nouns: "Ashwick station", "Summer range"."""
    while j < len(toks) and not toks[j].cap and toks[j].low in THING_HEADS | GROUP_NOUNS:
        j += 1
    return j


@dataclass(frozen=True)
class Before:
    """What precedes a name: the word before it, an article, a role noun, where it starts."""

    word: str
    article: bool
    role: str
    lead: int


def _preceding(toks: Sequence[Tok], i: int) -> Before:
    k, role = i - 1, ""
    if k >= 0 and strip_possessive(toks[k].low) in ROLE_NOUNS:
        role, k = toks[k].low, k - 1
        while k >= 0 and not toks[k].punct and toks[k].low not in FUNCTION_WORDS:
            k -= 1  # adjectives before the role noun: "the young engineer"
    lead = k + 1
    while k >= 0 and toks[k].low.isdigit() and k > 0 and toks[k - 1].low in DETERMINERS:
        k -= 1  # "the 1952 Summer Games"
    article = k >= 0 and toks[k].low in DETERMINERS
    if article or (k >= 0 and toks[k].low in POSSESSIVES):
        lead, k = (k if article else lead), k - 1
    return Before(toks[k].low if k >= 0 else "", article, role, lead)


def _subject_like(toks: Sequence[Tok], i: int) -> bool:
    """The name comes first in its sentence (perhaps after a date: "In 1887 Holloway")."""
    k = i
    while k > 0 and not toks[k - 1].initial:
        k -= 1
    return i - (k - 1 if k else 0) <= 3


def _following_person(toks: Sequence[Tok], i: int, j: int) -> bool:
    """ "X, who", "X, the mayor's daughter,", "X was born", or a later "she" after a subject X."""
    nxt = [t.low for t in toks[j : j + 5]]
    if nxt[:1] == ["who"] or nxt[:2] == [",", "who"]:
        return True
    if nxt[:1] == [","] and any(strip_possessive(w) in ROLE_NOUNS for w in nxt[1:5]):
        return True
    if any(w in PERSON_VERBS for w in nxt[:3]):
        return True
    if not _subject_like(toks, i):
        return False
    for t in toks[j:]:
        if t.low in ".?!;":
            return False
        if t.low in ("he", "she", "his", "him", "her", "hers", "himself", "herself"):
            return True
    return False


def _following_thing(toks: Sequence[Tok], j: int) -> bool:
    """ "X, which ..." or a later "its" in the same sentence."""
    if [t.low for t in toks[j : j + 2]] in (["which"], [",", "which"]):
        return True
    for t in toks[j:]:
        if t.low in ".?!;":
            return False
        if t.low == "its":
            return True
    return False


def _followed_by_where(toks: Sequence[Tok], j: int) -> bool:
    """ "Stoneham, where ...", "Stoneham on Friday, where ..."."""
    window = [t.low for t in toks[j : j + 6]]
    for k, word in enumerate(window):
        if word in ".?!;":
            return False
        if word == "where" and (k == 0 or window[k - 1] == ","):
            return True
    return False


def _modifier(toks: Sequence[Tok], j: int) -> bool:
    """The name qualifies a noun after it: "his British Army colleagues, ..."."""
    if j >= len(toks) or toks[j].cap or toks[j].punct or toks[j].low in FUNCTION_WORDS:
        return False
    word = toks[j].low
    if verb_like(word):
        return False
    if word in ROLE_NOUNS | GROUP_NOUNS | THING_HEADS:
        return True
    after = toks[j + 1] if j + 1 < len(toks) else None
    return is_plural(word) and (after is None or after.punct or after.low in FUNCTION_WORDS)


def _name_kind(words: Sequence[str], before: Before, person: bool, where: bool) -> str:
    """Kind of a capitalised name from its head words, the words around it and evidence."""
    heads = {strip_possessive(w) for w in words}
    if heads & ORG_HEADS:
        return ORG
    if heads & PLACE_HEADS or before.word in LOCATIVE or where:
        return PLACE
    if before.article and not before.role and is_plural(words[-1]):
        return ORG  # "the Rovers", "the Beatles"
    if person:
        return PERSON
    if before.article:
        return THING  # "the Lunt Navigation"
    return PERSON if len(words) > 1 else UNKNOWN


def _known(words: Sequence[str], known: frozenset[str]) -> bool:
    """Every word of the name belongs to a name already shown to be a person."""
    return bool(known) and all(w in known for w in words if w[:1].isupper())


DATE_WORDS = word_set(
    "in on since until till by of during last next every early late mid from to between "
    "and before after this that each"
)


def _date_like(toks: Sequence[Tok], i: int) -> bool:
    """ "in May", "3 May", "May 2019": a month; "asked May to" is a name."""
    prev = toks[i - 1].low if i else ""
    nxt = toks[i + 1].low if i + 1 < len(toks) else ""
    return prev in DATE_WORDS or prev[:1].isdigit() or nxt[:1].isdigit() or toks[i].initial


def _skip_single(toks: Sequence[Tok], i: int, known: frozenset[str]) -> bool:
    """A lone capitalised word that is no evidence of a name.

    A sentence's first word is skipped unless it is a known name or reads as one:
    "Brandt, known as ... his", "Davies, who ...", "Holloway was born ...".
    """
    tok = toks[i]
    word = strip_possessive(tok.text)
    if word in known:
        return False
    if word.isupper() and len(word) > 1:
        return True
    if word in MONTHS_DAYS and _date_like(toks, i):
        return True
    if not tok.initial:
        return False
    if word.lower() in SENTENCE_OPENERS or word.lower().endswith("ly"):
        return True
    return not _following_person(toks, i, i + 1)


def _name_mention(
    toks: Sequence[Tok], run: tuple[int, int], known: frozenset[str], question: bool
) -> Mention | None:
    i, j, titled, wh = _trim_run(toks, *run)
    if i >= j:
        return None
    words = [strip_possessive(t.text) for t in toks[i:j]]
    if j - i == 1 and _skip_single(toks, i, known):
        return None
    before = _preceding(toks, i)
    who_is = question and i == 2 and [t.low for t in toks[:2]] in (["who", "is"], ["who", "was"])
    person = titled or bool(before.role) or who_is or _known(words, known)
    person = person or _following_person(toks, i, j)
    if before.article and not before.role and j - i == 1 and words[0] not in known:
        person = False  # "the Afghan migrant": an adjective, not a person
    kind = _name_kind(words, before, person, _followed_by_where(toks, j))
    end = _absorb_heads(toks, j)
    if end > j and kind in (PERSON, UNKNOWN, THING):
        kind = ORG if toks[end - 1].low in GROUP_NOUNS else THING  # "Ashwick station"
    first = before.lead if before.article and kind != PERSON else i
    text = " ".join(strip_possessive(t.text) for t in toks[first:end])
    if first < i:
        text = text[0].lower() + text[1:]  # "the 1952 Summer Games"
    return Mention(
        text, kind, before.lead, i, end,
        plural=kind != PERSON and before.article and is_plural(words[-1]),
        wh=wh and kind == PERSON,
        place_marked=before.word in LOCATIVE,
        temporal=before.word in TEMPORAL,
        person_evidence=person,
        thing_evidence=_following_thing(toks, end),
        preposition=before.word,
        name=True,
        modifier=end == j and _modifier(toks, end),
        headed=bool({strip_possessive(w) for w in words} & (ORG_HEADS | PLACE_HEADS)),
    )  # fmt: skip


def name_mentions(toks: Sequence[Tok], known: frozenset[str], question: bool) -> list[Mention]:
    """Capitalised names; *known* holds words of names already known to be people."""
    found = [_name_mention(toks, run, known, question) for run in _name_runs(toks)]
    return [m for m in found if m is not None]
