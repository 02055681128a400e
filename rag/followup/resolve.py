"""Antecedents from the conversation and the rewritten question.

Picks the right kind of antecedent from the last turns and splices it in; the entry
point is :func:`resolve` (re-exported by :mod:`rag.followup`). It does not retrieve or
answer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from rag.config import REFUSAL, UNSURE
from rag.followup.frames import fill_frame, filler, splice
from rag.followup.gender import gender_of, genders, pronoun_gender
from rag.followup.mentions import Mention, Tok, mentions, people_words, tokens
from rag.followup.pointers import Pointer, depends_on_history, framed, free_pointers
from rag.followup.turns import Resolution, Turn, as_turns
from rag.followup.words import (
    FUNCTION_WORDS,
    GREETINGS,
    GROUP,
    LOCATIVE,
    LOOKBACK,
    ORG,
    PERSON,
    PLACE,
    ROLE_NOUNS,
    THING,
    TIME,
    TOPIC_SUFFIX,
    UNKNOWN,
)
from rag.retrieval.lexical import tokenize

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


def _gender_table(turns: Sequence[Turn], known: frozenset[str]) -> dict[str, str]:
    texts = [text for t in turns for text in (_asked(t), _usable_answer(t)) if text]
    return genders(texts, [(t.question, _asked(t)) for t in turns], known)


def _known_people(turns: Sequence[Turn]) -> frozenset[str]:
    """Words of names shown to be people by the words around them."""
    return people_words([text for t in turns for text in (_asked(t), _usable_answer(t))])


def _fits_gender(m: Mention, kind: str, gender: str, table: dict[str, str]) -> bool:
    """ "she" is never a man the conversation calls "he"; "it" never a person it calls either."""
    said = gender_of(m, table)
    if kind == PERSON:
        return said in ("", gender)
    return not (said and m.kind == PERSON)


def _unknown_name(turn: Turn, known: frozenset[str]) -> list[Mention]:
    """Last resort for "he"/"she": a lone name of unknown kind ("What did Marrow study?")."""
    texts = [_asked(turn), _usable_answer(turn)]
    found = [m for text in texts if text for m in mentions(text, known)]
    return [m for m in found if m.name and m.kind == UNKNOWN and not m.wh and not m.modifier]


def antecedent(
    turns: Sequence[Turn], kind: str, avoid: set[str], gender: str = ""
) -> Mention | None:
    """The mention a pointer of *kind* (and, for "he"/"she", *gender*) refers to.

    The last :data:`LOOKBACK` turns are searched newest first: a person anywhere in
    them; a thing, group or place in the newest turn that has one (its resolved
    question carries an older antecedent forward: "When did it close?" was read as
    "When did the station close?"). A person the conversation calls "she" is never
    "he", and the reverse.
    """
    known = _known_people(turns)
    table = _gender_table(turns, known)
    for turn in turns:
        for m in _candidates(turn, kind, known):
            if m.text not in avoid and _fits_gender(m, kind, gender, table):
                return m
        if kind != PERSON and _asked_noun(mentions(_asked(turn), known), kind)[0]:
            return None  # "What job ...?" unanswered: "it" is that job, not an older thing
    if kind == PERSON and turns:
        found = [m for m in _unknown_name(turns[0], known) if m.text not in avoid]
        if len({m.text for m in found}) == 1 and _fits_gender(found[0], kind, gender, table):
            return found[0]
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


def substitute(question: str, turns: Sequence[Turn]) -> tuple[str, tuple[str, ...]]:
    """*question* with its free pointers replaced, and the pointers that could not be."""
    toks = tokens(question)
    edits, missing = [], []
    used: set[str] = set()
    for p in free_pointers(question):
        gender = pronoun_gender(toks[p.index].low)
        m = antecedent(turns, p.kind, used, gender) if p.kind else None
        if m is None:
            missing.append(toks[p.index].text)
            continue
        used.add(m.text)
        text = _replacement(p, toks, m)
        text = text[0].upper() + text[1:] if p.index == 0 else text
        edits.append((toks[p.index].start, toks[p.index].end, text))
    return splice(question, edits), tuple(missing)


def _unsure(question: str, previous: str, unresolved: Sequence[str]) -> Resolution:
    """Asked as typed: the resolver could not tell what the question refers to."""
    log.debug("unsure about %r (%s): asked as it was", question, ", ".join(unresolved))
    return Resolution(question, question, previous, unsure=True, unresolved=tuple(unresolved))


def resolve(question: str, history: Sequence[Any] | None) -> Resolution:
    """Resolve *question* against *history*; unchanged when it stands alone or when unsure."""
    turns = content_turns(as_turns(history))
    if not turns or not depends_on_history(question):
        return Resolution(question, question)
    previous = _usable_answer(turns[0])
    if framed(question):
        filled = fill_frame(question, _asked(turns[0]))
        if filled is None:
            return _unsure(question, previous, [filler(question) or question])
        rewritten, missing = substitute(filled, turns)
    else:
        rewritten, missing = substitute(question, turns)
        if rewritten == question and not missing:  # "Why?", "How so?": nothing to fill in
            missing = (question,)
    if missing:
        return _unsure(question, previous, missing)
    log.debug("resolved %r as %r", question, rewritten)
    return Resolution(rewritten, rewritten, previous)


def condense(question: str, history: Sequence[Any] | None) -> str:
    """A standalone version of *question* for retrieval (itself when it needs none or
    when the resolver is unsure)."""
    return resolve(question, history).query
