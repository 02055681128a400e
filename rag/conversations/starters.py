"""Example questions to start a conversation, written as a person would ask them.

From each document, best first: its own questions (an FAQ's ``Q:`` lines, headings or
lines that end in "?") as they are; its label lines (``Effective date: 1 March`` ->
"What is the effective date?"; a label of one word, or a name, says too little to ask
about and is skipped); and its sentences read as subject + auxiliary + verb ("May will
visit Calais" -> "What will May visit?"). Lines are read through the Markdown parser
(markup, list markers and heading marks removed) after :func:`rag.documents.structure.reflow`.
Documents take turns, so every document offers one before any offers two. There is no
rule about any particular document.

This module only writes candidates; it does not store them, and it does not check that
the documents answer them (the page asks each candidate and keeps the Grounded ones).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from markdown_it import MarkdownIt

from rag.documents.chunking import split_sentences
from rag.documents.structure import is_key_value, is_question, reflow

_AUXILIARIES = frozenset(
    "will would can could should must may might has have had is are was were".split()
)
_DETERMINERS = frozenset("the a an this that these those".split())
_NOT_VERBS = frozenset("be been being not also so already now still just never ever yet".split())
_PRONOUNS = frozenset("it its he she they them his her their there we our you i".split())
_WORD = re.compile(r"[A-Za-z][\w’'.-]*\Z")
_QUESTION_PREFIX = re.compile(r"(?:Q|Question)\s*\d*\s*[:.)]\s*", re.IGNORECASE)
_PARENTHESES = re.compile(r"\s*\([^()]*\)")
_MIN_QUESTION_WORDS, _MAX_QUESTION_WORDS = 3, 20
_TITLE_CUT = re.compile(r"\s*(?::|\s[-–—|]\s)")
MAX_EXAMPLE_CHARS = 120
_MAX_SUBJECT_WORDS = 4  # a longer "subject" is a clause ("the group said Europe")
_SCAN_CHARS = 20_000  # only the start of a long document is looked at


def short_title(title: str) -> str:
    """A title's part before a colon or dash: "Fortress Calais: UK, ..." -> "Fortress Calais"."""
    head = _TITLE_CUT.split(title.strip(), maxsplit=1)[0].strip()
    return head[:60].rstrip() or title.strip()[:60]


def _words(sentence: str) -> list[str]:
    return [w.strip(',;:()"“”') for w in sentence.split()]


def _subject_case(subject: list[str], text: str) -> str:
    """The subject as it reads mid-sentence: a capitalised common word is lowered.

    A first word is a name (kept) when the subject goes on in capitals ("Home
    Secretary") or the text capitalises it mid-sentence too ("the British government").
    """
    first, rest = subject[0], subject[1:]
    # Mid-sentence means after a word on the same line (a line start is not mid-sentence).
    mid_sentence = re.search(rf"[\w,;][ \t]+{re.escape(first)}\b", text)
    named = (rest and rest[0][:1].isupper()) or mid_sentence
    common = first.lower() in _DETERMINERS or not named
    return " ".join([first.lower() if common else first, *rest])


def _verb_question(words: list[str], text: str) -> str | None:
    """Subject + auxiliary + verb: 'May will visit Calais' -> 'What will May visit?'.

    Passives ("was mended"), adverbs ("has so far") and pronoun subjects give None.
    """
    for i, word in enumerate(words[1 : _MAX_SUBJECT_WORDS + 1], start=1):
        if word not in _AUXILIARIES or i + 1 >= len(words):
            continue
        subject, verb = words[:i], words[i + 1]
        if not all(_WORD.match(w) for w in subject) or subject[0].lower() in _PRONOUNS:
            return None
        if word in {"is", "are", "was", "were"}:  # "is to build" or "is building", not passives
            if verb == "to" and i + 2 < len(words) and _WORD.match(words[i + 2]):
                verb = f"to {words[i + 2]}"
            elif not verb.endswith("ing"):
                return None
        last = verb.split()[-1]
        if not _WORD.match(last) or verb in _NOT_VERBS or last.endswith("ly"):
            return None
        return f"What {word} {_subject_case(subject, text)} {verb}?"
    return None


def _plain_line(line: str) -> str:
    """A line's text as a reader sees it: Markdown list markers, heading marks, bold gone."""
    tokens = MarkdownIt("commonmark", {"html": False}).parse(line)
    inline = next((t for t in tokens if t.type == "inline"), None)
    if inline is None:
        return ""
    kept = ("text", "code_inline", "html_inline")
    return " ".join("".join(c.content for c in inline.children or [] if c.type in kept).split())


def _own_question(line: str) -> str | None:
    """A question the document asks itself (an FAQ line, a heading), as it is written."""
    if not is_question(line):
        return None
    question = _QUESTION_PREFIX.sub("", line, count=1).strip()
    words = question.split()
    if not question.endswith("?") or not question[:1].isupper():
        return None
    return question if _MIN_QUESTION_WORDS <= len(words) <= _MAX_QUESTION_WORDS else None


def _label_question(line: str, text: str) -> str | None:
    """ "Effective date: 1 March" -> "What is the effective date?"; None for other lines.

    A label of one word ("Owner", "London") or a name says too little to ask about.
    """
    line = _PARENTHESES.sub("", line)  # "Family ticket (two adults ...): £24" -> its label
    if not is_key_value(line) or line.rstrip().endswith("?"):
        return None
    label = line.split(":", 1)[0].strip()
    words = label.split()
    if len(words) < 2 or not all(_WORD.match(w) for w in words):
        return None
    phrase = _subject_case(words, text)
    if phrase.split()[0] != phrase.split()[0].lower():  # a name, not a thing
        return None
    verb = "are" if words[-1].endswith("s") and not words[-1].endswith("ss") else "is"
    return f"What {verb} the {phrase.lower()}?"


def _document_questions(title: str, text: str) -> Iterator[str]:
    """Questions a reader could ask of one document, best first."""
    text = reflow(text[:_SCAN_CHARS])
    lines = [_plain_line(line) for line in text.split("\n")]
    for line in lines:
        question = _own_question(line)
        if question:
            yield question
    for line in lines[1:]:  # the first line is the title: "Harbour works: town to ..."
        question = _label_question(line, text)
        if question:
            yield question
    first_line = len(text.split("\n", 1)[0])
    for sentence in split_sentences(text):
        if sentence.start < first_line or is_question(sentence.text):
            continue
        question = _verb_question(_words(sentence.text), text)
        if question:
            yield question


def example_questions(documents: Sequence[tuple[str, str]], n: int = 3) -> list[str]:
    """Up to *n* questions from *documents* (``(title, text)`` pairs), one per document in turn."""
    streams = [_document_questions(title, text) for title, text in documents]
    chosen: list[str] = []
    while streams and len(chosen) < n:
        for stream in list(streams):
            question = next(stream, None)
            if question is None:
                streams.remove(stream)
            elif len(question) <= MAX_EXAMPLE_CHARS and question.lower() not in {
                q.lower() for q in chosen
            }:
                chosen.append(question)
            if len(chosen) == n:
                break
    return chosen
