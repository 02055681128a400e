"""End to end in a real browser: `streamlit run app.py` driven through Chromium.

Starts the page on a free loopback port against a temporary store holding the seed
article, then, as a reader would: asks a question and waits for the streamed answer,
checks the cited passage and its highlighted sentence, opens "show in document" (the
highlight must be in the viewport as it opens), follows up (and sees what it was
understood as), uploads a new document and asks about it, uploads a hostile document
and checks it renders inert, uploads a Markdown document and checks it shows rendered
(table, list, bold headings, no markup) with the cited sentence highlighted exactly,
clicks an example question and sees it answered Grounded, removes a document from the
sidebar and checks the next answer does not cite it, refreshes the page, and restarts
the server to reopen a conversation from the sidebar. Saves a screenshot of the answered
chat to tests/artifacts/screenshot.png (docs/screenshot.png with UPDATE_SCREENSHOT=1).

Needs Debian's Chromium at /usr/bin/chromium (skipped with a hint otherwise).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bench.loopback import CHROMIUM, launch_chromium
from tests.conftest import ROOT, SEEDS, free_port, stop_process

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SCREENSHOT = (
    ROOT / "docs" / "screenshot.png"
    if os.environ.get("UPDATE_SCREENSHOT") == "1"
    else ROOT / "tests" / "artifacts" / "screenshot.png"
)
ARTIFACTS = ROOT / "tests" / "artifacts"  # screenshots of the dialog and a reopened chat
WAIT_MS = 120_000  # any single wait; the first page load also loads the model
ASK = "Ask a question about the documents"
WORD_JOINER = "\u2060"

QUINCE = (
    "Quince harvest report\n\n"
    "The Bramble Hill orchard made 4,200 jars of quince marmalade this autumn.\n"
    "Its cider press was repaired by a local blacksmith.\n"
)
# A hostile upload: script, event handler, remote image, javascript: link, and a
# cited sentence that itself carries markup (brackets test our escaping inside the mark).
HOSTILE = (
    "<img src=x onerror=alert('title')> Zebra notes ![px](http://127.0.0.1:9/px.png)\n\n"
    "The zebra festival <script>alert('xss')</script> [see notes] takes place in Lyon "
    "every April.\n\n"
    "<img src=x onerror=alert(document.domain)> Tickets: [buy](javascript:alert(1)) "
    "or www.example.com, ![track](http://127.0.0.1:9/track.gif)\n"
)


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"streamlit did not answer at {url} within {timeout:.0f}s")


def need_browser() -> None:
    if not CHROMIUM.exists():
        pytest.skip("Chromium not found at /usr/bin/chromium; run `apt-get install -y chromium`")
    pytest.importorskip("playwright", reason="pip install -r requirements-dev.txt")


def ingested_env(tmp: Path) -> dict[str, str]:
    """The page's environment over a store in *tmp* holding the seed article (ingested)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "RAG_STORE_DIR": str(tmp / "vectorstore"),
        "RAG_SEEDS_DIR": str(SEEDS),
    }
    # Run from the project root, as `make run` does (its .streamlit/config.toml applies);
    # everything written goes to the temporary store.
    subprocess.run(
        [sys.executable, "-m", "rag", "ingest"], cwd=ROOT, env=env, check=True, timeout=300
    )
    return env


