"""Optional answer judge (faithfulness, answer relevance), run only when ``--llm`` is given.

A judge returns a :class:`Verdict` per answer. :class:`CachedJudge` wraps any judge
and stores each verdict on disk under a hash of (judge, version, question, answer,
passages), so a rerun is free and gives the same scores. A judgement that fails is a
``failed`` verdict with a reason and no scores: never NaN, never a guessed number,
never cached (the next run retries it).

Providers today: ``extractive`` only: a deterministic judge with no model.
Faithfulness is the share of answer sentences found verbatim in the retrieved
passages; answer relevance is the cosine between question and answer embeddings.
LLM providers arrive with the LLM issue; any other ``--llm`` value is refused with
a clear error. This module does not ask questions or aggregate verdicts.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rag.errors import ProviderError

log = logging.getLogger(__name__)

PROVIDERS = ("extractive",)
OK, FAILED, SKIPPED = "ok", "failed", "skipped"
_MARKERS = re.compile(r"\[\d+\]")


class JudgeError(Exception):
    """A provider could not produce a judgement (bad output, timeout...)."""


@dataclass(frozen=True)
class Verdict:
    """A judgement of one answer; scores are in [0, 1] and present only when ``ok``."""

    status: str
    faithfulness: float | None = None
    answer_relevance: float | None = None
    reason: str = ""
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


class Judge(Protocol):
    """What a judge provider implements."""

    name: str
    version: str

    def judge(self, question: str, answer: str, contexts: Sequence[str]) -> Verdict:
        """Judge *answer* to *question* given the retrieved *contexts*."""
        ...


def _squash(text: str) -> str:
    return " ".join(text.split())


class ExtractiveJudge:
    """No-model judge: verbatim support and embedding relevance."""

    name = "extractive"
    version = "1"

    def __init__(self, encode: Callable[[list[str]], np.ndarray]) -> None:
        self._encode = encode

    def judge(self, question: str, answer: str, contexts: Sequence[str]) -> Verdict:
        """Share of answer sentences inside a passage; question-answer cosine."""
        claims = [_squash(part) for part in _MARKERS.split(answer) if part.strip(" .")]
        if not claims:
            raise JudgeError("the answer has no sentence to judge")
        haystack = [_squash(context) for context in contexts]
        supported = sum(any(claim in text for text in haystack) for claim in claims)
        vectors = self._encode([question, " ".join(claims)])
        relevance = float(np.clip(vectors[0] @ vectors[1], 0.0, 1.0))
        return Verdict(OK, faithfulness=supported / len(claims), answer_relevance=relevance)


class CachedJudge:
    """Wraps a judge: verdicts cached on disk by content hash; failures reported, not cached."""

    def __init__(self, inner: Judge, cache_dir: Path) -> None:
        self.inner = inner
        self.cache_dir = Path(cache_dir)
        self.name = inner.name

    def key(self, question: str, answer: str, contexts: Sequence[str]) -> str:
        """Hash of everything the verdict depends on."""
        payload = [self.inner.name, self.inner.version, question, answer, list(contexts)]
        return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()

    def judge(self, question: str, answer: str, contexts: Sequence[str]) -> Verdict:
        """The cached verdict, or a fresh one (stored only when it succeeded)."""
        path = self.cache_dir / f"{self.key(question, answer, contexts)}.json"
        if path.is_file():
            return replace(Verdict(**json.loads(path.read_text(encoding="utf-8"))), cached=True)
        try:
            verdict = _checked(self.inner.judge(question, answer, contexts))
        except JudgeError as exc:
            log.warning("judge %s failed: %s", self.name, exc)
            return Verdict(FAILED, reason=str(exc))
        _write_atomically(path, verdict.to_dict())
        return verdict


def _checked(verdict: Verdict) -> Verdict:
    """Reject scores that are missing, NaN or outside [0, 1] as a failed judgement."""
    for score in (verdict.faithfulness, verdict.answer_relevance):
        if score is None or not math.isfinite(score) or not 0.0 <= score <= 1.0:
            raise JudgeError(f"the judge returned an invalid score {score!r}")
    return verdict


def _write_atomically(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(path)


def check_spec(spec: str | None) -> str | None:
    """The provider named by ``--llm`` (None when absent); a clear error when unknown."""
    if spec is None:
        return None
    provider = spec.split(":", 1)[0].strip().lower()
    if provider not in PROVIDERS:
        raise ProviderError(
            f"No judge provider {spec!r} is available: LLM providers arrive with the LLM issue. "
            "Use --llm extractive (offline, no model) or leave --llm out."
        )
    return provider


def make_judge(
    spec: str | None, encode: Callable[[list[str]], np.ndarray], cache_dir: Path
) -> CachedJudge | None:
    """The cached judge named by *spec*, or None when no judge was asked for."""
    provider = check_spec(spec)
    if provider is None:
        return None
    return CachedJudge(ExtractiveJudge(encode), cache_dir)
