"""The Streamlit page through ``streamlit.testing.v1.AppTest``, with the real model.

The page reads RAG_STORE_DIR / RAG_SEEDS_DIR, so each test points it at a store in a
temporary folder. The page caches its Assistant per settings, so the model loads once
per test session however many AppTests run.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.answer import Citation
from rag.config import REFUSAL
from rag.interfaces.highlight import ANSWER_HIGHLIGHT, HIGHLIGHT, WORD_JOINER, escape_markdown
from tests.conftest import ROOT, make_settings

pytestmark = pytest.mark.integration

APP = str(ROOT / "app.py")
DOCUMENT_HIGHLIGHT = "orange-background"  # the document dialog's highlight (ui/sources.py)
TIMEOUT = 180  # seconds: the first run loads the model (about 5 s on 2 cores, more on CI)


def plain(markdown: str) -> str:
    """What a reader sees of our escaped Markdown (escapes and word joiners removed)."""
    return re.sub(r"\\(.)", r"\1", markdown).replace(WORD_JOINER, "")


def readable(markdown: str) -> str:
    """The text of highlighted Markdown: our directives, bold and hard breaks removed too."""
    unmarked = re.sub(r"(?<!\\):[a-z-]+\[|(?<!\\)\]|(?<!\\)\*\*", "", markdown)
    return plain(unmarked.replace("  \n", "\n"))


@pytest.fixture(scope="module")
def article_store(tmp_path_factory: pytest.TempPathFactory, embeddings) -> Path:
    """A store with the seed article ingested (once for this module)."""
    from rag.service import Assistant

    tmp = tmp_path_factory.mktemp("app")
    old = Path.cwd()
    os.chdir(tmp)
    try:
        Assistant(make_settings(tmp), embeddings=embeddings).ingest()
    finally:
        os.chdir(old)
    return tmp


def cited_mark(cite: Citation) -> str:
    """How the cited sentence is marked: its short answer in bold, or the whole quote."""
    if cite.short_answer.strip():
        return f":{ANSWER_HIGHLIGHT}[**{escape_markdown(cite.short_answer.strip())}**]"
    return f":{HIGHLIGHT}[{escape_markdown(cite.quote)}]"


def use_store(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    monkeypatch.setenv("RAG_STORE_DIR", str(folder / "vectorstore"))
    monkeypatch.setenv("RAG_SEEDS_DIR", str(folder / "seeds"))


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch, article_store: Path) -> Iterator:
    """The page, first run done, pointed at the article store."""
    from streamlit.testing.v1 import AppTest

    use_store(monkeypatch, article_store)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    yield at


def ask(at, question: str):
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def assistant_texts(at) -> list[str]:
    """Plain text of each assistant message's first element (the answer or refusal)."""
    return [plain(m.children[0].value) for m in at.chat_message if m.name == "assistant"]


def test_answer_is_rendered_with_its_cited_passage(app, article_text: str) -> None:
    ask(app, "Who will visit Calais on Thursday?")
    [answer] = assistant_texts(app)
    assert "Theresa May" in answer and "[1]" in answer
    assert [plain(m.value) for m in app.chat_message[0].children.values()] == [
        "Who will visit Calais on Thursday?"
    ]
    [cite] = app.session_state["answers"][0].citations
    [expander] = app.expander
    assert expander.label.startswith("[1] ")
    assert "Fortress Calais" in plain(expander.label)
    assert f"characters {cite.start:,}–{cite.end:,}" in expander.label
    # The passage is shown whole, the cited sentence highlighted (its short answer in bold).
    passage = next(m.value for m in expander.markdown if HIGHLIGHT in m.value)
    assert cited_mark(cite) in passage
    assert article_text[cite.start : cite.end] == cite.quote
    assert any("Grounded" in c.value for c in app.caption)
    assert not app.warning


def show_in_document(at, n: int = 0):
    [b for b in at.button if b.label == "Show in document"][n].click().run()
    assert not at.exception, at.exception
    return at


def test_show_in_document_shows_the_span_strongly_highlighted_in_its_context(
    app, article_text: str
) -> None:
    ask(app, "How much has the UK pledged towards security at the port?")
    cite = app.session_state["answers"][0].citations[0]
    show_in_document(app)
    strong = f":{DOCUMENT_HIGHLIGHT}["
    [window] = [m.value for m in app.markdown if strong in m.value]
    assert cited_mark(cite) in window
    # A window around the span, not the whole article: the notes say what is left out.
    shown = readable(window)
    assert cite.quote in shown and shown in article_text  # a part of it, in order
    assert article_text.index(shown) > 0 and len(shown) < len(article_text)
    assert len(shown.split(cite.quote, 1)[0]) <= 700  # little before: the span is in view
    notes = [c.value for c in app.caption if "characters before" in c.value]
    assert notes == [f"… {article_text.index(shown):,} characters before"]
    assert any("characters after" in c.value for c in app.caption)
    assert any("is highlighted" in c.value for c in app.caption)

    next(t for t in app.toggle if t.key and t.key.startswith("whole-")).set_value(True).run()
    [whole] = [m.value for m in app.markdown if strong in m.value]
    assert plain(whole).startswith(article_text.splitlines()[0]) and len(whole) > 3000
    assert cited_mark(cite) in whole
    assert not any("characters before" in c.value for c in app.caption)


