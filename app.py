"""The browser chat: ask questions about the documents and check every cited passage.

Run with ``streamlit run app.py`` (or ``make run``). This file lays the page out and
owns its cached resources (the embedding model, the Assistant, the conversation
database); its parts are drawn by the ``ui`` package: :mod:`ui.chat` (questions and
answers), :mod:`ui.sources` (cited and closest passages, "Show in document"),
:mod:`ui.sidebar` (documents, settings, export), :mod:`ui.conversations` (the
conversations list) and :mod:`ui.state` (session state). It calls the
service (:mod:`rag.service`) for everything else: :class:`~rag.service.Assistant` to
ingest, ask, list, show and remove documents, save uploads and find example questions
the documents answer; the conversation store it opens to keep conversations (SQLite in
the store folder, or PostgreSQL); the provider choices; the Markdown/JSON export. It
renders with :mod:`rag.interfaces.highlight` (text made inert, a span highlighted) and
:mod:`rag.interfaces.rendering`, and neither it nor ``ui`` imports anything else from
``rag`` (enforced by ``tests/unit/test_import_rule.py``).

It does not retrieve, score, answer or parse documents itself, it does not write
SQL, and it never renders document or answer text as HTML.

Conversations: each one is stored turn by turn as it is answered (the first answer
creates it) and named in the URL (``?c=<id>``), so a refresh or a server restart reopens
it with every citation; the sidebar lists them to reopen, rename or delete (after a
confirmation), two titles that would read the same when the sidebar cuts them showing
where they differ (the full title on hover). A ``?c=`` naming no stored conversation
says so and offers a new one, rather than silently starting over. Damage never stops the
page: a turn whose stored answer cannot be read is skipped with a warning naming it, a
conversation whose stored date cannot be read is listed as damaged, and a conversation
file that is not a database is moved aside (a warning says where) and a new history
starts; documents can be asked about throughout. An answer that cannot be saved is still
shown. An empty conversation offers up to three example questions built from the
documents, each one the assistant was asked and answered Grounded (checked once per set of
documents, extractively); a follow-up that was rewritten shows what it was understood as.

"Show in document" opens a dialog (always in view) with the part of the document
around the cited span, which is strongly highlighted, and notes how much text comes
before and after; a toggle shows the whole document. A document removed since the
answer says how to add it back: upload it again (an upload, deleted with it), or
ingest it again (a file elsewhere).

Three outcomes look different: a grounded answer (green caption with the answerer's
confidence, cited passages below, the words that answer marked inside the cited
sentence), "not sure" (a blue box, then the closest passages, labelled as not an
answer) and "not in the documents" (a yellow box, no sources).

Answer providers: the sidebar lists the ones usable on this machine
(:func:`rag.service.provider_choices`, from the one registry in :mod:`rag.llm.registry`:
packages importable, llama.cpp only with its GGUF).
With a model, the draft streams token by token, then is replaced by the checked
answer, which names the model and says what the citation check removed or whether
it fell back to the extractive answer.

Security note (why text goes through :mod:`rag.interfaces.highlight`): Streamlit can only colour
part of a text through Markdown, and document text is untrusted. So every ASCII
punctuation character of document, answer, title and question text is
backslash-escaped before it reaches ``st.markdown`` or a widget label (Markdown
renders an escaped character literally: no HTML, link, image, maths or directive can
start from it), and only then do we add our own ``:yellow-background[...]``
directive around the cited span (``:orange-background[...]`` in the document dialog, and,
nested in it, ``:orange[**...**]`` around the words that answer). Button labels built
from document or question text are escaped the same way. ``unsafe_allow_html`` is
never used.
"""

from __future__ import annotations

import streamlit as st

from rag.errors import RagError, SettingsError
from rag.interfaces.highlight import escape_markdown
from rag.service import (
    Assistant,
    ConversationStore,
    ManifestEntry,
    Settings,
    conversation_location,
    load_embeddings,
    open_conversations,
)
from rag.service import load_settings as load_settings_or_explain
from ui.chat import chat, show_missing
from ui.conversations import sidebar_conversations
from ui.sidebar import (
    doc_name,
    sidebar_documents,
    sidebar_export,
    sidebar_settings,
    sidebar_upload,
)
from ui.state import init_state, show_error

EXAMPLES = 3  # example questions offered on an empty conversation
EXAMPLE_CANDIDATES = 8  # candidate examples asked at most to find them (cached per documents)
EXAMPLE_DOCS = 5  # documents (the first by title) the examples are drawn from


@st.cache_resource(show_spinner="Loading the embedding model (first start only)…")
def load_model(key: str, _settings: Settings) -> object:
    """The embedding model; *key* names it, so reruns and sessions reuse one copy."""
    return load_embeddings(_settings)


