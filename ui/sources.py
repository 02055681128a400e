"""The passages behind an answer: cited passages, closest passages, and "Show in document".

A cited passage shows its cited span highlighted and the words that answer marked; the
document dialog shows the text around the span (or the whole document) with the span
strongly highlighted, and says what to do when the document was removed since. Every
piece of document text goes through :mod:`rag.interfaces.highlight` or
:mod:`rag.interfaces.rendering` (inert Markdown). This module does not answer anything.
"""

from __future__ import annotations

import streamlit as st

from rag.answer import Citation, Passage
from rag.errors import RagError, StoreEmptyError
from rag.interfaces.highlight import escape_markdown
from rag.interfaces.rendering import document_markdown, is_markdown, markdown_window
from rag.service import (
    Assistant,
)
from ui.state import show_error

# The document dialog shows this much text around the cited span: little before it, so
# the highlight sits near the top of the dialog, in view without scrolling.
WINDOW_BEFORE = 600
WINDOW_AFTER = 1500
DOCUMENT_HIGHLIGHT = "orange-background"  # stronger than the passages' yellow


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
