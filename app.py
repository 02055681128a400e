"""The browser chat: ask questions about the documents and check every cited passage.

Run with ``streamlit run app.py`` (or ``make run``). This file is the Streamlit page
only: session state, cached resources, rendering and error display. It calls
:class:`rag.service.Assistant` for everything else (ingest, ask, list documents),
:mod:`rag.uploads` to save an upload, :mod:`rag.highlight` to make text inert and
highlight a span, and :mod:`rag.export` for the Markdown/JSON export.

It does not retrieve, score, answer or parse documents itself, and it never renders
document or answer text as HTML.

Three outcomes look different: a grounded answer (green caption with the answerer's
confidence, cited passages below, the words that answer marked inside the cited
sentence), "not sure" (a blue box, then the closest passages, labelled as not an
answer) and "not in the documents" (a yellow box, no sources).

Answer providers: the sidebar lists the ones usable on this machine
(:func:`rag.llm.available_specs`: packages importable, llama.cpp only with its GGUF).
With a model, the draft streams token by token, then is replaced by the checked
answer, which names the model and says what the citation check removed or whether
it fell back to the extractive answer.

Security note (why text goes through :mod:`rag.highlight`): Streamlit can only colour
part of a text through Markdown, and document text is untrusted. So every ASCII
punctuation character of document, answer, title and question text is
backslash-escaped before it reaches ``st.markdown`` or a widget label (Markdown
renders an escaped character literally: no HTML, link, image, maths or directive can
start from it), and only then do we add our own ``:yellow-background[...]``
directive around the cited span (and, nested in it, ``:orange[**...**]`` around the words
that answer). ``unsafe_allow_html`` is never used.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator

import streamlit as st
from pydantic import ValidationError

from rag.answer import Answer, Citation, Passage
from rag.config import Settings
from rag.documents import SUPPORTED_SUFFIXES
from rag.errors import RagError
from rag.export import conversation_json, conversation_markdown
from rag.generate import check_note
from rag.highlight import escape_markdown, highlight_markdown, stream_pieces, text_markdown
from rag.llm import available_specs, parse_spec
from rag.service import Assistant
from rag.store import ManifestEntry
from rag.uploads import save_upload

PROVIDERS = {
    "extractive": "Extractive: quotes the documents (no model)",
    "llamacpp": "llama.cpp: local GGUF model",
    "ollama": "Ollama server",
    "openai": "OpenAI-compatible API",
}
MODEL_EXAMPLES = {"ollama": "llama3.2", "openai": "gpt-4o-mini"}
STREAM_DELAY = 0.02  # seconds between streamed words: visibly progressive, never slow
MAX_CONVERSATIONS = 200
_CONVERSATION_ID = re.compile(r"[0-9a-f]{32}")


# ----- cached resources (built once per server process, shared by sessions) ---------
@st.cache_resource(show_spinner="Loading the embedding model (first start only)…")
def load_model(key: str, _settings: Settings) -> object:
    """The embedding model; *key* names it, so reruns and sessions reuse one copy."""
    from rag.embeddings import load_embeddings

    return load_embeddings(_settings)


@st.cache_resource(show_spinner="Opening the document store…")
def load_assistant(key: str, _settings: Settings) -> Assistant:
    """One Assistant per settings *key* (store, mode), sharing the loaded model."""
    model_key = f"{_settings.embedding_path}|{_settings.embedding_model}"
    assistant = Assistant(_settings, embeddings=load_model(model_key, _settings))
    if assistant.documents():
        assistant.retriever.snapshot()  # build the keyword index now, not on question one
    return assistant


@st.cache_resource
def conversations() -> tuple[dict[str, list[Answer]], threading.Lock]:
    """Answers by conversation id (and a lock), so a refresh of the same ?c= URL keeps them."""
    return {}, threading.Lock()


# ----- session state ------------------------------------------------------------------
def start_conversation() -> None:
    """A fresh, empty conversation with its own id in the URL."""
    cid = uuid.uuid4().hex
    store, lock = conversations()
    with lock:
        while len(store) >= MAX_CONVERSATIONS:  # forget the oldest
            store.pop(next(iter(store)))
        store[cid] = []
    st.session_state.cid = cid
    st.session_state.answers = store[cid]
    st.query_params["c"] = cid


def init_state() -> None:
    """Restore the conversation named in the URL, or start one."""
    st.session_state.setdefault("uploader", 0)
    if "cid" in st.session_state:
        return
    cid = st.query_params.get("c", "")
    store, _ = conversations()
    if _CONVERSATION_ID.fullmatch(cid) and cid in store:
        st.session_state.cid = cid
        st.session_state.answers = store[cid]
    else:
        start_conversation()


def history(answers: list[Answer]) -> list[dict[str, str]]:
    """Earlier turns in the form the follow-up resolver reads (as the CLI passes them)."""
    return [
        {"question": a.question, "answer": a.answer, "standalone": a.standalone_question}
        for a in answers
    ]


def show_error(exc: RagError) -> None:
    """A user-fixable problem, as text in the page (messages may quote file names)."""
    st.error(escape_markdown(str(exc)), icon=":material/error:")


# ----- sidebar ------------------------------------------------------------------------
SIDEBAR_DOCS = 50  # documents listed in the sidebar at most (a filter box finds the rest)


def sidebar_documents(docs: list[ManifestEntry]) -> None:
    """The documents in the store, with chunk counts."""
    st.header("Documents")
    if not docs:
        st.caption("No documents yet.")
    if len(docs) > SIDEBAR_DOCS:
        # Rendering 20,000 entries stalls the page: show a filtered, bounded list.
        needle = st.text_input("Filter documents", placeholder="title or file name").lower()
        docs = [d for d in docs if needle in d.title.lower() or needle in d.source.lower()]
        st.caption(f"{len(docs):,} documents; showing the first {min(len(docs), SIDEBAR_DOCS)}.")
    for doc in docs[:SIDEBAR_DOCS]:
        st.markdown(
            f"**{escape_markdown(doc.title)}**  \n"
            f"{doc.chunks} chunks · {doc.chars:,} characters · {escape_markdown(doc.source)}"
        )


def ingest_uploads(assistant: Assistant, files: list) -> None:
    """Save each upload in settings.uploads_dir, ingest them, remember the outcome."""
    settings = assistant.settings
    max_bytes = int(settings.max_file_mb * 1_000_000)
    saved, errors = [], []
    for upload in files:
        try:
            saved.append(
                save_upload(settings.uploads_dir, upload.name, upload.getvalue(), max_bytes)
            )
        except RagError as exc:
            errors.append(str(exc))
    notice = ""
    if saved:
        bar = st.progress(0.0, text="Embedding passages…")

        def progress(done: int, total: int) -> None:
            bar.progress(done / total if total else 1.0, text=f"Embedding {done}/{total} passages")

        try:
            report = assistant.ingest(saved, progress=progress)
        except RagError as exc:
            errors.append(str(exc))
        else:
            errors += [item["error"] for item in report.errors]
            notice = (
                f"Added {report.added}, updated {report.updated}, unchanged "
                f"{report.unchanged}: {report.documents} documents, {report.chunks} chunks."
            )
    st.session_state.upload_result = (notice, errors)
    st.session_state.uploader += 1  # a new widget key empties the uploader
    st.rerun()


def sidebar_upload(assistant: Assistant) -> None:
    """Upload txt/md/html/pdf; ingestion is idempotent (same content: unchanged)."""
    notice, errors = st.session_state.pop("upload_result", ("", []))
    files = st.file_uploader(
        "Add documents",
        type=[suffix.lstrip(".") for suffix in SUPPORTED_SUFFIXES],
        accept_multiple_files=True,
        key=f"uploader-{st.session_state.uploader}",
        max_upload_size=max(1, int(assistant.settings.max_file_mb)),
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
    try:
        configured = parse_spec(settings.llm)
    except RagError as exc:  # a bad RAG_LLM: say so, offer what works
        show_error(exc)
        configured = parse_spec(None)
    # A configured provider that is not usable here stays listed: asking explains why.
    providers = list(dict.fromkeys([*available_specs(settings), configured.provider]))
    provider = st.selectbox(
        "Answer mode",
        providers,
        index=providers.index(configured.provider),
        key="mode",
        format_func=lambda p: PROVIDERS.get(p, p),
        help="Extractive: the answer is the document's own sentences. With a model, every "
        "sentence it writes is checked against the passage it cites; unsupported ones "
        "are removed.",
    )
    default = configured.model if configured.provider == provider else ""
    if provider in MODEL_EXAMPLES:
        model = st.text_input(
            "Model", default or MODEL_EXAMPLES[provider], key=f"model-{provider}"
        ).strip()
        return f"{provider}:{model}"
    return f"{provider}:{default}" if default else provider


def sidebar_settings(settings: Settings) -> tuple[int, str]:
    """Retrieval settings that change answers: k and the answer mode."""
    st.header("Settings")
    k = st.slider("Passages retrieved (k)", 1, max(20, settings.k), settings.k, key="k")
    mode = sidebar_provider(settings)
    st.button(
        "New conversation",
        on_click=start_conversation,
        icon=":material/add_comment:",
        width="stretch",
    )
    return k, mode


def sidebar_export(answers: list[Answer], docs: list[ManifestEntry], meta: dict) -> None:
    """Download the conversation with cited spans, offsets and document hashes."""
    st.header("Export")
    none = not answers
    st.download_button(
        "Export Markdown",
        conversation_markdown(answers, docs, meta),
        file_name="conversation.md",
        mime="text/markdown",
        disabled=none,
        icon=":material/download:",
        width="stretch",
    )
    st.download_button(
        "Export JSON",
        conversation_json(answers, docs, meta),
        file_name="conversation.json",
        mime="application/json",
        disabled=none,
        icon=":material/data_object:",
        width="stretch",
    )


# ----- answers and citations ----------------------------------------------------------
def stream_words(text: str) -> Iterator[str]:
    """The answer word by word, each piece already escaped (write_stream renders Markdown)."""
    for piece in stream_pieces(text):
        yield escape_markdown(piece)
        time.sleep(STREAM_DELAY)


def render_document(assistant: Assistant, cite: Citation) -> None:
    """The whole document, cited span highlighted, in a scrollable box."""
    try:
        text = assistant.document_text(cite.source)
    except RagError as exc:
        show_error(exc)
        return
    if text[cite.start : cite.end] != cite.quote:
        st.warning(
            "This document changed after the answer was given; ask again.",
            icon=":material/warning:",
        )
        body = text_markdown(text)
    else:
        body = highlight_markdown(text, cite.start, cite.end, answer=answer_span(cite, 0))
        st.caption(
            f"Whole document, {len(text):,} characters; the cited span "
            f"(characters {cite.start:,}–{cite.end:,}) is highlighted."
        )
    # Long documents scroll inside a box so the chat stays readable.
    with st.container(height=420 if len(text) > 1500 else "content", border=True):
        st.markdown(body)


def answer_span(cite: Citation, base: int) -> tuple[int, int] | None:
    """The short answer's offsets in a text that starts at *base* in the document."""
    if cite.answer_start is None or cite.answer_end is None:
        return None
    return cite.answer_start - base, cite.answer_end - base


