"""Antecedents from the conversation and the rewritten question.

Picks the right kind of antecedent from the last turns and splices it in; the entry
point is :func:`resolve` (re-exported by :mod:`rag.followup`). It does not retrieve or
answer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from rag.config import REFUSAL, UNSURE
from rag.followup.mentions import Mention, Tok, mentions, people_words, tokens
from rag.followup.pointers import Pointer, depends_on_history, elliptical, free_pointers
from rag.followup.turns import Resolution, Turn, as_turns
from rag.followup.words import (
    ELLIPTIC_OPENING,
    FUNCTION_WORDS,
    GREETINGS,
    GROUP,
    LOCATIVE,
    LOOKBACK,
    ORG,
    PERSON,
    PLACE,
    ROLE_NOUNS,
    SOFT_OPENING,
    TEMPORAL,
    THING,
    TIME,
    TOPIC_SUFFIX,
    word_set,
)
from rag.lexical import tokenize

log = logging.getLogger(__name__)


# ----- antecedents from the conversation -------------------------------------------
def _usable_answer(turn: Turn) -> str:
    return "" if turn.answer.strip() in (REFUSAL, UNSURE) else turn.answer


def _asked(turn: Turn) -> str:
    """The earlier question as it was understood, without an appended topic."""
    return TOPIC_SUFFIX.sub("", turn.standalone or turn.question).strip()


def _has_content(turn: Turn) -> bool:
    words = [t for t in tokens(turn.question) if not t.punct]
    return any(t.low not in GREETINGS for t in words)


def content_turns(turns: Sequence[Turn]) -> list[Turn]:
    """The last :data:`LOOKBACK` turns that are not greetings or thanks, newest first."""
    return [t for t in reversed(turns) if _has_content(t)][:LOOKBACK]


def _fits_history(m: Mention, kind: str) -> bool:
    """Can *m*, said in an earlier turn, be what a pointer of *kind* refers to?"""
    if m.wh or m.temporal or m.modifier or m.kind == TIME or m.text[:1].isdigit():
        return False
    if kind == PERSON:  # a name: "the interpreter" says less than the pronoun's context
        return m.kind == PERSON and m.name and not m.thing_evidence
    if m.nested and kind != PLACE:
        return False
    if kind == THING:
        return (m.kind in (THING, ORG, PLACE) or _ambiguous(m)) and not m.plural
    if kind == GROUP:
        return m.kind in (GROUP, ORG) or (m.kind in (THING, PLACE) and m.plural)
    return kind == PLACE and (m.kind == PLACE or m.place_marked)


def _ambiguous(m: Mention) -> bool:
    """A name that may be a person or a thing ("Holloway Engineering")."""
    return m.name and m.kind == PERSON and not m.person_evidence


def _rank(primary: Sequence[Mention], secondary: Sequence[Mention], kind: str) -> list[Mention]:
    """People and places: names before common nouns; things: each text's ambiguous names last."""
    if kind in (PERSON, PLACE):
        return sorted([*primary, *secondary], key=lambda m: not m.name)
    return [*sorted(primary, key=_ambiguous), *sorted(secondary, key=_ambiguous)]


_ASKS_FOR = {PERSON: ("who", "whom", "whose"), PLACE: ("where",)}


def _focused(found: Sequence[Mention], toks: Sequence[Tok], asked: str) -> list[Mention]:
    """Answer mentions, those next to the question's verb first.

    "Where did Penn move to?" -> "... born in Ashwick ... moved to Leeds": Leeds.
    """
    asked_toks = tokens(asked)
    inside = {k for m in mentions(asked) for k in range(m.lead, m.end)}
    predicate = [t.low for k, t in enumerate(asked_toks) if k not in inside]
    stems = {w[:4] for w in tokenize(" ".join(predicate))}

    def near(m: Mention) -> bool:
        window = toks[max(m.lead - 3, 0) : m.lead]
        return any(t.low[:4] in stems for t in window if t.low not in FUNCTION_WORDS)

    return sorted(found, key=lambda m: not near(m))


def _new(found: Sequence[Mention], asked: str) -> list[Mention]:
    """Mentions that the question did not already name (what its answer added)."""
    asked_words = set(tokenize(asked))
    return [m for m in found if not set(tokenize(m.text)) <= asked_words]


def _candidates(turn: Turn, kind: str, known: frozenset[str]) -> list[Mention]:
    """Mentions of *turn* that fit *kind*, best first."""
    asked = _asked(turn)
    answer = _usable_answer(turn)
    asked_mentions = mentions(asked, known)
    in_question = [m for m in reversed(asked_mentions) if _fits_history(m, kind)]
    found = mentions(answer, known) if answer else []
    fitting = [m for m in found if _fits_history(m, kind) and _fits_answer(m, kind)]
    in_answer = _focused(fitting, tokens(answer), asked)
    noun, fallback = _asked_noun(asked_mentions, kind)
    if noun:  # "Which shop closed?": the answer's shop, or nothing
        named = [m for m in _new(in_answer, asked) if noun in tokenize(m.text)]
        return named + (in_question if fallback else [])
    if _asks_for(asked, kind):
        return _rank(_new(in_answer, asked), in_question, kind)
    return _rank(in_question, in_answer, kind)


def _fits_answer(m: Mention, kind: str) -> bool:
    """In an answer, a place named as where something happened is not what "it" means."""
    return not (kind == THING and m.place_marked)


def _asks_for(asked: str, kind: str) -> bool:
    """ "Who ...?" asks for a person and "Where ...?" for a place: the answer names it."""
    first = asked.split(maxsplit=1)[0].lower() if asked.strip() else ""
    return first in _ASKS_FOR.get(kind, ()) or (kind == PERSON and _asks_person(asked))


