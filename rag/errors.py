"""Errors a user can act on.

Every :class:`RagError` message is one or two plain sentences that are safe to show
in the CLI or the browser and say what to do next. Unexpected failures are *not*
wrapped here; they keep their traceback.
"""

from __future__ import annotations


class RagError(Exception):
    """Base class: an expected problem with a message meant for the user."""

    exit_code = 2


class ModelMissingError(RagError):
    """The bundled embedding model package is not installed."""


class StoreEmptyError(RagError):
    """No documents have been ingested yet."""


class StoreCorruptError(RagError):
    """The persisted store cannot be opened."""


class StoreLockedError(RagError):
    """Another ingest holds the store lock."""


class DocumentError(RagError):
    """A file cannot be read, is empty, too large or of an unsupported type."""


class QuestionError(RagError):
    """The question is empty or unusable."""


class ProviderError(RagError):
    """An answer provider is unknown or its package is missing."""
