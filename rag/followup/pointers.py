"""Pointers in a question ("she", "it", "there", "that") and whether it stands alone.

Says which pointers have no antecedent inside the question; it does not look at the
conversation (:mod:`rag.followup.resolve` does).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from rag.followup.mentions import (
    Mention,
    Tok,
    is_plural,
    mentions,
    prev_is,
    strip_possessive,
    tokens,
    verb_like,
)
from rag.followup.words import (
    AUX,
    BOUNDARIES,
    ELLIPTIC_OPENING,
    EXPLETIVE_ADJECTIVES,
    EXPLETIVE_VERBS,
    FRAGMENT_EXTRA,
    FUNCTION_WORDS,
    GREETINGS,
    GROUP,
    GROUP_NOUNS,
    IRREGULAR_PLURALS,
    LOCATIVE,
    ORG,
    PERSON,
    PLACE,
    ROLE_NOUNS,
    SOFT_OPENING,
    TEMPORAL,
    THING,
    UNKNOWN,
    WH,
    word_set,
)

log = logging.getLogger(__name__)


# ----- pointers in the question ------------------------------------------------------
@dataclass(frozen=True)
class Pointer:
    """A word that points back: its position, the kind it needs, and its role."""

    index: int
    kind: str  # PERSON, THING, GROUP, PLACE or "" (demonstratives: cannot be replaced)
    possessive: bool = False


_PRONOUNS = {
    "he": (PERSON, False), "she": (PERSON, False), "him": (PERSON, False),
    "his": (PERSON, True), "hers": (PERSON, True), "it": (THING, False),
    "its": (THING, True), "they": (GROUP, False), "them": (GROUP, False),
    "their": (GROUP, True), "theirs": (GROUP, True),
}  # fmt: skip


def _her_possessive(toks: Sequence[Tok], i: int) -> bool:
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    return nxt is not None and not nxt.punct and nxt.low not in FUNCTION_WORDS


def _existential(toks: Sequence[Tok], i: int) -> bool:
    nxt = toks[i + 1].low if i + 1 < len(toks) else "?"
    prev = toks[i - 1].low if i else ""
    if nxt in AUX or nxt in ("seem", "seems", "used", "remain", "remains"):
        return True
    be = prev in ("is", "are", "was", "were")
    quantity = len(toks) > 1 and toks[0].low == "how" and toks[1].low in ("many", "much")
    return be and (nxt not in "?.!" or quantity)


def _expletive(toks: Sequence[Tok], i: int) -> bool:
    """ "Is it true that ...", "How long did it take to ..."."""
    rest = [t.low for t in toks[i + 1 :]]
    if set(rest[:2]) & EXPLETIVE_ADJECTIVES:
        return True
    return bool(rest) and rest[0] in EXPLETIVE_VERBS and "to" in rest


def _demonstrative(toks: Sequence[Tok], i: int) -> bool:
    word = toks[i].low
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    prev = toks[i - 1].low if i else ""
    if nxt is None or nxt.punct:
        return True
    if word in ("these", "those"):
        return True
    return i == 0 or prev in LOCATIVE | TEMPORAL | AUX | word_set("about of for with by like")


def _vague(toks: Sequence[Tok], i: int) -> bool:
    """ "that", "those", a final "then", "the same", "the former": cannot be replaced."""
    low = toks[i].low
    if low in ("that", "this", "these", "those"):
        return _demonstrative(toks, i)
    if low == "then":
        return i > 0 and (i + 1 >= len(toks) or toks[i + 1].punct)
    if low not in ("former", "latter", "same") or not prev_is(toks, i, "the"):
        return False
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    # "the former was ...", "the former built ...", but not "the former mayor"
    return nxt is None or nxt.punct or nxt.low in FUNCTION_WORDS or verb_like(nxt.text)


def pointers(toks: Sequence[Tok]) -> list[Pointer]:
    """Every word of the question that may point back at the conversation."""
    found = []
    for i, t in enumerate(toks):
        low = t.low
        if low in _PRONOUNS:
            kind, possessive = _PRONOUNS[low]
            if low == "it" and _expletive(toks, i):
                continue
            found.append(Pointer(i, kind, possessive))
        elif low == "her":
            found.append(Pointer(i, PERSON, _her_possessive(toks, i)))
        elif low == "there" and not _existential(toks, i):
            found.append(Pointer(i, PLACE))
        elif _vague(toks, i):
            found.append(Pointer(i, ""))
    return found


def _fits_inside(m: Mention, kind: str) -> bool:
    """Can *m*, inside the question itself, be what a pointer of *kind* means?

    More lenient than for the history: a name after "to" may still be a person
    ("What happened to Brandt after he left?"), and any name may be a group ("Why did
    Brightwater cut their prices?").
    """
    if kind == PERSON:
        return m.kind in (PERSON, UNKNOWN) or (m.name and m.kind == PLACE and not m.headed)
    if kind == THING:
        return m.kind in (THING, ORG, PLACE, UNKNOWN) and not m.plural and not m.bare
    if kind == GROUP:
        return m.kind in (GROUP, ORG) or m.plural or m.name
    return kind == PLACE and (m.kind == PLACE or m.place_marked)


def _inside(question: str, toks: Sequence[Tok]) -> list[Mention]:
    """Mentions of the question, plus what only binds inside it: acronyms ("the SNP"),
    bare plurals ("members"), and a leading "Who" ("Who said she would resign?")."""
    found = mentions(question)
    taken = {k for m in found for k in range(m.lead, m.end)}
    for i, t in enumerate(toks):
        if i in taken or t.punct:
            continue
        if t.text.isupper() and len(t.text) > 1:
            found.append(Mention(t.text, ORG, i, i, i + 1, name=True, bare=True))
        elif (
            not t.cap and t.low not in FUNCTION_WORDS and is_plural(t.low) and not verb_like(t.low)
        ):
            found.append(Mention(t.text, GROUP, i, i, i + 1, plural=True, bare=True))
    if toks and toks[0].low == "who":
        found.append(Mention("who", PERSON, 0, 0, 1, wh=True, bare=True))
    return found


def _boundary(toks: Sequence[Tok], start: int, end: int) -> bool:
    return any(t.low in BOUNDARIES for t in toks[start:end])


def _bound(
    p: Pointer, toks: Sequence[Tok], found: Sequence[Mention], ps: Sequence[Pointer]
) -> bool:
    """True when the pointer's antecedent is inside the question."""
    if not p.kind:
        return False
    if any(q.kind == p.kind and q.index < p.index for q in ps):
        return True  # a chain: "What did he do before he moved?" (the first one decides)
    before = [m for m in found if m.end <= p.index and _fits_inside(m, p.kind)]
    if p.possessive:
        return any(m.text != "who" for m in before)
    return any(_boundary(toks, m.end, p.index) and _can_bind(m) for m in before)


def _can_bind(m: Mention) -> bool:
    """A plural noun binds "they" across a clause only when it names people or a group:
    "rowers ... whether they agree" yes, "how many jobs ... when they closed" no."""
    if m.name or not (m.kind == GROUP and m.plural):
        return True
    word = strip_possessive(m.text.split()[-1].lower())
    singular = word[:-1] if word.endswith("s") else word
    agent = word.endswith(("ers", "ors", "ists", "ians"))  # rowers, voters, scientists
    return agent or word in IRREGULAR_PLURALS or singular in ROLE_NOUNS | GROUP_NOUNS


def free_pointers(question: str) -> list[Pointer]:
    """The pointers of *question* whose antecedent is not inside it."""
    toks = tokens(question)
    ps = pointers(toks)
    if not ps:
        return []
    found = _inside(question, toks)
    return [p for p in ps if not _bound(p, toks, found, ps)]


def _content_words(toks: Sequence[Tok]) -> list[str]:
    skip = FUNCTION_WORDS | FRAGMENT_EXTRA | word_set("he she it they them him her his its their")
    return [t.low for t in toks if not t.punct and t.low not in skip]


def _is_fragment(toks: Sequence[Tok]) -> bool:
    """No verb of its own: "the canal?", "at the works?", "in 1990?"."""
    words = [t for t in toks if not t.punct]
    return bool(words) and words[0].low not in WH and not any(t.low in AUX for t in words)


def framed(question: str) -> bool:
    """ "What about X?", or "And X?" without a verb: X is read in the previous question."""
    if ELLIPTIC_OPENING.match(question):
        return True
    rest = SOFT_OPENING.sub("", question, count=1)
    return rest != question and _is_fragment(tokens(rest))


def elliptical(question: str) -> bool:
    """A :func:`framed` question, or one with no content at all ("Why?", "How so?")."""
    if framed(question):
        return True
    words = [t for t in tokens(question) if not t.punct]
    if not words or all(t.low in GREETINGS for t in words):
        return False
    return not _content_words(words)


def depends_on_history(question: str) -> bool:
    """True when the question cannot be understood without the conversation."""
    return elliptical(question) or bool(free_pointers(question))