def render_citation(assistant: Assistant, cite: Citation, key: str, chars: int | None) -> None:
    """One cited source: passage with the cited sentence highlighted, title, position."""
    of = f" of {chars:,}" if chars else ""
    label = f"[{cite.id}] {escape_markdown(cite.title)} · characters {cite.start:,}–{cite.end:,}"
    with st.expander(label, expanded=cite.id == 1, icon=":material/format_quote:"):
        st.caption(
            f"{escape_markdown(cite.source)} · retrieved passage #{cite.passage_rank}, "
            f"characters {cite.passage_start:,}–{cite.passage_end:,}{of} · "
            f"document sha256 {cite.doc_sha256[:12]}"
        )
        base = cite.passage_start
        st.markdown(
            highlight_markdown(
                cite.text, cite.start - base, cite.end - base, answer=answer_span(cite, base)
            )
        )
        if st.toggle("Show in document", key=key, help="The whole document, span highlighted"):
            render_document(assistant, cite)


def render_answer(
    assistant: Assistant, answer: Answer, turn: int, chars: dict[str, int], stream: bool = False
) -> None:
    """One answer as its outcome reads: grounded, not sure, or not in the documents.

    A grounded answer lists its cited sources; "not sure" shows the closest passages
    (none presented as the answer); a refusal shows no sources. *chars* gives each
    document's length, to show where a passage sits.
    """
    if answer.outcome == "not_found":
        st.warning(escape_markdown(answer.answer), title=answer.label, icon=":material/block:")
        st.caption("No passage supports an answer. Rephrase, or add a document that covers it.")
        return
    if answer.outcome == "unsure":
        render_unsure(answer, chars)
        return
    if stream:
        st.write_stream(stream_words(answer.answer))
    else:
        st.markdown(text_markdown(answer.answer))
    seconds = answer.timings_ms.get("total", 0) / 1000
    n = len(answer.citations)
    st.caption(
        f":green[:material/verified: {answer.label}] in {n} cited passage{'s' * (n != 1)}"
        f"{confidence_note(answer)} · {escape_markdown(mode_label(answer))} · {seconds:.1f} s"
    )
    render_check(answer)
    for cite in answer.citations:
        key = f"doc-{st.session_state.cid}-{turn}-{cite.id}"
        render_citation(assistant, cite, key, chars.get(cite.source))


