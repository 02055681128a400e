"""The sidebar: documents (list, remove, upload), settings and export.

A removal asks for confirmation first; uploads are saved and ingested by the service
(:meth:`rag.service.Assistant.save_uploads`, ``ingest``); the export offers the open
conversation as Markdown and JSON. The conversations list is :mod:`ui.conversations`.
This module does not render answers.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from rag.answer import Answer
from rag.errors import RagError
from rag.interfaces.highlight import escape_markdown
from rag.service import (
    UPLOAD_TYPES,
    Assistant,
    IngestReport,
    ManifestEntry,
    Settings,
    Upload,
    export_conversation,
    provider_choices,
)
from ui.state import (
    forget,
    remember_error,
    set_state,
    show_error,
    show_remembered_errors,
)

EXPORTS = (  # label, file suffix, MIME type, icon
    ("Export Markdown", "md", "text/markdown", ":material/download:"),
    ("Export JSON", "json", "application/json", ":material/data_object:"),
)


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
