"""The browser chat: ask questions about the documents and check every cited passage.

Run with ``streamlit run app.py`` (or ``make run``). This file is the Streamlit page
only: session state, cached resources, rendering and error display. It calls the
service (:mod:`rag.service`) for everything else: :class:`~rag.service.Assistant` to
ingest, ask, list, show and remove documents, save uploads and find example questions
the documents answer; the conversation store it opens to keep conversations (SQLite in
the store folder, or PostgreSQL); the provider choices; the Markdown/JSON export. It
renders with :mod:`rag.interfaces.highlight` (text made inert, a span highlighted) and
:mod:`rag.interfaces.rendering`, and imports nothing else from ``rag`` (enforced by
``tests/unit/test_import_rule.py``).

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

import hashlib
import time
from collections.abc import Iterator
from typing import Any

import streamlit as st

from rag.answer import Answer, Citation, Passage, draft_deltas
from rag.errors import RagError, SettingsError, StoreEmptyError
from rag.interfaces.highlight import escape_markdown, stream_pieces, text_markdown
from rag.interfaces.rendering import document_markdown, is_markdown, markdown_window
from rag.service import (
    TITLE_CHARS,
    UPLOAD_TYPES,
    Assistant,
    ConversationNotFound,
    ConversationStore,
    ConversationSummary,
    IngestReport,
    ManifestEntry,
    Settings,
    Upload,
    answer_text,
    check_note,
    conversation_location,
    distinct_labels,
    export_conversation,
    load_embeddings,
    open_conversations,
    provider_choices,
    turns_of,
)
from rag.service import load_settings as load_settings_or_explain

STREAM_DELAY = 0.02  # seconds between streamed words: visibly progressive, never slow
SIDEBAR_CONVERSATIONS = 30  # conversations listed in the sidebar, most recent first
EXAMPLES = 3  # example questions offered on an empty conversation
EXAMPLE_CANDIDATES = 8  # candidate examples asked at most to find them (cached per documents)
EXAMPLE_DOCS = 5  # documents (the first by title) the examples are drawn from
# The document dialog shows this much text around the cited span: little before it, so
# the highlight sits near the top of the dialog, in view without scrolling.
WINDOW_BEFORE = 600
WINDOW_AFTER = 1500
DOCUMENT_HIGHLIGHT = "orange-background"  # stronger than the passages' yellow
EXPORTS = (  # label, file suffix, MIME type, icon
    ("Export Markdown", "md", "text/markdown", ":material/download:"),
    ("Export JSON", "json", "application/json", ":material/data_object:"),
)


# ----- cached resources (built once per server process, shared by sessions) ---------
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


# ----- session state ------------------------------------------------------------------
def start_conversation() -> None:
    """A fresh, empty conversation; it is stored (and named in the URL) at its first answer."""
    for key in ("missing", "doc_view", "confirm_delete", "damaged_turns"):
        st.session_state.pop(key, None)
    st.session_state.cid = None
    st.session_state.answers = []
    st.query_params.pop("c", None)


def open_conversation(store: ConversationStore, cid: str) -> None:
    """Show the stored conversation *cid*, every turn as it was answered."""
    conversation = store.get(cid)
    start_conversation()
    st.session_state.cid = conversation.id
    st.session_state.answers = conversation.answers
    st.session_state.damaged_turns = conversation.damaged
    st.query_params["c"] = conversation.id


def init_state(store: ConversationStore) -> None:
    """Once per session: reopen the conversation the URL names, or start one."""
    st.session_state.setdefault("uploader", 0)
    if "cid" in st.session_state:
        return
    cid = st.query_params.get("c", "")
    start_conversation()
    if not cid:
        return
    try:
        open_conversation(store, cid)
    except ConversationNotFound:
        st.session_state.missing = cid  # say so (main), rather than silently start over
    except RagError as exc:
        show_error(exc)


def save_turn(store: ConversationStore, answer: Answer) -> None:
    """Store *answer* as the next turn, creating the conversation at its first answer."""
    if st.session_state.cid is None:
        st.session_state.cid = store.create().id
        st.query_params["c"] = st.session_state.cid
    store.append_turn(st.session_state.cid, answer)


def set_state(key: str, value: Any) -> None:
    """Widget callback: remember *value* under *key*."""
    st.session_state[key] = value


def forget(key: str) -> None:
    """Widget callback: drop *key* from the session (a cancelled confirmation)."""
    st.session_state.pop(key, None)


def remember_error(section: str, message: str) -> None:
    """An error met in a widget callback, shown by the next run in the sidebar *section*."""
    st.session_state.setdefault(f"errors-{section}", []).append(message)


def show_remembered_errors(section: str) -> None:
    """The errors :func:`remember_error` kept for *section*, once."""
    for message in st.session_state.pop(f"errors-{section}", []):
        st.error(escape_markdown(message), icon=":material/error:")


def show_error(exc: RagError) -> None:
    """A user-fixable problem, as text in the page (messages may quote file names)."""
    st.error(escape_markdown(str(exc)), icon=":material/error:")


# ----- sidebar ------------------------------------------------------------------------
SIDEBAR_DOCS = 50  # documents listed in the sidebar at most (a filter box finds the rest)


def doc_name(doc: ManifestEntry) -> str:
    """The friendly name of a document: its display name when the store has one, else title."""
    return str(getattr(doc, "display_name", "") or doc.title)


def sidebar_documents(assistant: Assistant, docs: list[ManifestEntry]) -> None:
    """The documents in the store, with chunk counts and a remove button each."""
    st.header("Documents")
    notice = st.session_state.pop("remove_result", "")
    if notice:
        st.success(notice, icon=":material/check_circle:")
    show_remembered_errors("documents")
    confirm_removal(assistant, docs)
    if not docs:
        st.caption("No documents yet.")
    if len(docs) > SIDEBAR_DOCS:
        # Rendering 20,000 entries stalled the page: show a filtered, bounded list.
        needle = st.text_input("Filter documents", placeholder="title or file name").lower()
        docs = [d for d in docs if needle in f"{doc_name(d)} {d.title} {d.source}".lower()]
        st.caption(f"{len(docs):,} documents; showing the first {min(len(docs), SIDEBAR_DOCS)}.")
    for doc in docs[:SIDEBAR_DOCS]:
        document_row(doc)


def document_row(doc: ManifestEntry) -> None:
    """One document: name, size, source, and a button that asks to remove it."""
    text, action = st.columns([6, 1], vertical_alignment="center")
    text.markdown(
        f"**{escape_markdown(doc_name(doc))}**  \n"
        f"{doc.chunks} chunks · {doc.chars:,} characters · {escape_markdown(doc.source)}"
    )
    digest = hashlib.sha256(doc.source.encode()).hexdigest()[:16]
    action.button(
        ":material/delete:",
        key=f"remove-{digest}",
        type="tertiary",
        help="Remove this document from the store",
        on_click=set_state,
        args=("confirm_remove", doc.source),
    )


def confirm_removal(assistant: Assistant, docs: list[ManifestEntry]) -> None:
    """The confirmation step of a removal the reader asked for."""
    source = st.session_state.get("confirm_remove")
    entry = next((d for d in docs if d.source == source), None)
    if entry is None:
        st.session_state.pop("confirm_remove", None)
        return
    st.warning(
        f"Remove **{escape_markdown(doc_name(entry))}** ({entry.chunks} chunks, "
        f"{escape_markdown(entry.source)}) from the store? New answers will not use it; "
        "answers already given keep their quotes.",
        icon=":material/delete:",
    )
    yes, no = st.columns(2)
    yes.button(
        "Remove",
        type="primary",
        key="remove-yes",
        on_click=remove_document,
        args=(assistant, entry),
    )
    no.button("Cancel", key="remove-no", on_click=forget, args=("confirm_remove",))


def remove_document(assistant: Assistant, entry: ManifestEntry) -> None:
    """Remove *entry* from the store (widget callback); the next run lists what is left."""
    st.session_state.pop("confirm_remove", None)
    try:
        removed = assistant.remove_document(entry.source)
    except RagError as exc:
        remember_error("documents", str(exc))
        return
    # The store's generation changed, so every cached retriever rebuilds its keyword
    # index on its next question, as after an upload; the examples are keyed by content.
    notice = f"Removed {escape_markdown(doc_name(entry))}: {removed.chunks} chunks."
    if removed.uploads_deleted:
        notice += " Deleted the upload " + ", ".join(map(escape_markdown, removed.uploads_deleted))
        notice += "."
    if removed.still_on_disk:
        kept = ", ".join(map(escape_markdown, removed.still_on_disk))
        notice += f" Still on disk (ingesting it adds the document back): {kept}."
    st.session_state.remove_result = notice


def upload_notice(report: IngestReport) -> str:
    """What an upload did, in words (content already stored is said so, not "added 0")."""
    known = (
        f" {report.names_added} already in the store under another name, kept once."
        if report.names_added
        else ""
    )
    return (
        f"Added {report.added}, updated {report.updated}, unchanged {report.unchanged}."
        f"{known} {report.documents} documents, {report.chunks} chunks."
    )


def ingest_uploads(assistant: Assistant, files: list) -> None:
    """Save each upload in settings.store.uploads_dir, ingest them, remember the outcome."""
    saved = assistant.save_uploads([Upload(f.name, f.getvalue()) for f in files])
    errors = list(saved.errors)
    renamed = "".join(  # never replaces another upload's content
        f" {escape_markdown(r.asked)} was kept as {escape_markdown(r.kept)}: an upload of "
        "that name with other content is already stored."
        for r in saved.renamed
    )
    notice = ""
    if saved.paths:
        bar = st.progress(0.0, text="Embedding passages…")

        def progress(done: int, total: int) -> None:
            bar.progress(done / total if total else 1.0, text=f"Embedding {done}/{total} passages")

        try:
            report = assistant.ingest(saved.paths, progress=progress)
        except RagError as exc:
            errors.append(str(exc))
        else:
            errors += [item["error"] for item in report.errors]
            notice = upload_notice(report) + renamed
    st.session_state.upload_result = (notice, errors)
    st.session_state.uploader += 1  # a new widget key empties the uploader
    st.rerun()


def sidebar_upload(assistant: Assistant) -> None:
    """Upload txt/md/html/pdf; ingestion is idempotent (same content: unchanged)."""
    notice, errors = st.session_state.pop("upload_result", ("", []))
    files = st.file_uploader(
        "Add documents",
        type=list(UPLOAD_TYPES),
        accept_multiple_files=True,
        key=f"uploader-{st.session_state.uploader}",
        max_upload_size=max(1, int(assistant.settings.limits.file_mb)),
        help="Text, Markdown, HTML or PDF. Re-uploading the same file changes nothing.",
    )
    if notice:
        st.success(notice, icon=":material/check_circle:")
    for message in errors:
        st.error(escape_markdown(message), icon=":material/error:")
    if files:
        ingest_uploads(assistant, files)


def sidebar_provider(settings: Settings) -> str:
    """The answer provider (those usable here), and a model name where one is needed."""
    choices = provider_choices(settings)
    if choices.problem is not None:  # a bad RAG_LLM: say so, offer what works
        show_error(choices.problem)
    provider = st.selectbox(
        "Answer mode",
        choices.names,
        index=choices.names.index(choices.provider),
        key="mode",
        format_func=choices.label,
        help="Extractive: the answer is the document's own sentences. With a model, every "
        "sentence it writes is checked against the passage it cites; unsupported ones "
        "are removed.",
    )
    default = choices.model if choices.provider == provider else ""
    example = choices.model_example(provider)
    if example:
        model = st.text_input("Model", default or example, key=f"model-{provider}").strip()
        return f"{provider}:{model}"
    return f"{provider}:{default}" if default else provider


def sidebar_settings(settings: Settings) -> tuple[int, str]:
    """Retrieval settings that change answers: k and the answer mode."""
    st.header("Settings")
    k = st.slider(
        "Passages retrieved (k)", 1, max(20, settings.retrieval.k), settings.retrieval.k, key="k"
    )
    mode = sidebar_provider(settings)
    return k, mode


# ----- conversations in the sidebar -----------------------------------------------------
def sidebar_conversations(store: ConversationStore) -> None:
    """Past conversations, newest first: reopen, rename or delete (after confirming)."""
    st.header("Conversations")
    st.button(
        "New conversation",
        on_click=start_conversation,
        icon=":material/add_comment:",
        width="stretch",
    )
    show_remembered_errors("conversations")
    try:
        listed = store.list(limit=SIDEBAR_CONVERSATIONS)
    except RagError as exc:
        show_error(exc)
        return
    confirm_deletion(store, listed)
    if not listed:
        st.caption("Conversations are saved here from their first answer.")
    # A narrow sidebar cuts a long title: labels that read differently, full title on hover.
    labels = distinct_labels([conversation_title(c) for c in listed])
    for conversation, label in zip(listed, labels, strict=True):
        conversation_row(store, conversation, label)


def conversation_title(conversation: ConversationSummary) -> str:
    return conversation.title or "New conversation"


def conversation_row(
    store: ConversationStore, conversation: ConversationSummary, label: str
) -> None:
    """One conversation: open it (*label*, date), or rename / delete it from its menu."""
    current = conversation.id == st.session_state.cid
    left, menu = st.columns([6, 1], vertical_alignment="center")
    left.button(
        escape_markdown(label),
        key=f"open-{conversation.id}",
        help=escape_markdown(conversation_title(conversation)),
        type="primary" if current else "secondary",
        width="stretch",
        on_click=reopen,
        args=(store, conversation.id),
    )
    turns = conversation.turns
    when = f"{conversation.updated_at:%Y-%m-%d %H:%M} UTC"
    if conversation.damaged:
        when = f"damaged: {conversation.damaged}"
    left.caption(f"{when} · {turns} question{'s' * (turns != 1)}")
    with menu.popover("", icon=":material/more_vert:", help="Rename or delete"):
        st.text_input(
            "Title",
            value=conversation.title,
            max_chars=TITLE_CHARS,
            key=f"title-{conversation.id}",
            on_change=rename,
            args=(store, conversation.id),
        )
        st.button(
            "Delete conversation",
            key=f"delete-{conversation.id}",
            icon=":material/delete:",
            on_click=set_state,
            args=("confirm_delete", conversation.id),
        )


def reopen(store: ConversationStore, cid: str) -> None:
    """Widget callback: open the stored conversation *cid*."""
    try:
        open_conversation(store, cid)
    except RagError as exc:
        remember_error("conversations", str(exc))


def rename(store: ConversationStore, cid: str) -> None:
    """Widget callback: store the title typed for *cid*."""
    try:
        store.rename(cid, st.session_state[f"title-{cid}"])
    except RagError as exc:
        remember_error("conversations", str(exc))


def confirm_deletion(store: ConversationStore, listed: list[ConversationSummary]) -> None:
    """The confirmation step of a deletion the reader asked for."""
    cid = st.session_state.get("confirm_delete")
    conversation = next((c for c in listed if c.id == cid), None)
    if conversation is None:
        return
    turns = conversation.turns
    st.warning(
        f"Delete **{escape_markdown(conversation_title(conversation))}** and its {turns} "
        f"question{'s' * (turns != 1)}? This cannot be undone.",
        icon=":material/delete:",
    )
    yes, no = st.columns(2)
    yes.button("Delete", type="primary", key="delete-yes", on_click=delete, args=(store, cid))
    no.button("Cancel", key="delete-no", on_click=forget, args=("confirm_delete",))


def delete(store: ConversationStore, cid: str) -> None:
    """Widget callback: delete *cid*; deleting the open conversation starts a new one."""
    st.session_state.pop("confirm_delete", None)
    try:
        store.delete(cid)
    except RagError as exc:
        remember_error("conversations", str(exc))
        return
    if cid == st.session_state.cid:
        start_conversation()


def sidebar_export(answers: list[Answer], docs: list[ManifestEntry], meta: dict) -> None:
    """Download the open conversation (a reopened one too) with spans, offsets and hashes."""
    st.header("Export")
    cid = st.session_state.cid
    name = f"conversation-{cid[:8]}" if cid else "conversation"
    files = export_files(answers, docs, meta)
    for label, suffix, mime, icon in EXPORTS:
        st.download_button(
            label,
            files[suffix],
            file_name=f"{name}.{suffix}",
            mime=mime,
            disabled=not answers,
            icon=icon,
            width="stretch",
            on_click="ignore",  # a download needs no rerun (one would race the file)
        )


def export_files(answers: list[Answer], docs: list[ManifestEntry], meta: dict) -> dict[str, bytes]:
    """The exports of the conversation as it stands, built once per state of it.

    Why not built on click: Streamlit gives a click-built download a new file id on
    every run and forgets the old one when the run ends, so a click that races a run
    (a conversation just opened or reopened) asked for a forgotten file and spun
    forever. The same bytes on every run keep the same file id, and a file a run no
    longer shows is kept one more run.
    """
    key = (
        st.session_state.cid,
        len(answers),
        tuple((d.source, d.sha256) for d in docs),
        repr(sorted(meta.items())),
    )
    built = st.session_state.get("export")
    if built is None or built[0] != key:
        export = export_conversation(answers, docs, meta)
        files = {"md": export.markdown.encode(), "json": export.json.encode()}
        built = st.session_state.export = (key, files)
    return built[1]


# ----- answers and citations ----------------------------------------------------------
def stream_words(text: str) -> Iterator[str]:
    """The answer word by word, each piece already escaped (write_stream renders Markdown)."""
    for piece in stream_pieces(text):
        yield escape_markdown(piece)
        time.sleep(STREAM_DELAY)


def document_window(text: str, start: int, end: int) -> tuple[int, int]:
    """Offsets of the text shown around ``[start, end)``: whole lines where possible.

    At most WINDOW_BEFORE characters before the span and WINDOW_AFTER after it; the
    window opens at a line start (else a word start) and closes at a line end (else a
    word end), so no word is cut.
    """
    lo, hi = max(0, start - WINDOW_BEFORE), min(len(text), end + WINDOW_AFTER)
    if lo > 0:
        line = text.find("\n", lo, start)
        space = text.find(" ", lo, start)
        lo = line + 1 if line != -1 else space + 1 if space != -1 else lo
    if hi < len(text):
        line = text.rfind("\n", end, hi)
        space = text.rfind(" ", end, hi)
        hi = line if line != -1 else space if space != -1 else hi
    # Blank lines at the edges are not shown: count them as before / after.
    while lo < start and text[lo].isspace():
        lo += 1
    while hi > end and text[hi - 1].isspace():
        hi -= 1
    return lo, hi


def open_document(turn: int, cite_id: int) -> None:
    """Widget callback: show citation *cite_id* of *turn* in its document."""
    st.session_state.doc_view = (st.session_state.cid, turn, cite_id)


def close_document() -> None:
    """The document dialog was dismissed: do not reopen it on the next run."""
    st.session_state.pop("doc_view", None)


def viewed_citation() -> tuple[str, Citation] | None:
    """The citation whose document the reader opened (with a key naming it), if any."""
    view = st.session_state.get("doc_view")
    if not view or view[0] != st.session_state.cid:
        return None
    cid, turn, cite_id = view
    answers = st.session_state.answers
    cites = answers[turn].citations if 0 <= turn < len(answers) else []
    cite = next((c for c in cites if c.id == cite_id), None)
    return (f"{cid}-{turn}-{cite_id}", cite) if cite else None


@st.dialog("Show in document", width="large", on_dismiss=close_document)
def document_dialog(assistant: Assistant, cite: Citation, key: str) -> None:
    """The dialog opens in view wherever the reader had scrolled to."""
    render_document(assistant, cite, key)


def render_document(assistant: Assistant, cite: Citation, key: str) -> None:
    """The text around the cited span, span strongly highlighted; or the whole document."""
    try:
        text = assistant.document_text(cite.source)
    except StoreEmptyError:
        st.info(removed_note(assistant, cite), icon=":material/link_off:")
        return
    except RagError as exc:
        show_error(exc)
        return
    st.markdown(f"**{escape_markdown(cite.title)}**")
    if text[cite.start : cite.end] != cite.quote:
        st.warning(
            "This document changed after the answer was given; ask again.",
            icon=":material/warning:",
        )
        st.markdown(document_markdown(text, markdown=is_markdown(cite.source)))
        return
    st.caption(
        f"{len(text):,} characters · the cited span "
        f"(characters {cite.start:,}–{cite.end:,}) is highlighted."
    )
    whole = st.toggle("Show the whole document", key=f"whole-{key}")
    markdown = is_markdown(cite.source)
    lo, hi = (0, len(text)) if whole else document_window(text, cite.start, cite.end)
    if markdown and not whole:  # a few whole lists and tables: rendered, they are tall
        lo, hi = markdown_window(text, lo, hi, cite.start, cite.end)
    if text[:lo].strip():
        st.caption(f"… {lo:,} characters before")
    st.markdown(
        document_markdown(
            text[lo:hi],
            markdown=markdown,
            span=(cite.start - lo, cite.end - lo),
            style=DOCUMENT_HIGHLIGHT,
            answer=answer_span(cite, lo),
        )
    )
    if text[hi:].strip():  # a trailing newline is not text after
        st.caption(f"… {len(text) - hi:,} characters after")


def removed_note(assistant: Assistant, cite: Citation) -> str:
    """The cited document is no longer in the store: what the reader can do about it."""
    gone = f"**{escape_markdown(cite.title)}** was removed from the store after this answer"
    if assistant.is_upload(cite.source):  # its file was deleted with it
        return (
            f"{gone}, and its upload deleted. Upload it again (**Add documents** in the "
            "sidebar) to see the passage in its document; the quote above is kept."
        )
    command = escape_markdown(f"python -m rag ingest {cite.source}")
    return (
        f"{gone}. Ingest it again ({command}) to see the passage in its document; "
        "the quote above is kept."
    )


def answer_span(cite: Citation, base: int) -> tuple[int, int] | None:
    """The short answer's offsets in a text that starts at *base* in the document."""
    if cite.answer_start is None or cite.answer_end is None:
        return None
    return cite.answer_start - base, cite.answer_end - base


