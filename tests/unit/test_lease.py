"""rag.ingest.lease with a fake Chroma collection: a waiting ingest says whom it waits for.

Issue 29 item 7: after an ingest was killed in server mode, the next one waited for
the old lease's expiry (two minutes) without a word. Now it says who holds the lease,
since when, when it expires and how long it will wait. Which lock an ingest takes
(issue 27 item 2) is chosen here too; the PostgreSQL lock itself is tested against a
real server in tests/integration/test_ingest_lock.py.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from rag.config import IngestSettings, Settings
from rag.errors import StoreLockedError
from rag.ingest import lease as lease_module
from rag.ingest.lease import AdvisoryLock, Holder, ServerLease, shared_lock, waiting_message


class FakeRecords:
    """The few calls ServerLease makes on its Chroma collection, kept in a dict."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}

    def get(self, ids: list[str], include: list[str]) -> dict[str, Any]:
        return {"metadatas": [dict(self.rows[i]) for i in ids if i in self.rows]}

    def upsert(self, ids: list[str], metadatas: list[dict[str, Any]], embeddings: Any) -> None:
        self.rows.update(zip(ids, metadatas, strict=True))

    def delete(self, ids: list[str]) -> None:
        for i in ids:
            self.rows.pop(i, None)


class FakeClient:
    """One shared collection per name, as two machines on one server would see it."""

    def __init__(self) -> None:
        self.collections: dict[str, FakeRecords] = {}

    def get_or_create_collection(self, name: str, embedding_function: Any) -> FakeRecords:
        return self.collections.setdefault(name, FakeRecords())


FAST = IngestSettings(lease_settle=0.0, lock_poll=0.05)


def test_a_waiting_ingest_says_who_holds_the_lease_since_when_and_for_how_long(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = FakeClient()
    killed = ServerLease(client, "rag", ttl=0.6, timing=FAST)
    killed.acquire()  # then killed: never renewed, never released
    since = killed.holder().since
    caplog.set_level(logging.WARNING, logger="rag.ingest.lease")
    waiting = ServerLease(client, "rag", timing=FAST)
    waiting.acquire(timeout=30)
    assert waiting.holder().owner == waiting.owner  # taken over once it expired
    notes = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(notes) == 1  # said once, not once per poll
    assert killed.owner in notes[0]
    assert time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(since)) in notes[0]
    assert "expires in" in notes[0] and "waiting up to 30 s" in notes[0]


def test_the_timeout_error_names_the_holder_and_since_when() -> None:
    client = FakeClient()
    holder = ServerLease(client, "rag", ttl=60, timing=FAST)
    holder.acquire()
    with pytest.raises(StoreLockedError, match=f"{holder.owner}, since 20"):
        ServerLease(client, "rag", timing=FAST).acquire(timeout=0.1)


def test_renewing_keeps_the_start_and_pushes_the_expiry() -> None:
    lease = ServerLease(FakeClient(), "rag", ttl=60, timing=FAST)
    lease.acquire()
    first = lease.holder()
    time.sleep(0.01)
    lease.renew()
    again = lease.holder()
    assert again.since == first.since and again.expires > first.expires


def test_a_lease_written_before_the_start_was_recorded_still_reads() -> None:
    client = FakeClient()
    client.get_or_create_collection("rag_lease", None).rows["ingest"] = {
        "owner": "old:1:ab",
        "expires": time.time() + 50,
    }
    current = ServerLease(client, "rag", timing=FAST).holder()
    assert current == Holder("old:1:ab", current.expires, None)
    message = waiting_message(current, 600, time.time())
    assert "held by old:1:ab since an unknown time" in message
    assert "waiting up to 600 s" in message


def test_a_lock_without_expiry_says_it_is_freed_when_its_holder_ends() -> None:
    holder = Holder("db-host:77:ab12cd34", None, time.time() - 90)
    message = waiting_message(holder, 600, time.time(), "the ingest lock in PostgreSQL")
    assert message.startswith("waiting for the ingest lock in PostgreSQL: held by db-host:77:")
    assert "freed when that ingest ends or its connection drops" in message
    assert "expires" not in message and "waiting up to 600 s" in message


def test_owner_ids_fit_an_application_name_and_keep_the_pid(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lease_module.socket, "gethostname", lambda: "h" * 200)
    owner = lease_module.owner_id()
    assert len(owner) == lease_module.NAME_CHARS
    assert owner.split(":")[1] == str(lease_module.os.getpid())


@pytest.mark.parametrize(
    ("chroma_url", "database_url", "kind"),
    [
        (None, None, type(None)),  # embedded: one machine, the file lock is enough
        (None, "postgresql://u@db/rag", type(None)),
        ("http://127.0.0.1:8000", None, ServerLease),  # best effort, no database
        ("http://127.0.0.1:8000", "sqlite:////tmp/c.db", ServerLease),  # a file shares nothing
        ("http://127.0.0.1:8000", "postgresql://u@db/rag", AdvisoryLock),
    ],
)
def test_machines_sharing_a_server_take_turns_in_postgresql_when_it_is_set(
    chroma_url: str | None, database_url: str | None, kind: type
) -> None:
    settings = Settings(
        _env_file=None, store={"chroma_url": chroma_url, "database_url": database_url}
    )
    lease = shared_lock(settings, FakeClient)
    assert type(lease) is kind
    assert lease is None or lease.timing is settings.ingest  # RAG_LOCK_POLL... take effect


def test_how_often_a_waiting_ingest_polls_and_speaks_are_settings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = FakeClient()
    ServerLease(client, "rag", ttl=60, timing=FAST).acquire()
    chatty = IngestSettings(lease_settle=0.0, lock_poll=0.01, lock_notice_every=0.02)
    caplog.set_level(logging.WARNING, logger="rag.ingest.lease")
    with pytest.raises(StoreLockedError):
        ServerLease(client, "rag", timing=chatty).acquire(timeout=0.3)
    notes = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(notes) >= 3  # every 0.02 s instead of once per 30 s


def test_each_collection_prefix_has_its_own_advisory_lock() -> None:
    one = AdvisoryLock("postgresql+psycopg://u@db/rag", "rag")
    assert one.key == AdvisoryLock("postgresql://u@other/rag", "rag").key  # stable
    assert one.key != AdvisoryLock("postgresql+psycopg://u@db/rag", "team2").key
    assert 0 < one.key < 2**31
