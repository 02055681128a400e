"""How sure the answerer is that its chosen sentence answers: a small logistic calibrator.

The confidence of an answer is a logistic function of a few facts about the chosen
sentence (:class:`Features`): its relevance score, how far it stands above the next
candidate (a clear winner is more often right than one of several close ones), its
meaning and word-overlap parts, the verifier's probability (:mod:`rag.verifier`),
whether the most relevant sentence of all was rejected by the rules (:mod:`rag.gates`),
and how its words line up with the question's (:mod:`rag.alignment_features`).
The weights and the answer threshold are fitted by ``make train`` on training data only
(``training/calibrate.py``) and shipped in ``rag/models/judge/calibration.json`` with its
model card. The shipped calibration gives the verifier weight 0 (measured: it did not
help), so no verifier model is loaded.

This module computes features and probabilities; it does not pick sentences.
"""

from __future__ import annotations

import functools
import json
import logging
import math
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from rag.errors import ModelMissingError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Features:
    """What the calibrator knows about a chosen sentence (all floats, fixed order)."""

    relevance: float
    margin: float  # relevance minus that of the best other candidate
    semantic: float
    lexical: float
    verifier: float
    top_rejected: float  # 1.0 when the most relevant candidate broke a rule
    # How the sentence's words line up with the question's (rag.alignment_features).
    support_mean: float
    support_weakest: float
    rival_alignment: float
    negated_question: float
    names_missing: float
    opposite_in_sentence: float
    sentence_negates: float
    semantic_over_passages: float
    short_answer_length: float

    @classmethod
    def names(cls) -> list[str]:
        """Feature names in vector order (as written in calibration.json)."""
        return [f.name for f in fields(cls)]

    def vector(self) -> list[float]:
        """The features as a list, in :meth:`names` order."""
        return [float(v) for v in astuple(self)]


@dataclass(frozen=True)
class Calibrator:
    """Logistic weights over :class:`Features`, and the threshold chosen with them."""

    weights: tuple[float, ...]
    bias: float
    threshold: float

    def uses(self, name: str) -> bool:
        """False when feature *name* has weight 0 (then it need not be computed)."""
        return self.weights[Features.names().index(name)] != 0.0

    def probability(self, features: Features) -> float:
        """P(the sentence answers the question), in [0, 1]."""
        z = self.bias + sum(w * x for w, x in zip(self.weights, features.vector(), strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def bundled_judge_path() -> Path:
    """The judge shipped with the package: ``rag/models/judge`` (calibration and card)."""
    return Path(__file__).resolve().parent / "models" / "judge"


@functools.lru_cache(maxsize=8)
def load_calibrator(folder: Path) -> Calibrator:
    """The calibrator in ``folder/calibration.json`` (cached per folder)."""
    path = folder / "calibration.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["features"] != Features.names():
            raise ValueError(f"features {data['features']} != {Features.names()}")
        return Calibrator(
            tuple(float(w) for w in data["weights"]),
            float(data["bias"]),
            float(data["answer_threshold"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelMissingError(
            f"Cannot read the answer calibration {path} ({exc}); restore it with "
            "`git checkout rag/models/judge` or rebuild it with `make train`."
        ) from None
