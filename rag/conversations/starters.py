"""Example questions to start a conversation, built from the documents' own text.

From each document, best first: its Markdown headings ("What does <title> say about
<heading>?"), its sentences read as subject + auxiliary + verb ("May will visit Calais"
-> "What will May visit?"), the noun phrases its sentences open with, and last "What is
<title> about?". Documents take turns, so every document offers one before any offers
two. There is no rule about any particular document.

This module only writes questions; it does not store them, answer them or check that
the documents can answer them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from itertools import takewhile

from rag.chunking import split_sentences

_AUXILIARIES = frozenset(
    "will would can could should must may might has have had is are was were".split()
)
_DETERMINERS = frozenset("the a an this that these those".split())
_NOT_VERBS = frozenset("be been being not also so already now still just never ever yet".split())
_PRONOUNS = frozenset("it its he she they them his her their there we our you i".split())
_WORD = re.compile(r"[A-Za-z][\w’'.-]*\Z")
_MD_HEADING = re.compile(r"^#{1,6}\s+(.+?)[\s#]*$", re.M)
_TITLE_CUT = re.compile(r"\s*(?::|\s[-–—|]\s)")
MAX_EXAMPLE_CHARS = 120
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
    named = (rest and rest[0][:1].isupper()) or re.search(rf"[\w,;]\s+{re.escape(first)}\b", text)
    common = first.lower() in _DETERMINERS or not named
    return " ".join([first.lower() if common else first, *rest])


def _leading_subject(words: list[str]) -> list[str]:
    """The noun phrase a sentence opens with: a determiner and a noun, or capitalised words."""
    if not words or not _WORD.match(words[0]) or words[0].lower() in _PRONOUNS:
        return []
    if words[0].lower() in _DETERMINERS:
        return words[:2] if len(words) > 2 and _WORD.match(words[1]) else []
    subject = list(takewhile(lambda w: w[:1].isupper() and bool(_WORD.match(w)), words))
    return subject if len(subject) <= 5 else []


def _verb_question(words: list[str], text: str) -> str | None:
    """Subject + auxiliary + verb: 'May will visit Calais' -> 'What will May visit?'.

    Passives ("was mended"), adverbs ("has so far") and pronoun subjects give None.
    """
    for i, word in enumerate(words[1:7], start=1):
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


def _document_questions(title: str, text: str) -> Iterator[str]:
    """Questions a reader could ask of one document, best first."""
    text = text[:_SCAN_CHARS]
    name = short_title(title)
    for heading in _MD_HEADING.findall(text):
        if heading.strip() != title.strip():
            yield f"What does {name} say about {heading.strip()}?"
    first_line = len(text.split("\n", 1)[0])
    sentences = [s.text for s in split_sentences(text) if s.start >= first_line]
    for sentence in sentences:
        question = _verb_question(_words(sentence), text)
        if question:
            yield question
    for sentence in sentences:
        subject = _leading_subject(_words(sentence))
        if subject:
            yield f"What does {name} say about {_subject_case(subject, text)}?"
    yield f"What is {name} about?"


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