def _asked_noun(found: Sequence[Mention], kind: str) -> tuple[str, bool]:
    """The noun a "which/what NOUN" question asked for, if a pointer of *kind* may mean it.

    Also whether, when the answer does not repeat the noun, the question's other
    mentions may still be meant: yes after "which family" (an organisation: "they"
    is the family, "it" may be what the family did something to), no after "which
    shop" (then "it" is the shop, which only the answer names).
    """
    for m in found:
        words = tokenize(m.text)
        if not m.wh or m.name or not words:
            continue
        if kind == THING and m.kind == THING and not m.plural:
            return words[-1], False
        if kind == GROUP and (m.kind == GROUP or m.plural):
            return words[-1], False
        if kind in (THING, GROUP) and m.kind == ORG:
            return words[-1], True
    return "", True


def _asks_person(asked: str) -> bool:
    """ "Which engineer ...?", "What is the name of the poet ...?"."""
    if any(m.wh and m.kind == PERSON for m in mentions(asked)):
        return True
    toks = tokens(asked)
    return any(t.low == "name" for t in toks[:6]) and any(t.low in ROLE_NOUNS for t in toks)


def antecedent(turns: Sequence[Turn], kind: str, avoid: set[str]) -> Mention | None:
    """The mention a pointer of *kind* refers to.

    A person is looked for in the last :data:`LOOKBACK` turns, newest first; a thing,
    group or place only in the newest one (its resolved question carries an older
    antecedent forward: "When did it close?" was read as "When did the station close?").
    """
    known = people_words([text for t in turns for text in (_asked(t), _usable_answer(t))])
    for turn in turns if kind == PERSON else turns[:1]:
        for m in _candidates(turn, kind, known):
            if m.text not in avoid:
                return m
    return None


# ----- rewriting -------------------------------------------------------------------------
def _possessive(text: str) -> str:
    return f"{text}’" if text.endswith("s") else f"{text}’s"


def _replacement(p: Pointer, toks: Sequence[Tok], m: Mention) -> str:
    text = m.text
    if p.kind == PLACE:
        prev = toks[p.index - 1].low if p.index else ""
        if prev in LOCATIVE:
            return text
        return f"{'at' if m.preposition == 'at' else 'in'} {text}"
    return _possessive(text) if p.possessive else text


def _splice(text: str, edits: Sequence[tuple[int, int, str]]) -> str:
    """*text* with each ``(start, end, new)`` span replaced; every other character kept."""
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def substitute(question: str, turns: Sequence[Turn]) -> tuple[str, bool]:
    """*question* with its free pointers replaced; True when every one was replaced."""
    toks = tokens(question)
    free = free_pointers(question)
    edits = []
    used: set[str] = set()
    for p in free:
        m = antecedent(turns, p.kind, used) if p.kind else None
        if m is None:
            continue
        used.add(m.text)
        text = _replacement(p, toks, m)
        text = text[0].upper() + text[1:] if p.index == 0 else text
        edits.append((toks[p.index].start, toks[p.index].end, text))
    return _splice(question, edits), len(edits) == len(free)


def _fill_frame(question: str, turns: Sequence[Turn]) -> str | None:
    """ "And X?" / "What about X?" as the previous question about X (None if unclear)."""
    rest = ELLIPTIC_OPENING.sub("", question, count=1)
    rest = SOFT_OPENING.sub("", rest, count=1).strip().rstrip("?").strip()
    if not rest or not turns:
        return None
    frame = _asked(turns[0]).rstrip("?").rstrip()
    first = rest.split()[0].lower()
    if first in LOCATIVE | TEMPORAL | word_set("for by with"):
        return f"{frame} {rest}?"
    new = mentions(rest)
    if not new or new[0].lead != 0:
        return None
    kind = PERSON if new[0].kind == PERSON else THING
    ftoks = tokens(frame)
    same = [m for m in mentions(frame) if not m.wh and _same_kind(m, kind, new[0].plural)]
    if len(same) != 1:
        return None
    span = (ftoks[same[0].lead].start, ftoks[same[0].end - 1].end, rest)
    return _splice(frame, [span]) + "?"


def _same_kind(m: Mention, kind: str, plural: bool) -> bool:
    if m.temporal or m.kind == TIME or m.nested:
        return False
    if kind == PERSON:
        return m.kind == PERSON
    return m.kind in (THING, PLACE, ORG) and m.plural == plural


def _topic(question: str, turn: Turn) -> str:
    asked = set(tokenize(question))
    words = re.findall(r"[\w£$’'.-]+", _asked(turn))
    extra = [w.strip(".?") for w in words if tokenize(w) and not set(tokenize(w)) <= asked]
    return " ".join(dict.fromkeys(extra))


def resolve(question: str, history: Sequence[Any] | None) -> Resolution:
    """Resolve *question* against *history*; unchanged when it stands alone."""
    turns = content_turns(as_turns(history))
    if not turns or not depends_on_history(question):
        return Resolution(question, question)
    previous = _usable_answer(turns[0])
    framed = _fill_frame(question, turns) if elliptical(question) else None
    if framed:
        return Resolution(framed, framed, previous)
    rewritten, complete = substitute(question, turns)
    topic = "" if complete and not elliptical(question) else _topic(rewritten, turns[0])
    query = f"{rewritten} ({topic})" if topic else rewritten
    log.debug("resolved %r as %r", question, query)
    return Resolution(rewritten, query, previous)


def condense(question: str, history: Sequence[Any] | None) -> str:
    """A standalone version of *question* for retrieval (itself when it needs none)."""
    return resolve(question, history).query
