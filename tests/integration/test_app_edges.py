"""Rough edges of the page (issue 26 item 7), through AppTest with the real model.

An uploaded document lives at ``vectorstore/uploads/<name>``: the page names it by its
title, never that path, and when it has been removed "Show in document" says to upload
it again. A seed document removed says to ingest it again. The export buttons serve
one and the same file across reruns, so a click racing a rerun (a conversation just
reopened) still finds it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ARTICLE, ROOT, make_settings
from tests.integration.test_app import (  # noqa: F401 - fixtures used by name
    APP,
    TIMEOUT,
    app,
    article_store,
    ask,
    download,
    media,
    plain,
    show_in_document,
    use_store,
)

pytestmark = pytest.mark.integration

QUESTION = "Who will visit Calais on Thursday?"
OTHER = ROOT / "tests" / "data" / "chess_club.txt"


def upload_store(tmp: Path, embeddings) -> Path:
    """A store in *tmp* whose one document is the article, uploaded (in uploads/)."""
    from rag.service import Assistant

    (tmp / "seeds").mkdir()  # another document, so the chat stays once it is removed
    shutil.copy(OTHER, tmp / "seeds")
    settings = make_settings(tmp)
    settings.store.uploads_dir.mkdir(parents=True)
    shutil.copy(ARTICLE, settings.store.uploads_dir / "calais-notes.txt")
    Assistant(settings, embeddings=embeddings).ingest(settings.store.default_paths())
    return tmp


@pytest.fixture
def uploaded(tmp_path: Path, embeddings, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """The page over a store holding one uploaded document, run from the store's folder."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.chdir(upload_store(tmp_path, embeddings))
    use_store(monkeypatch, tmp_path)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    yield at


def main_texts(at) -> list[str]:
    """Every label, caption and Markdown text of the main area (not the sidebar)."""
    sidebar = {id(e) for e in at.sidebar.caption} | {id(e) for e in at.sidebar.markdown}
    texts = [e.label for e in at.expander]
    texts += [e.value for e in [*at.caption, *at.markdown] if id(e) not in sidebar]
    return [plain(t) for t in texts]


def test_passages_of_an_upload_show_its_title_not_its_path(uploaded) -> None:
    ask(uploaded, QUESTION)
    [cite] = uploaded.session_state["answers"][0].citations
    assert cite.source.endswith("vectorstore/uploads/calais-notes.txt")
    assert "Fortress Calais" in plain(uploaded.expander[0].label)
    show_in_document(uploaded)
    texts = main_texts(uploaded)
    assert any("is highlighted" in t for t in texts)  # the dialog is open
    assert not [t for t in texts if "uploads/" in t or "calais-notes" in t]


def remove_the_cited_document(at) -> None:
    source = at.session_state["answers"][0].citations[0].source
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    at.sidebar.button(key=f"remove-{digest}").click().run()
    at.sidebar.button(key="remove-yes").click().run()
    assert not at.exception, at.exception
    assert any("Removed" in s.value for s in at.sidebar.success)


def removed_message(at) -> str:
    show_in_document(at)
    [info] = [plain(i.value) for i in at.info if "was removed" in i.value]
    assert not at.error, [e.value for e in at.error]
    return info


def test_show_in_document_of_a_deleted_upload_says_upload_it_again(uploaded) -> None:
    ask(uploaded, QUESTION)
    remove_the_cited_document(uploaded)
    message = removed_message(uploaded)
    assert "Upload it again" in message and "Add documents" in message
    assert "ingest" not in message.lower()


def test_show_in_document_of_a_removed_seed_says_ingest_it_again(
    tmp_path: Path, embeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    from rag.service import Assistant

    monkeypatch.chdir(tmp_path)
    settings = make_settings(tmp_path)
    shutil.copy(OTHER, settings.store.seeds_dir)
    Assistant(settings, embeddings=embeddings).ingest()
    use_store(monkeypatch, tmp_path)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    ask(at, QUESTION)
    remove_the_cited_document(at)
    message = removed_message(at)
    assert "Ingest it again (python -m rag ingest seeds/fortress-calais.txt)" in message
    assert "upload" not in message.lower()


def export_url(at, label: str = "Export JSON") -> str:
    [button] = [b for b in at.sidebar.download_button if b.label == label]
    return str(button.proto.url)


def test_export_is_one_file_across_reruns_so_a_click_racing_a_reopen_finds_it(
    app,  # noqa: F811 - the fixture imported above
    media,  # noqa: F811
) -> None:
    ask(app, QUESTION)
    ask(app, "Who is she meeting?")
    before = export_url(app)
    cid = app.session_state["cid"]
    app.sidebar.button(key=f"open-{cid}").click().run()  # reopen the conversation
    app.run()  # a page loading runs again: a click may still hold the first URL
    assert before and export_url(app) == before
    assert export_url(app, "Export Markdown")
    data = json.loads(download(app, media, "Export JSON"))
    assert data["turns"] == [a.to_dict() for a in app.session_state["answers"]]
    assert len(data["turns"]) == 2


def test_two_conversations_with_one_long_start_read_differently_in_the_sidebar(
    app,  # noqa: F811 - the fixture imported above
) -> None:
    from rag.conversations.labels import LABEL_CHARS

    first = "What did the article say about Theresa May and her visit?"
    second = "What did the article say about Bernard Cazeneuve?"
    ask(app, first)
    [new] = [b for b in app.sidebar.button if plain(b.label) == "New conversation"]
    new.click().run()
    ask(app, second)
    rows = [b for b in app.sidebar.button if (b.key or "").startswith("open-")]
    rows = [b for b in rows if plain(b.proto.help) in (first, second)]  # full title on hover
    assert len(rows) == 2
    shown = {plain(b.label)[:LABEL_CHARS] for b in rows}
    assert len(shown) == 2, shown  # what a narrow sidebar shows of each differs
