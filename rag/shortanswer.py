"""Find the words inside a quoted sentence that answer the question (the "short answer").

By what the question asks for (:func:`rag.gates.question_kind`):

* a number -> the first number the question does not already hold, with its unit or the
  counted noun the question names ("2,000 people", "£22 million", "10 years");
* a time -> the first date, year, month, weekday, century or clock time it does not hold;
* a person or place -> the first run of capitalised words the question does not name;
* anything else -> the words right after the part of the sentence that repeats the
  question ("aimed at alleviating *the ongoing migrant crisis*"), or right before it.

Offsets are into the sentence; the answerer turns them into source offsets. It returns
None rather than guess when nothing fits. It never changes the sentence, and it does not
decide whether the sentence answers (see :mod:`rag.gates` and :mod:`rag.verifier`).
"""

from __future__ import annotations

import itertools
import re

from rag import gates

CharRange = tuple[int, int]

_UNITS = (
    r"%|percent|per cent|million|billion|trillion|thousand|hundred|km|kilometres|kilometers|"
    r"miles|metres|meters|feet|kg|tonnes|tons|years|months|weeks|days|hours|minutes|seconds"
)
_NUMBER_WORD = "|".join(gates.NUMBER_WORDS)
_NUMBER = re.compile(
    rf"(?:[£$€¥]\s?)?(?:\d[\d,.]*\d|\d)(?:\s?(?:{_UNITS})\b)*"
    rf"|\b(?:(?:{_NUMBER_WORD})[\s-]?)+(?:(?:{_UNITS})\b)?",
    re.I,
)
# "May" is a month only next to a day or year ("May 4", "in May 2015"): else a name.
_MONTH = (
    "January|February|March|April|June|July|August|September|October|November|December|"
    r"May(?=\s+\d)|(?<=\d\s)May|(?<=in\s)May"
)
_DAY = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_TIME = re.compile(
    rf"(?:(?:{_DAY}),?\s+)?(?:\d{{1,2}}\s+)?(?:{_MONTH})(?:\s+\d{{1,2}}(?:st|nd|rd|th)?\b)?"
    rf"(?:,?\s+\d{{3,4}})?"
    r"|(?:(?:early|late|mid-?)\s*)?(?:the\s+)?\d{1,2}(?:st|nd|rd|th)\s+century"
    r"|(?:the\s+)?(?:early|late|mid-?)\s*\d{4}s?"
    r"|\b\d{3,4}s?\b(?:\s?(?:BC|BCE|AD|CE)\b)?"
    rf"|\b(?:{_DAY})\b"
    r"|\b\d{1,2}(?::\d{2})?\s?(?:am|pm|a\.m\.|p\.m\.)"
    r"|\b(?:today|tomorrow|yesterday|tonight|\w+ (?:years?|months?|weeks?|days?) ago)\b",
)
_CAPITAL_RUN = re.compile(
    r"[A-Z][\w'’.-]*(?:\s+(?:of|the|de|von|van|du|da|and|for|on)?\s*[A-Z][\w'’.-]*)*"
)
_WORD = re.compile(r"[\w'’-]+")
_CLAUSE_END = re.compile(r"[,;:()\[\]—–]|\s-\s|\.$")
_MAX_PHRASE_WORDS = 8
# "Which Home Secretary ...?", "What crime ...?": the answer is a thing the question names.
_NAMES_A_THING = re.compile(r"\b(which|what)\s+(?!(is|are|was|were|do|does|did)\b)\w", re.I)


def short_answer(question: str, sentence: str) -> CharRange | None:
    """Offsets of the answering words in *sentence*, or None."""
    kind = gates.question_kind(question)
    if kind == "number":
        return _first_new(_NUMBER, sentence, question, counted=True)
    if kind == "time":
        return _first_new(_TIME, sentence, question)
    if kind in ("person", "place"):
        return _first_name(sentence, question)
    return _phrase(sentence, question)


def _asked(question: str) -> set[str]:
    return {gates.stem(w) for w in _WORD.findall(question)}


