"""The documents readers trust, cached per generation token.

Reading the whole manifest costs one Chroma call per 5,000 documents; looking up the
generation token costs one. :class:`ViewCache` keeps the :class:`StoreView` of the
last generation it saw and re-reads the manifest only when the token changed, so a
question pays one lookup to know its view is current. A view just validated for a
question is handed (:meth:`ViewCache.hand`) to the next read in the same thread (the
question's retrieval), which then makes no second lookup; any write through the
store (:meth:`ViewCache.forget`) withdraws it.

This module does not write, and does not decide what is trusted (owners do).
"""

from __future__ import annotations

import threading
from types import MappingProxyType

from rag.store.entries import StoreView, owners_of
from rag.store.manifest import Manifest


class ViewCache:
    """The current :class:`StoreView` of one manifest, validated by its generation token."""

    def __init__(self, manifest: Manifest) -> None:
        self._manifest = manifest
        self._view: StoreView | None = None
        self._handed = threading.local()  # per thread: the view checked for its question

    def current(self) -> StoreView:
        """The view of the store's current generation (one lookup; a read when it changed)."""
        generation = self._manifest.generation()
        view = self._view
        if view is None or view.generation != generation:
            entries = self._manifest.read().entries
            view = StoreView(generation, MappingProxyType(entries), owners_of(entries))
            self._view = view
        return view

    def hand(self, view: StoreView) -> None:
        """Give *view*, just validated by :meth:`current`, to this thread's next :meth:`take`."""
        self._handed.view = view

    def take(self) -> StoreView:
        """The view :meth:`hand` just gave this thread, else :meth:`current`."""
        handed: StoreView | None = getattr(self._handed, "view", None)
        self._handed.view = None
        if handed is not None and handed is self._view:  # nothing written since the check
            return handed
        return self.current()

    def forget(self) -> None:
        """Drop the cached view (the store was written): the next read looks again."""
        self._view = None
