"""Take turns between ingests on different machines that write one Chroma server.

The file lock in :mod:`rag.ingest.pipeline` serialises ingests on one machine; machines sharing a
server (``RAG_CHROMA_URL``) also need to take turns, or one machine's start-of-ingest
cleanup could delete chunks another is writing. :func:`hold` picks how:

* :class:`AdvisoryLock`, when ``RAG_DATABASE_URL`` names a PostgreSQL database: a
  session-level advisory lock (``pg_try_advisory_lock``) keyed by the collection prefix.
  PostgreSQL grants it to one session at a time, so it is exclusive by construction: no
  clocks, no expiry. It lasts as long as the connection that took it; a killed ingest's
  connection closes and the lock is free at once (a machine that vanishes is noticed
  through TCP keepalives, set to about a minute on that connection). Each attempt
  opens a connection named after the ingest (``application_name``), so the waiting
  message reads who holds it, and since when (the session's start), from
  ``pg_stat_activity``.
* :class:`ServerLease`, with a Chroma server but no PostgreSQL: a best-effort record in
  a ``<prefix>_lease`` collection with an expiry. Chroma has no compare-and-set, so two
  machines that read "free" at the same moment may both go ahead; it stays only so a
  server without a database is not left with no coordination at all.

Both have the same four calls: *acquire* (wait; say who holds it, since when and how
long this ingest waits, then once every ``ingest.lock_notice_every`` seconds), *renew* (before each
group an ingest writes: confirm it is still ours, else :class:`StoreLockedError`, so a
holder that lost it stops writing), *release*, and *holder*.

This module knows nothing about documents; an embedded store needs neither (one
machine, the file lock suffices).
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

from rag.config import IngestSettings, Settings
from rag.errors import StoreLockedError

log = logging.getLogger(__name__)

LEASE_ID = "ingest"
LOCK_CLASS = 0x52414700  # "RAG\0": the first key of every advisory lock this program takes
NAME_CHARS = 63  # PostgreSQL keeps this much of an application_name
# Server-side keepalives on the lock's connection: a holder whose machine vanished
# (no FIN, no RST) is dropped, and its lock freed, after about 30 + 3 x 10 s.
KEEPALIVES = {"tcp_keepalives_idle": 30, "tcp_keepalives_interval": 10, "tcp_keepalives_count": 3}


class Holder(NamedTuple):
    """Who holds the lock: owner (host:pid:tag), expiry and start as Unix times."""

    owner: str
    expires: float | None  # None: held until its connection closes (no expiry)
    since: float | None  # None: not recorded (an older lease, or not visible to us)


class Lease(Protocol):
    """What an ingest needs of a lock shared between machines."""

    owner: str
    WHAT: str

    def holder(self) -> Holder | None: ...
    def acquire(self, timeout: float = 600.0) -> None: ...
    def renew(self) -> None: ...
    def release(self) -> None: ...


def _clock(moment: float | None) -> str:
    if moment is None:
        return "an unknown time"
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def owner_id() -> str:
    """host:pid:random, short enough for an application_name (the host is cut first)."""
    tail = f":{os.getpid()}:{uuid.uuid4().hex[:8]}"
    return socket.gethostname()[: NAME_CHARS - len(tail)] + tail


CHROMA_LEASE = "the Chroma server's ingest lease"


def waiting_message(
    holder: Holder | None, timeout: float, now: float, what: str = CHROMA_LEASE
) -> str:
    """What an ingest waiting for *holder*'s lock (*what*: which lock) tells the user."""
    if holder is None:
        return f"waiting for {what} (up to {timeout:.0f} s)"
    if holder.expires is None:
        until = "it is freed when that ingest ends or its connection drops"
    else:
        left = max(0.0, holder.expires - now)
        until = (
            f"it expires in {left:.0f} s unless that ingest renews it (a killed ingest does not)"
        )
    return (
        f"waiting for {what}: held by {holder.owner} since {_clock(holder.since)}; "
        f"{until}; waiting up to {timeout:.0f} s"
    )


def _wait(
    lease: Lease,
    try_take: Callable[[], tuple[bool, Holder | None]],
    timeout: float,
    timing: IngestSettings,
) -> None:
    """Call *try_take* every ``timing.lock_poll`` seconds until it succeeds; say whom
    *lease* waits for (then every ``timing.lock_notice_every`` seconds)."""
    deadline = time.monotonic() + timeout
    next_notice = time.monotonic()
    while not (taken := try_take())[0]:
        current, left = taken[1], deadline - time.monotonic()
        if left < 0:
            who = f"{current.owner}, since {_clock(current.since)}" if current else "unknown"
            raise StoreLockedError(
                f"Another ingest ({who}) is writing to the Chroma server; "
                "wait for it to finish, then try again."
            )
        if time.monotonic() >= next_notice:
            log.warning("%s", waiting_message(current, left, time.time(), lease.WHAT))
            next_notice = time.monotonic() + timing.lock_notice_every
        time.sleep(timing.lock_poll)
    log.info("holding %s as %s", lease.WHAT, lease.owner)


# ----- PostgreSQL: an advisory lock -------------------------------------------------------
def lock_key(name: str) -> int:
    """The advisory lock's second key for *name*: a stable positive 31-bit number."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") & 0x7FFF_FFFF


HOLDER_SQL = """
SELECT a.application_name, extract(epoch FROM a.backend_start)
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
  AND l.classid = %(c)s AND l.objid = %(k)s
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


