"""What a question asks for, and whether a sentence holds that kind of thing.

:func:`question_kind` reads the question alone: ``how many/much`` -> a number, "the
name(s) of" -> a proper name, ``when`` / "which year" -> a time, ``where`` / "which
town" -> a place, ``who/whom/whose`` -> a person or organisation, else anything.
:func:`holds_kind` then asks whether a sentence contains one: a number word or digit, a
date or time expression, a capitalised name the question does not already use, or a
person or place noun.

This module only classifies; it does not decide whether a sentence answers (that is
:func:`rag.gates.check`), and it checks no names or numbers the question itself names
(see :mod:`rag.gates.alignment`).
"""

from __future__ import annotations

import functools
import re
from typing import Literal

from rag.gates.words import NAME, STOPWORDS, in_text, stem, tokens

Kind = Literal["person", "name", "time", "number", "place", "other"]

_WH = re.compile(r"\b(who|whom|whose|what|which|when|where|why|how)\b", re.I)
NUMBER_WORDS: tuple[str, ...] = tuple(
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy "
    "eighty ninety hundred hundreds thousand thousands million millions billion billions "
    "trillion dozen dozens half quarter third twice thrice single double triple none zero "
    "few several numerous both".split()
)
_NUMBER = re.compile(rf"\d|\b({'|'.join(NUMBER_WORDS)})\b", re.I)
_MONTHS = "January February March April June July August September October November December"
_TIME = re.compile(
    r"\b(1\d{3}|20\d{2})s?\b|\b\d+\s?(BC|BCE|AD|CE)\b|"
    rf"\b({'|'.join(_MONTHS.split())})\b|"
    r"\bMay\s+\d|\d\s+May\b|\b(in|early|late|mid-?|by|since|until|of)\s+May\b|"
    r"\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b|"
    r"\b(today|tomorrow|yesterday|tonight|ago|centur(y|ies)|decades?|years?|months?|weeks?|"
    r"days?|hours?|minutes?|era|period|dynasty|reign|morning|evening|night|noon|midnight|"
    r"spring|summer|autumn|winter|o'clock|recently|formerly|"
    r"before|after|during|since|until|till|following|prior|subsequently|"
    r"afterwards|upon|eventually|initially|originally)\b|"
    r"\b\d{1,2}(:\d{2})?\s?(am|pm|a\.m\.|p\.m\.)",
    re.I,
)
_ASKS_NUMBER = re.compile(
    r"\bhow (many|much|old|long|far|tall|high|large|big|often)\b|"
    r"\bwhat (number|percentage|percent|proportion|amount|share|fraction|size)\b",
    re.I,
)
_ASKS_TIME = re.compile(
    r"^\W*(and |so |but )?when\b|\bsince when\b|\bhow long ago\b|"
    r"\b(what|which)\s+(year|years|day|date|month|century|decade|time|period|era|season)\b",
    re.I,
)
_ASKS_NAME = re.compile(r"\bnames?\s+of\b|\bwhat\s+(is|was|are|were)\s+\w+\s+called\b", re.I)
_CALENDAR = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)
_ASKS_PLACE = re.compile(
    r"^\W*(and |so |but )?where\b|\b(what|which)\s+(country|countries|city|cities|town|"
    r"place|state|region|continent|county|village|island|river|province|area|location|"
    r"building|street|port|nation)\b",
    re.I,
)
_PERSON_NOUNS = re.compile(
    r"\b(people|person|persons|man|men|woman|women|king|kings|queen|queens|prince|princess|"
    r"emperor|president|presidents|minister|ministers|government|governments|council|"
    r"committee|court|courts|army|armies|navy|police|company|companies|firm|university|"
    r"college|school|students?|members?|officials?|officers?|scientists?|researchers?|"
    r"team|group|board|church|parliament|congress|senate|assembly|authority|authorities|"
    r"agency|department|ministry|party|parties|leaders?|founders?|author|authors|owner|"
    r"owners|workers?|soldiers?|citizens?|residents?|settlers?|farmers?|merchants?|"
    r"engineers?|architects?|director|directors|chairman|mayor|governor|judge|judges|"
    r"lawyers?|priests?|bishop|pope|monks?|family|families|tribe|tribes|colonists?|"
    r"commission|organisation|organization|association|society|union|federation|"
    r"club|staff|crew|volunteers?)\b",
    re.I,
)
_PLACE_NOUNS = re.compile(
    r"\b(city|cities|town|towns|village|villages|country|countries|street|road|river|"
    r"harbou?r|port|coast|island|islands|building|hall|room|campus|area|areas|region|"
    r"regions|district|state|states|province|county|park|square|station|lake|mountain|"
    r"mountains|valley|field|house|church|school|north|south|east|west|northern|southern|"
    r"eastern|western|abroad|overseas|home|here|there|inside|outside|near|nearby|between|"
    r"across|along|beneath|above|below|upstream|downstream|site|border|territory|capital|"
    r"library|museum|hotel|inn|pub|office|offices|centre|center|hospital|castle|palace|farm|"
    r"market|quay|bridge|lane|avenue|garden|gardens|shore|sea|ocean|bay|forest|"
    r"headquarters|base|camp|airport|embassy)\b|"
    r"\b(in|at|near|inside|outside|behind|beside|into|from|throughout)\s+(the|a|an)\s+\w+",
    re.I,
)


