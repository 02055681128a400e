"""Resolve follow-up questions against the conversation, without an LLM.

A question is rewritten only when it *depends* on the history: it uses a pronoun
or demonstrative that points back ("she", "they", "it", "there", "that"...) or
opens elliptically ("And ...", "What about ..."). Then person pronouns are
replaced by the most recent person-like name (a multi-word capitalised phrase from
the previous turn), and the previous question's key words are appended so retrieval
sees the topic. Anything else, greetings included, is returned unchanged.

This module does not retrieve or answer; an LLM-based condenser may replace it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rag.answer import MARKER
from rag.config import REFUSAL, UNSURE
from rag.lexical import tokenize

_PERSON = {"she": "", "he": "", "her": "", "him": "", "his": "’s", "hers": "’s"}
_POINTERS = re.compile(
    r"\b(she|he|her|him|his|hers|it|its|they|them|their|theirs|there|then|this|that|"
    r"these|those|the same|the former|the latter)\b",
    re.I,
)
_ELLIPSIS = re.compile(r"^\s*(and|also|what about|how about|what else|why|how so|and why)\b", re.I)
_PHRASE = re.compile(r"\b[A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)+")
_STARTERS = {"The", "A", "An", "In", "On", "At", "When", "What", "Who", "Which", "How", "Why"}
# Titles dropped from the front of a name; words that mark an organisation or place.
# A title ends where the name starts: "Home Secretary Theresa May", "Prime Minister X".
_TITLES = {
    "Secretary", "Minister", "President", "Chancellor", "Senator", "Governor", "Mayor",
    "Mr", "Mrs", "Ms", "Dr", "Sir", "Dame", "Lord", "Lady", "Professor", "Prof", "General",
    "Colonel", "Captain", "Judge", "Justice", "Chief", "Commissioner", "Ambassador",
}  # fmt: skip
_NOT_PERSON = {
    "Army",
    "International",
    "Office",
    "Union",
    "Province",
    "Agency",
    "Government",
    "Ministry",
    "Council",
    "Police",
    "Court",
    "Party",
    "Company",
    "University",
    "Bank",
    "Channel",
    "Kingdom",
    "States",
    "Republic",
    "Nations",
    "Sea",
    "River",
    "Street",
    "Tunnel",
    "War",
}


@dataclass(frozen=True)
class Turn:
    """One earlier exchange; ``answer`` may be empty when only questions are known."""

    question: str
    answer: str = ""
    standalone: str = ""


def as_turns(history: Sequence[Any] | None) -> list[Turn]:
    """Accept strings, ``Turn``s, {question, answer} dicts or chat messages."""
    turns: list[Turn] = []
    for item in history or []:
        if isinstance(item, Turn):
            turns.append(item)
        elif isinstance(item, str):
            turns.append(Turn(item))
        elif isinstance(item, dict) and "question" in item:
            turns.append(
                Turn(
                    str(item["question"]),
                    str(item.get("answer") or ""),
                    str(item.get("standalone") or ""),
                )
            )
        elif isinstance(item, dict) and item.get("role") == "user":
            turns.append(Turn(str(item.get("content", ""))))
        elif isinstance(item, dict) and item.get("role") == "assistant" and turns:
            last = turns.pop()
            turns.append(Turn(last.question, str(item.get("content", "")), last.standalone))
    return turns


def depends_on_history(question: str) -> bool:
    """True when the question points back at something said earlier."""
    return bool(_POINTERS.search(question) or _ELLIPSIS.search(question))


def _names(text: str) -> list[str]:
    """Multi-word capitalised phrases ("Theresa May"), leading articles dropped."""
    found = []
    for match in _PHRASE.finditer(MARKER.sub("", text)):
        words = match.group().split()
        while words and words[0] in _STARTERS:
            words = words[1:]
        titled = [i for i, w in enumerate(words) if w in _TITLES]
        words = words[titled[-1] + 1 :] if titled else words
        words = [w.removesuffix("’s").removesuffix("'s") for w in words]
        if len(words) >= 2 and not _NOT_PERSON & set(words):
            found.append(" ".join(words))
    return found


def _person_for(turn: Turn) -> str | None:
    answer = "" if turn.answer.strip() in (REFUSAL, UNSURE) else turn.answer
    for text in (turn.standalone or turn.question, answer):
        names = _names(text)
        if names:
            return names[0]
    return None


def _substitute_people(question: str, person: str) -> str:
    def repl(match: re.Match[str]) -> str:
        return person + _PERSON[match.group().lower()]

    return re.sub(r"\b(she|he|her|him|his|hers)\b", repl, question, flags=re.I)


@dataclass(frozen=True)
class Resolution:
    """How a question reads on its own.

    ``question`` has person pronouns replaced (scored against sentences);
    ``query`` adds the previous turn's topic words (used for retrieval);
    ``previous_answer`` is the answer the follow-up continues from.
    """

    question: str
    query: str
    previous_answer: str = ""


def resolve(question: str, history: Sequence[Any] | None) -> Resolution:
    """Resolve *question* against *history*; unchanged when it does not depend on it."""
    turns = as_turns(history)
    if not turns or not depends_on_history(question):
        return Resolution(question, question)
    last = turns[-1]
    person = _person_for(last)
    rewritten = _substitute_people(question, person) if person else question
    asked = set(tokenize(rewritten))
    words = re.findall(r"[\w£$’'.-]+", last.standalone or last.question)
    extra = [w.strip(".?") for w in words if tokenize(w) and not set(tokenize(w)) <= asked]
    topic = " ".join(dict.fromkeys(extra))
    previous = "" if last.answer.strip() in (REFUSAL, UNSURE) else last.answer
    return Resolution(rewritten, f"{rewritten} ({topic})" if topic else rewritten, previous)


def condense(question: str, history: Sequence[Any] | None) -> str:
    """A standalone version of *question* for retrieval (itself when it needs none)."""
    return resolve(question, history).query
