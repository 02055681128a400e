"""The sidebar's conversations: newest first, reopen, rename or delete (after confirming).

Two titles that would read the same when the sidebar cuts them show where they differ
(the full title on hover); a conversation whose stored date cannot be read is listed as
damaged. It works on the conversation store the page opened; it draws nothing else.
"""

from __future__ import annotations

import streamlit as st

from rag.errors import RagError
from rag.interfaces.highlight import escape_markdown
from rag.service import (
    TITLE_CHARS,
    ConversationStore,
    ConversationSummary,
    distinct_labels,
)
from ui.state import (
    forget,
    open_conversation,
    remember_error,
    set_state,
    show_error,
    show_remembered_errors,
    start_conversation,
)

SIDEBAR_CONVERSATIONS = 30  # conversations listed in the sidebar, most recent first


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
