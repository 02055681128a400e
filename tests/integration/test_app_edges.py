"""Rough edges of the page (issue 26 item 7), through AppTest with the real model.

An uploaded document lives at ``vectorstore/uploads/<name>``: the page names it by its
title, never that path (exports keep it: there it is data).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ARTICLE, ROOT, make_settings
from tests.integration.test_app import (  # noqa: F401 - fixtures used by name
    APP,
    TIMEOUT,
    article_store,
    ask,
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
    settings.uploads_dir.mkdir(parents=True)
    shutil.copy(ARTICLE, settings.uploads_dir / "calais-notes.txt")
    Assistant(settings, embeddings=embeddings).ingest(settings.default_paths())
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
