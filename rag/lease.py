"""Take turns between ingests on different machines that share one Chroma server.

The file lock in :mod:`rag.ingest` serialises ingests on one machine; machines
sharing a server (``RAG_CHROMA_URL``) also need to take turns, or one machine's
start-of-ingest cleanup could delete chunks another is writing. Chroma has no
compare-and-set, so the lease is one record in a ``<prefix>_lease`` collection:

* *acquire*: when the record is absent or expired, write our owner id with an expiry,
  wait ``SETTLE`` seconds, read it back; we hold it only if our id survived (two
  machines writing at once both read the last writer's id, so one goes ahead).
* *renew*, before every group an ingest writes: check we still hold it and push the
  expiry ``ttl`` seconds on. A holder that lost its lease (it stalled past the
  expiry and another machine took over) stops with :class:`StoreLockedError`
  instead of writing.
* *release*: delete the record if it is still ours.

Expiry uses each machine's wall clock: clocks must agree to well within ``ttl``
(NTP does). This module knows nothing about documents; an embedded store needs no
lease (one machine, the file lock suffices).
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from typing import Any

from rag.errors import StoreLockedError

log = logging.getLogger(__name__)

LEASE_ID = "ingest"
SETTLE = 0.5  # seconds between writing our claim and reading it back
POLL = 1.0  # seconds between attempts while another machine holds the lease


class ServerLease:
    """The ingest lease of one Chroma collection prefix on one server."""

    def __init__(self, client: Any, prefix: str, ttl: float = 120.0) -> None:
        self._records = client.get_or_create_collection(f"{prefix}_lease", embedding_function=None)
        self.ttl = ttl
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def holder(self) -> tuple[str, float] | None:
        """(owner, expiry as a Unix time) of the current lease, or None."""
        got = self._records.get(ids=[LEASE_ID], include=["metadatas"])
        metas = got["metadatas"] or []
        if not metas:
            return None
        return str(metas[0]["owner"]), float(metas[0]["expires"])

    def _write(self) -> None:
        self._records.upsert(
            ids=[LEASE_ID],
            metadatas=[{"owner": self.owner, "expires": time.time() + self.ttl}],
            embeddings=[[1.0]],  # looked up by id, never by vector
        )

    def acquire(self, timeout: float = 600.0) -> None:
        """Wait until we hold the lease; StoreLockedError after *timeout* seconds."""
        deadline = time.monotonic() + timeout
        while True:
            current = self.holder()
            if current is None or current[1] < time.time():
                self._write()
                time.sleep(SETTLE)
                current = self.holder()
                if current is not None and current[0] == self.owner:
                    log.info("holding the server ingest lease as %s", self.owner)
                    return
            if time.monotonic() > deadline:
                raise StoreLockedError(
                    f"Another ingest ({current[0] if current else 'unknown'}) is writing to "
                    "the Chroma server; wait for it to finish, then try again."
                )
            log.info("waiting for the ingest of %s to finish", current[0] if current else "?")
            time.sleep(POLL)

    def renew(self) -> None:
        """Confirm we still hold the lease and extend it, or raise StoreLockedError."""
        current = self.holder()
        if current is None or current[0] != self.owner:
            raise StoreLockedError(
                "This ingest lost its lease on the Chroma server (it stalled for longer "
                f"than {self.ttl:.0f} s and {current[0] if current else 'nobody'} took over); "
                "run the ingest again: finished documents are kept."
            )
        self._write()

    def release(self) -> None:
        """Give the lease up if we still hold it."""
        current = self.holder()
        if current is not None and current[0] == self.owner:
            self._records.delete(ids=[LEASE_ID])