def test_follow_up_uses_the_conversation_and_keeps_earlier_citations(app) -> None:
    ask(app, "Who will visit Calais on Thursday?")
    ask(app, "What will she sign in Calais?")
    answers = app.session_state["answers"]
    assert len(answers) == 2
    assert "Theresa May" in answers[1].standalone_question
    assert "joint-declaration" in assistant_texts(app)[1]
    understood = [plain(c.value) for c in app.caption if "Understood as" in c.value]
    assert understood == [f"Understood as: {answers[1].standalone_question}"]
    # Both turns still show their own cited sources after the rerun.
    labels = [e.label for e in app.expander]
    assert len(labels) == len(answers[0].citations) + len(answers[1].citations)
    assert all(label.startswith("[") for label in labels)


def test_refusal_looks_different_and_lists_no_sources(app) -> None:
    ask(app, "What is the capital of Peru?")
    assistant = next(m for m in app.chat_message if m.name == "assistant")
    assert assistant.avatar == ":material/block:"
    [warning] = app.warning
    assert plain(warning.value) == REFUSAL
    assert warning.proto.title == "Not in the documents"
    assert not app.expander
    assert not any("Grounded" in c.value for c in app.caption)


def test_empty_question_shows_a_message_not_a_traceback(app) -> None:
    ask(app, "   ")
    assert "Please type a question" in plain(app.error[0].value)
    assert not app.session_state["answers"]


def test_refresh_with_the_same_url_keeps_the_conversation(app, monkeypatch) -> None:
    from streamlit.testing.v1 import AppTest

    ask(app, "Who will visit Calais on Thursday?")
    cid = app.session_state["cid"]
    assert app.query_params["c"] == cid  # the URL names the conversation
    again = AppTest.from_file(APP, default_timeout=TIMEOUT)
    again.query_params["c"] = cid
    again.run()
    assert not again.exception
    assert "Theresa May" in assistant_texts(again)[0]
    assert again.expander[0].label == app.expander[0].label