def _first_new(
    pattern: re.Pattern[str], sentence: str, question: str, counted: bool = False
) -> CharRange | None:
    spans = []
    for match in pattern.finditer(sentence):
        text = match.group().strip()
        if not text or text.lower() in question.lower():
            continue
        start = match.start() + (len(match.group()) - len(match.group().lstrip()))
        spans.append((start, start + len(text)))
    if not counted or not spans:
        return spans[0] if spans else None
    # A count: the number before the noun the question counts, else one that is no year.
    nouns = [_with_counted_noun(sentence, question, span) for span in spans]
    for span, with_noun in zip(spans, nouns, strict=True):
        if with_noun != span:
            return with_noun
    years = [bool(re.fullmatch(r"1\d{3}|20\d{2}", sentence[a:b])) for a, b in spans]
    return next((span for span, year in zip(spans, years, strict=True) if not year), spans[0])


def _with_counted_noun(sentence: str, question: str, span: CharRange) -> CharRange:
    """Extend "2,000" to "2,000 people" when the question counts people."""
    following = re.match(r"\s+([\w'’-]+)", sentence[span[1] :])
    if not following or following.group(1).lower() in gates.STOPWORDS:
        return span
    if gates.stem(following.group(1)) in _asked(question):
        return span[0], span[1] + following.end()
    return span


def _first_name(sentence: str, question: str) -> CharRange | None:
    asked = _asked(question)
    for match in _CAPITAL_RUN.finditer(sentence):
        words = _WORD.findall(match.group())
        if match.start() == 0 and words[0].lower() in gates.STOPWORDS:
            rest = match.group()[len(words[0]) :].lstrip()
            if not rest:
                continue
            start = match.end() - len(rest)
        else:
            start = match.start()
        text = sentence[start : match.end()].rstrip(".")
        if all(gates.stem(w) in asked for w in _WORD.findall(text)):
            continue
        return start, start + len(text)
    return None


def _phrase(sentence: str, question: str) -> CharRange | None:
    """New words between, after or before the words the question repeats.

    A gap between two repeated words ("Home Secretary *Theresa May* will visit Calais")
    is the likeliest answer, then the words after the last repeated one, then before.
    """
    asked = _asked(question) - {gates.stem(w) for w in gates.STOPWORDS}
    spelled = asked | _expanded_initialisms(sentence, question)  # "European Union" for EU
    words = list(_WORD.finditer(sentence))
    seen = [i for i, w in enumerate(words) if gates.stem(w.group()) in asked]
    if not seen:
        return None
    names_a_thing = _NAMES_A_THING.search(question)
    for left, right in itertools.pairwise(seen):
        if not names_a_thing:
            break
        gap = words[left + 1 : right]
        if gap and any(w.group()[0].isupper() for w in gap):
            found = _run(sentence, words, left + 1, spelled, step=1)
            if found:
                return found
    after = _run(sentence, words, seen[-1] + 1, spelled, step=1)
    return after or _run(sentence, words, seen[0] - 1, asked, step=-1)


def _expanded_initialisms(sentence: str, question: str) -> set[str]:
    """Stems of sentence words whose capitals spell an acronym of the question (EU)."""
    acronyms = {w for w in _WORD.findall(question) if w.isupper() and 2 <= len(w) <= 6}
    found: set[str] = set()
    for match in _CAPITAL_RUN.finditer(sentence):
        words = [w for w in _WORD.findall(match.group()) if w[0].isupper()]
        for i in range(len(words)):
            for j in range(i + 2, len(words) + 1):
                if "".join(w[0] for w in words[i:j]) in acronyms:
                    found |= {gates.stem(w) for w in words[i:j]}
    return found


def _run(
    sentence: str, words: list[re.Match[str]], first: int, asked: set[str], step: int
) -> CharRange | None:
    """Up to a clause boundary or a question word, skipping function words at the edge."""
    picked: list[re.Match[str]] = []
    i = first
    while 0 <= i < len(words) and len(picked) < _MAX_PHRASE_WORDS:
        word = words[i]
        if gates.stem(word.group()) in asked:
            break
        content = [w for w in picked if w.group().lower() not in gates.STOPWORDS]
        function = word.group().lower() in gates.LEADING_FUNCTION_WORDS and word.group().islower()
        if step > 0 and content and function:
            break
        if picked:
            left, right = (picked[-1], word) if step > 0 else (word, picked[-1])
            if _CLAUSE_END.search(sentence[left.end() : right.start()]):
                break
        picked.append(word)
        i += step
    picked.sort(key=lambda m: m.start())
    while picked and picked[0].group() in gates.LEADING_FUNCTION_WORDS:
        picked.pop(0)
    while picked and picked[-1].group() in gates.STOPWORDS:
        picked.pop()
    if not picked:
        return None
    return picked[0].start(), picked[-1].end()