def confidence_note(answer: Answer) -> str:
    """' · confidence 83%', or '' when the answerer gave none (a model's answer)."""
    if answer.confidence is None:
        return ""
    return f" · confidence {answer.confidence:.0%}"


def render_unsure(answer: Answer, chars: dict[str, int]) -> None:
    """No sentence answers clearly: say so, then show the closest passages as passages."""
    st.info(escape_markdown(answer.answer), title=answer.label, icon=":material/help:")
    render_check(answer)
    if not answer.passages:
        return
    best = "" if answer.confidence is None else f" (best sentence: {answer.confidence:.0%})"
    st.caption(
        f"**Closest passages — not an answer**{best}. Read them yourself, or rephrase the question."
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
            f"{escape_markdown(passage.source)} · characters {passage.start:,}–"
            f"{passage.end:,}{of} · document sha256 {passage.doc_sha256[:12]}"
        )
        st.markdown(text_markdown(passage.text))


def mode_label(answer: Answer) -> str:
    """The answerer as a reader should see it: the model's name when one wrote it."""
    model = answer.info.get("model")
    if not model:
        return answer.mode
    if answer.info.get("fallback"):
        return f"extractive fallback for {model}"
    first = answer.timings_ms.get("first_token", 0) / 1000
    return f"{model} ({answer.info.get('provider', answer.mode)}), first words {first:.1f} s"


