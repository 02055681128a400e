"""Elliptical follow-ups read inside the previous question: "And in Austin?", "What about the Pro?".

The filler (what follows "And" or "What about") takes the place of its counterpart in
the previous question (the *frame*), so that after "What is the hotel limit in London?"
"And in Austin?" reads "What is the hotel limit in Austin?", never "...in London in
Austin?". The counterpart is, in order:

* after a preposition ("in Austin"): what follows the same preposition in the frame,
  when it is the same sort of thing (a name for a name, a number for a number); with
  no such phrase the filler is added at the end ("And at the works?");
* after "its"/"their"/"his"/"her" ("And its email address?"): what the frame says a
  possessor has ("the museum's telephone number" -> "the museum's email address");
* a name ("Edinburgh", "the Pro"): the frame's one name of the same kind, or its only
  name;
* a common noun phrase ("international travel", "the canal"): the frame's phrase with
  the same head noun ("domestic travel"), or the frame's only phrase.

When none fits, :func:`fill_frame` returns None and the caller asks the question as it
was. This module does not resolve pronouns (:mod:`rag.followup.resolve` does).
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.followup.mentions import Mention, Tok, mentions, strip_possessive, tokens
from rag.followup.words import (
    ELLIPTIC_OPENING,
    FUNCTION_WORDS,
    LOCATIVE,
    PERSON,
    POSSESSIVES,
    SOFT_OPENING,
    TEMPORAL,
    TIME,
    word_set,
)

_PREPOSITIONS = LOCATIVE | TEMPORAL | word_set("for by with about over under")
Edit = tuple[int, int, str]


def splice(text: str, edits: Sequence[Edit]) -> str:
    """*text* with each ``(start, end, new)`` span replaced; every other character kept."""
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def filler(question: str) -> str:
    """What follows the opening: "in Austin" of "And in Austin?"."""
    rest = ELLIPTIC_OPENING.sub("", question, count=1)
    return SOFT_OPENING.sub("", rest, count=1).strip().rstrip("?").strip()


def _usable(m: Mention) -> bool:
    """A frame mention that can be swapped out (not the wh-phrase, a date or a time)."""
    return not (m.wh or m.temporal or m.kind == TIME)


def _numeric(text: str) -> bool:
    return text[:1].isdigit()


def _same_sort(a: Mention | None, b: Mention | None, a_text: str, b_text: str) -> bool:
    """Two objects of one preposition are alike: names, numbers or phrases, not a mix."""
    if _numeric(a_text) or _numeric(b_text):
        return _numeric(a_text) == _numeric(b_text)
    if a is None or b is None:
        return a is b
    if PERSON in (a.kind, b.kind) and a.name and b.name:
        return a.kind == b.kind
    return a.name == b.name


def _after_preposition(frame: str, ftoks: Sequence[Tok], fill: str) -> str:
    """ "in Austin": the frame's "in London" becomes "in Austin"; no "in ..." -> added."""
    ftoks_fill = tokens(fill)
    word, obj = ftoks_fill[0].low, fill[ftoks_fill[1].start :] if len(ftoks_fill) > 1 else ""
    new = _first_at(mentions(f"in {obj}"), 1)
    for i in reversed(range(len(ftoks) - 1)):
        if ftoks[i].low != word:
            continue
        old = _first_at(mentions(frame), i + 1)
        end = ftoks[old.end - 1].end if old else _phrase_end(ftoks, i + 1)
        old_text = frame[ftoks[i + 1].start : end]
        if obj and _same_sort(old, new, old_text, obj):
            return splice(frame, [(ftoks[i + 1].start, end, obj)])
    return f"{frame} {fill}"


def _first_at(found: Sequence[Mention], index: int) -> Mention | None:
    return next((m for m in found if m.lead == index), None)


def _phrase_end(toks: Sequence[Tok], i: int) -> int:
    """End offset of the words from *i* up to the next function word or punctuation."""
    j = i
    while j < len(toks) and not toks[j].punct and (j == i or toks[j].low not in FUNCTION_WORDS):
        j += 1
    return toks[j - 1].end


def _possessed(frame: str, ftoks: Sequence[Tok], fill: str) -> str | None:
    """ "its email address": the words after the frame's "the museum's" are replaced."""
    owned = fill.split(maxsplit=1)[1] if " " in fill else ""
    for i, t in enumerate(ftoks):
        if t.text.endswith(("’s", "'s")) and i + 1 < len(ftoks) and owned:
            return splice(frame, [(ftoks[i + 1].start, _phrase_end(ftoks, i + 1), owned)])
    return None


def _counterpart(
    frame_mentions: Sequence[Mention], new: Mention | None, fill: str
) -> Mention | None:
    """The frame mention that a name or phrase replaces (None when unclear)."""
    usable = [m for m in frame_mentions if _usable(m)]
    names = [m for m in usable if m.name]
    usable = [m for m in usable if not m.nested]  # "London" of "the limit in London": a name
    if new is not None and new.name:
        same = [m for m in names if m.kind == new.kind]
        if len(same) == 1:
            return same[0]
        clash = (
            len(names) == 1 and PERSON in (new.kind, names[0].kind) and new.kind != names[0].kind
        )
        return names[0] if len(names) == 1 and not clash else None
    head = strip_possessive(fill.rsplit(maxsplit=1)[-1].lower())
    headed = [m for m in usable if strip_possessive(m.text.split()[-1].lower()) == head]
    if len(headed) == 1:
        return headed[0]
    return usable[0] if len(usable) == 1 and new is not None else None


def _same_head(frame: str, ftoks: Sequence[Tok], fill: str) -> str | None:
    """ "international travel" for "domestic travel": the words ending at the same head."""
    words = fill.split()
    head = words[-1].lower()
    for i in reversed(range(len(ftoks))):
        if ftoks[i].low != head:
            continue
        k = i
        while k > i - len(words) + 1 and k > 0:
            prev = ftoks[k - 1]
            if prev.punct or prev.cap or prev.low in FUNCTION_WORDS:
                break
            k -= 1
        return splice(frame, [(ftoks[k].start, ftoks[i].end, fill)])
    return None


def fill_frame(question: str, frame: str) -> str | None:
    """*question* ("And X?", "What about X?") read as *frame* about X, or None if unclear."""
    fill = filler(question)
    frame = frame.rstrip().rstrip("?").rstrip()
    if not fill or not frame:
        return None
    ftoks, first = tokens(frame), tokens(fill)[0].low
    if first in _PREPOSITIONS:
        return _after_preposition(frame, ftoks, fill) + "?"
    if first in POSSESSIVES:
        found = _possessed(frame, ftoks, fill)
        return found + "?" if found else None
    offset = len(question) - len(question.lstrip()) + question.lstrip().find(fill)
    qtoks = tokens(question)
    at = next((k for k, t in enumerate(qtoks) if t.start >= offset), len(qtoks))
    new = _first_at(mentions(question), at)
    target = _counterpart(mentions(frame), new, fill)
    if target is not None:
        return splice(frame, [(ftoks[target.lead].start, ftoks[target.end - 1].end, fill)]) + "?"
    found = _same_head(frame, ftoks, fill)
    return found + "?" if found else None
