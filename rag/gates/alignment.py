"""Whether a passage names what the question names: its numbers and its proper names.

"Who won the race in 2019?" is not answered by the race of 2018, and "Why did Norway
act?" not by a passage about Britain. Numbers match as written or, up to twenty, as a
word ("3" / "three") or a Roman numeral ("Type 1" / "Type I"); names match by
:func:`rag.gates.words.in_text` (stems, demonyms, initialisms, one typo), and also when
the text holds the initials of the question's run of names ("European Central Bank" /
"ECB"), the run written as one word ("Apple Talk" / "AppleTalk"), or every part of a
hyphenated name ("MHC-antigen" / "MHC:antigen").

This module compares names and numbers only; which text it is given (the sentence, the
passage, the title) is decided by :func:`rag.gates.check`.
"""

from __future__ import annotations

import functools
import re

from rag.gates.words import NAME, STOPWORDS, in_text, tokens

_ROMAN = dict(
    enumerate("- I II III IV V VI VII VIII IX X XI XII XIII XIV XV XVI XVII XVIII XIX XX".split())
)
_ROMAN_VALUE = {numeral: value for value, numeral in _ROMAN.items() if value}
_DIGIT_WORDS = dict(
    enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
)


# The question-level helpers below run once per candidate sentence (dozens per question)
# on the same question text: they are pure, so each question is analysed once.
@functools.lru_cache(maxsize=256)
def question_names(question: str) -> tuple[str, ...]:
    """Capitalised words of the question other than its first word and function words."""
    names = []
    for match in NAME.finditer(question):
        word = match.group().strip(".")
        if match.start() == 0 or word.lower() in STOPWORDS or len(word) < 2:
            continue
        names.append(word)
    return tuple(names)


@functools.lru_cache(maxsize=256)
def question_numbers(question: str) -> tuple[str, ...]:
    """Numbers written in digits in the question (years, counts, amounts)."""
    return tuple(re.findall(r"(?<![\w.-])\d+(?:[.,]\d+)*", question))


def _as_written(number: str) -> re.Pattern[str]:
    """*number* as written, not as part of a longer one (2019, not 12019 or 2019.5)."""
    return re.compile(rf"(?<![\d.,]){re.escape(number)}(?![\d])")


def mentions_number(number: str, text: str) -> bool:
    """True when *text* states *number* (not as part of a longer one), its word or numeral."""
    if _as_written(number).search(text):
        return True
    if not number.isdigit() or int(number) not in _DIGIT_WORDS:
        return False
    word = _DIGIT_WORDS[int(number)]
    if re.search(rf"\b{word}\b", text, re.I):
        return True
    return int(number) > 0 and _ROMAN[int(number)] in _numerals(text)


# "double the figure for 2019": the figure of 2019 is only implied (half of the one stated).
_RELATIVE = re.compile(
    r"\b(twice|double|triple|treble|quadruple|half|third|quarter|times|more than|less than|"
    r"fewer than|higher than|lower than|above|below|up on|down on)\s+(the\s+|that\s+)?"
    r"(figure|number|total|level|amount|count|rate|tally)s?\b[^.;,]{0,40}",
    re.I,
)


def only_relative(number: str, text: str) -> bool:
    """*text* names *number* (a year, say) only as the base of a comparison.

    "Visits reached 40,000, double the figure for 2019" states the figure of 2021 and
    leaves that of 2019 to arithmetic: it does not say how many came in 2019.
    """
    said = [m.start() for m in _as_written(number).finditer(text)]
    spans = [m.span() for m in _RELATIVE.finditer(text)]
    return bool(said) and all(any(a <= at <= b for a, b in spans) for at in said)


def _numerals(text: str) -> set[str]:
    """Roman numerals of *text*: II and longer anywhere, I, V and X only after a name.

    A lone I is usually the pronoun; after a capitalised word that is not a function
    word ("Type I", "Phase I", "World War I") it is a number.
    """
    words = tokens(text)
    found = set()
    for before, word in zip(["", *words], words, strict=False):
        if word not in _ROMAN_VALUE:
            continue
        after_name = before[:1].isupper() and before.lower() not in STOPWORDS
        if len(word) > 1 or after_name:
            found.add(word)
    return found


def missing_names(question: str, text: str) -> list[str]:
    """Names *question* uses that *text* does not mention (see the module docstring)."""
    words = tokens(text)
    runs = _name_runs(question)
    return [name for name in question_names(question) if not _mentioned(name, words, runs, text)]


def _mentioned(name: str, words: list[str], runs: tuple[tuple[str, ...], ...], text: str) -> bool:
    if in_text(name, words):
        return True
    if name in _ROMAN_VALUE:
        return mentions_number(str(_ROMAN_VALUE[name]), text)
    parts = [p for p in name.split("-") if len(p) >= 2]
    if len(parts) > 1 and all(in_text(p, words) for p in parts):
        return True
    run = next((r for r in runs if name in r), ())
    return bool(_initials_with(name, run) & set(words)) or _joined(name, run, words)


@functools.lru_cache(maxsize=256)
def _name_runs(question: str) -> tuple[tuple[str, ...], ...]:
    """Runs of adjacent capitalised words of *question* (European Central Bank)."""
    runs: list[tuple[str, ...]] = []
    run: list[str] = []
    for word in [*tokens(question), "."]:
        if word[:1].isupper():
            run.append(word)
            continue
        if len(run) > 1:
            runs.append(tuple(run))
        run = []
    return tuple(runs)


def _initials_with(name: str, run: tuple[str, ...]) -> set[str]:
    """Initials of every stretch of *run* that holds *name* (ECB, CB for European Central Bank)."""
    names = [w for w in run if w.lower() not in STOPWORDS]
    if name not in names:
        return set()
    at = names.index(name)
    return {
        "".join(w[0] for w in names[i:j])
        for i in range(at + 1)
        for j in range(max(at + 1, i + 2), len(names) + 1)
    }


def _joined(name: str, run: tuple[str, ...], words: list[str]) -> bool:
    """*name* and its neighbour in *run* written as one word of *words* (AppleTalk)."""
    if name not in run:
        return False
    i = run.index(name)
    pairs = [run[j] + run[j + 1] for j in (i - 1, i) if 0 <= j < len(run) - 1]
    said = {w.lower() for w in words}
    return any(p.lower() in said for p in pairs)
