"""What an answer records about how it was made: :class:`AnswerInfo`, typed.

Every answerer fills the part it knows, and every reader (CLI, page, exports, eval)
reads fields, so a renamed field is a type error, not a silent ``None``:

* the extractive decision: relevance of the best sentence, the thresholds in force,
  the candidates it weighed (:class:`CandidateNote`) and why the best was rejected;
* the chain: how a follow-up was understood (``condensed_by``);
* a generating answerer: which model wrote it (``provider``, ``spec``, ``model``,
  ``model_settings``), what fitted in the prompt, the draft, what the citation check
  removed (:class:`Unsupported`), and whether it fell back to the extractive answer.

In JSON (``Answer.to_dict``) it is one flat object with the same keys as before it
was typed; :meth:`AnswerInfo.from_dict` reads that back and ignores keys it does not
know (written by another version). It holds data only; nothing here scores or checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any


def known(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of *data* that are fields of dataclass *cls*."""
    names = {f.name for f in fields(cls)}
    return {key: value for key, value in data.items() if key in names}


@dataclass(frozen=True)
class CandidateNote:
    """One candidate sentence as the answer's explanation shows it (and the eval records).

    Only ``text`` is required, so notes written by older versions (fewer keys) load.
    """

    text: str
    source: str = ""
    start: int = 0
    relevance: float = 0.0
    semantic: float = 0.0
    lexical: float = 0.0
    passage_rank: int = 0
    confidence: float = 0.0
    rejected: str = ""  # the rule it broke; "" when none
    short_answer: str = ""  # the reader's span inside ``text``
    features: dict[str, float] | None = None  # what the decision saw (rag.answering.decision)


@dataclass(frozen=True)
class Unsupported:
    """A generated sentence the citation check removed, and why."""

    sentence: str
    reason: str = ""


@dataclass(frozen=True)
class CheckReport:
    """What the citation check (:mod:`rag.answering.citecheck`) did to a generated answer."""

    sentences: int
    supported_sentences: int
    unsupported: list[Unsupported]
    ignored_markers: list[int]


@dataclass(frozen=True)
class AnswerInfo:
    """How an answer was made; see the module docstring for who fills what."""

    # the extractive decision (rag.answering)
    best_score: float = 0.0
    threshold: float = 0.0  # the refusal threshold in force
    answer_threshold: float = 0.0
    rejected_by_rules: int = 0
    best_candidate: str = ""
    best_candidate_rejected: str = ""  # the rule the best candidate broke, "" when none
    candidates: list[CandidateNote] = field(default_factory=list)
    # the chain
    condensed_by: str = ""
    # the model, when one writes the answer ("" / {} for extractive answers)
    provider: str = ""
    spec: str = ""
    model: str = ""
    model_settings: dict[str, Any] = field(default_factory=dict)
    # generation: the prompt, the draft, the check
    passages_in_prompt: int = 0
    prompt_passage_ranks: list[int] = field(default_factory=list)  # prompt [n] -> rank
    passages_dropped: int = 0
    prompt_tokens: int = 0
    draft: str = ""
    sentences: int = 0
    supported_sentences: int = 0
    unsupported_count: int = 0
    unsupported: list[Unsupported] = field(default_factory=list)
    ignored_markers: list[int] = field(default_factory=list)
    model_refused: bool = False
    why: str = ""  # why a checked answer kept no sentence
    fallback: str | None = None  # "extractive" when the extractive answer replaced it
    fallback_reason: str = ""

    def checked(self, report: CheckReport, model_refused: bool) -> AnswerInfo:
        """This info with the citation check's findings."""
        return replace(
            self,
            sentences=report.sentences,
            supported_sentences=report.supported_sentences,
            unsupported_count=len(report.unsupported),
            unsupported=list(report.unsupported),
            ignored_markers=list(report.ignored_markers),
            model_refused=model_refused,
            fallback=None,
        )

    def fell_back(self, extractive: AnswerInfo, reason: str) -> AnswerInfo:
        """This (generation) info, plus the extractive decision's from *extractive*, and why."""
        return replace(
            self,
            best_score=extractive.best_score,
            threshold=extractive.threshold,
            answer_threshold=extractive.answer_threshold,
            rejected_by_rules=extractive.rejected_by_rules,
            best_candidate=extractive.best_candidate,
            best_candidate_rejected=extractive.best_candidate_rejected,
            candidates=list(extractive.candidates),
            fallback="extractive",
            fallback_reason=reason,
            why="",
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> AnswerInfo:
        """Rebuild from :func:`dataclasses.asdict` output (unknown keys ignored)."""
        values = known(cls, data or {})
        values["candidates"] = [
            CandidateNote(**known(CandidateNote, c)) for c in values.get("candidates", [])
        ]
        values["unsupported"] = [
            Unsupported(**known(Unsupported, u)) for u in values.get("unsupported", [])
        ]
        return cls(**values)
