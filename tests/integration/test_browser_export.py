"""The export in a real browser, clicked right after a conversation is (re)opened.

Issue 26: Export JSON span forever when clicked within seconds of loading or reopening
a conversation (the server logged ``MediaFileStorageError: Deferred file ... not
found``). Here it is clicked as soon as the button shows, after a reload and after
reopening the conversation from the sidebar, several times; every click must download
the conversation. Needs Debian's Chromium (skipped with a hint otherwise).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.test_browser import (  # noqa: F401 - fixtures used by name
    ASK,
    ask,
    browser,
    page,
    server,
)

pytestmark = [pytest.mark.integration, pytest.mark.browser]

TRIES = 4  # the spinner showed in about 2 of 8 tries
DOWNLOAD_MS = 20_000  # a download starts in well under a second when it works


def export_now(tab) -> dict:
    """Click Export JSON the moment it is enabled; the downloaded export."""
    button = tab.locator('[data-testid="stSidebar"]').get_by_role("button", name="Export JSON")
    button.wait_for()
    tab.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stSidebar] button')]"
        ".some(b => b.innerText.includes('Export JSON') && !b.disabled)"
    )
    with tab.expect_download(timeout=DOWNLOAD_MS) as got:
        button.click()
    return json.loads(Path(got.value.path()).read_text(encoding="utf-8"))


def test_export_right_after_reload_and_reopen_downloads_every_time(
    page,  # noqa: F811 - the fixture imported above
) -> None:
    ask(page, "Who will visit Calais on Thursday?")
    ask(page, "Who is she meeting?")
    url = page.url
    assert "?c=" in url
    for _ in range(TRIES):
        page.goto(url)  # the conversation loads from its link
        assert len(export_now(page)["turns"]) == 2
        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.get_by_role("button", name="Who will visit Calais on Thursday?").click()
        assert len(export_now(page)["turns"]) == 2  # reopened from the sidebar
    page.get_by_placeholder(ASK).wait_for()
    assert page.dialogs == []