def render_citation(cite: Citation, turn: int, chars: int | None) -> None:
    """One cited source: passage with the cited sentence highlighted, title, position."""
    of = f" of {chars:,}" if chars else ""
    label = f"[{cite.id}] {escape_markdown(cite.title)} · characters {cite.start:,}–{cite.end:,}"
    with st.expander(label, expanded=cite.id == 1, icon=":material/format_quote:"):
        st.caption(  # the title says which document; its path is data, kept in exports
            f"Retrieved passage #{cite.passage_rank}, "
            f"characters {cite.passage_start:,}–{cite.passage_end:,}{of} · "
            f"document sha256 {cite.doc_sha256[:12]}"
        )
        show_heading(cite.heading)
        base = cite.passage_start
        st.markdown(
            document_markdown(
                cite.text,
                markdown=is_markdown(cite.source),
                span=(cite.start - base, cite.end - base),
                answer=answer_span(cite, base),
            )
        )
        st.button(
            "Show in document",
            key=f"doc-{st.session_state.cid}-{turn}-{cite.id}",
            icon=":material/open_in_full:",
            help="The cited span highlighted in its document",
            on_click=open_document,
            args=(turn, cite.id),
        )


def understood_as(answer: Answer) -> None:
    """What a rewritten follow-up was understood as, or that it was asked as typed (unsure)."""
    standalone = answer.standalone_question.strip()
    if answer.info.condensed_by.startswith("unsure: "):
        what = answer.info.condensed_by.removeprefix("unsure: ")
        st.caption(
            f"I was not sure what “{escape_markdown(what)}” refers to in this conversation, "
            "so I asked your question as you wrote it. Try naming it."
        )
    elif standalone and standalone != answer.question.strip():
        st.caption(f"Understood as: {escape_markdown(standalone)}")


