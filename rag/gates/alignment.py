"""Whether a passage names what the question names: its numbers and its proper names.

"Who won the race in 2019?" is not answered by the race of 2018, and "Why did Norway
act?" not by a passage about Britain. Numbers match as written or, up to twenty, as a
word ("3" / "three"); names match by :func:`rag.gates.words.in_text` (stems, demonyms,
initialisms, one typo).

This module compares names and numbers only; which text it is given (the sentence, the
passage, the title) is decided by :func:`rag.gates.check`.
"""

from __future__ import annotations

import functools
import re

from rag.gates.words import NAME, STOPWORDS, in_text, tokens

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


def mentions_number(number: str, text: str) -> bool:
    """True when *text* states *number* (not as part of a longer one), or its word."""
    if re.search(rf"(?<![\d.,]){re.escape(number)}(?![\d])", text):
        return True
    word = _DIGIT_WORDS.get(int(number)) if number.isdigit() else None
    return bool(word) and re.search(rf"\b{word}\b", text, re.I) is not None


def missing_names(question: str, text: str) -> list[str]:
    """Names *question* uses that *text* does not mention (stems, initialisms, typos)."""
    words = tokens(text)
    return [name for name in question_names(question) if not in_text(name, words)]
