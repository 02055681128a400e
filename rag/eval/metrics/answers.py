"""Answer metrics: the answer text against the reference answers, as SQuAD scores it.

SQuAD's official normalisation (extended to Unicode punctuation: the official script
strips ASCII only, so ``“tough rhetoric”`` would never match ``tough rhetoric``), exact
match and token F1 (the best over the acceptable references), token recall, and
token-boundary containment of the reference in the answer: chat-length answers score
EM 0 even when right, so the last two sit next to EM/F1.

Pure functions on strings; this module knows nothing of passages, citations or
embeddings (semantic similarity is :func:`rag.eval.metrics.stats.best_cosine`).
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Sequence

_PUNCTUATION = frozenset(string.punctuation)  # the official set (ASCII; has $ ^ ` + < = > | ~)
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b")


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation: lower case, no punctuation, articles or extra space.

    Identical to the official script on ASCII text; curly quotes and dashes are
    removed too.
    """
    text = "".join(ch for ch in text.lower() if not _is_punctuation(ch))
    return " ".join(_ARTICLES.sub(" ", text).split())


def _is_punctuation(ch: str) -> bool:
    return ch in _PUNCTUATION or unicodedata.category(ch).startswith("P")


def _tokens(text: str) -> list[str]:
    return normalize_answer(text).split()


def _best(scores: Sequence[float]) -> float:
    return max(scores, default=0.0)


def exact_match(prediction: str, references: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals any normalised reference."""
    pred = normalize_answer(prediction)
    return _best([float(pred == normalize_answer(ref)) for ref in references])


def _f1(pred: list[str], gold: list[str]) -> float:
    if not pred or not gold:  # SQuAD v2: both empty is a match
        return float(pred == gold)
    same = sum((Counter(pred) & Counter(gold)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def f1_score(prediction: str, references: Sequence[str]) -> float:
    """SQuAD token F1, the best over the acceptable references."""
    pred = _tokens(prediction)
    return _best([_f1(pred, _tokens(ref)) for ref in references])


def token_recall(prediction: str, references: Sequence[str]) -> float:
    """Share of the reference's tokens (with multiplicity) found in the prediction."""
    pred = Counter(_tokens(prediction))
    scores = []
    for ref in references:
        gold = Counter(_tokens(ref))
        if gold:
            scores.append(sum((pred & gold).values()) / sum(gold.values()))
    return _best(scores)


def _for_containment(text: str) -> str:
    # "UK’s refugee director" must contain "UK": drop possessives before normalising.
    return normalize_answer(_POSSESSIVE.sub("", text))


def contains_reference(text: str, references: Sequence[str]) -> bool:
    """Whether a normalised reference occurs in the normalised text, on word boundaries.

    Possessive endings are dropped first on both sides ("UK’s" contains "UK").
    """
    haystack = f" {_for_containment(text)} "
    needles = (_for_containment(ref) for ref in references)
    return any(f" {needle} " in haystack for needle in needles if needle)


def containment(prediction: str, references: Sequence[str]) -> float:
    """1.0 when the answer contains an acceptable reference (see :func:`contains_reference`)."""
    return float(contains_reference(prediction, references))