def render_answer(answer: Answer, turn: int, chars: dict[str, int], stream: bool = False) -> None:
    """One answer as its outcome reads: grounded, not sure, or not in the documents.

    A grounded answer lists its cited sources; "not sure" shows the closest passages
    (none presented as the answer); a refusal shows no sources. Each says what a
    rewritten follow-up was understood as. *chars* gives each document's length, to
    show where a passage sits.
    """
    if answer.outcome == "not_found":
        st.warning(escape_markdown(answer.answer), title=answer.label, icon=":material/block:")
        understood_as(answer)
        st.caption("No passage supports an answer. Rephrase, or add a document that covers it.")
        return
    if answer.outcome == "unsure":
        render_unsure(answer, chars)
        return
    show_answer_text(answer, stream)
    understood_as(answer)
    seconds = answer.timings_ms.get("total", 0) / 1000
    n = len(answer.citations)
    st.caption(
        f":green[:material/verified: {answer.label}] in {n} cited passage{'s' * (n != 1)}"
        f"{confidence_note(answer)} · {escape_markdown(mode_label(answer))} · {seconds:.1f} s"
    )
    render_check(answer)
    for cite in answer.citations:
        render_citation(cite, turn, chars.get(cite.source))


def show_answer_text(answer: Answer, stream: bool) -> None:
    """The answer's words; an extractive answer's quotes as their documents show them.

    Quotes are re-flowed (a hard-wrapped line break is a space); quotes that all come
    from Markdown documents are rendered like their passages (bold, list items), and
    then shown at once rather than streamed, so the page never shows their raw markup.
    """
    text = answer_text(answer)  # an extractive answer's quotes re-flowed (same length)
    quotes = answer.mode == "extractive" and answer.citations
    if quotes and all(is_markdown(c.source) for c in answer.citations):
        st.markdown(document_markdown(text, markdown=True))
        return
    if stream:
        st.write_stream(stream_words(text))
    else:
        st.markdown(text_markdown(text))


