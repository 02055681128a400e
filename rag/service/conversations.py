"""The conversation history as the interfaces use it: open it, and turn answers into turns.

The page keeps its conversations in a :class:`~rag.conversations.ConversationStore`
(SQLite in the store folder, or PostgreSQL with ``RAG_DATABASE_URL``): create, list,
get, append a turn, rename, delete. This module says where it lives for a set of
settings and opens it; :func:`turns_of` gives the earlier turns of a conversation in
the form :meth:`~rag.service.Assistant.ask` reads, so the page and the CLI pass the same.

It does not store or render anything itself (:mod:`rag.conversations` does the storing).
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.answer import Answer
from rag.config import Settings
from rag.conversations import (
    TITLE_CHARS,
    Conversation,
    ConversationNotFound,
    ConversationStore,
    ConversationSummary,
)
from rag.conversations.labels import distinct_labels
from rag.followup.turns import Turn, as_turns

__all__ = [
    "TITLE_CHARS",
    "Conversation",
    "ConversationNotFound",
    "ConversationStore",
    "ConversationSummary",
    "Turn",
    "conversation_location",
    "distinct_labels",
    "open_conversations",
    "turns_of",
]


def conversation_location(settings: Settings) -> str:
    """Where *settings* keep conversations: the database URL, else the SQLite file's path."""
    return ConversationStore.location_for(settings)


def open_conversations(location: str) -> ConversationStore:
    """The conversation store at *location* (a URL with ``://``, or an SQLite file).

    A file that is not a database is moved aside and a new history started
    (``store.moved_aside`` says where).
    """
    return ConversationStore.at(location)


def turns_of(answers: Sequence[Answer]) -> list[Turn]:
    """Earlier answers as the follow-up resolver reads them, oldest first."""
    return as_turns(answers)
