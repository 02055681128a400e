"""Session state of the page: the open conversation, widget callbacks, errors to show.

The conversation the URL names (``?c=<id>``) is reopened once per session; a new one is
stored (and named in the URL) at its first answer. Errors met in widget callbacks are
kept for the next run to show where they belong. This module draws nothing but errors.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from rag.answer import Answer
from rag.errors import RagError
from rag.interfaces.highlight import escape_markdown
from rag.service import (
    ConversationNotFound,
    ConversationStore,
)


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
