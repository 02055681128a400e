"""An ingest that loses its lock between a group's chunks and their manifest entries.

Issue 27 item 2 left one window open: a holder cut off from PostgreSQL (but not from
Chroma) while writing a group's chunks went on to vouch for them, after the next
ingest's cleanup may already have run. The lock is now checked again between the chunks
and the manifest entries: a holder that lost it stops there, and the chunks it wrote
stay unvouched (readers ignore them, the next ingest deletes them).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.documents import load_file
from rag.documents.chunking import chunk_text
from rag.errors import StoreLockedError
from rag.store import DocumentStore

pytestmark = pytest.mark.integration

ORCHARD = (
    "The Damson Orchard Trust pressed 730 jars of jam in 2024.\n\n"
    "Its volunteers meet on the first Saturday of every month at the packing shed.\n"
)


def lost_lock() -> None:
    raise StoreLockedError("the ingest lock was lost: another ingest may be writing")


def test_a_lost_lock_stops_a_group_before_it_vouches_for_its_chunks(
    settings, embeddings, tmp_path: Path
) -> None:
    path = tmp_path / "orchard.txt"
    path.write_text(ORCHARD, encoding="utf-8")
    doc = load_file(path, max_bytes=1_000_000, root=tmp_path)
    chunks = chunk_text(doc.text, headings=doc.headings)
    store = DocumentStore(settings, embeddings)

    with pytest.raises(StoreLockedError):
        store.upsert_documents([(doc, chunks)], before_manifest=lost_lock)

    assert doc.source not in store.manifest()  # nothing vouches for what was written
    vector = embeddings.embed_query("How many jars of jam did the trust press?")
    assert all("730" not in hit.page_content for hit, _ in store.dense_search(vector, n=5))

    checks: list[str] = []
    store.upsert_documents([(doc, chunks)], before_manifest=lambda: checks.append("ok"))
    assert checks == ["ok"] and doc.source in store.manifest()
    [(best, _)] = store.dense_search(vector, n=1)
    assert "730" in best.page_content