def confidence_note(answer: Answer) -> str:
    """' · confidence 83%', or '' when the answerer gave none (a model's answer)."""
    if answer.confidence is None:
        return ""
    return f" · confidence {answer.confidence:.0%}"


def render_unsure(answer: Answer, chars: dict[str, int]) -> None:
    """No sentence answers clearly: say so, then show the closest passages as passages."""
    st.info(escape_markdown(answer.answer), title=answer.label, icon=":material/help:")
    understood_as(answer)
    render_check(answer)
    if not answer.passages:
        return
    best = "" if answer.confidence is None else f" (best sentence: {answer.confidence:.0%})"
    st.caption(
        f"**Closest passages — not an answer**{best}. Read them yourself, or rephrase the "
        f"question. · {escape_markdown(mode_label(answer))}"
    )
    for n, passage in enumerate(answer.passages):
        render_passage(passage, chars.get(passage.source), expanded=n == 0)


def render_passage(passage: Passage, chars: int | None, expanded: bool) -> None:
    """A retrieved passage shown as it is: title, source, position, text (nothing marked)."""
    of = f" of {chars:,}" if chars else ""
    label = (
        f"Passage #{passage.rank} · {escape_markdown(passage.title)} · "
        f"characters {passage.start:,}–{passage.end:,}"
    )
    with st.expander(label, expanded=expanded, icon=":material/article:"):
        st.caption(
            f"Characters {passage.start:,}–{passage.end:,}{of} · "
            f"document sha256 {passage.doc_sha256[:12]}"
        )
        show_heading(passage.heading)
        st.markdown(document_markdown(passage.text, markdown=is_markdown(passage.source)))


