"""The conversation: each question with its answer, the question box and examples.

An answer reads as its outcome: grounded (the words, a green caption, its cited
passages), not sure (a blue box, then the closest passages, none presented as the
answer) or not in the documents (a yellow box, no sources). A model's draft streams,
then is replaced by the checked answer. This module does not load resources (``app.py``
does) and draws passages through :mod:`ui.sources`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import streamlit as st

from rag.answer import Answer, draft_deltas
from rag.errors import RagError
from rag.interfaces.highlight import escape_markdown, stream_pieces, text_markdown
from rag.interfaces.rendering import document_markdown, is_markdown
from rag.service import (
    Assistant,
    ConversationStore,
    ManifestEntry,
    answer_text,
    check_note,
    turns_of,
)
from ui.sources import document_dialog, render_citation, render_passage, viewed_citation
from ui.state import save_turn, show_error, start_conversation

STREAM_DELAY = 0.02  # seconds between streamed words: visibly progressive, never slow


def stream_words(text: str) -> Iterator[str]:
    """The answer word by word, each piece already escaped (write_stream renders Markdown)."""
    for piece in stream_pieces(text):
        yield escape_markdown(piece)
        time.sleep(STREAM_DELAY)


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


def render_examples(suggest: Callable[[], list[str]]) -> None:
    """Example questions drawn from the documents (*suggest* finds them); a click asks one."""
    try:
        questions = suggest()
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


def chat(
    assistant: Assistant,
    store: ConversationStore,
    docs: list[ManifestEntry],
    k: int,
    suggest: Callable[[], list[str]],
) -> None:
    """The conversation so far, example questions when it is empty, and the question box."""
    chars = {doc.source: doc.chars for doc in docs}
    pending = st.session_state.pop("pending", None)
    show_damaged_turns()
    for turn, answer in enumerate(st.session_state.answers):
        render_turn(answer, turn, chars)
    if not st.session_state.answers and pending is None:
        render_examples(suggest)
    question = st.chat_input("Ask a question about the documents")
    if question is None:
        question = pending
    if question is not None:
        ask(assistant, store, question, k, chars)
    viewed = viewed_citation()
    if viewed:
        document_dialog(assistant, viewed[1], viewed[0])
