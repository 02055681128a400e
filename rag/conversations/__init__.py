"""Conversations kept in SQLite (or a shared PostgreSQL), and example questions to start one.

:class:`ConversationStore` (:mod:`rag.conversations.store`) keeps every conversation of
the chat page in ``settings.store.store_dir / "conversations.sqlite3"`` through SQLAlchemy
2.x: create, list (newest first, with the title taken from the first question, dates
and turn count), get (every turn in order), append a turn, rename and delete. Each turn
stores the full :class:`~rag.answer.Answer` as JSON (``Answer.to_dict()``: question,
standalone question, answer, outcome, confidence, citations with offsets and document
hash, passages, mode, timings, info), and :meth:`Answer.from_dict` rebuilds it, so a
conversation reopened after a restart shows every answer and citation as it was.

Crash safety (:mod:`rag.conversations.db`, the tables and connection settings): the
database runs in WAL mode with ``synchronous=FULL`` and every write is one ``BEGIN
IMMEDIATE`` transaction (writers take turns, waiting up to :data:`BUSY_TIMEOUT_S`), so a
killed server loses at most the turn being written and never damages earlier ones.
Conversation ids are random (uuid4 hex); an unknown id raises
:class:`ConversationNotFound`.

With ``RAG_DATABASE_URL`` (a PostgreSQL database) the conversations live there instead,
so page replicas on several machines share one history; the schema is migrated with
Alembic (:mod:`rag.conversations.db`) when the store opens, on either engine.

:func:`example_questions` (:mod:`rag.conversations.starters`) builds a few questions
from the documents' own text (headings, and the subject and verb of their sentences),
with no rule about any particular document, for the page to offer on an empty
conversation.

:mod:`rag.conversations.export` writes a conversation out for audit (Markdown and JSON,
every citation with its offsets and document hash).

This package does not answer questions, render anything or import Streamlit; this
module only gathers the names callers import.
"""

from __future__ import annotations

from rag.conversations.db import BUSY_TIMEOUT_S, SCHEMA_VERSION
from rag.conversations.db import TurnRow as _TurnRow  # noqa: F401 - the crash test's import
from rag.conversations.starters import MAX_EXAMPLE_CHARS, example_questions, short_title
from rag.conversations.store import (
    DB_FILES,
    DB_NAME,
    TITLE_CHARS,
    Conversation,
    ConversationNotFound,
    ConversationStore,
    ConversationStoreError,
    ConversationSummary,
    Summaries,
    answer_json,
    title_of,
)

__all__ = [
    "BUSY_TIMEOUT_S",
    "DB_FILES",
    "DB_NAME",
    "MAX_EXAMPLE_CHARS",
    "SCHEMA_VERSION",
    "TITLE_CHARS",
    "Conversation",
    "ConversationNotFound",
    "ConversationStore",
    "ConversationStoreError",
    "ConversationSummary",
    "Summaries",
    "answer_json",
    "example_questions",
    "short_title",
    "title_of",
]
