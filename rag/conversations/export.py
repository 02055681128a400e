"""Export a conversation (a list of :class:`~rag.answer.Answer`) for audit.

Two formats, both built from the same answers:

* JSON (:func:`conversation_json`): every turn's full ``Answer.to_dict()``
  (question, standalone question, answer, outcome, confidence, refused, citations
  with exact quote, character offsets, the short answer's offsets, passage offsets
  and document SHA-256, retrieved passages, timings; for a generated answer also the
  model, its settings, time to first token, the model's draft and the sentences the
  citation check removed), plus the documents in the store with their hashes.
  :func:`answers_from_json` reads it back.
* Markdown (:func:`conversation_markdown`): the same for people: each turn's
  outcome (Grounded, Not sure, Not in the documents) and confidence, every cited
  span with its short answer, and for a "not sure" turn the closest passages with
  their text.
  Document text (quotes, short answers) sits in fenced code blocks, so a Markdown
  viewer shows it as text and never fetches an image or follows a link hidden in a
  document.

This module formats data only; it does not ask questions or render a page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from rag.answer import Answer, Citation, Passage
from rag.store import ManifestEntry

FORMAT = "rag-conversation/1"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _document_dict(entry: ManifestEntry) -> dict[str, Any]:
    return {
        "source": entry.source,
        "title": entry.title,
        "sha256": entry.sha256,
        "chunks": entry.chunks,
        "chars": entry.chars,
    }


def conversation_dict(
    answers: Sequence[Answer],
    documents: Sequence[ManifestEntry] = (),
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """JSON-ready export: format tag, time, settings, documents, turns."""
    return {
        "format": FORMAT,
        "exported_at": _now(),
        "settings": dict(settings or {}),
        "documents": [_document_dict(d) for d in documents],
        "turns": [answer.to_dict() for answer in answers],
    }


def conversation_json(
    answers: Sequence[Answer],
    documents: Sequence[ManifestEntry] = (),
    settings: dict[str, Any] | None = None,
) -> str:
    """The export as indented JSON text (UTF-8, not ASCII-escaped)."""
    return json.dumps(conversation_dict(answers, documents, settings), ensure_ascii=False, indent=2)


def answers_from_json(text: str) -> list[Answer]:
    """The answers of a :func:`conversation_json` export."""
    return [Answer.from_dict(turn) for turn in json.loads(text).get("turns", [])]


def fenced(text: str) -> str:
    """*text* in a fenced block that no backtick run inside it can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _one_line(text: str) -> str:
    # Titles and questions go into headings and list items: one line, no markup.
    return " ".join(text.split()).replace("`", "'")


def _document_markdown(doc: ManifestEntry) -> str:
    name = f"`{_one_line(doc.title)}` (`{_one_line(doc.source)}`"
    return f"- {name}, {doc.chunks} chunks, sha256 `{doc.sha256}`)"


def _citation_markdown(cite: Citation) -> str:
    lines = [
        f"- [{cite.id}] `{_one_line(cite.title)}` (`{_one_line(cite.source)}`), "
        f"characters {cite.start}-{cite.end} "
        f"(passage {cite.passage_start}-{cite.passage_end}), "
        f"document sha256 `{cite.doc_sha256}`",
        "",
        fenced(cite.quote),
    ]
    if cite.short_answer:
        where = f"characters {cite.answer_start}-{cite.answer_end}"
        lines += ["", f"Short answer ({where}):", "", fenced(cite.short_answer)]
    return "\n".join(lines)


def _passage_markdown(passage: Passage) -> str:
    # The text too: offsets alone do not let a reader of the export judge the passage.
    head = (
        f"- #{passage.rank} `{_one_line(passage.title)}` (`{_one_line(passage.source)}`), "
        f"characters {passage.start}-{passage.end}, document sha256 `{passage.doc_sha256}`"
    )
    return f"{head}\n\n{fenced(passage.text)}\n"


def _status(answer: Answer) -> str:
    """'Grounded, confidence 83%', 'Not sure, best sentence 41%' or 'Not in the documents'."""
    if answer.confidence is None or answer.outcome == "not_found":
        return answer.label
    what = "confidence" if answer.outcome == "answered" else "best sentence"
    return f"{answer.label}, {what} {answer.confidence:.0%}"


def _model_markdown(answer: Answer) -> list[str]:
    """Model, settings, timings and the citation check's outcome (generated answers only)."""
    info = answer.info
    if not info.model:
        return []
    from rag.answering.generate import check_note

    settings = ", ".join(f"{k}={v}" for k, v in info.model_settings.items())
    first, total = answer.timings_ms.get("first_token", 0), answer.timings_ms.get("total", 0)
    spec = _one_line(info.spec or answer.mode)
    lines = [
        f"Model: `{_one_line(info.model)}` (`{spec}`; {settings}); "
        f"first token {first:.0f} ms, total {total:.0f} ms.",
        "",
        f"Citation check: {check_note(answer)}.",
        "",
    ]
    for item in info.unsupported:
        lines += [f"Removed ({item.reason}):", "", fenced(item.sentence), ""]
    return lines


def _turn_markdown(number: int, answer: Answer) -> str:
    lines = [f"## {number}. `{_one_line(answer.question)}`", ""]
    if answer.info.condensed_by.startswith("unsure: "):
        what = _one_line(answer.info.condensed_by.removeprefix("unsure: "))
        lines += [f"Asked as typed: not sure what `{what}` refers to.", ""]
    elif answer.standalone_question and answer.standalone_question != answer.question:
        lines += [f"Understood as: `{_one_line(answer.standalone_question)}`", ""]
    lines += [f"Answer ({_status(answer)}; mode {answer.mode}):", "", fenced(answer.answer), ""]
    lines += _model_markdown(answer)
    if answer.citations:
        lines += ["Cited spans:", ""]
        lines += [_citation_markdown(c) + "\n" for c in answer.citations]
    if answer.outcome == "unsure" and answer.passages:
        lines += ["Closest passages (not an answer):", ""]
        lines += [_passage_markdown(p) for p in answer.passages] + [""]
    return "\n".join(lines)


def conversation_markdown(
    answers: Sequence[Answer],
    documents: Sequence[ManifestEntry] = (),
    settings: dict[str, Any] | None = None,
) -> str:
    """A readable export: documents with hashes, then each question, answer and cited span."""
    lines = ["# Conversation export", "", f"Exported {_now()}."]
    if settings:
        lines.append("Settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()) + ".")
    lines += ["", "## Documents", ""]
    lines += [_document_markdown(d) for d in documents] or ["(none)"]
    lines.append("")
    lines += [_turn_markdown(n, a) for n, a in enumerate(answers, start=1)]
    return "\n".join(lines).rstrip() + "\n"
