"""Settings as the interfaces read them, and how to tell a lost store server.

:func:`load_settings` reads ``RAG_*`` variables and ``.env`` (a bad value is a
:class:`~rag.errors.SettingsError` naming the variable); :func:`k_bounds` and
:func:`ray_address` let an interface check its own arguments against the same rules;
:func:`server_gone` tells a lost Chroma server from any other failure.

It defines no setting and no bound (see :mod:`rag.config`).
"""

from __future__ import annotations

from annotated_types import Ge, Le

from rag.config import RetrievalSettings, Settings, ray_address
from rag.errors import RagError
from rag.settings_errors import load_settings

__all__ = [
    "Settings",
    "k_bounds",
    "load_settings",
    "ray_address",
    "server_gone",
]


def k_bounds() -> tuple[int, int]:
    """The bounds of ``retrieval.k`` (passages retrieved), so no interface disagrees."""
    limits = RetrievalSettings.model_fields["k"].metadata
    low = next(m.ge for m in limits if isinstance(m, Ge))
    high = next(m.le for m in limits if isinstance(m, Le))
    if not isinstance(low, int) or not isinstance(high, int):
        raise TypeError(f"retrieval.k has bounds {low!r}..{high!r}, not whole numbers")
    return low, high


def server_gone(exc: BaseException) -> RagError | None:
    """*exc* as a :class:`~rag.errors.StoreUnavailableError` when a Chroma server went away.

    Anything else (an Ollama server down, a bug) gives None: it keeps its own traceback.
    """
    from rag.store.client import server_gone as gone  # the store loads only on failure

    return gone(exc)