def show_heading(heading: str) -> None:
    """The headings a passage sits under ("4. Hotels › London"), when it has any."""
    if heading.strip():
        path = " › ".join(escape_markdown(part.strip()) for part in heading.split(" > "))
        st.caption(f":material/segment: {path}")


def mode_label(answer: Answer) -> str:
    """The answerer as a reader should see it: the model's name when one wrote it."""
    model = answer.info.model
    if not model:
        return answer.mode
    if answer.info.fallback:
        return f"extractive fallback for {model}"
    first = answer.timings_ms.get("first_token", 0) / 1000
    return f"{model} ({answer.info.provider or answer.mode}), first words {first:.1f} s"


def render_check(answer: Answer) -> None:
    """What the citation check did to a generated answer (nothing for extractive ones)."""
    if not answer.info.model:
        return
    note = escape_markdown(check_note(answer)[:1].upper() + check_note(answer)[1:]) + "."
    if answer.info.fallback:
        st.info(note, icon=":material/swap_horiz:")
    elif answer.info.unsupported_count:
        st.info(note, icon=":material/content_cut:")
    dropped = answer.info.passages_dropped
    if dropped:
        st.caption(
            f"{dropped} retrieved passage{'s' * (dropped != 1)} did not fit the model's "
            "context window and were left out of its prompt."
        )


