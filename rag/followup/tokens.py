"""The records the follow-up modules pass around: tokens and mentions, and word shapes.

:func:`tokens` splits a text into words and punctuation with character offsets (citation
markers blanked, so offsets stay valid) and marks sentence starts; :class:`Mention` is
one name or noun phrase found in a text (:mod:`rag.followup.mentions`). The helpers read
one word's shape: plural, possessive, past-tense verb.

This module finds no mentions and resolves nothing; it only defines the units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rag.answering.markers import MARKER
from rag.followup.words import IRREGULAR_PAST, IRREGULAR_PLURALS, NOT_PLURAL, TOKEN


@dataclass(frozen=True)
class Tok:
    """A word or punctuation mark at ``start:end``; ``initial`` when it starts a sentence."""

    text: str
    initial: bool = False
    start: int = 0
    end: int = 0

    @property
    def low(self) -> str:
        return self.text.lower().replace("’", "'")

    @property
    def cap(self) -> bool:
        return self.text[:1].isupper()

    @property
    def punct(self) -> bool:
        return not self.text[:1].isalnum()


def tokens(text: str) -> list[Tok]:
    """Words and punctuation of *text*, sentence starts marked."""
    found: list[Tok] = []
    blanked = MARKER.sub(lambda m: " " * len(m.group()), text)  # offsets stay valid
    for match in TOKEN.finditer(blanked):
        initial = not found or found[-1].text in ".?!:;" or found[-1].text == "("
        found.append(Tok(match.group(), initial, match.start(), match.end()))
    return found


@dataclass(frozen=True)
class Mention:
    """Something a pointer can refer to, as written in one text.

    ``lead`` is where the mention starts with its determiner and role noun ("the
    engineer Margaret Holloway"), ``start`` where the name itself starts; ``end`` is exclusive.
    """

    text: str
    kind: str
    lead: int
    start: int
    end: int
    plural: bool = False
    wh: bool = False
    place_marked: bool = False
    nested: bool = False
    temporal: bool = False
    person_evidence: bool = False
    thing_evidence: bool = False
    preposition: str = ""
    name: bool = False
    modifier: bool = False
    headed: bool = False
    bare: bool = False


def is_plural(word: str) -> bool:
    """Whether *word* reads as a plural noun ("people", "councils"; not "bus", "news")."""
    low = word.lower()
    if low in IRREGULAR_PLURALS:
        return True
    if low in NOT_PLURAL or len(low) <= 3:
        return False
    return low.endswith("s") and not low.endswith(("ss", "us", "is", "'s", "’s"))


def strip_possessive(word: str) -> str:
    """*word* without a possessive ending ("Holloway's" -> "Holloway")."""
    for suffix in ("’s", "'s", "’", "'"):
        if word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def verb_like(word: str) -> bool:
    """Whether *word* looks like a past-tense verb ("closed", "built")."""
    low = word.lower()
    return low.endswith("ed") or low in IRREGULAR_PAST


def prev_is(toks: Sequence[Tok], i: int, word: str) -> bool:
    """Whether the token before *i* is *word* (lower case)."""
    return i > 0 and toks[i - 1].low == word