def render_check(answer: Answer) -> None:
    """What the citation check did to a generated answer (nothing for extractive ones)."""
    if "model" not in answer.info:
        return
    note = escape_markdown(check_note(answer)[:1].upper() + check_note(answer)[1:]) + "."
    if answer.info.get("fallback"):
        st.info(note, icon=":material/swap_horiz:")
    elif answer.info.get("unsupported_count"):
        st.info(note, icon=":material/content_cut:")
    dropped = answer.info.get("passages_dropped", 0)
    if dropped:
        st.caption(
            f"{dropped} retrieved passage{'s' * (dropped != 1)} did not fit the model's "
            "context window and were left out of its prompt."
        )


AVATARS = {"answered": ":material/verified:", "unsure": ":material/help:"}


def avatar(answer: Answer) -> str:
    """Different avatars make each outcome recognisable at a glance."""
    return AVATARS.get(answer.outcome, ":material/block:")


def render_turn(assistant: Assistant, answer: Answer, turn: int, chars: dict[str, int]) -> None:
    """One question and its answer, as stored in the session."""
    with st.chat_message("user"):
        st.markdown(text_markdown(answer.question))
    with st.chat_message("assistant", avatar=avatar(answer)):
        render_answer(assistant, answer, turn, chars)


def ask(assistant: Assistant, question: str, k: int, chars: dict[str, int]) -> None:
    """Answer a new question, keep it in the conversation, then stream it."""
    answers = st.session_state.answers
    with st.chat_message("user"):
        st.markdown(text_markdown(question))
    try:
        generated = assistant.llm is not None
        if generated:
            answer = stream_generated(assistant, question, history(answers), k)
        else:
            with st.spinner("Searching the documents…"):
                answer = assistant.ask(question, history=history(answers), k=k)
    except RagError as exc:
        show_error(exc)
        return
    answers.append(answer)  # first: a rerun that interrupts the stream must not lose it
    with st.chat_message("assistant", avatar=avatar(answer)):
        render_answer(
            assistant, answer, len(answers) - 1, chars, stream=answer.mode == "extractive"
        )