class AdvisoryLock:
    """The ingest lock of one collection prefix, held in a PostgreSQL database.

    *url* is an SQLAlchemy URL (``postgresql+psycopg://...``); psycopg connects with
    it directly. The lock is the session's: it is held while :attr:`_held` is open.
    """

    WHAT = "the ingest lock in PostgreSQL"

    def __init__(self, url: str, prefix: str, timing: IngestSettings | None = None) -> None:
        from sqlalchemy.engine import make_url

        self.timing = timing or IngestSettings()
        self._dsn = make_url(url).set(drivername="postgresql").render_as_string(False)
        self.key = lock_key(f"ingest:{prefix}")
        self.owner = owner_id()
        self._held: Any = None  # the psycopg connection that holds the lock

    def _connect(self) -> Any:
        import psycopg

        try:
            connection = psycopg.connect(
                self._dsn, autocommit=True, application_name=self.owner, connect_timeout=10
            )
        except psycopg.Error as exc:
            raise StoreLockedError(
                "Cannot reach the PostgreSQL database of RAG_DATABASE_URL to take the ingest "
                f"lock ({str(exc).strip().splitlines()[0]}); check it is running and reachable."
            ) from exc
        for name, seconds in KEEPALIVES.items():
            connection.execute(f"SET {name} = {int(seconds)}")
        return connection

    def holder(self) -> Holder | None:
        """The session holding the lock (its application_name and start), or None."""
        with self._connect() as connection:
            row = connection.execute(HOLDER_SQL, {"c": LOCK_CLASS, "k": self.key}).fetchone()
        if row is None:
            return None
        name, since = row
        started = None if since is None else float(since)
        return Holder(name or "a session with no name", None, started)

    def _try_take(self) -> tuple[bool, Holder | None]:
        """One attempt on a fresh connection: its start is when the lock was taken."""
        connection = self._connect()
        try:
            got = connection.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", (LOCK_CLASS, self.key)
            ).fetchone()
        except BaseException:
            connection.close()
            raise
        if got and got[0]:
            self._held = connection
            return True, None
        connection.close()
        return False, self.holder()

    def acquire(self, timeout: float = 600.0) -> None:
        """Wait until we hold the lock; StoreLockedError after *timeout* seconds."""
        _wait(self, self._try_take, timeout, self.timing)

    def renew(self) -> None:
        """Confirm our session still holds the lock, or raise StoreLockedError."""
        import psycopg

        try:
            row = self._held.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND pid = pg_backend_pid() AND classid = %s AND objid = %s AND objsubid = 2",
                (LOCK_CLASS, self.key),
            ).fetchone()
            held = bool(row and row[0])
        except (psycopg.Error, AttributeError) as exc:
            log.warning("the ingest lock's connection failed: %s", exc)
            held = False
        if not held:
            raise StoreLockedError(
                "This ingest lost its lock in PostgreSQL (its connection to the database "
                "dropped, so another ingest may have started); run the ingest again: "
                "finished documents are kept."
            )

    def release(self) -> None:
        """Give the lock up (closing the connection frees it even if the unlock fails)."""
        connection, self._held = self._held, None
        if connection is None:
            return
        import psycopg

        try:
            connection.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_CLASS, self.key))
        except psycopg.Error as exc:
            log.info("unlocking failed (%s); closing the connection frees the lock", exc)
        finally:
            connection.close()


# ----- Chroma: a best-effort lease record -------------------------------------------------
class ServerLease:
    """The ingest lease of one Chroma collection prefix on one server (best effort).

    *acquire*: when the record is absent or expired, write our owner id with an expiry,
    wait ``timing.lease_settle`` seconds, read it back; we hold it if our id survived. Expiry uses
    each machine's wall clock. Not exclusive: see the module doc.
    """

    WHAT = CHROMA_LEASE

    def __init__(
        self, client: Any, prefix: str, ttl: float = 120.0, timing: IngestSettings | None = None
    ) -> None:
        self.timing = timing or IngestSettings()
        self._records = client.get_or_create_collection(f"{prefix}_lease", embedding_function=None)
        self.ttl = ttl
        self.owner = owner_id()

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
        """Wait until we hold the lease; StoreLockedError after *timeout* seconds."""
        _wait(self, self._try_take, timeout, self.timing)

    def _try_take(self) -> tuple[bool, Holder | None]:
        """Claim the lease if it is free or expired: (whether we hold it, its holder)."""
        current = self.holder()
        if current is None or (current.expires or 0.0) < time.time():
            self._write()
            time.sleep(self.timing.lease_settle)
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


# ----- choosing ---------------------------------------------------------------------------
def shared_lock(settings: Settings, client: Callable[[], Any]) -> Lease | None:
    """The lock machines sharing *settings*' store take turns with, or None (one machine).

    PostgreSQL's advisory lock when ``store.database_url`` is a PostgreSQL URL and the store
    is a server; the Chroma lease record for a server without one (*client* makes the
    Chroma client); None for an embedded store.
    """
    if not settings.store.chroma_url:
        return None
    url = settings.store.database_url.get_secret_value() if settings.store.database_url else ""
    if url.startswith("postgresql"):
        return AdvisoryLock(url, settings.store.collection, settings.ingest)
    log.info("no PostgreSQL database (RAG_DATABASE_URL): best-effort Chroma lease")
    return ServerLease(client(), settings.store.collection, timing=settings.ingest)


@contextmanager
def hold(settings: Settings, client: Callable[[], Any]) -> Iterator[Callable[[], None]]:
    """Hold :func:`shared_lock` for the block; yields its renew call (a no-op when none)."""
    lease = shared_lock(settings, client)
    if lease is None:
        yield lambda: None
        return
    lease.acquire()
    try:
        yield lease.renew
    finally:
        lease.release()