@contextmanager
def streamlit_page(tmp: Path, env: dict[str, str]) -> Iterator[str]:
    """`streamlit run app.py` on a free loopback port; its URL; always stopped."""
    port = free_port()
    log_path = tmp / f"streamlit-{port}.log"
    log = log_path.open("w")
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py")]
    cmd += ["--server.port", str(port), "--server.headless", "true"]
    cmd += ["--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc)
        yield url
    finally:
        stop_process(proc)
        log.close()
        if proc.returncode not in (0, -15):
            sys.stderr.write(log_path.read_text())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The page over a fresh store with the seed article, for the whole module."""
    need_browser()
    tmp = tmp_path_factory.mktemp("browser")
    with streamlit_page(tmp, ingested_env(tmp)) as url:
        yield {"url": url, "tmp": tmp}


@pytest.fixture(scope="module")
def browser(server) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = launch_chromium(pw)
        try:
            yield chromium
        finally:
            chromium.close()


@contextmanager
def opened(browser, url: str) -> Iterator:
    """A page on *url* that records dialogs and every request it makes."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.dialogs, page.requests = [], []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: page.requests.append(r.url))
    page.goto(url, timeout=WAIT_MS)
    page.get_by_placeholder(ASK).wait_for()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def page(browser, server) -> Iterator:
    with opened(browser, server["url"]) as page:
        yield page


def text_of(locator) -> str:
    return locator.inner_text().replace(WORD_JOINER, "")


def wait_idle(page) -> None:
    """Until the script run has finished (Streamlit shows a running icon meanwhile)."""
    page.wait_for_function(
        "!document.querySelector('[data-testid^=stStatusWidgetRunning]')", timeout=WAIT_MS
    )


def ask(page, question: str):
    """Type a question, wait for the answer to finish streaming; the assistant message."""
    messages = page.locator('[data-testid="stChatMessage"]')
    before = messages.count()
    box = page.get_by_placeholder(ASK)
    box.fill(question)
    box.press("Enter")
    messages.nth(before + 1).wait_for()
    answer = messages.nth(before + 1)
    # The "Grounded" caption or the refusal box is written after the stream ends.
    answer.locator('[data-testid="stCaptionContainer"], [data-testid="stAlert"]').first.wait_for()
    wait_idle(page)
    return answer


def eventually(check: Callable[[], bool], seconds: float = 30.0) -> bool:
    """*check* holds now or within *seconds* (polled), for content a rerun is still drawing."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


def marks(scope):
    return scope.locator('[data-testid="stMarkdownContainer"] .stMarkdownColoredBackground')


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def background(locator) -> str:
    return locator.evaluate("e => getComputedStyle(e).backgroundColor")


def in_viewport(page, locator, settle_ms: int = 5_000) -> bool:
    """The element is shown and its top line lies inside the window, without scrolling.

    Checked again for up to *settle_ms* while the dialog's opening animation moves it.
    """
    height = page.viewport_size["height"]
    for _ in range(settle_ms // 100 + 1):
        box = locator.bounding_box()
        if locator.is_visible() and box is not None and 0 <= box["y"] <= height - 20:
            return True
        page.wait_for_timeout(100)
    return False


def show_in_document(page, cited):
    """Click "Show in document" under a citation; the dialog, once its text is there."""
    cited.get_by_role("button", name="Show in document").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("is highlighted").wait_for()
    marks(dialog).first.wait_for()
    return dialog


def close_dialog(page) -> None:
    page.keyboard.press("Escape")
    page.get_by_role("dialog").wait_for(state="detached")
    wait_idle(page)


def upload(page, path: Path, title: str) -> None:
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    page.get_by_text("Added 1").wait_for()
    page.locator('[data-testid="stSidebar"]').get_by_text(title).first.wait_for()


def test_ask_check_citation_show_in_document_and_follow_up(page, server) -> None:
    answer = ask(page, "Who will visit Calais on Thursday?")
    body = text_of(answer)
    assert "Theresa May" in body and "[1]" in body
    cited = answer.locator('[data-testid="stExpander"]').first
    assert "Fortress Calais" in text_of(cited.locator("summary"))
    highlighted = marks(cited).first
    assert highlighted.is_visible()
    assert "Home Secretary Theresa May will visit Calais" in text_of(highlighted)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))

    passage_colour = background(highlighted)
    dialog = show_in_document(page, cited)
    in_document = marks(dialog).first
    assert "Home Secretary Theresa May will visit Calais" in text_of(in_document)
    # In view as the dialog opens (nothing scrolled), and more strongly marked than in
    # the passage.
    assert in_viewport(page, in_document)
    assert background(in_document) != passage_colour
    screenshot(page, "show-in-document.png")
    assert "characters after" in text_of(dialog)
    dialog.get_by_text("Show the whole document").click()
    dialog.get_by_text("Dover", exact=False).first.wait_for(timeout=30_000)
    whole = text_of(dialog)
    assert "Fortress Calais: UK, France" in whole and "Dover" in whole  # the whole article
    close_dialog(page)

    follow = ask(page, "Who is she meeting?")
    assert "Cazeneuve" in text_of(follow)
    understood = follow.get_by_text("Understood as:")
    assert understood.is_visible() and "Theresa May" in text_of(understood)

    refusal = ask(page, "What is the capital of Peru?")
    assert "Not in the documents" in text_of(refusal.locator('[data-testid="stAlert"]'))
    assert refusal.locator('[data-testid="stExpander"]').count() == 0

    page.reload()  # same URL, same conversation: citations stay attached
    page.get_by_placeholder(ASK).wait_for()
    page.locator('[data-testid="stChatMessage"]').nth(5).wait_for()
    first = page.locator('[data-testid="stChatMessage"]').nth(1)
    assert "Theresa May" in text_of(first)
    assert "Home Secretary" in text_of(marks(first).first)
    assert page.dialogs == []


def test_upload_a_document_and_ask_about_it(page, server, tmp_path: Path) -> None:
    note = tmp_path / "quince.txt"
    note.write_text(QUINCE, encoding="utf-8")
    upload(page, note, "Quince harvest report")
    answer = ask(page, "How many jars of quince marmalade did the orchard make?")
    assert "4,200" in text_of(answer)
    assert "Quince harvest report" in text_of(answer.locator("summary").first)
    assert (server["tmp"] / "vectorstore" / "uploads" / "quince.txt").is_file()

    # The export (built once per state of the conversation, not on click) holds
    # this conversation's answer with its cited passage.
    sidebar = page.locator('[data-testid="stSidebar"]')
    with page.expect_download() as got:
        sidebar.get_by_role("button", name="Export JSON").click()
    exported = json.loads(Path(got.value.path()).read_text(encoding="utf-8"))
    assert got.value.suggested_filename.endswith(".json")
    assert "4,200" in json.dumps(exported)


def test_hostile_document_renders_inert(page, server, tmp_path: Path) -> None:
    hostile = tmp_path / "zebra.md"
    hostile.write_text(HOSTILE, encoding="utf-8")
    upload(page, hostile, "Zebra notes")
    answer = ask(page, "Where does the zebra festival take place?")
    cited = answer.locator('[data-testid="stExpander"]').first
    dialog = show_in_document(page, cited)
    in_document = text_of(dialog)
    assert "[see notes] takes place in Lyon every April." in text_of(marks(dialog).first)
    assert "[buy](javascript:alert(1))" in in_document and "www.example.com" in in_document
    assert dialog.locator("img, script, iframe, a[href^='javascript']").count() == 0
    assert dialog.locator("a[href*='example.com'], a[href*='127.0.0.1:9']").count() == 0
    close_dialog(page)

    body = text_of(answer)
    assert "<script>alert('xss')</script> [see notes] takes place in Lyon" in body
    assert "<img src=x onerror=alert('title')> Zebra notes ![px](http://127.0.0.1:9/px.png)" in (
        text_of(cited.locator("summary"))
    )
    assert "[buy](javascript:alert(1))" in body and "www.example.com" in body
    # The cited sentence, markup and brackets included, is the highlighted text.
    assert "[see notes] takes place in Lyon every April." in text_of(marks(cited).first)
    sidebar = page.locator('[data-testid="stSidebar"]')
    for scope in (page.locator('[data-testid="stMainBlockContainer"]'), sidebar):
        assert scope.count() == 1
        assert scope.locator("img, script, iframe, a[href^='javascript']").count() == 0
        assert scope.locator("a[href*='example.com'], a[href*='127.0.0.1:9']").count() == 0
    page.wait_for_timeout(500)  # give any injected handler a chance to fire
    assert page.dialogs == []
    fetched = [u for u in page.requests if "127.0.0.1:9/" in u or u.endswith("/x")]
    assert fetched == []


POLICY = ROOT / "tests" / "newcomer" / "travel-expense-policy.md"
CLAIMS = (  # the cited sentence, hard-wrapped in the file, re-flowed on the page
    "Expense claims must be submitted within 30 days of the trip through the Expensa app, "
    "with a receipt for every item over £10."
)


WHOLE_DOCUMENT_SHOWN = """() => {
    const dialog = document.querySelector('[role=dialog]');
    return !!dialog && dialog.innerText.includes('Effective date:')
        && !dialog.innerText.includes('characters before')
        && dialog.querySelectorAll('table').length === 1;
}"""


def test_a_markdown_document_shows_rendered_with_its_citation_highlighted(
    page, server, tmp_path: Path
) -> None:
    policy = tmp_path / POLICY.name
    policy.write_text(POLICY.read_text(encoding="utf-8"), encoding="utf-8")
    upload(page, policy, "Brightwater Analytics")
    answer = ask(page, "When must expense claims be submitted?")
    assert "30 days" in text_of(answer)
    assert "Grounded" in text_of(answer)
    cited = answer.locator('[data-testid="stExpander"]').first
    # Under load the passages can still be filling in after the caption: poll a while.
    assert eventually(lambda: "6. Claims" in text_of(cited))  # the heading path, above it
    assert eventually(lambda: marks(cited).count() > 0 and text_of(marks(cited).first) == CLAIMS)

    dialog = show_in_document(page, cited)
    assert text_of(marks(dialog).first) == CLAIMS
    assert in_viewport(page, marks(dialog).first)
    assert dialog.locator("table").count() == 1  # the table before it, header and all
    screenshot(page, "markdown-document.png")
    dialog.get_by_text("Show the whole document").click()
    # The excerpt already has a list and a table: wait for the whole document instead, and
    # for the rerun to have dropped the excerpt's elements (a stale table lingered once).
    page.wait_for_function(WHOLE_DOCUMENT_SHOWN, timeout=WAIT_MS)
    wait_idle(page)
    in_document = text_of(dialog)
    assert "Effective date:" in in_document and text_of(marks(dialog).first) == CLAIMS
    # Markdown rendered: a real table and list, headings in bold, no markup shown.
    table = dialog.locator("table")
    assert table.count() == 1 and "Motorcycle" in text_of(table) and "24p" in text_of(table)
    assert dialog.locator("li").filter(has_text="London: up to £210 per night").count() == 1
    assert dialog.locator("strong").filter(has_text="6. Claims").count() == 1
    assert "**" not in in_document and "## " not in in_document and "|---" not in in_document
    unsafe = "img, script, iframe, a[href^='javascript'], a[href^='http']"
    assert dialog.locator(unsafe).count() == 0
    close_dialog(page)
    assert page.dialogs == []


def test_an_example_question_is_offered_and_answered_grounded(page) -> None:
    examples = page.locator('[data-testid="stMainBlockContainer"] [class*="st-key-example-"]')
    examples.first.wait_for()
    label = '[data-testid="stMarkdownContainer"]'  # the button's text, not its icon
    questions = [text_of(examples.nth(i).locator(label)) for i in range(examples.count())]
    assert 1 <= len(questions) <= 3
    for question in questions:
        assert question.endswith("?") and "say about" not in question, question
    examples.first.get_by_role("button").click()
    messages = page.locator('[data-testid="stChatMessage"]')
    messages.nth(1).wait_for()
    answer = messages.nth(1)
    answer.locator('[data-testid="stCaptionContainer"], [data-testid="stAlert"]').first.wait_for()
    wait_idle(page)
    assert text_of(messages.nth(0).locator(label)) == questions[0]
    assert "Grounded" in text_of(answer)
    assert answer.locator('[data-testid="stAlert"]').count() == 0  # not "Not sure"
    assert marks(answer).count() >= 1  # its cited sentence highlighted


DAMSON = (
    "Damson orchard notes\n\nThe Larkspur Farm orchard picked 730 crates of damsons in September.\n"
)


def test_remove_a_document_from_the_sidebar_and_answers_stop_citing_it(
    page, server, tmp_path: Path
) -> None:
    note = tmp_path / "damson.txt"
    note.write_text(DAMSON, encoding="utf-8")
    upload(page, note, "Damson orchard notes")
    question = "How many crates of damsons did the Larkspur Farm orchard pick?"
    answer = ask(page, question)
    assert "730" in text_of(answer)
    assert "Damson orchard notes" in text_of(answer.locator("summary").first)

    sidebar = page.locator('[data-testid="stSidebar"]')
    row = sidebar.locator('[data-testid="stHorizontalBlock"]').filter(
        has_text="Damson orchard notes"
    )
    row.get_by_role("button").click()
    sidebar.get_by_text("from the store?").wait_for()  # a confirmation first
    sidebar.get_by_role("button", name="Remove", exact=True).click()
    sidebar.get_by_text("Removed Damson orchard notes").wait_for()
    wait_idle(page)
    assert sidebar.get_by_text("Fortress Calais").first.is_visible()
    assert not (server["tmp"] / "vectorstore" / "uploads" / "damson.txt").exists()
    # The removal's rerun may still show the previous run's (stale) messages beside the
    # new ones; ask() counts messages, so wait until only the one turn's two are left
    # (under load the count was 4 here once, and ask() waited for a sixth message).
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=\"stChatMessage\"]').length === 2",
        timeout=WAIT_MS,
    )

    again = ask(page, question)
    assert "730" not in text_of(again)
    cited = again.locator("summary")
    assert all("Damson" not in text_of(cited.nth(i)) for i in range(cited.count()))


def test_a_conversation_reopens_from_the_sidebar_after_a_server_restart(
    browser, tmp_path: Path
) -> None:
    need_browser()
    env = ingested_env(tmp_path)
    with streamlit_page(tmp_path, env) as url, opened(browser, url) as page:
        answer = ask(page, "Who will visit Calais on Thursday?")
        assert "Theresa May" in text_of(answer)
        ask(page, "Who is she meeting?")
    # The first server is stopped: only the SQLite file in the store folder remains.
    with streamlit_page(tmp_path, env) as url, opened(browser, url) as page:
        assert page.locator('[data-testid="stChatMessage"]').count() == 0
        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.get_by_role("button", name="Who will visit Calais on Thursday?").click()
        messages = page.locator('[data-testid="stChatMessage"]')
        messages.nth(3).wait_for()
        wait_idle(page)
        first, follow = messages.nth(1), messages.nth(3)
        assert "Theresa May" in text_of(first)
        cited = first.locator('[data-testid="stExpander"]').first
        assert "Fortress Calais" in text_of(cited.locator("summary"))
        assert "Home Secretary Theresa May will visit Calais" in text_of(marks(cited).first)
        assert "Cazeneuve" in text_of(follow)
        assert "Understood as:" in text_of(follow)
        assert "?c=" in page.url
        screenshot(page, "reopened-conversation.png")
        assert page.dialogs == []