@st.cache_resource(show_spinner="Opening the document store…")
def load_assistant(key: str, _settings: Settings) -> Assistant:
    """One Assistant per settings *key* (store, mode), sharing the loaded model."""
    model_key = f"{_settings.embedding.path}|{_settings.embedding.model}"
    assistant = Assistant(_settings, embeddings=load_model(model_key, _settings))
    assistant.warm_up()  # build the keyword index now, not on question one
    return assistant


@st.cache_resource
def load_conversations(location: str) -> ConversationStore:
    """The conversation database (one engine per server process, shared by sessions)."""
    return open_conversations(location)


@st.cache_data(show_spinner="Finding example questions the documents answer…", max_entries=32)
def examples_for(documents: tuple[tuple[str, str, str], ...], _assistant: Assistant) -> list[str]:
    """Example questions from *documents* (source, sha256, name) that *_assistant* answers.

    Cached per content. Each candidate is asked (at most EXAMPLE_CANDIDATES, so the
    first page stays quick) and only those answered Grounded are offered: an example
    that gets "not sure" teaches a new reader the wrong thing.
    """
    sources = [(source, name) for source, _sha, name in documents]
    return _assistant.example_questions(sources, EXAMPLE_CANDIDATES, EXAMPLES)


def example_checker(assistant: Assistant) -> Assistant:
    """The assistant that checks example questions: the extractive one (quick), whatever
    answer mode is chosen, so a model is never run for a suggestion."""
    if not assistant.provider.generative:
        return assistant
    settings = assistant.settings.updated(llm={"provider": "extractive"})
    return load_assistant(settings.model_dump_json(), settings)


def example_questions(assistant: Assistant, docs: list[ManifestEntry]) -> list[str]:
    """Up to EXAMPLES questions from the first documents that the assistant answers."""
    key = tuple((d.source, d.sha256, doc_name(d)) for d in docs[:EXAMPLE_DOCS])
    return examples_for(key, example_checker(assistant))


def load_settings() -> Settings:
    """Settings from RAG_* variables; a bad value stops the page with a clear message."""
    try:
        return load_settings_or_explain()
    except SettingsError as exc:
        problems = " ".join(exc.lines())
        st.error(escape_markdown(f"{problems} Fix it and reload."))
        st.stop()
        raise  # unreachable: st.stop ends the run


def open_store(settings: Settings) -> ConversationStore:
    """The conversation database (store folder, or RAG_DATABASE_URL); a failure stops the page."""
    try:
        store = load_conversations(conversation_location(settings))
    except RagError as exc:
        show_error(exc)
        st.stop()
        raise  # unreachable: st.stop ends the run
    if store.moved_aside and not st.session_state.get("told_moved_aside"):
        st.session_state.told_moved_aside = True
        st.warning(
            escape_markdown(
                f"The conversation history was damaged and could not be read; it was moved "
                f"to {store.moved_aside} and a new history started. Documents are not affected."
            ),
            icon=":material/warning:",
        )
    return store


def main() -> None:
    """Build the page top to bottom."""
    st.set_page_config(
        page_title="Ask the documents",
        page_icon="📑",  # emoji: an inline SVG; a :material: icon is fetched from Google
    )
    settings = load_settings()
    store = open_store(settings)
    init_state(store)
    with st.sidebar:  # slots keep the visual order; they are filled when their data exists
        docs_slot = st.container()
        k, mode = sidebar_settings(settings)
        conversations_slot = st.container()
        export_slot = st.container()
    settings = settings.updated(llm={"provider": mode})
    try:
        assistant = load_assistant(settings.model_dump_json(), settings)
        docs = assistant.documents()
    except RagError as exc:
        show_error(exc)
        st.stop()
    with docs_slot:
        sidebar_documents(assistant, docs)
        sidebar_upload(assistant)

    st.title("Ask the documents")
    st.caption(
        "Answers come only from the documents in the sidebar. A grounded answer cites the "
        "passages it comes from; open one to see the cited sentence highlighted and the "
        "words that answer in bold."
    )
    if st.session_state.get("missing"):
        show_missing()
    elif not docs:
        st.info(
            "The document store is empty. Add a document with **Add documents** in the "
            "sidebar, or run `python -m rag ingest` (or `make run`) and reload.",
            icon=":material/inbox:",
        )
    else:
        chat(assistant, store, docs, k, lambda: example_questions(assistant, docs))
    meta = {"k": k, "mode": mode, "embedding_model": settings.embedding.model}
    if mode != "extractive":
        meta |= {
            "llm_temperature": settings.llm.temperature,
            "llm_max_tokens": settings.llm.max_tokens,
            "llm_context": settings.llm.context,
        }
    with conversations_slot:  # filled after the chat, so it lists a conversation just begun
        sidebar_conversations(store)
    with export_slot:  # filled last, so it includes an answer given in this run
        sidebar_export(st.session_state.answers, docs, meta)


main()