AVATARS = {"answered": ":material/verified:", "unsure": ":material/help:"}


def avatar(answer: Answer) -> str:
    """Different avatars make each outcome recognisable at a glance."""
    return AVATARS.get(answer.outcome, ":material/block:")


def render_turn(answer: Answer, turn: int, chars: dict[str, int]) -> None:
    """One question and its answer, as stored in the conversation."""
    with st.chat_message("user"):
        st.markdown(text_markdown(answer.question))
    with st.chat_message("assistant", avatar=avatar(answer)):
        render_answer(answer, turn, chars)


def ask(
    assistant: Assistant, store: ConversationStore, question: str, k: int, chars: dict[str, int]
) -> None:
    """Answer a new question, store it in the conversation, then stream it."""
    answers = st.session_state.answers
    with st.chat_message("user"):
        st.markdown(text_markdown(question))
    try:
        if assistant.generative:
            answer = stream_generated(assistant, question, answers, k)
        else:
            with st.spinner("Searching the documents…"):
                answer = assistant.ask(question, history=turns_of(answers), k=k)
    except RagError as exc:
        show_error(exc)
        return
    try:
        save_turn(store, answer)  # first: a rerun that interrupts the stream must not lose it
    except RagError as exc:  # the history cannot be written: the answer is still shown
        show_error(exc)
    answers.append(answer)
    with st.chat_message("assistant", avatar=avatar(answer)):
        render_answer(answer, len(answers) - 1, chars, stream=answer.mode == "extractive")


