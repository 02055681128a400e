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

While it waits, *acquire* says (a warning, then one every ``NOTICE_EVERY`` seconds)
who holds the lease, since when, when it expires and how long this ingest will wait:
an ingest killed while holding it blocks the next one until its expiry.

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
from datetime import UTC, datetime
from typing import Any, NamedTuple

from rag.errors import StoreLockedError

log = logging.getLogger(__name__)

LEASE_ID = "ingest"
SETTLE = 0.5  # seconds between writing our claim and reading it back
POLL = 1.0  # seconds between attempts while another machine holds the lease
NOTICE_EVERY = 30.0  # seconds between "still waiting" messages


class Holder(NamedTuple):
    """Who holds the lease: owner (host:pid:tag), expiry and start as Unix times."""

    owner: str
    expires: float
    since: float | None  # None: written by a version that did not record it


def _clock(moment: float | None) -> str:
    if moment is None:
        return "an unknown time"
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def waiting_message(holder: Holder | None, timeout: float, now: float) -> str:
    """What an ingest waiting for *holder*'s lease tells the user."""
    if holder is None:
        return f"waiting for the Chroma server's ingest lease (up to {timeout:.0f} s)"
    left = max(0.0, holder.expires - now)
    return (
        f"waiting for the Chroma server's ingest lease: held by {holder.owner} since "
        f"{_clock(holder.since)}; it expires in {left:.0f} s unless that ingest renews it "
        f"(a killed ingest does not); waiting up to {timeout:.0f} s"
    )


class ServerLease:
    """The ingest lease of one Chroma collection prefix on one server."""

    def __init__(self, client: Any, prefix: str, ttl: float = 120.0) -> None:
        self._records = client.get_or_create_collection(f"{prefix}_lease", embedding_function=None)
        self.ttl = ttl
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def holder(self) -> Holder | None:
        """The current lease's :class:`Holder`, or None."""
        got = self._records.get(ids=[LEASE_ID], include=["metadatas"])
        metas = got["metadatas"] or []
        if not metas:
            return None
        since = metas[0].get("since")
        return Holder(
            str(metas[0]["owner"]),
            float(metas[0]["expires"]),
            None if since is None else float(since),
        )

    def _write(self, since: float | None = None) -> None:
        now = time.time()
        self._records.upsert(
            ids=[LEASE_ID],
            metadatas=[{"owner": self.owner, "expires": now + self.ttl, "since": since or now}],
            embeddings=[[1.0]],  # looked up by id, never by vector
        )

    def acquire(self, timeout: float = 600.0) -> None:
        """Wait until we hold the lease; StoreLockedError after *timeout* seconds.

        While another ingest holds it, say who, since when and how long we wait.
        """
        deadline = time.monotonic() + timeout
        next_notice = time.monotonic()
        while not (taken := self._try_take())[0]:
            current, left = taken[1], deadline - time.monotonic()
            if left < 0:
                who = f"{current.owner}, since {_clock(current.since)}" if current else "unknown"
                raise StoreLockedError(
                    f"Another ingest ({who}) is writing to the Chroma server; "
                    "wait for it to finish, then try again."
                )
            if time.monotonic() >= next_notice:
                log.warning("%s", waiting_message(current, left, time.time()))
                next_notice = time.monotonic() + NOTICE_EVERY
            time.sleep(POLL)
        log.info("holding the server ingest lease as %s", self.owner)

    def _try_take(self) -> tuple[bool, Holder | None]:
        """Claim the lease if it is free or expired: (whether we hold it, its holder)."""
        current = self.holder()
        if current is None or current.expires < time.time():
            self._write()
            time.sleep(SETTLE)
            current = self.holder()
        return current is not None and current.owner == self.owner, current

    def renew(self) -> None:
        """Confirm we still hold the lease and extend it, or raise StoreLockedError."""
        current = self.holder()
        if current is None or current.owner != self.owner:
            raise StoreLockedError(
                "This ingest lost its lease on the Chroma server (it stalled for longer "
                f"than {self.ttl:.0f} s and {current.owner if current else 'nobody'} took over); "
                "run the ingest again: finished documents are kept."
            )
        self._write(since=current.since)

    def release(self) -> None:
        """Give the lease up if we still hold it."""
        current = self.holder()
        if current is not None and current.owner == self.owner:
            self._records.delete(ids=[LEASE_ID])
