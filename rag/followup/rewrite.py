"""Condense a follow-up question with the chat model, guarded against mangling.

Used only when a model is configured *and* :func:`rag.followup.depends_on_history`
says the question points back ("Who is she meeting?"). The model is asked to rewrite
the question so it stands alone. Question rewriters are known to mangle questions
(answering them, inventing a topic, turning "hi" into something else), so the
rewrite is accepted only when it

* is one line that is not an answer, a refusal or a citation;
* keeps most of the question's own content words;
* adds only words that occur in the conversation (names it resolved, topic words).

Otherwise the heuristic :func:`rag.followup.resolve` is used, and the reason is
recorded. This module does not retrieve or answer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from rag.answering.markers import MARKER
from rag.config import REFUSAL, UNSURE
from rag.errors import ProviderError
from rag.followup import Resolution, Turn, as_turns, resolve
from rag.llm.registry import model_name, provider_failures
from rag.retrieval.lexical import tokenize

log = logging.getLogger(__name__)

CONDENSE_PROMPT = (
    "Rewrite the user's last question so that it can be understood without the "
    "conversation: replace pronouns such as he, she, it, they or there with what they "
    "refer to. Do not answer the question. Reply with the rewritten question only, on "
    "one line."
)
_PREFIX = re.compile(r"^\s*(?:rewritten|standalone)?\s*question\s*:\s*", re.I)


def _conversation(turns: Sequence[Turn]) -> str:
    lines = []
    for turn in turns[-3:]:  # recent turns carry the referents; older ones add noise
        lines.append(f"User: {turn.question}")
        if turn.answer and turn.answer.strip() not in (REFUSAL, UNSURE):
            lines.append(f"Assistant: {MARKER.sub('', turn.answer).strip()}")
    return "\n".join(lines)


def rewrite_problem(
    question: str, rewrite: str, turns: Sequence[Turn], keep_share: float
) -> str | None:
    """None when *rewrite* is an acceptable standalone form of *question*, else why not.

    It must keep at least *keep_share* of the question's words (``llm.condense_keep_share``).
    """
    if not rewrite or "\n" in rewrite.strip():
        return "empty or several lines"
    if rewrite.strip() == REFUSAL or MARKER.search(rewrite):
        return "an answer, not a question"
    if len(rewrite) > 3 * len(question) + 150:
        return "much longer than the question"
    asked, words = set(tokenize(question)), set(tokenize(rewrite))
    if asked and len(asked & words) / len(asked) < keep_share:
        return "drops the question's own words"
    known = asked | {w for t in turns for w in tokenize(f"{t.question} {t.answer}")}
    invented = sorted(words - known)
    return f"adds words not in the conversation: {', '.join(invented[:3])}" if invented else None


def condense_with_model(
    question: str, history: Sequence[Any] | None, model: BaseChatModel, keep_share: float
) -> tuple[Resolution, str]:
    """The resolution to use and how it was made (``model`` or ``heuristic: why``)."""
    turns = as_turns(history)
    heuristic = resolve(question, turns)
    messages = [
        SystemMessage(CONDENSE_PROMPT),
        HumanMessage(f"Conversation:\n{_conversation(turns)}\n\nLast question: {question}"),
    ]
    try:
        reply = model.invoke(messages).content
    except provider_failures() as exc:
        raise ProviderError(
            f"The answer model {model_name(model)} failed while reading the follow-up "
            f"({type(exc).__name__}); check that it is running."
        ) from exc
    rewrite = _PREFIX.sub("", str(reply)).strip().strip('"“”')
    problem = rewrite_problem(question, rewrite, turns, keep_share)
    if problem:
        log.info("model rewrite %r rejected (%s); using the heuristic", rewrite, problem)
        return heuristic, f"heuristic: the model's rewrite {problem}"
    return Resolution(rewrite, rewrite, heuristic.previous_answer), "model"