def stream_generated(
    assistant: Assistant, question: str, turns: list[dict[str, str]], k: int
) -> Answer:
    """Show the model's draft token by token; it is replaced by the checked answer."""
    final: list[Answer] = []

    def pieces() -> Iterator[str]:
        shown = ""
        for answer in assistant.ask_stream(question, history=turns, k=k):
            if answer.complete:
                final.append(answer)
            elif answer.answer.startswith(shown):
                yield escape_markdown(answer.answer[len(shown) :])
                shown = answer.answer

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
        return Settings()
    except ValidationError as exc:
        errors = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        st.error(escape_markdown(f"Invalid RAG_ setting ({errors}). Fix it and reload."))
        st.stop()
        raise  # unreachable: st.stop ends the run


def main() -> None:
    """Build the page top to bottom."""
    st.set_page_config(
        page_title="Ask the documents",
        page_icon="📑",  # emoji: an inline SVG; a :material: icon is fetched from Google
    )
    init_state()
    settings = load_settings()
    with st.sidebar:  # slots keep the visual order; they are filled when their data exists
        docs_slot = st.container()
        k, mode = sidebar_settings(settings)
        export_slot = st.container()
    settings = settings.model_copy(update={"llm": mode})
    try:
        assistant = load_assistant(settings.model_dump_json(), settings)
        docs = assistant.documents()
    except RagError as exc:
        show_error(exc)
        st.stop()
    with docs_slot:
        sidebar_documents(docs)
        sidebar_upload(assistant)

    st.title("Ask the documents")
    st.caption(
        "Answers come only from the documents in the sidebar. A grounded answer cites the "
        "passages it comes from; open one to see the cited sentence highlighted and the "
        "words that answer in bold."
    )
    if not docs:
        st.info(
            "The document store is empty. Add a document with **Add documents** in the "
            "sidebar, or run `python -m rag ingest` (or `make run`) and reload.",
            icon=":material/inbox:",
        )
    else:
        chars = {doc.source: doc.chars for doc in docs}
        for turn, answer in enumerate(st.session_state.answers):
            render_turn(assistant, answer, turn, chars)
        question = st.chat_input("Ask a question about the documents")
        if question is not None:
            ask(assistant, question, k, chars)
    meta = {"k": k, "mode": mode, "embedding_model": settings.embedding_model}
    if mode != "extractive":
        meta |= {
            "llm_temperature": settings.llm_temperature,
            "llm_max_tokens": settings.llm_max_tokens,
            "llm_context": settings.llm_context,
        }
    with export_slot:  # filled last, so it includes an answer given in this run
        sidebar_export(st.session_state.answers, docs, meta)


main()