def ask_later(question: str) -> None:
    """Widget callback of an example question: the next run asks it."""
    st.session_state.pending = question


def render_examples(assistant: Assistant, docs: list[ManifestEntry]) -> None:
    """Example questions drawn from the documents; clicking one asks it."""
    key = tuple((d.source, d.sha256, doc_name(d)) for d in docs[:EXAMPLE_DOCS])
    try:
        questions = examples_for(key, example_checker(assistant))
    except RagError as exc:  # no examples is no reason to stop the page
        show_error(exc)
        return
    if not questions:
        return
    st.caption("Not sure what to ask? Try a question drawn from the documents:")
    for n, question in enumerate(questions):
        st.button(
            escape_markdown(question),
            key=f"example-{n}",
            icon=":material/lightbulb:",
            on_click=ask_later,
            args=(question,),
        )


def stream_generated(assistant: Assistant, question: str, answers: list[Answer], k: int) -> Answer:
    """Show the model's draft token by token; it is replaced by the checked answer."""
    final: list[Answer] = []
    turns = turns_of(answers)

    def pieces() -> Iterator[str]:
        for delta in draft_deltas(assistant.ask_stream(question, history=turns, k=k), final):
            yield escape_markdown(delta)

    draft = st.empty()
    try:
        with draft.container(), st.chat_message("assistant", avatar=":material/edit_note:"):
            st.caption("Draft from the model; every sentence is checked against its source next…")
            st.write_stream(pieces())
    finally:
        draft.empty()  # the checked answer replaces the draft, or an error does
    return final[-1]


