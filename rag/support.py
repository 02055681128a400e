"""How much of what a question says its answer sentence says too, tolerant of paraphrase.

A crowd-written or natural question names an event with its own words ("When was the
lighthouse *automated*?"). A sentence that states a different event about the same
thing ("The lighthouse was first *lit* in 1868.") matches the question's names and holds
a date, so the rules of :mod:`rag.gates` let it through; what it lacks is the question's
verb. Requiring the same word would punish paraphrase ("*travelling* to Calais" /
"will *visit* Calais"), so each of the question's lower-case content words (its verbs and
common nouns; names and numbers are the rules' job) is matched to the closest word of
the sentence: the same root counts 1, any other word the cosine of the two words'
embeddings (the bundled MiniLM on single words, cached with the sentence vectors).

:func:`support` gives two numbers for the judge (:mod:`rag.confidence`): the mean and
the weakest of those best matches. This module decides nothing and knows no document.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from rag.embeddings import Encoder
from rag.gates import STOPWORDS, stem
from rag.gates.words import same_word, tokens

log = logging.getLogger(__name__)

# Words that say what kind of thing is asked ("how *many*", "what *year*"), not what it
# is about: the answer holds a number or a date in their place, not the word.
HOW_MUCH = frozenset({"many", "much"})
ASKING_WORDS = HOW_MUCH | {"year", "years", "date", "name", "names", "kind", "type"}


@dataclass(frozen=True)
class Support:
    """How well the sentence covers the question's own words (each in [0, 1])."""

    mean: float  # the average best match over the question's words
    weakest: float  # the worst-covered question word's best match

    @classmethod
    def full(cls) -> Support:
        """Nothing to cover (the question has no lower-case content word)."""
        return cls(1.0, 1.0)


def root(word: str) -> str:
    """A loose matching key: :func:`rag.gates.stem` without -ing, -ed or -e endings."""
    key = stem(word)
    for suffix in ("ing", "ed", "e"):
        if key.endswith(suffix) and len(key) - len(suffix) >= 3:
            return key[: -len(suffix)]
    return key


def same_root(a: str, b: str) -> bool:
    """The rules' "same word" (:func:`rag.gates.words.same_word`), or the same :func:`root`."""
    return root(a) == root(b) or same_word(a, b)


def asked_words(question: str) -> list[str]:
    """The question's lower-case content words (stop words and asking words dropped)."""
    words = [w for w in tokens(question) if w.islower() and w.isalpha()]
    words = [w for w in words if w not in STOPWORDS and w not in ASKING_WORDS]
    return list(dict.fromkeys(words))


def said_words(sentence: str) -> list[str]:
    """The sentence's words that can match a question word (stop words dropped)."""
    return list(dict.fromkeys(w.lower() for w in tokens(sentence) if w.lower() not in STOPWORDS))


def support(question: str, sentence: str, encoder: Encoder) -> Support:
    """How well *sentence* (with the sentence it continues) covers *question*'s words."""
    asked = asked_words(question)
    if not asked:
        return Support.full()
    said = said_words(sentence)
    best = {a: 1.0 for a in asked if any(same_root(a, s) for s in said)}
    rest = [a for a in asked if a not in best]
    if rest:
        best.update(zip(rest, _closest(rest, said, encoder), strict=True))
    scores = [best[a] for a in asked]
    return Support(round(sum(scores) / len(scores), 4), round(min(scores), 4))


def _closest(words: list[str], said: list[str], encoder: Encoder) -> list[float]:
    """For each of *words*, the highest cosine to any of *said* (0 when *said* is empty)."""
    if not said:
        return [0.0 for _ in words]
    vectors = encoder.encode([*words, *said])
    sims = vectors[: len(words)] @ vectors[len(words) :].T
    return [max(0.0, min(1.0, float(v))) for v in sims.max(axis=1)]
