"""Resolve follow-up questions against the conversation, without an LLM.

A question is rewritten only when it cannot be understood alone:

* it opens elliptically ("What about X?", "And at the works?") or has no content of
  its own ("Why?", "How so?");
* or it holds a pointer ("she", "it", "they", "there", "that"...) whose antecedent is
  not inside the question itself. "How many people lost their jobs when the mill
  closed?" and "Why did the council close its baths?" are complete; so are "Why
  did the mill close?", existential "Is there a ...?" and "the thing that ...".

A pointer is then replaced by the right kind of antecedent from the last turns (up to
:data:`LOOKBACK` turns with content; greetings are skipped): person pronouns by a
person (a name with a title, a role noun or a later "he"/"she", or a multi-word name
that is no place or organisation; never a place or organisation), "it" by the
last non-person thing, "they" by the last plural group or organisation, "there" by
the last place. "It" and "they" never resolve to a person, nor to a phrase that
describes one ("Ada Lowe, a former nurse, who ..."); "he" and "she" never to a person
the conversation calls the other (:mod:`rag.followup.gender`). The antecedent is looked
for in the earlier question first, except that the answer comes first when the
question asked for that kind of thing ("Who ...?" for a person, "Where ...?" for a
place). "And X?" and "What about X?" put X in the place of its counterpart in the
previous question (:mod:`rag.followup.frames`: "And in Austin?" after "What is the
hotel limit in London?" reads "What is the hotel limit in Austin?").

When the resolver is unsure (a pointer with no fitting antecedent, an "And X?" with
no counterpart, a bare "Why?"), the question is asked exactly as typed, and the
:class:`Resolution` says so (``unsure``, ``unresolved``) for the page to show; no
words are appended. Anything else, greetings included, is returned unchanged.

Names are found by capitalisation and the words around them ("in X" marks a place,
head words like Bridge, Street, Council or Club mark places and organisations); the
word lists are general English, nothing specific to one document. (spaCy's
``en_core_web_sm`` was measured in their place for entity kinds and did worse on the
follow-up dev set: see ``eval/followups/README.md``.) This module does
not retrieve or answer; an LLM-based condenser (:mod:`rag.followup.rewrite`) may replace it.
"""

from __future__ import annotations

from rag.followup.mentions import mentions
from rag.followup.pointers import depends_on_history
from rag.followup.resolve import condense, resolve
from rag.followup.turns import Resolution, Turn, as_turns
from rag.followup.words import LOOKBACK

__all__ = [
    "LOOKBACK",
    "Resolution",
    "Turn",
    "as_turns",
    "condense",
    "depends_on_history",
    "mentions",
    "resolve",
]