# ----- page ---------------------------------------------------------------------------
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


def show_damaged_turns() -> None:
    """The open conversation has turns whose stored answer cannot be read: say which."""
    numbers = st.session_state.get("damaged_turns") or ()
    if numbers:
        which = ", ".join(map(str, numbers))
        st.warning(
            f"Question{'s' * (len(numbers) != 1)} {which} of this conversation "
            f"{'is' if len(numbers) == 1 else 'are'} damaged (the stored answer cannot be "
            "read) and not shown; the others are.",
            icon=":material/broken_image:",
        )


def show_missing() -> None:
    """The URL names a conversation that is not stored: say so, offer a new one."""
    st.warning(
        "This conversation does not exist; it may have been deleted. Its link no longer "
        "opens anything. Pick one in the sidebar, or start a new one.",
        icon=":material/link_off:",
    )
    st.button(
        "Start a new conversation", on_click=start_conversation, icon=":material/add_comment:"
    )


def chat(assistant: Assistant, store: ConversationStore, docs: list[ManifestEntry], k: int) -> None:
    """The conversation so far, example questions when it is empty, and the question box."""
    chars = {doc.source: doc.chars for doc in docs}
    pending = st.session_state.pop("pending", None)
    show_damaged_turns()
    for turn, answer in enumerate(st.session_state.answers):
        render_turn(answer, turn, chars)
    if not st.session_state.answers and pending is None:
        render_examples(assistant, docs)
    question = st.chat_input("Ask a question about the documents")
    if question is None:
        question = pending
    if question is not None:
        ask(assistant, store, question, k, chars)
    viewed = viewed_citation()
    if viewed:
        document_dialog(assistant, viewed[1], viewed[0])


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
        chat(assistant, store, docs, k)
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