@pytest.fixture
def media(monkeypatch: pytest.MonkeyPatch) -> list:
    """The media managers and in-memory stores AppTest creates, to run downloads."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
    from streamlit.testing.v1 import app_test

    stores: list = []

    class Recording(MemoryMediaFileStorage):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            stores.append(self)

    managers: list = []

    class Managing(app_test.MediaFileManager):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            managers.append(self)

    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", Recording)
    monkeypatch.setattr(app_test, "MediaFileManager", Managing)
    return [managers, stores]


def download(at, media: list, label: str) -> str:
    """The export the button serves, fetched from its URL as the browser would."""
    _managers, stores = media
    [button] = [b for b in at.download_button if b.label == label]
    # Built before the click, the same bytes every run: a click-built file raced reruns.
    assert button.proto.url and not button.proto.deferred_file_id
    return stores[-1].get_file(button.proto.url.rsplit("/", 1)[-1]).content.decode("utf-8")


def test_export_has_cited_spans_offsets_and_hashes(app, media, article_text: str) -> None:
    ask(app, "Who will visit Calais on Thursday?")
    ask(app, "What is the capital of Peru?")
    data = json.loads(download(app, media, "Export JSON"))
    [doc] = data["documents"]
    assert data["settings"] == {
        "k": 4,
        "mode": "extractive",
        "embedding_model": "all-MiniLM-L6-v2",
    }
    first, second = data["turns"]
    cite = first["citations"][0]
    assert article_text[cite["start"] : cite["end"]] == cite["quote"]
    assert cite["doc_sha256"] == doc["sha256"] and len(doc["sha256"]) == 64
    assert second["refused"] is True and second["citations"] == []
    md = download(app, media, "Export Markdown")
    assert "## 1. `Who will visit Calais on Thursday?`" in md
    assert cite["quote"] in md
    assert f"characters {cite['start']}-{cite['end']}" in md
    assert doc["sha256"] in md
    assert "Answer (Not in the documents; mode extractive)" in md


def test_empty_store_says_what_to_do_and_upload_fills_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    use_store(monkeypatch, tmp_path)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "document store is empty" in at.info[0].value
    assert not at.chat_input  # nothing to ask yet

    # (Unsupported types never reach the page: the uploader only accepts ours.)
    at.get("file_uploader")[0].set_value(("blob.txt", b"\x00\x01\x02", "text/plain"))
    at.run()
    assert "looks like a binary file" in plain(at.error[0].value)
    assert not (tmp_path / "vectorstore" / "uploads" / "blob.txt").exists()

    note = b"Quince report\n\nThe Bramble Hill orchard made 4,200 jars of quince marmalade."
    at.get("file_uploader")[0].set_value(("../../quince.txt", note, "text/plain"))
    at.run()
    assert not at.exception
    assert "Added 1" in at.success[0].value
    saved = tmp_path / "vectorstore" / "uploads" / "quince.txt"
    assert saved.read_bytes() == note
    assert not (tmp_path.parent / "quince.txt").exists()
    assert any("Quince report" in m.value for m in at.sidebar.markdown)

    ask(at, "How many jars of quince marmalade did the orchard make?")
    assert "4,200" in assistant_texts(at)[0]
    assert at.session_state["answers"][0].citations[0].source.endswith("uploads/quince.txt")

    # The same content under another name is one document, and the notice says so.
    at.get("file_uploader")[0].set_value(("quince-copy.txt", note, "text/plain"))
    at.run()
    assert not at.exception
    assert "1 already in the store under another name" in at.success[0].value
    assert sum("Quince report" in m.value for m in at.sidebar.markdown) == 1


def test_reruns_and_new_sessions_never_reload_the_model_or_re_embed(
    monkeypatch: pytest.MonkeyPatch, article_store: Path
) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    import rag.embeddings

    loads, embedded = [], []
    real_load = rag.embeddings.load_embeddings
    real_embed = rag.embeddings.SentenceTransformerEmbeddings.embed_documents

    def counting_load(settings):
        loads.append(settings)
        return real_load(settings)

    def counting_embed(self, texts):
        embedded.append(len(texts))
        return real_embed(self, texts)

    monkeypatch.setattr(rag.embeddings, "load_embeddings", counting_load)
    monkeypatch.setattr(
        rag.embeddings.SentenceTransformerEmbeddings, "embed_documents", counting_embed
    )
    use_store(monkeypatch, article_store)
    st.cache_resource.clear()  # start cold, as a fresh server does
    first = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    ask(first, "Who will visit Calais on Thursday?")
    show_in_document(first)
    first.slider[0].set_value(6).run()
    second = AppTest.from_file(APP, default_timeout=TIMEOUT).run()  # another browser tab
    ask(second, "Who is Bernard Cazeneuve?")
    assert len(loads) == 1
    assert embedded == []  # answering embeds questions only, never the documents again


def test_a_large_store_lists_a_bounded_sidebar_with_a_working_filter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embeddings
) -> None:
    """At 20,000 documents, rendering every entry stalled the page (docs/BENCHMARKS.md)."""
    from streamlit.testing.v1 import AppTest

    from rag.service import Assistant
    from ui.sidebar import SIDEBAR_DOCS

    limit = SIDEBAR_DOCS

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    total = limit + 12
    for i in range(total):
        (seeds / f"orchard-{i:03d}.txt").write_text(
            f"Orchard log {i:03d}\n\nRow {i} of the orchard gave {i * 3} baskets of quinces.",
            encoding="utf-8",
        )
    Assistant(make_settings(tmp_path), embeddings=embeddings).ingest()
    use_store(monkeypatch, tmp_path)

    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    listed = [m.value for m in at.sidebar.markdown if "Orchard log" in m.value]
    assert len(listed) == limit
    assert any(f"{total} documents; showing the first" in c.value for c in at.sidebar.caption)

    at.sidebar.text_input[0].set_value("orchard-061").run()
    listed = [plain(m.value) for m in at.sidebar.markdown if "Orchard log" in m.value]
    assert len(listed) == 1 and "Orchard log 061" in listed[0]
    assert at.chat_input  # the page stays usable


def test_example_questions_are_drawn_from_the_article_and_answered(app) -> None:
    examples = [b for b in app.button if b.key and b.key.startswith("example-")]
    assert len(examples) == 3
    questions = [plain(b.label) for b in examples]
    assert all(q.startswith("What ") and q.endswith("?") for q in questions)
    examples[0].click().run()
    assert not app.exception
    [answer] = app.session_state["answers"]
    assert answer.question == questions[0]
    # Offered only because the assistant answered it Grounded from these documents.
    assert answer.outcome == "answered" and answer.citations
    assert answer.passages[0].source.endswith("fortress-calais.txt")


def test_a_conversation_reopens_with_its_citations_after_a_restart(app, media) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    ask(app, "Who will visit Calais on Thursday?")
    ask(app, "Who is she meeting?")
    cid = app.session_state["cid"]
    labels = [e.label for e in app.expander]
    st.cache_resource.clear()  # a restart: the conversation database is opened anew
    again = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not again.exception
    [button] = [b for b in again.sidebar.button if b.key == f"open-{cid}"]
    assert plain(button.label) == "Who will visit Calais on Thursday?"
    button.click().run()
    assert [e.label for e in again.expander] == labels
    assert "Theresa May" in assistant_texts(again)[0]
    assert again.session_state["answers"] == app.session_state["answers"]
    # The export works from the reopened conversation: every turn, as answered.
    data = json.loads(download(again, media, "Export JSON"))
    assert data["turns"] == [a.to_dict() for a in app.session_state["answers"]]
