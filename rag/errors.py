"""Errors a user can act on.

Every :class:`RagError` message is one or two plain sentences that are safe to show
in the CLI or the browser and say what to do next. Unexpected failures are *not*
wrapped here; they keep their traceback.
"""

from __future__ import annotations


class RagError(Exception):
    """Base class: an expected problem with a message meant for the user."""

    exit_code = 2

    def lines(self) -> list[str]:
        """The message as the CLI prints it, one ``error:`` line each (one, by default)."""
        return [str(self)]


class ModelMissingError(RagError):
    """The bundled embedding model package is not installed."""


class StoreEmptyError(RagError):
    """No documents have been ingested yet."""


class StoreCorruptError(RagError):
    """The persisted store cannot be opened."""


class StoreUnavailableError(RagError):
    """The Chroma server cannot be reached, or went away during a command."""


class ResetRefusedError(RagError):
    """A reset would lose documents it cannot rebuild, so nothing was changed."""


class StoreLockedError(RagError):
    """Another ingest holds the store lock."""


class DocumentError(RagError):
    """A file cannot be read, is empty, too large or of an unsupported type."""


class QuestionError(RagError):
    """The question is empty or unusable."""


class ProviderError(RagError):
    """An answer provider is unknown or its package is missing."""


class SettingsError(RagError):
    """One or more ``RAG_`` settings have values that are not allowed.

    ``problems`` holds one sentence per bad variable; the CLI prints each on its own
    ``error:`` line.
    """

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems

    def lines(self) -> list[str]:
        """One line per bad variable."""
        return list(self.problems)


class OutputError(RagError):
    """A report cannot be written where the user asked for it."""
