"""How well one candidate sentence lines up with the question: the judge's alignment facts.

The calibrator (:mod:`rag.confidence`) reads, next to a candidate's relevance scores,
these facts about how its words line up with the question's (chosen by measurement on
the training articles, ``training/FEATURES_EXPERIMENT.md``):

* **support** (:mod:`rag.support`): how well the sentence covers the question's
  lower-case words, tolerant of paraphrase (mean and weakest word);
* **rival alignment**: how many more of those words the sentence misses than the
  best-aligned of the other most relevant candidates (a rival that says what the
  question says, where this one does not, is a bad sign);
* **negated question** and **opposite in the sentence** (one of two common opposites
  of a question word, :data:`rag.gates.OPPOSITES`);
* **the sentence negates**: it negates one of the question's words ("*not* fully
  understood", "*non*-specific") where the question states it plainly ("What is fully
  understood ...?");
* **names missing**: the share of the question's names (capitalised words after the
  first) the sentence does not use;
* **meaning over the passages**: the sentence's cosine minus the best retrieved
  passage's dense score;
* **short-answer length**: how long the answering words are (:mod:`rag.shortanswer`).

This module computes numbers only; the rules that reject a sentence outright are in
:mod:`rag.gates`, and the weights in the shipped calibration.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag import gates
from rag.embeddings import Encoder
from rag.gates.contradiction import NEGATION, NEGATORS
from rag.gates.words import normal, tokens
from rag.lexical import tokenize
from rag.relevance import Scored
from rag.shortanswer import short_answer
from rag.support import HOW_MUCH, asked_words, root, same_root, support

log = logging.getLogger(__name__)

_NEGATION_REACH = 3  # words between a negation and the word it negates
RIVALS = 8  # the other candidates compared with: the most relevant ones, as the answer explains
_LONGEST_SHORT_ANSWER = 10  # words; longer short answers count as this long


@dataclass(frozen=True)
class Alignment:
    """The alignment facts of one candidate (see the module docstring), each a float."""

    support_mean: float
    support_weakest: float
    rival_alignment: float
    negated_question: float
    names_missing: float
    opposite_in_sentence: float
    sentence_negates: float
    semantic_over_passages: float
    short_answer_length: float


def vocabulary(text: str) -> set[str]:
    """The matching roots (:func:`rag.support.root`) of every word of *text*."""
    return {root(w) for w in tokens(text)}


def has_word(word: str, vocab: set[str]) -> bool:
    """*word* is in *vocab*: the same root, or one root a 4+ letter prefix of the other."""
    key = root(word)
    if key in vocab:
        return True
    if len(key) < 4:
        return False
    head = key[: max(4, len(key) - 2)]
    return any(v.startswith(head) or (len(v) >= 4 and key.startswith(v)) for v in vocab)


def content_words(question: str) -> list[str]:
    """The question's words that say what it is about (stop and asking words dropped)."""
    words = [w for w in tokens(question) if w.lower() not in gates.STOPWORDS]
    return [w for w in words if w.lower() not in HOW_MUCH and tokenize(w)]


def missing_share(words: Sequence[str], vocab: set[str]) -> float:
    """Share of *words* not in *vocab* (0 when there are none)."""
    return sum(not has_word(w, vocab) for w in words) / max(len(words), 1)


def align(
    question: str,
    item: Scored,
    rivals: Sequence[Scored],
    scored: Sequence[Scored],
    encoder: Encoder,
) -> Alignment:
    """The alignment facts of *item*.

    *rivals* are the candidates the answer's explanation lists (in relevance order),
    *scored* every candidate of the retrieved passages.
    """
    context = item.candidate.context
    words = content_words(question)
    lower = [w for w in words if w.islower()]
    vocab = vocabulary(context)
    covered = support(question, context, encoder)
    return Alignment(
        support_mean=covered.mean,
        support_weakest=covered.weakest,
        rival_alignment=_rival_gap(lower, vocab, item, rivals),
        negated_question=float(bool(NEGATION.search(question))),
        names_missing=missing_share([w for w in words if _is_name(w, question)], vocab),
        opposite_in_sentence=float(_opposite(question, context)),
        sentence_negates=float(negates_asked(question, item.candidate.text)),
        semantic_over_passages=item.semantic - _best_dense(scored),
        short_answer_length=_short_answer_length(question, context),
    )


def same_sentence(a: Scored, b: Scored) -> bool:
    """*a* and *b* say the same words: a copy of one sentence (in another document, say)."""
    return normal(a.candidate.text) == normal(b.candidate.text)


def _rival_gap(lower: list[str], vocab: set[str], item: Scored, shown: Sequence[Scored]) -> float:
    """This sentence's missing share minus the lowest among the other most relevant ones.

    A copy of the same sentence is not a rival (:func:`same_sentence`).
    """
    rivals = [s for s in shown[:RIVALS] if s is not item and not same_sentence(s, item)]
    mine = missing_share(lower, vocab)
    gaps = [mine - missing_share(lower, vocabulary(s.candidate.text)) for s in rivals]
    return max(gaps, default=0.0)


def _is_name(word: str, question: str) -> bool:
    return word[:1].isupper() and not question.startswith(word)


def _opposite(question: str, context: str) -> bool:
    said = {w.lower() for w in tokens(context)}
    return any(gates.OPPOSITES.get(w.lower(), frozenset()) & said for w in tokens(question))


def negates_asked(question: str, sentence: str) -> bool:
    """*sentence* negates a word *question* states plainly.

    A word negated is one up to three words after a negation ("could *not* evade",
    "are not fully *understood*") or with a "non-" prefix ("non-specific"). A question
    that negates anything itself, or uses the same "non-" word, is not stated plainly.
    """
    if NEGATION.search(question):
        return False
    asked = asked_words(question)
    plain = {w.lower() for w in tokens(question)}
    said = [w.lower() for w in tokens(re.sub(r"n['’]t\b", " not", sentence))]
    for i, word in enumerate(said):
        base = word.removeprefix("non-")
        prefixed = base != word
        if (prefixed and word in plain) or not any(same_root(a, base) for a in asked):
            continue
        if prefixed or NEGATORS & set(said[max(0, i - _NEGATION_REACH) : i]):
            return True
    return False


def _best_dense(scored: Sequence[Scored]) -> float:
    dense = [d for s in scored if (d := s.candidate.passage.dense_score) is not None]
    return max(dense, default=0.0)


def _short_answer_length(question: str, context: str) -> float:
    span = short_answer(question, context)
    length = len(tokens(context[span[0] : span[1]])) if span else 0
    return min(length, _LONGEST_SHORT_ANSWER) / _LONGEST_SHORT_ANSWER
