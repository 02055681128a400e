"""The one place that decides: how likely a candidate answer is right, and the outcome.

The reader picks the answer (its best span over all passages, by how far the span's
score beats its window's "no answer" score); this module says how far to trust it.
The pick gets a few honest signals (:class:`Signals`): the reader's span and no-answer
scores, its answerability logits and span probability, its passage's retrieval scores,
how many other passages give the same answer and how far it stands above the best
different answer. A logistic model over them (:class:`Decision`, fitted by ``make
train-reader`` on calibration articles only and shipped in
``rag/models/reader/decision.json``) turns them into the probability that the pick's
unit holds a right answer. At or above the answer threshold it is *Grounded*; below it
the answer is *Not sure*; when no passage is even close to the question in meaning
(best dense cosine below the refusal threshold) it is *Not found*.

This module scores and decides; it does not read passages or build answers.
"""

from __future__ import annotations

import functools
import json
import logging
import math
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from rag.answer import Outcome
from rag.errors import ModelMissingError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Signals:
    """What the decision knows about one candidate (all floats, fixed order)."""

    span: float  # reader: start + end logit of the span
    gap: float  # span score minus its window's no-answer score
    answerable: float  # reader: the window's answerability logit
    probability: float  # reader: the span's share of its window (spans and "none")
    dense: float  # cosine of the question and the span's passage (0 when unknown)
    rank: float  # 1 / the passage's retrieval rank
    agreement: float  # other passages whose candidate says the same words
    lead: float  # gap minus the best gap of a candidate saying something else
    length: float  # log(1 + characters of the span)
    best_answerable: float  # the highest answerability logit of any window read
    best_dense: float  # the highest cosine of the question and any passage

    @classmethod
    def names(cls) -> list[str]:
        """Signal names in vector order (as written in decision.json)."""
        return [f.name for f in fields(cls)]

    def vector(self) -> list[float]:
        """The signals as a list, in :meth:`names` order."""
        return [float(v) for v in astuple(self)]

    def as_dict(self) -> dict[str, float]:
        """Name -> value, rounded for reports."""
        return {n: round(v, 4) for n, v in zip(self.names(), self.vector(), strict=True)}


@dataclass(frozen=True)
class Decision:
    """Logistic weights over :class:`Signals`, and the thresholds chosen with them."""

    weights: tuple[float, ...]
    bias: float
    answer_threshold: float
    refusal_threshold: float  # best passage cosine below which nothing is about it

    def probability(self, signals: Signals) -> float:
        """P(the candidate's sentence holds a right answer), in [0, 1]."""
        z = self.bias + sum(w * x for w, x in zip(self.weights, signals.vector(), strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def outcome(confidence: float, best_dense: float, answer_at: float, refuse_below: float) -> Outcome:
    """Answered at the answer threshold; else not found when no passage is close, else unsure."""
    if confidence >= answer_at:
        return "answered"
    return "not_found" if best_dense < refuse_below else "unsure"


@functools.lru_cache(maxsize=8)
def load_decision(folder: Path) -> Decision:
    """The decision in ``folder/decision.json`` (cached per folder)."""
    path = folder / "decision.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["signals"] != Signals.names():
            raise ValueError(f"signals {data['signals']} != {Signals.names()}")
        return Decision(
            tuple(float(w) for w in data["weights"]),
            float(data["bias"]),
            float(data["answer_threshold"]),
            float(data["refusal_threshold"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelMissingError(
            f"Cannot read the answer decision {path} ({exc}); restore it with "
            "`git checkout rag/models/reader` or rebuild it with `make train-reader`."
        ) from None
