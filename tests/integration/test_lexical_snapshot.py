"""The keyword index of a store generation: built once, saved, loaded by the next process."""

from __future__ import annotations

import logging

import pytest

from rag.retrieval.lexical_snapshot import open_snapshot, snapshot_folder
from rag.service import Assistant

pytestmark = pytest.mark.integration


@pytest.fixture
def store(settings, embeddings):
    assistant = Assistant(settings, embeddings=embeddings)
    assistant.ingest()  # saves the snapshot of the new generation
    return assistant.store


def test_a_saved_snapshot_loads_with_the_chunks_the_store_holds(store):
    view = store.view()
    folder = snapshot_folder(store.settings, view.generation)
    assert folder.is_dir()
    snap = open_snapshot(store, view)
    assert len(snap.chunks) == store.count_chunks() == snap.index.size
    [(hit, score)] = snap.search("Frontex", 1)
    [stored] = store.chunks_by_id([hit.id or ""])
    assert score > 0 and "Frontex" in hit.page_content
    assert (hit.page_content, hit.metadata) == (stored.page_content, stored.metadata)


def test_a_new_generation_replaces_the_saved_one(store, settings):
    old = snapshot_folder(settings, store.view().generation)
    (settings.store.seeds_dir / "quince.txt").write_text(
        "Quince report\n\nThe orchard made 4,200 jars."
    )
    Assistant(settings, embeddings=store.embeddings).ingest()
    new = snapshot_folder(settings, store.view().generation)
    assert new.is_dir() and not old.exists()
    [(hit, _)] = open_snapshot(store, store.view()).search("quince orchard jars", 1)
    assert hit.metadata["source"].endswith("quince.txt")


def test_a_damaged_snapshot_is_rebuilt_and_saved_again(store, caplog):
    caplog.set_level(logging.INFO, logger="rag.retrieval.lexical_snapshot")
    view = store.view()
    folder = snapshot_folder(store.settings, view.generation)
    (folder / "chunks.jsonl").write_text("")  # cut short: no longer matches the index
    snap = open_snapshot(store, view)
    assert "rebuilding unreadable lexical index" in caplog.text
    assert len(snap.chunks) == snap.index.size == store.count_chunks()
    assert snap.search("Frontex", 1)
    caplog.clear()
    assert len(open_snapshot(store, view).chunks) == snap.index.size
    assert "lexical index loaded" in caplog.text


def test_threads_reading_the_saved_chunks_at_once_each_get_their_own(store):
    from concurrent.futures import ThreadPoolExecutor

    snap = open_snapshot(store, store.view())
    expected = [snap.chunks[i]["id"] for i in range(len(snap.chunks))]

    def read_all(_: int) -> list[str]:
        return [snap.chunks[i]["id"] for _ in range(300) for i in range(len(snap.chunks))]

    with ThreadPoolExecutor(8) as pool:
        for got in pool.map(read_all, range(8)):
            assert got == expected * 300
