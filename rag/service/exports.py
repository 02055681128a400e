"""A conversation exported for audit, in both formats at once (see :mod:`rag.conversations.export`).

It formats nothing itself, and does not write files: the interface offers the text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rag.answer import Answer
from rag.conversations.export import conversation_json, conversation_markdown
from rag.store import ManifestEntry


@dataclass(frozen=True)
class ConversationExport:
    """The same conversation as Markdown (for people) and JSON (for programs)."""

    markdown: str
    json: str


def export_conversation(
    answers: Sequence[Answer],
    documents: Sequence[ManifestEntry],
    settings: Mapping[str, object],
) -> ConversationExport:
    """*answers* with the *documents* in the store and the *settings* they were given with."""
    meta = dict(settings)
    return ConversationExport(
        markdown=conversation_markdown(answers, documents, meta),
        json=conversation_json(answers, documents, meta),
    )
