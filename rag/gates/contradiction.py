"""Whether a sentence says the opposite of what the question asks about.

Two checks, both on English in general: a negated question ("What is *not* ...?")
needs a negated sentence, and a question about one of two common opposites ("exit",
"later") is not answered by a sentence stating the other ("enter", "earlier").
:data:`OPPOSITES` is the one table of opposites in the project (the verifier's training
data perturbs questions with it too, :mod:`training.pairs`).

This module only looks for contradictions; it does not check answer kinds, names or
numbers (see :mod:`rag.gates`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from rag.gates.words import tokens

NEGATORS = frozenset({"not", "no", "never", "none", "nor", "neither", "without", "cannot"})
NEGATION = re.compile(rf"\b({'|'.join(sorted(NEGATORS))})\b|n['’]t\b", re.I)
# Common English opposites, two words a pair: a question that asks about one while the
# sentence states the other ("exit" / "enter", "later" / "early") asks something the
# sentence does not say.
_OPPOSITE_PAIRS = """
early late earlier later earliest latest first last before after large small larger smaller
largest smallest big little bigger smaller biggest smallest high low higher lower highest lowest
long short longer shorter longest shortest old new older newer oldest newest young old
younger older youngest oldest more less more fewer most least increase decrease increased
decreased increases decreases rise fall rose fell gain lose gained lost win lose won lost
wins loses victory defeat winner loser strong weak stronger weaker strongest weakest fast slow
faster slower fastest slowest major minor majority minority maximum minimum upper lower inner
outer internal external inside outside interior exterior import export imports exports
imported exported enter exit entered exited enters exits arrive depart arrived departed accept
reject accepted rejected allow forbid allowed forbidden permit prohibit permitted prohibited
include exclude included excluded includes excludes start end started ended begin end began
ended open close opened closed success failure successful unsuccessful succeeded failed
positive negative true false right wrong correct incorrect legal illegal north south northern
southern east west eastern western above below over under top bottom men women man woman male
female boys girls boy girl king queen public private national international nationwide
worldwide domestic foreign local global rich poor wealthy poor cheap expensive easy difficult
direct indirect directly indirectly always never ancient modern past future previous next
former latter friend enemy ally enemy allies enemies attack defend attacked defended offensive
defensive agree disagree support oppose supported opposed supporters opponents add remove
added removed create destroy created destroyed buy sell bought sold lend borrow lent borrowed
give take gave took send receive sent received heavy light hot cold warm cool wet dry
""".split()


def _pair_up(words: list[str]) -> dict[str, frozenset[str]]:
    """Each word of the pairs mapped to every word it is paired with, both ways round."""
    opposites: dict[str, set[str]] = {}
    for a, b in zip(words[0::2], words[1::2], strict=True):
        opposites.setdefault(a, set()).add(b)
        opposites.setdefault(b, set()).add(a)
    return {word: frozenset(others) for word, others in opposites.items()}


# Lower-case word -> its opposites ("old" -> {"new", "young"}).
OPPOSITES: Mapping[str, frozenset[str]] = _pair_up(_OPPOSITE_PAIRS)


def contradiction(question: str, context: str) -> str:
    """Why *context* cannot answer *question* as asked ('' if nothing contradicts).

    A negated question ("What is *not* ...?") needs a negated statement; a question about
    one of two opposites needs that one, not the other.
    """
    if NEGATION.search(question) and not NEGATION.search(context):
        return "the question is negated, the sentence is not"
    asked = {w.lower() for w in tokens(question)}
    said = {w.lower() for w in tokens(context)}
    for word in sorted(asked - said):
        opposite = OPPOSITES.get(word, frozenset())
        if opposite & said and not opposite & asked:
            return f"it says {sorted(opposite & said)[0]!r}, not {word!r}"
    return ""