# Runs once per candidate sentence (dozens per question) on the same question text: it is
# pure, so each question is analysed once.
@functools.lru_cache(maxsize=256)
def question_kind(question: str) -> Kind:
    """What the question asks for: a person, a time, a number, a place, or anything."""
    # "When X happened, what ...?": the leading "when" is a clause, not the question.
    clause = re.match(r"^\W*(when|if|after|before|while)\b[^,?]*,\s*(?=\w)", question, re.I)
    if clause:
        question = question[clause.end() :]
    if _ASKS_NUMBER.search(question):
        return "number"
    if _ASKS_NAME.search(question):
        return "name"
    if _ASKS_TIME.search(question):
        return "time"
    if _ASKS_PLACE.search(question):
        return "place"
    first = _WH.search(question)
    if first and first.group(1).lower() in {"who", "whom", "whose"}:
        return "person"
    return "other"


def _new_names(sentence: str, question: str) -> list[str]:
    """Capitalised words of the sentence that the question does not already name."""
    asked = tokens(question)
    found = []
    for match in NAME.finditer(sentence):
        word = match.group()
        if word.lower() in STOPWORDS or in_text(word, asked):
            continue
        found.append(word)
    return found


def _who_names(sentence: str, question: str) -> list[str]:
    """New names that can be a person or organisation: not a weekday or month, and not
    part of a place's name ("the Swan *Inn*", "Lunt *Bridge*": a run of names ending in a
    place noun that is no organisation)."""
    places = set()
    for run in re.finditer(r"(?:\b[A-Z][\w'’.-]*\s+)*[A-Z][\w'’.-]*", sentence):
        head = run.group().split()[-1]
        if _PLACE_NOUNS.fullmatch(head) and not _PERSON_NOUNS.fullmatch(head):
            places.update(run.group().split())
    return [
        w for w in _new_names(sentence, question) if stem(w) not in _CALENDAR and w not in places
    ]


def _proper_names(sentence: str, question: str) -> list[str]:
    """New capitalised words that read as proper names: not months or weekdays, and not
    after an article ("the Channel" names a thing; "Khushal" and "Margaret Holloway" do not
    take one)."""
    asked = tokens(question)
    found = []
    for match in NAME.finditer(sentence):
        word = match.group()
        before = sentence[: match.start()].rstrip().rsplit(" ", 1)[-1].lower()
        if word.lower() in STOPWORDS | _CALENDAR or before in {"the", "a", "an"}:
            continue
        if match.start() == 0 or in_text(word, asked):
            continue
        found.append(word)
    return found


def holds_kind(kind: Kind, sentence: str, question: str) -> bool:
    """True when *sentence* contains the kind of thing *question* asks for."""
    if kind == "number":
        return bool(_NUMBER.search(sentence))
    if kind == "time":
        return bool(_TIME.search(sentence))
    if kind == "name":
        return bool(_proper_names(sentence, question))
    asked = tokens(question)
    if kind == "person":
        nouns = [m.group() for m in _PERSON_NOUNS.finditer(sentence)]
        return bool(_who_names(sentence, question)) or any(not in_text(n, asked) for n in nouns)
    if kind == "place":
        nouns = [m.group() for m in _PLACE_NOUNS.finditer(sentence)]
        return bool(_new_names(sentence, question)) or any(not in_text(n, asked) for n in nouns)
    return True
