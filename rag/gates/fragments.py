"""Whether a sentence is a statement at all, or a heading, a title or a fragment.

A line is not an answer when it is a Markdown heading or rule, the document's own title,
a line without a verb and without closing punctuation (menus, captions), or a short or
title-cased line without closing punctuation (list labels). A full stop says "sentence":
verbs are an open class, so a closed line without a recognised verb still passes.

This module looks at the sentence and the title only; it does not read the question
(see :mod:`rag.gates.kinds` and :mod:`rag.gates.alignment` for that).
"""

from __future__ import annotations

import re

from rag.gates.words import STOPWORDS, normal, tokens

_AUX = (
    "is are was were be been being am has have had do does did will would shall should "
    "can could may might must ought need needs used"
)
_IRREGULAR = (
    "arose awoke bore beat became began bent bet bit bled blew broke brought built burnt "
    "bought caught chose came cost crept cut dealt dug drew dreamt drank drove ate fell fed "
    "felt fought found fled flew forbade forgot forgave froze got gave went ground grew hung "
    "heard hid hit held hurt kept knelt knew laid led leant leapt learnt left lent let lay "
    "lit lost made meant met paid put quit read rode rang rose ran said saw sought sold sent "
    "set shook shone shot showed shut sang sank sat slept slid spoke spent spun split spread "
    "sprang stood stole stuck stung struck swore swept swam swung took taught tore told "
    "thought threw understood woke wore wove wept won wound wrote lies runs gets goes says "
    "makes takes comes gives holds keeps leads means meets pays puts sets stands tells "
    "thinks wins writes grows knows shows seems serves lies remains contains includes "
    "consists provides allows requires"
)
_VERB_WORDS = frozenset((_AUX + " " + _IRREGULAR).split())
_VERB_SUFFIX = re.compile(r"^[a-z]{2,}(ed|ing|ise|ize|ises|izes|ates)$")
_END = re.compile(r"[.!?…:;\"'”’)\]]\s*$")


def _has_verb(words: list[str]) -> bool:
    return any(
        w.lower() in _VERB_WORDS or (w.islower() and _VERB_SUFFIX.match(w.lower())) for w in words
    )


def _title_cased(words: list[str]) -> bool:
    content = [w for w in words if w.lower() not in STOPWORDS]
    return bool(content) and sum(w[0].isupper() for w in content) >= 0.75 * len(content)


def fragment_reason(sentence: str, title: str = "") -> str:
    """Why *sentence* is a heading, title or fragment rather than a statement ('' if not)."""
    text = sentence.strip()
    if text.startswith("#") or re.match(r"^(=+|-{3,}|\*{3,})$", text):
        return "a heading"
    body = text.strip("#*_ \t")
    if title and normal(body) == normal(title):
        return "the document's title"
    words = tokens(body)
    closed = bool(_END.search(body))
    if not _has_verb(words) and not closed:  # a full stop says "sentence" (verbs are open-ended)
        return "a fragment without a verb"
    if not closed and (len(words) <= 3 or _title_cased(words)):
        return "a heading or label"
    return ""
