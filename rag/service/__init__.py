"""The one seam between the interfaces (the page, the CLI, the eval) and the core.

Everything an interface does goes through here: :class:`Assistant` (ingest, ask,
list, view and remove documents, save uploads, example questions), uploads
(:mod:`rag.service.uploads`), example questions (:mod:`rag.service.examples`), the
conversation history (:mod:`rag.service.conversations`), the answer providers
(:mod:`rag.service.providers`), exports (:mod:`rag.service.exports`), settings
(:mod:`rag.service.settings`) and how an answer reads (:mod:`rag.service.views`).
Results are typed dataclasses. The page and the CLI import from ``rag`` only this
package, the answer types (:mod:`rag.answer`), their rendering helpers and the errors
(``tests/unit/test_import_rule.py``).

This package holds no retrieval, answering, storage or rendering logic of its own: it
names the use cases and hands them to the modules that do the work.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the names below load on first use (see __getattr__)
    from rag.service.assistant import (
        Assistant,
        IngestReport,
        ManifestEntry,
        RemovedDocument,
        load_embeddings,
    )
    from rag.service.conversations import (
        TITLE_CHARS,
        Conversation,
        ConversationNotFound,
        ConversationStore,
        ConversationSummary,
        Turn,
        conversation_location,
        distinct_labels,
        open_conversations,
        turns_of,
    )
    from rag.service.exports import ConversationExport, export_conversation
    from rag.service.providers import Provider, ProviderChoices, llm_help, provider_choices
    from rag.service.settings import (
        Settings,
        k_bounds,
        load_settings,
        ray_address,
        server_gone,
    )
    from rag.service.uploads import UPLOAD_TYPES, RenamedUpload, SavedUploads, Upload
    from rag.service.views import answer_text, check_note

__all__ = [
    "TITLE_CHARS",
    "UPLOAD_TYPES",
    "Assistant",
    "Conversation",
    "ConversationExport",
    "ConversationNotFound",
    "ConversationStore",
    "ConversationSummary",
    "IngestReport",
    "ManifestEntry",
    "Provider",
    "ProviderChoices",
    "RemovedDocument",
    "RenamedUpload",
    "SavedUploads",
    "Settings",
    "Turn",
    "Upload",
    "answer_text",
    "check_note",
    "conversation_location",
    "distinct_labels",
    "export_conversation",
    "k_bounds",
    "llm_help",
    "load_embeddings",
    "load_settings",
    "open_conversations",
    "provider_choices",
    "ray_address",
    "server_gone",
    "turns_of",
]

# Where each name lives: a command that only needs the provider list (``--help``) does
# not load the store, the model or the conversation database.
_HOMES = {
    "assistant": (
        "Assistant",
        "IngestReport",
        "ManifestEntry",
        "RemovedDocument",
        "load_embeddings",
    ),
    "conversations": (
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
    ),
    "exports": ("ConversationExport", "export_conversation"),
    "providers": ("Provider", "ProviderChoices", "llm_help", "provider_choices"),
    "settings": ("Settings", "k_bounds", "load_settings", "ray_address", "server_gone"),
    "uploads": ("UPLOAD_TYPES", "RenamedUpload", "SavedUploads", "Upload"),
    "views": ("answer_text", "check_note"),
}
_HOME = {name: f"rag.service.{module}" for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> object:
    """Load the service module that defines *name* on first use, and keep the name here."""
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The names loaded so far and the ones that load on first use."""
    return sorted(set(globals()) | set(_HOME))
