"""Documents a user can manage: one document per content, removal, friendly names, reset.

The manifest helpers are unit-tested on plain entries; store behaviour runs on the
real embedded Chroma with the real bundled model (``integration``). Answers use the
:class:`~tests.fakes.OverlapReader`: these tests check which documents are cited,
not how good the reader is.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rag.errors import RagError
from rag.service import Assistant
from rag.store import (
    ManifestEntry,
    UnknownDocumentError,
    _entry_id,
    _is_store_file,
    _manifest_id,
    _resolve,
    find_document,
)
from tests.conftest import ARTICLE
from tests.fakes import fake_answerer

ARTICLE_NAME = ARTICLE.name
QUINCE = "Quince report\n\nThe orchard made 4,200 jars of quince jelly in 2023.\n"


def entry(source: str, title: str, sha: str, *aliases: str) -> ManifestEntry:
    return ManifestEntry(source, title, sha, "fp", 2, 100, "2026-01-01T00:00:00", aliases)


# ----- unit: names, lookup, old manifests, what a wipe deletes ---------------------------
def test_an_entry_lists_its_source_first_once_and_shows_a_friendly_name() -> None:
    doc = entry("vectorstore/uploads/notes.txt", "", "a" * 64, "seeds/notes.txt", "seeds/notes.txt")
    assert doc.names == ("vectorstore/uploads/notes.txt", "seeds/notes.txt")
    assert doc.display_name == "notes.txt"
    assert entry("seeds/x.txt", "Harbour log", "b" * 64).display_name == "Harbour log"
    assert doc.to_dict()["names"] == list(doc.names)


MANIFEST = {
    e.source: e
    for e in (
        entry("seeds/calais.txt", "Fortress Calais", "1" * 64, "vectorstore/uploads/calais.txt"),
        entry("seeds/a/notes.txt", "Orchard notes", "2" * 64),
        entry("other/notes.txt", "Harbour notes", "3" * 64),
    )
}


@pytest.mark.parametrize(
    "name",
    ["seeds/calais.txt", "vectorstore/uploads/calais.txt", "CALAIS.txt", "fortress calais"],
)
def test_a_document_is_found_by_any_name_file_name_or_title(name: str) -> None:
    assert find_document(MANIFEST, name).sha256 == "1" * 64


def test_an_unknown_name_lists_close_matches() -> None:
    with pytest.raises(UnknownDocumentError, match=r'called "calias\.txt".*"calais\.txt"'):
        find_document(MANIFEST, "calias.txt")
    assert issubclass(UnknownDocumentError, RagError)


def test_an_ambiguous_name_lists_the_documents_it_matches() -> None:
    with pytest.raises(UnknownDocumentError, match=r"matches 2 documents.*other/notes\.txt"):
        find_document(MANIFEST, "notes.txt")
    assert find_document(MANIFEST, "seeds/a/notes.txt").title == "Orchard notes"


def _legacy_meta(source: str, sha: str, at: str = "2025-01-01T00:00:00") -> dict:
    return {
        "source": source,
        "title": "T",
        "sha256": sha,
        "fingerprint": "fp",
        "chunks": 3,
        "chars": 10,
        "ingested_at": at,
    }


def test_old_style_records_merge_by_content_and_current_records_win() -> None:
    records = [
        (_manifest_id("seeds/b.txt"), _legacy_meta("seeds/b.txt", "x" * 64)),
        (_manifest_id("seeds/a.txt"), _legacy_meta("seeds/a.txt", "x" * 64)),
        (_manifest_id("seeds/moved.txt"), _legacy_meta("seeds/moved.txt", "y" * 64)),
    ]
    current = entry("seeds/moved.txt", "New", "z" * 64)
    meta = {**current.__dict__, "names": json.dumps(list(current.names))}
    scan = _resolve([*records, (_entry_id("z" * 64), meta)])
    assert set(scan.entries) == {"seeds/a.txt", "seeds/moved.txt"}
    assert scan.entries["seeds/a.txt"].names == ("seeds/a.txt", "seeds/b.txt")
    assert scan.entries["seeds/moved.txt"].sha256 == "z" * 64  # the current record holds it
    assert scan.stale == [_manifest_id("seeds/moved.txt")]
    assert scan.legacy == {"x" * 64: [_manifest_id("seeds/b.txt"), _manifest_id("seeds/a.txt")]}


def test_a_record_without_names_is_a_removed_document() -> None:
    gone = {"sha256": "q" * 64, "names": "[]"}
    scan = _resolve([(_entry_id("q" * 64), gone)])
    assert scan.entries == {} and scan.stale == [_entry_id("q" * 64)]


def test_only_chromas_files_and_the_lexical_index_are_store_files(tmp_path: Path) -> None:
    for name in ("chroma.sqlite3", "chroma.sqlite3-wal", ".gitkeep", "notes.md"):
        (tmp_path / name).write_text("")
    for name in ("lexical", "uploads", "6a5fb59a-e406-432d-bab7-4df4f51225e3", "backup"):
        (tmp_path / name).mkdir()
    deleted = sorted(p.name for p in tmp_path.iterdir() if _is_store_file(p))
    assert deleted == [
        "6a5fb59a-e406-432d-bab7-4df4f51225e3",
        "chroma.sqlite3",
        "chroma.sqlite3-wal",
        "lexical",
    ]


# ----- integration: the real store ---------------------------------------------------
@pytest.fixture
def assistant(settings, embeddings) -> Assistant:
    return Assistant(settings, embeddings=embeddings, extractive=fake_answerer(settings))


def _upload(settings, name: str, text: str) -> Path:
    settings.store.uploads_dir.mkdir(parents=True, exist_ok=True)
    path = settings.store.uploads_dir / name
    path.write_text(text)
    return path


def _seed_and_upload(assistant: Assistant) -> Path:
    """The article in seeds/ and the same file uploaded, plus an unrelated upload."""
    settings = assistant.settings
    upload = _upload(settings, ARTICLE_NAME, ARTICLE.read_text())
    _upload(settings, "quince.txt", QUINCE)
    report = assistant.ingest()
    assert (report.documents, report.added, report.names_added) == (2, 2, 1)
    return upload


@pytest.mark.integration
def test_the_same_file_under_two_paths_is_one_document_with_two_names(assistant, settings):
    first = assistant.ingest()
    chunk_ids = set(assistant.store.chunks.get(include=[])["ids"])
    upload = _upload(settings, ARTICLE_NAME, ARTICLE.read_text())
    again = assistant.ingest()
    assert (again.documents, again.added, again.names_added, again.embedded) == (1, 0, 1, 0)
    assert set(assistant.store.chunks.get(include=[])["ids"]) == chunk_ids, "no chunk written"
    [doc] = assistant.documents()
    assert doc.names == (f"seeds/{ARTICLE_NAME}", f"vectorstore/uploads/{ARTICLE_NAME}")
    assert doc.chunks == first.chunks == assistant.store.count_chunks()
    assert doc.display_name.startswith("Fortress Calais")
    text = assistant.document_text(f"vectorstore/uploads/{ARTICLE_NAME}")
    assert text == assistant.document_text(f"seeds/{ARTICLE_NAME}")
    assert assistant.store.count_documents() == 1
    assert assistant.ingest().unchanged == 2

    upload.write_text(ARTICLE.read_text() + "\n\nA line only the upload has.\n")
    changed = assistant.ingest()
    assert (changed.updated, changed.documents) == (1, 2)
    assert assistant.store.count_chunks() == changed.chunks
    by_source = {d.source: d for d in assistant.documents()}
    assert by_source[f"seeds/{ARTICLE_NAME}"].names == (f"seeds/{ARTICLE_NAME}",)
    upload.unlink()
    synced = assistant.ingest()
    assert (synced.removed, synced.documents, synced.chunks) == (1, 1, first.chunks)


@pytest.mark.integration
def test_identical_new_files_in_one_ingest_are_embedded_once(assistant, settings):
    copy = settings.store.seeds_dir / "copy-of-article.txt"
    shutil.copy(ARTICLE, copy)
    report = assistant.ingest()
    assert (report.documents, report.added, report.names_added) == (1, 1, 1)
    assert report.embedded == report.chunks == assistant.store.count_chunks()
    answer = assistant.ask("Who is Khushal?")
    assert answer.passages[0].source == "seeds/copy-of-article.txt"  # the first name seen
    copy.unlink()
    synced = assistant.ingest()
    assert (synced.removed, synced.names_removed, synced.chunks) == (0, 1, report.chunks)
    assert assistant.ask("Who is Khushal?").passages[0].source == f"seeds/{ARTICLE_NAME}"


@pytest.mark.integration
def test_a_store_written_before_names_loads_and_is_rewritten(assistant, settings):
    shutil.copy(ARTICLE, settings.store.seeds_dir / "copy.txt")
    first = assistant.ingest()
    store = assistant.store
    [doc] = store.manifest().values()
    text = store.document_text(doc.source)
    store._manifest.delete(ids=[_entry_id(doc.sha256)])  # as an older version wrote it:
    for name in doc.names:  # one record per source, no names
        meta = {k: v for k, v in doc.__dict__.items() if k != "names"} | {"source": name}
        store._manifest.upsert(
            ids=[_manifest_id(name)], documents=[text], metadatas=[meta], embeddings=[[1.0]]
        )
    [old] = store.manifest().values()
    assert old.names == ("seeds/copy.txt", f"seeds/{ARTICLE_NAME}")  # alphabetical, as before
    assert store.document_text(f"seeds/{ARTICLE_NAME}") == text
    assert store.count_documents() == 2
    again = assistant.ingest()
    assert (again.unchanged, again.embedded, again.documents) == (2, 0, 1)
    assert store.count_documents() == 1 and store.count_chunks() == first.chunks
    assert store.document_text("seeds/copy.txt") == text


@pytest.mark.integration
def test_remove_by_file_name_deletes_the_upload_and_keeps_the_seed(assistant, settings):
    upload = _seed_and_upload(assistant)
    before = assistant.store.generation()
    [top] = assistant.retriever.search("Who is Khushal?", 1)
    removed = assistant.remove_document(ARTICLE_NAME)
    assert top.metadata["doc_sha256"] == removed.sha256
    assert removed.names == (f"seeds/{ARTICLE_NAME}", f"vectorstore/uploads/{ARTICLE_NAME}")
    assert removed.chunks > 5 and removed.title.startswith("Fortress Calais")
    assert removed.upload_deleted == f"vectorstore/uploads/{ARTICLE_NAME}"
    assert removed.still_on_disk == (f"seeds/{ARTICLE_NAME}",)
    assert not upload.exists() and (settings.store.seeds_dir / ARTICLE_NAME).exists()
    assert (settings.store.uploads_dir / "quince.txt").exists()
    assert [d.display_name for d in assistant.documents()] == ["Quince report"]
    assert assistant.store.count_chunks() == 1
    assert assistant.store.generation() != before
    assert assistant.retriever.snapshot().generation == assistant.store.generation()
    for question in ("Who is Khushal?", "How much has the UK pledged towards security?"):
        hits = assistant.retriever.search(question, 4)
        assert [h.metadata["source"] for h in hits] == ["vectorstore/uploads/quince.txt"]
        answer = assistant.ask(question)
        cited = [*answer.passages, *answer.citations]
        assert all(c.doc_sha256 != removed.sha256 for c in cited)
    assert assistant.ingest().added == 1, "a plain ingest brings the seed back"


@pytest.mark.integration
def test_remove_by_alias_or_title_removes_the_whole_document(assistant, settings):
    _seed_and_upload(assistant)
    removed = assistant.remove_document(f"vectorstore/uploads/{ARTICLE_NAME}")
    assert removed.source == f"seeds/{ARTICLE_NAME}"
    assert assistant.store.count_documents() == 1
    gone = assistant.remove_document("quince report")
    assert gone.uploads_deleted == ("vectorstore/uploads/quince.txt",)
    assert gone.still_on_disk == () and assistant.documents() == []
    assert assistant.store.count_chunks() == 0


@pytest.mark.integration
def test_removing_an_unknown_name_changes_nothing(assistant):
    _seed_and_upload(assistant)
    generation = assistant.store.generation()
    with pytest.raises(UnknownDocumentError, match=r'Close matches: "quince\.txt"'):
        assistant.remove_document("quince.md")
    assert assistant.store.generation() == generation
    assert len(assistant.documents()) == 2


def _store_with_a_gone_file(settings, embeddings, tmp_path) -> Assistant:
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "kept.txt").write_text(QUINCE)
    (extra / "gone.txt").write_text("Harbour log\n\nThe ferry left at noon on Tuesday.\n")
    first = Assistant(settings, embeddings=embeddings)
    first.ingest()
    first.ingest([extra / "kept.txt", extra / "gone.txt"])
    (extra / "gone.txt").unlink()
    return first


@pytest.mark.integration
def test_a_reset_that_would_lose_a_document_is_refused_when_it_cannot_keep_it(
    settings, embeddings, tmp_path
):
    """Issue 29 item 3: with the store open here (or on a server) a reset cannot move
    the old store aside, so it refuses, naming what it would lose, and changes nothing."""
    from rag.errors import ResetRefusedError

    assistant = _store_with_a_gone_file(settings, embeddings, tmp_path)
    with pytest.raises(ResetRefusedError, match=r"lose 1 document name.*extra/gone\.txt"):
        assistant.ingest(reset=True)
    assert len(assistant.documents()) == 3
    assert "ferry" in assistant.document_text("extra/gone.txt")


@pytest.mark.integration
def test_a_reset_keeps_the_old_store_aside_with_what_it_cannot_rebuild(
    settings, embeddings, tmp_path
):
    """Issue 29 item 3: the documents a reset cannot rebuild stay in the old store."""
    first = _store_with_a_gone_file(settings, embeddings, tmp_path)
    first.store.client.close()
    report = Assistant(settings, embeddings=embeddings).ingest(reset=True)
    assert report.missing == ["extra/gone.txt"]
    old = Path(report.old_store)
    assert old.parent == settings.store.store_dir and (old / "chroma.sqlite3").is_file()
    kept = Assistant(settings.updated(store={"store_dir": old}), embeddings=embeddings)
    assert "ferry" in kept.document_text("extra/gone.txt")


@pytest.mark.integration
def test_reset_keeps_other_files_rebuilds_path_ingests_and_reports_missing(
    settings, embeddings, tmp_path
):
    first = _store_with_a_gone_file(settings, embeddings, tmp_path)
    (settings.store.store_dir / ".gitkeep").write_text("")
    (settings.store.store_dir / "NOTES.md").write_text("kept")
    first.store.client.close()  # as a new process would: no client of this store left open
    assistant = Assistant(settings, embeddings=embeddings)
    report = assistant.ingest(reset=True)
    assert report.missing == ["extra/gone.txt"]
    assert report.documents == 2 and report.errors == []
    assert sorted(d.source for d in assistant.documents()) == [
        "extra/kept.txt",
        f"seeds/{ARTICLE_NAME}",
    ]
    assert (settings.store.store_dir / ".gitkeep").exists()
    assert (settings.store.store_dir / "NOTES.md").read_text() == "kept"
