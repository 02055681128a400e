"""Two replicas, one truth: two chat pages share one Chroma server and one PostgreSQL.

Issue 27 item 4. Two ``streamlit run app.py`` processes, each with its own store folder
(as on two machines behind a load balancer), both pointed at one ``chroma run`` server
(``RAG_CHROMA_URL``) and one PostgreSQL database (``RAG_DATABASE_URL``), driven in
Chromium: a document added and then removed on one page is answered from, then gone
from answers, on the other; a conversation started on one is listed in the other's
sidebar and reopens there, and its ``?c=`` link opens on the other.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEEDS
from tests.integration.test_browser import (
    ask,
    need_browser,
    opened,
    streamlit_page,
    text_of,
    upload,
    wait_idle,
)
from tests.integration.test_server_mode import CHROMA, ChromaServer

pytestmark = [pytest.mark.integration, pytest.mark.browser]

DAMSON = (
    "Damson orchard notes\n\nThe Larkspur Farm orchard picked 730 crates of damsons in September.\n"
)
DAMSON_QUESTION = "How many crates of damsons did the Larkspur Farm orchard pick?"
CALAIS_QUESTION = "Who will visit Calais on Thursday?"


@pytest.fixture
def shared(tmp_path: Path, database_url: str) -> Iterator[dict[str, str]]:
    """One Chroma server holding the seed article, and the PostgreSQL URL: what both
    replicas share (the environment without a store folder)."""
    need_browser()
    if not CHROMA.exists():
        pytest.skip("the chroma CLI is not installed next to this Python")
    chroma = ChromaServer(tmp_path / "chroma-data")
    chroma.start()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "RAG_SEEDS_DIR": str(SEEDS),
        "RAG_CHROMA_URL": chroma.url,
        "RAG_DATABASE_URL": database_url,
    }
    try:
        subprocess.run(
            [sys.executable, "-m", "rag", "ingest"],
            cwd=ROOT,
            env={**env, "RAG_STORE_DIR": str(tmp_path / "ingest" / "vectorstore")},
            check=True,
            timeout=300,
        )
        yield env
    finally:
        chroma.stop()


@pytest.fixture
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    from bench.loopback import launch_chromium

    with sync_playwright() as pw:
        chromium = launch_chromium(pw)
        try:
            yield chromium
        finally:
            chromium.close()


def replica(tmp: Path, name: str, env: dict[str, str]):
    """One app replica: its own store folder (its own machine), the shared servers."""
    folder = tmp / name
    folder.mkdir(exist_ok=True)
    return streamlit_page(folder, {**env, "RAG_STORE_DIR": str(folder / "vectorstore")})


def cited_titles(answer) -> list[str]:
    summaries = answer.locator("summary")
    return [text_of(summaries.nth(i)) for i in range(summaries.count())]


def test_a_document_added_and_removed_on_one_replica_is_answered_then_gone_on_the_other(
    shared: dict[str, str], browser, tmp_path: Path
) -> None:
    note = tmp_path / "damson.txt"
    note.write_text(DAMSON, encoding="utf-8")
    with (
        replica(tmp_path, "a", shared) as url_a,
        replica(tmp_path, "b", shared) as url_b,
        opened(browser, url_a) as page_a,
        opened(browser, url_b) as page_b,
    ):
        upload(page_a, note, "Damson orchard notes")
        answer = ask(page_b, DAMSON_QUESTION)  # B never saw the upload: the server did
        assert "730" in text_of(answer)
        assert any("Damson orchard notes" in title for title in cited_titles(answer))

        sidebar = page_a.locator('[data-testid="stSidebar"]')
        row = sidebar.locator('[data-testid="stHorizontalBlock"]').filter(
            has_text="Damson orchard notes"
        )
        row.get_by_role("button").click()
        sidebar.get_by_text("from the store?").wait_for()
        sidebar.get_by_role("button", name="Remove", exact=True).click()
        sidebar.get_by_text("Removed Damson orchard notes").wait_for()
        wait_idle(page_a)

        again = ask(page_b, DAMSON_QUESTION)
        assert "730" not in text_of(again)
        assert all("Damson" not in title for title in cited_titles(again))


def test_a_conversation_started_on_one_replica_is_listed_and_reopened_on_the_other(
    shared: dict[str, str], browser, tmp_path: Path
) -> None:
    with (
        replica(tmp_path, "a", shared) as url_a,
        replica(tmp_path, "b", shared) as url_b,
        opened(browser, url_a) as page_a,
    ):
        answer = ask(page_a, CALAIS_QUESTION)
        assert "Theresa May" in text_of(answer)
        link = page_a.url
        assert "?c=" in link
        cid = link.split("?c=")[1].split("&")[0]

        with opened(browser, url_b) as page_b:  # opened after the question was asked
            sidebar = page_b.locator('[data-testid="stSidebar"]')
            listed = sidebar.get_by_role("button", name=CALAIS_QUESTION)
            listed.wait_for(timeout=30_000)
            listed.click()
            messages = page_b.locator('[data-testid="stChatMessage"]')
            messages.nth(1).wait_for()
            wait_idle(page_b)
            assert "Theresa May" in text_of(messages.nth(1))
            follow = ask(page_b, "Who is she meeting?")  # and it goes on over there
            assert "Cazeneuve" in text_of(follow)

        # A's link, opened on B, shows both turns (the second was asked on B)
        with opened(browser, f"{url_b}/?c={cid}") as page_b:
            messages = page_b.locator('[data-testid="stChatMessage"]')
            messages.nth(3).wait_for(timeout=30_000)
            wait_idle(page_b)
            assert "Theresa May" in text_of(messages.nth(1))
            assert "Cazeneuve" in text_of(messages.nth(3))
            assert page_b.get_by_text("This conversation does not exist").count() == 0
