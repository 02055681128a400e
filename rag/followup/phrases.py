"""Common noun phrases in a text: "the paper mill", "which shop", "how many people".

A phrase starts at a determiner, a wh-word or a number and runs over at most four
lowercase words, stopping before function words, time adverbs, numbers and verbs ("did
the members buy" -> "the members"); its head noun gives its kind (time, person, group,
organisation, thing) and number. Words already inside a name are not taken again.

This module only finds noun phrases; capitalised names are found by
:mod:`rag.followup.names`.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.followup.tokens import Mention, Tok, is_plural, prev_is, strip_possessive, verb_like
from rag.followup.words import (
    DETERMINERS,
    DO_SUPPORT,
    FUNCTION_WORDS,
    GROUP,
    GROUP_NOUNS,
    LOCATIVE,
    ORG,
    PERSON,
    POSSESSIVES,
    ROLE_NOUNS,
    TEMPORAL,
    THING,
    TIME,
    TIME_ADVERBS,
    TIME_NOUNS,
)


def _np_end(toks: Sequence[Tok], i: int) -> int:
    """End of the words of a common noun phrase that starts at *i* (at most four)."""
    j = i
    while j < len(toks) and j - i < 4:
        t = toks[j]
        if t.punct or t.cap or t.low in FUNCTION_WORDS | TIME_ADVERBS | POSSESSIVES:
            break
        if j > i and (t.low[:1].isdigit() or verb_like(t.text)):
            break  # "this year surpassed 100,000": the phrase is "this year"
        j += 1
    return j


def _trim_verb(toks: Sequence[Tok], det: int, j: int) -> int:
    """Drop a verb that follows the noun phrase: "did the members buy", "the mill closed"."""
    if j - det < 3:  # determiner + one word: nothing to drop
        return j
    last, aux = toks[j - 1], toks[det - 1].low if det else ""
    after = toks[j].low if j < len(toks) else "?"
    if aux in DO_SUPPORT:
        return j - 1
    if verb_like(last.text):
        return j - 1
    if last.low.endswith("s") and (after.isdigit() or after in DETERMINERS):
        return j - 1  # "the company employs 126 people"
    return j


def _np_kind(words: Sequence[str]) -> tuple[str, bool]:
    head = strip_possessive(words[-1].lower())
    plural = is_plural(head)
    singular = head[:-1] if plural and head.endswith("s") else head
    if head in TIME_NOUNS:
        return TIME, plural
    if singular in ROLE_NOUNS or head in ROLE_NOUNS:
        return (GROUP if plural else PERSON), plural
    if singular in GROUP_NOUNS:
        return ORG, plural
    return (GROUP if plural else THING), plural


def _np_mention(toks: Sequence[Tok], i: int) -> Mention | None:
    t = toks[i]
    wh = t.low in ("which", "what") or (t.low in ("many", "much") and prev_is(toks, i, "how"))
    if not (t.low in DETERMINERS or wh or t.low.isdigit()):
        return None
    j = _trim_verb(toks, i, _np_end(toks, i + 1))
    if j == i + 1:
        return None
    words = [x.text for x in toks[i + 1 : j]]
    kind, plural = _np_kind(words)
    det = "the" if t.low in ("a", "an", "the") else t.low
    before = toks[i - 1].low if i else ""
    return Mention(
        strip_possessive(" ".join([det, *words])), kind, i, i, j, plural, wh=wh,
        place_marked=before in LOCATIVE, temporal=before in TEMPORAL, preposition=before,
    )  # fmt: skip


def phrase_mentions(toks: Sequence[Tok], names: Sequence[Mention]) -> list[Mention]:
    """Common noun phrases after a determiner ("the paper mill", "which shop")."""
    taken = {k for m in names for k in range(m.lead, m.end)}
    found = [_np_mention(toks, i) for i in range(len(toks)) if i + 1 not in taken]
    return [m for m in found if m is not None]
