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
the last place. The antecedent is looked for in the earlier question first, except
that the answer comes first when the question asked for that kind of thing ("Who
...?" for a person, "Where ...?" for a place). "And X?" and "What about X?" put X into
the previous question where it fits. What cannot be resolved keeps its words, and
the retrieval query gets the previous question's topic words. Anything else,
greetings included, is returned unchanged.

Names are found by capitalisation and the words around them ("in X" marks a place,
head words like Bridge, Street, Council or Club mark places and organisations); the
word lists are general English, nothing specific to one document. This module does
not retrieve or answer; an LLM-based condenser (:mod:`rag.condense`) may replace it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from rag.answer import MARKER
from rag.config import REFUSAL, UNSURE
from rag.lexical import STOPWORDS, tokenize

log = logging.getLogger(__name__)

LOOKBACK = 3  # earlier turns with content searched for an antecedent

PERSON, PLACE, ORG, GROUP, THING, TIME, UNKNOWN = (
    "person", "place", "org", "group", "thing", "time", "unknown"
)  # fmt: skip


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# ----- word lists (general English) ------------------------------------------------
TITLES = _words(
    "Mr Mrs Ms Miss Dr Sir Dame Lord Lady Professor Prof King Queen Prince Princess Saint "
    "St Reverend Rev Father Sister Brother President Chancellor Secretary Minister Senator "
    "Governor Mayor General Colonel Captain Judge Justice Chief Commissioner Ambassador "
    "Inspector Sergeant Councillor Alderman Bishop Archbishop Pope Duke Duchess Earl"
)
ROLE_NOUNS = _words(
    "man woman boy girl child person mother father son daughter wife husband brother sister "
    "aunt uncle grandmother grandfather widow friend neighbour student pupil teacher "
    "professor doctor nurse scientist engineer architect designer poet writer author "
    "novelist painter artist sculptor composer musician singer actor actress potter "
    "builder farmer miner weaver clerk lawyer judge priest vicar monk nun bishop mayor "
    "councillor chairman chairwoman chair president secretary treasurer director manager "
    "founder owner partner chief captain coach player rider runner champion member "
    "leader minister politician officer soldier sailor pilot explorer chemist "
    "physicist biologist historian journalist reporter spokesman spokeswoman editor "
    "inventor keeper king queen prince princess migrant refugee interpreter worker tourist "
    "visitor resident citizen voter fan customer supporter"
)
GROUP_NOUNS = _words(
    "family team club council company firm board committee government crew society trust "
    "union band staff police party section army navy community group class jury "
    "parliament cabinet management workforce association department ministry agency "
    "office church school college university institute business partnership "
    "organisation organization charity federation league"
)
PLACE_HEADS = _words(
    "Street Road Lane Square Bridge Ferry Town City Village River Castle Hall Park Station "
    "Hotel Inn Church Abbey Priory Harbour Port Bay Island Isle Coast Lake Mountain Mount "
    "Hill Valley Cape Forest Moor Rock Lighthouse Quay Tower County Province "
    "State Kingdom Republic Ocean Sea Channel Tunnel Airport Works Mill Centre Center "
    "Museum Library Hospital Market Gardens Estate Avenue Cathedral Palace Farm Falls "
    "Beach Heath Common Green Wharf Dock Docks Canal Marsh Fen Downs Crescent Terrace"
)
ORG_HEADS = _words(
    "Council Club Society University Trust Company Ltd Limited Inc Corporation "
    "Party Union Army Navy Agency Office Ministry Government Police Court Bank Association "
    "Institute College School Committee Board Group Department Commission League Team "
    "Federation Foundation Service Services Press International Nations Authority Fund "
    "Assembly Parliament Congress Senate Brigade Regiment Band Orchestra Choir"
)
THING_HEADS = _words(
    "range collection project report plan festival race fund scheme line prize "
    "award museum station bridge castle mill works hall road street canal navigation "
    "railway centre library building shop market school hotel church tower"
)
TIME_NOUNS = _words(
    "year years century centuries decade decades month months week weeks day days morning "
    "evening night afternoon winter summer spring autumn season seasons time times half "
    "quarter period era age moment hour hours minute minutes"
)
MONTHS_DAYS = _words(
    "January February March April May June July August September October November December "
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday"
)
TIME_ADVERBS = _words("today yesterday tomorrow tonight now then ago still already later again")
IRREGULAR_PLURALS = _words("people men women children police staff folk cattle crew")
NOT_PLURAL = _words("works news series species means headquarters physics politics")
LOCATIVE = _words(
    "in at to from near into onto across outside inside towards toward around through via "
    "off within beyond on"
)
TEMPORAL = _words("after before during since until till")
BOUNDARIES = _words(
    "when after before because if while and but or that who which whom whose where until "
    "since so although though once unless whether as than say said says think thinks thought "
    "claim claimed claims believe believed announce announced expect expected hope hoped , ;"
)
AUX = _words(
    "is are was were be been being am do does did has have had will would can could should "
    "may might must shall 's"
)
WH = _words("what which who whom whose when where why how")
DETERMINERS = _words("the a an this these those")
FRAGMENT_EXTRA = _words("much many long often far come else so not exactly then")
GREETINGS = _words(
    "hi hello hey thanks thank you ok okay cheers great good morning afternoon evening bye "
    "goodbye please yes no sure cool nice wow lovely perfect"
)
EXPLETIVE_ADJECTIVES = _words(
    "true possible likely necessary important hard easy difficult worth unusual common "
    "rare known clear right wrong fair safe"
)
EXPLETIVE_VERBS = _words("take takes took cost costs")  # with a later "to": "did it take to"
SENTENCE_OPENERS = _words(
    "however meanwhile today yesterday tomorrow later now then also still instead "
    "afterwards finally eventually moreover furthermore nevertheless yet indeed first "
    "second third last next here there back once since after before while during thus"
)
PERSON_VERBS = _words("born died married retired resigned said says told")
DO_SUPPORT = _words("do does did will would can could should may might must has have had")
IRREGULAR_PAST = _words(
    "went came became began bought brought built caught did drew fell found gave got grew "
    "held kept knew led left lost made met paid put ran rose said sat saw sent set sold "
    "spent stood struck taught told thought took won wrote run done shut cut read taken "
    "shown known grown written drawn given seen fallen broken chosen driven hidden ridden "
    "risen spoken stolen born"
)

_FUNCTION = STOPWORDS | AUX | LOCATIVE | TEMPORAL | DETERMINERS | WH | _words("'s n't not")
_POSSESSIVES = _words("its his her their")
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W_](?:[\w’'&.-]*[^\W_])?[’']?|[?!.,;:()]")
_ELLIPTIC_OPENING = re.compile(r"^\s*(what about|how about)\b[\s,]*", re.I)
_SOFT_OPENING = re.compile(r"^\s*(and|also|but|or|so|then|what else)\b[\s,]*", re.I)
_TOPIC = re.compile(r"\s*\([^()]*\)\s*$")


# ----- turns and results -------------------------------------------------------------
@dataclass(frozen=True)
class Turn:
    """One earlier exchange; ``answer`` may be empty when only questions are known."""

    question: str
    answer: str = ""
    standalone: str = ""


def as_turns(history: Sequence[Any] | None) -> list[Turn]:
    """Accept strings, ``Turn``s, {question, answer} dicts or chat messages."""
    turns: list[Turn] = []
    for item in history or []:
        if isinstance(item, Turn):
            turns.append(item)
        elif isinstance(item, str):
            turns.append(Turn(item))
        elif isinstance(item, dict) and "question" in item:
            turns.append(
                Turn(
                    str(item["question"]),
                    str(item.get("answer") or ""),
                    str(item.get("standalone") or ""),
                )
            )
        elif isinstance(item, dict) and item.get("role") == "user":
            turns.append(Turn(str(item.get("content", ""))))
        elif isinstance(item, dict) and item.get("role") == "assistant" and turns:
            last = turns.pop()
            turns.append(Turn(last.question, str(item.get("content", "")), last.standalone))
    return turns


@dataclass(frozen=True)
class Resolution:
    """How a question reads on its own.

    ``question`` has pointers replaced (scored against sentences);
    ``query`` is the same, plus the previous turn's topic words when something could
    not be resolved (used for retrieval); ``previous_answer`` is the answer the
    follow-up continues from ("" when the question stands alone).
    """

    question: str
    query: str
    previous_answer: str = ""


# ----- tokens and mentions -----------------------------------------------------------
@dataclass(frozen=True)
class Tok:
    """A word or punctuation mark at ``start:end``; ``initial`` when it starts a sentence."""

    text: str
    initial: bool = False
    start: int = 0
    end: int = 0

    @property
    def low(self) -> str:
        return self.text.lower().replace("’", "'")

    @property
    def cap(self) -> bool:
        return self.text[:1].isupper()

    @property
    def punct(self) -> bool:
        return not self.text[:1].isalnum()


def tokens(text: str) -> list[Tok]:
    """Words and punctuation of *text*, sentence starts marked."""
    found: list[Tok] = []
    blanked = MARKER.sub(lambda m: " " * len(m.group()), text)  # offsets stay valid
    for match in _TOKEN.finditer(blanked):
        initial = not found or found[-1].text in ".?!:;" or found[-1].text == "("
        found.append(Tok(match.group(), initial, match.start(), match.end()))
    return found


@dataclass(frozen=True)
class Mention:
    """Something a pointer can refer to, as written in one text.

    ``lead`` is where the mention starts with its determiner and role noun ("the
    engineer Margaret Holloway"), ``start`` where the name itself starts; ``end`` is exclusive.
    """

    text: str
    kind: str
    lead: int
    start: int
    end: int
    plural: bool = False
    wh: bool = False
    place_marked: bool = False
    nested: bool = False
    temporal: bool = False
    person_evidence: bool = False
    thing_evidence: bool = False
    preposition: str = ""
    name: bool = False
    modifier: bool = False
    headed: bool = False
    bare: bool = False


def _plural(word: str) -> bool:
    low = word.lower()
    if low in IRREGULAR_PLURALS:
        return True
    if low in NOT_PLURAL or len(low) <= 3:
        return False
    return low.endswith("s") and not low.endswith(("ss", "us", "is", "'s", "’s"))


def _strip_possessive(word: str) -> str:
    for suffix in ("’s", "'s", "’", "'"):
        if word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _name_runs(toks: Sequence[Tok]) -> list[tuple[int, int]]:
    """Spans of capitalised words, "of"/"the" allowed inside ("Bank of the North")."""
    runs, i = [], 0
    while i < len(toks):
        if not toks[i].cap or toks[i].punct:
            i += 1
            continue
        j = i + 1
        while j < len(toks) and _continues(toks, j):
            j += 1
        runs.append((i, j))
        i = j
    return runs


def _continues(toks: Sequence[Tok], j: int) -> bool:
    if toks[j].cap and not toks[j].punct and not toks[j].initial:
        return True
    return toks[j].low in ("of", "the") and _joins(toks, j)


def _joins(toks: Sequence[Tok], j: int) -> bool:
    """ "of" / "of the" continue a name when a capitalised word follows."""
    k = j + 1
    if toks[j].low == "of" and k < len(toks) and toks[k].low == "the":
        k += 1
    return k < len(toks) and toks[k].cap and not toks[k].punct


def _leading_function_word(tok: Tok) -> bool:
    """ "The", "When", "Hello" open a sentence; mid-sentence "May" or "Will" is a name."""
    never_names = DETERMINERS | LOCATIVE | WH | TEMPORAL
    if tok.low in never_names or tok.low in GREETINGS:
        return True
    return tok.initial and tok.low in _FUNCTION


def _trim_run(toks: Sequence[Tok], i: int, j: int) -> tuple[int, int, bool, bool]:
    """Drop function words and titles from a run: (start, end, titled, opened by a wh-word)."""
    wh = False
    while i < j and _leading_function_word(toks[i]):
        wh, i = wh or toks[i].low in WH, i + 1
    titles = [k for k in range(i, j) if _strip_possessive(toks[k].text).rstrip(".") in TITLES]
    if titles:
        i = titles[-1] + 1  # "Home Secretary Theresa May" -> "Theresa May"
        ofs = [k for k in range(i, j) if toks[k].low == "of"]
        j = ofs[0] if ofs else j  # "Dr Brandt of the Priory crew" -> "Brandt"
    while j > i and toks[j - 1].low in ("of", "the"):
        j -= 1
    return i, j, bool(titles), wh


def _absorb_heads(toks: Sequence[Tok], j: int) -> int:
    """Extend a name over lowercase head nouns: "Ashwick station", "Summer range"."""
    while j < len(toks) and not toks[j].cap and toks[j].low in THING_HEADS | GROUP_NOUNS:
        j += 1
    return j


@dataclass(frozen=True)
class Before:
    """What precedes a name: the word before it, an article, a role noun, where it starts."""

    word: str
    article: bool
    role: str
    lead: int


def _preceding(toks: Sequence[Tok], i: int) -> Before:
    k, role = i - 1, ""
    if k >= 0 and _strip_possessive(toks[k].low) in ROLE_NOUNS:
        role, k = toks[k].low, k - 1
        while k >= 0 and not toks[k].punct and toks[k].low not in _FUNCTION:
            k -= 1  # adjectives before the role noun: "the young engineer"
    lead = k + 1
    while k >= 0 and toks[k].low.isdigit() and k > 0 and toks[k - 1].low in DETERMINERS:
        k -= 1  # "the 1952 Summer Games"
    article = k >= 0 and toks[k].low in DETERMINERS
    if article or (k >= 0 and toks[k].low in _POSSESSIVES):
        lead, k = (k if article else lead), k - 1
    return Before(toks[k].low if k >= 0 else "", article, role, lead)


def _subject_like(toks: Sequence[Tok], i: int) -> bool:
    """The name comes first in its sentence (perhaps after a date: "In 1887 Holloway")."""
    k = i
    while k > 0 and not toks[k - 1].initial:
        k -= 1
    return i - (k - 1 if k else 0) <= 3


def _following_person(toks: Sequence[Tok], i: int, j: int) -> bool:
    """ "X, who", "X, the mayor's daughter,", "X was born", or a later "she" after a subject X."""
    nxt = [t.low for t in toks[j : j + 5]]
    if nxt[:1] == ["who"] or nxt[:2] == [",", "who"]:
        return True
    if nxt[:1] == [","] and any(_strip_possessive(w) in ROLE_NOUNS for w in nxt[1:5]):
        return True
    if any(w in PERSON_VERBS for w in nxt[:3]):
        return True
    if not _subject_like(toks, i):
        return False
    for t in toks[j:]:
        if t.low in ".?!;":
            return False
        if t.low in ("he", "she", "his", "him", "her", "hers", "himself", "herself"):
            return True
    return False


def _following_thing(toks: Sequence[Tok], j: int) -> bool:
    """ "X, which ..." or a later "its" in the same sentence."""
    if [t.low for t in toks[j : j + 2]] in (["which"], [",", "which"]):
        return True
    for t in toks[j:]:
        if t.low in ".?!;":
            return False
        if t.low == "its":
            return True
    return False


def _followed_by_where(toks: Sequence[Tok], j: int) -> bool:
    """ "Stoneham, where ...", "Stoneham on Friday, where ..."."""
    window = [t.low for t in toks[j : j + 6]]
    for k, word in enumerate(window):
        if word in ".?!;":
            return False
        if word == "where" and (k == 0 or window[k - 1] == ","):
            return True
    return False


def _modifier(toks: Sequence[Tok], j: int) -> bool:
    """The name qualifies a noun after it: "his British Army colleagues, ..."."""
    if j >= len(toks) or toks[j].cap or toks[j].punct or toks[j].low in _FUNCTION:
        return False
    word = toks[j].low
    if _verb_like(word):
        return False
    if word in ROLE_NOUNS | GROUP_NOUNS | THING_HEADS:
        return True
    after = toks[j + 1] if j + 1 < len(toks) else None
    return _plural(word) and (after is None or after.punct or after.low in _FUNCTION)


def _name_kind(words: Sequence[str], before: Before, person: bool, where: bool) -> str:
    """Kind of a capitalised name from its head words, the words around it and evidence."""
    heads = {_strip_possessive(w) for w in words}
    if heads & ORG_HEADS:
        return ORG
    if heads & PLACE_HEADS or before.word in LOCATIVE or where:
        return PLACE
    if before.article and not before.role and _plural(words[-1]):
        return ORG  # "the Rovers", "the Beatles"
    if person:
        return PERSON
    if before.article:
        return THING  # "the Lunt Navigation"
    return PERSON if len(words) > 1 else UNKNOWN


def _known(words: Sequence[str], known: frozenset[str]) -> bool:
    """Every word of the name belongs to a name already shown to be a person."""
    return bool(known) and all(w in known for w in words if w[:1].isupper())


DATE_WORDS = _words(
    "in on since until till by of during last next every early late mid from to between "
    "and before after this that each"
)


def _date_like(toks: Sequence[Tok], i: int) -> bool:
    """ "in May", "3 May", "May 2019": a month; "asked May to" is a name."""
    prev = toks[i - 1].low if i else ""
    nxt = toks[i + 1].low if i + 1 < len(toks) else ""
    return prev in DATE_WORDS or prev[:1].isdigit() or nxt[:1].isdigit() or toks[i].initial


def _skip_single(toks: Sequence[Tok], i: int, known: frozenset[str]) -> bool:
    """A lone capitalised word that is no evidence of a name.

    A sentence's first word is skipped unless it is a known name or reads as one:
    "Brandt, known as ... his", "Davies, who ...", "Holloway was born ...".
    """
    tok = toks[i]
    word = _strip_possessive(tok.text)
    if word in known:
        return False
    if word.isupper() and len(word) > 1:
        return True
    if word in MONTHS_DAYS and _date_like(toks, i):
        return True
    if not tok.initial:
        return False
    if word.lower() in SENTENCE_OPENERS or word.lower().endswith("ly"):
        return True
    return not _following_person(toks, i, i + 1)


def _name_mention(
    toks: Sequence[Tok], run: tuple[int, int], known: frozenset[str], question: bool
) -> Mention | None:
    i, j, titled, wh = _trim_run(toks, *run)
    if i >= j:
        return None
    words = [_strip_possessive(t.text) for t in toks[i:j]]
    if j - i == 1 and _skip_single(toks, i, known):
        return None
    before = _preceding(toks, i)
    who_is = question and i == 2 and [t.low for t in toks[:2]] in (["who", "is"], ["who", "was"])
    person = titled or bool(before.role) or who_is or _known(words, known)
    person = person or _following_person(toks, i, j)
    if before.article and not before.role and j - i == 1 and words[0] not in known:
        person = False  # "the Afghan migrant": an adjective, not a person
    kind = _name_kind(words, before, person, _followed_by_where(toks, j))
    end = _absorb_heads(toks, j)
    if end > j and kind in (PERSON, UNKNOWN, THING):
        kind = ORG if toks[end - 1].low in GROUP_NOUNS else THING  # "Ashwick station"
    first = before.lead if before.article and kind != PERSON else i
    text = " ".join(_strip_possessive(t.text) for t in toks[first:end])
    if first < i:
        text = text[0].lower() + text[1:]  # "the 1952 Summer Games"
    return Mention(
        text, kind, before.lead, i, end,
        plural=kind != PERSON and before.article and _plural(words[-1]),
        wh=wh and kind == PERSON,
        place_marked=before.word in LOCATIVE,
        temporal=before.word in TEMPORAL,
        person_evidence=person,
        thing_evidence=_following_thing(toks, end),
        preposition=before.word,
        name=True,
        modifier=end == j and _modifier(toks, end),
        headed=bool({_strip_possessive(w) for w in words} & (ORG_HEADS | PLACE_HEADS)),
    )  # fmt: skip


def _name_mentions(toks: Sequence[Tok], known: frozenset[str], question: bool) -> list[Mention]:
    """Capitalised names; *known* holds words of names already known to be people."""
    found = [_name_mention(toks, run, known, question) for run in _name_runs(toks)]
    return [m for m in found if m is not None]


def _np_end(toks: Sequence[Tok], i: int) -> int:
    """End of the words of a common noun phrase that starts at *i* (at most four)."""
    j = i
    while j < len(toks) and j - i < 4:
        t = toks[j]
        if t.punct or t.cap or t.low in _FUNCTION | TIME_ADVERBS | _POSSESSIVES:
            break
        if j > i and (t.low[:1].isdigit() or _verb_like(t.text)):
            break  # "this year surpassed 100,000": the phrase is "this year"
        j += 1
    return j


def _verb_like(word: str) -> bool:
    low = word.lower()
    return low.endswith("ed") or low in IRREGULAR_PAST


def _trim_verb(toks: Sequence[Tok], det: int, j: int) -> int:
    """Drop a verb that follows the noun phrase: "did the members buy", "the mill closed"."""
    if j - det < 3:  # determiner + one word: nothing to drop
        return j
    last, aux = toks[j - 1], toks[det - 1].low if det else ""
    after = toks[j].low if j < len(toks) else "?"
    if aux in DO_SUPPORT:
        return j - 1
    if _verb_like(last.text):
        return j - 1
    if last.low.endswith("s") and (after.isdigit() or after in DETERMINERS):
        return j - 1  # "the company employs 126 people"
    return j


def _np_kind(words: Sequence[str]) -> tuple[str, bool]:
    head = _strip_possessive(words[-1].lower())
    plural = _plural(head)
    singular = head[:-1] if plural and head.endswith("s") else head
    if head in TIME_NOUNS:
        return TIME, plural
    if singular in ROLE_NOUNS or head in ROLE_NOUNS:
        return (GROUP if plural else PERSON), plural
    if singular in GROUP_NOUNS:
        return ORG, plural
    return (GROUP if plural else THING), plural


def _np_mention(toks: Sequence[Tok], i: int) -> Mention | None:
    t = toks[i]
    wh = t.low in ("which", "what") or (t.low in ("many", "much") and _prev_is(toks, i, "how"))
    if not (t.low in DETERMINERS or wh or t.low.isdigit()):
        return None
    j = _trim_verb(toks, i, _np_end(toks, i + 1))
    if j == i + 1:
        return None
    words = [x.text for x in toks[i + 1 : j]]
    kind, plural = _np_kind(words)
    det = "the" if t.low in ("a", "an", "the") else t.low
    before = toks[i - 1].low if i else ""
    return Mention(
        _strip_possessive(" ".join([det, *words])), kind, i, i, j, plural, wh=wh,
        place_marked=before in LOCATIVE, temporal=before in TEMPORAL, preposition=before,
    )  # fmt: skip


def _np_mentions(toks: Sequence[Tok], names: Sequence[Mention]) -> list[Mention]:
    """Common noun phrases after a determiner ("the paper mill", "which shop")."""
    taken = {k for m in names for k in range(m.lead, m.end)}
    found = [_np_mention(toks, i) for i in range(len(toks)) if i + 1 not in taken]
    return [m for m in found if m is not None]


def _prev_is(toks: Sequence[Tok], i: int, word: str) -> bool:
    return i > 0 and toks[i - 1].low == word


def _attach_places(toks: Sequence[Tok], nps: list[Mention], names: list[Mention]) -> list[Mention]:
    """ "the shop in Mill Lane": the place joins the phrase and is marked nested."""
    by_lead = {m.lead: m for m in names}
    out = list(names)
    for k, np in enumerate(nps):
        inner = by_lead.get(np.end + 1)
        joins = np.end < len(toks) and toks[np.end].low in ("in", "on", "at", "of")
        if inner and joins and inner.kind != PERSON:
            joined = " ".join([np.text, toks[np.end].text, inner.text])
            nps[k] = replace(np, text=joined, end=inner.end)
            out[out.index(inner)] = replace(inner, nested=True)
    return out + nps


def mentions(text: str, known: frozenset[str] = frozenset()) -> list[Mention]:
    """Names and noun phrases of *text*, in order of position."""
    toks = tokens(text)
    question = text.rstrip().endswith("?")
    names = _name_mentions(toks, known, question)
    nps = _np_mentions(toks, names)
    return sorted(_attach_places(toks, nps, names), key=lambda m: (m.lead, m.end))


def people_words(texts: Sequence[str]) -> frozenset[str]:
    """Words of the names in *texts* shown to be people ("Holloway" of "Margaret Holloway")."""
    words: set[str] = set()
    for text in texts:
        for m in mentions(text):
            if m.kind == PERSON and m.person_evidence and not m.wh:
                words.update(w for w in m.text.split() if w[:1].isupper())
    return frozenset(words)


# ----- pointers in the question ------------------------------------------------------
@dataclass(frozen=True)
class Pointer:
    """A word that points back: its position, the kind it needs, and its role."""

    index: int
    kind: str  # PERSON, THING, GROUP, PLACE or "" (demonstratives: cannot be replaced)
    possessive: bool = False


_PRONOUNS = {
    "he": (PERSON, False), "she": (PERSON, False), "him": (PERSON, False),
    "his": (PERSON, True), "hers": (PERSON, True), "it": (THING, False),
    "its": (THING, True), "they": (GROUP, False), "them": (GROUP, False),
    "their": (GROUP, True), "theirs": (GROUP, True),
}  # fmt: skip


def _her_possessive(toks: Sequence[Tok], i: int) -> bool:
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    return nxt is not None and not nxt.punct and nxt.low not in _FUNCTION


def _existential(toks: Sequence[Tok], i: int) -> bool:
    nxt = toks[i + 1].low if i + 1 < len(toks) else "?"
    prev = toks[i - 1].low if i else ""
    if nxt in AUX or nxt in ("seem", "seems", "used", "remain", "remains"):
        return True
    be = prev in ("is", "are", "was", "were")
    quantity = len(toks) > 1 and toks[0].low == "how" and toks[1].low in ("many", "much")
    return be and (nxt not in "?.!" or quantity)


def _expletive(toks: Sequence[Tok], i: int) -> bool:
    """ "Is it true that ...", "How long did it take to ..."."""
    rest = [t.low for t in toks[i + 1 :]]
    if set(rest[:2]) & EXPLETIVE_ADJECTIVES:
        return True
    return bool(rest) and rest[0] in EXPLETIVE_VERBS and "to" in rest


def _demonstrative(toks: Sequence[Tok], i: int) -> bool:
    word = toks[i].low
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    prev = toks[i - 1].low if i else ""
    if nxt is None or nxt.punct:
        return True
    if word in ("these", "those"):
        return True
    return i == 0 or prev in LOCATIVE | TEMPORAL | AUX | _words("about of for with by like")


def _vague(toks: Sequence[Tok], i: int) -> bool:
    """ "that", "those", a final "then", "the same", "the former": cannot be replaced."""
    low = toks[i].low
    if low in ("that", "this", "these", "those"):
        return _demonstrative(toks, i)
    if low == "then":
        return i > 0 and (i + 1 >= len(toks) or toks[i + 1].punct)
    if low not in ("former", "latter", "same") or not _prev_is(toks, i, "the"):
        return False
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    # "the former was ...", "the former built ...", but not "the former mayor"
    return nxt is None or nxt.punct or nxt.low in _FUNCTION or _verb_like(nxt.text)


def pointers(toks: Sequence[Tok]) -> list[Pointer]:
    """Every word of the question that may point back at the conversation."""
    found = []
    for i, t in enumerate(toks):
        low = t.low
        if low in _PRONOUNS:
            kind, possessive = _PRONOUNS[low]
            if low == "it" and _expletive(toks, i):
                continue
            found.append(Pointer(i, kind, possessive))
        elif low == "her":
            found.append(Pointer(i, PERSON, _her_possessive(toks, i)))
        elif low == "there" and not _existential(toks, i):
            found.append(Pointer(i, PLACE))
        elif _vague(toks, i):
            found.append(Pointer(i, ""))
    return found


def _fits_inside(m: Mention, kind: str) -> bool:
    """Can *m*, inside the question itself, be what a pointer of *kind* means?

    More lenient than for the history: a name after "to" may still be a person
    ("What happened to Brandt after he left?"), and any name may be a group ("Why did
    Brightwater cut their prices?").
    """
    if kind == PERSON:
        return m.kind in (PERSON, UNKNOWN) or (m.name and m.kind == PLACE and not m.headed)
    if kind == THING:
        return m.kind in (THING, ORG, PLACE, UNKNOWN) and not m.plural and not m.bare
    if kind == GROUP:
        return m.kind in (GROUP, ORG) or m.plural or m.name
    return kind == PLACE and (m.kind == PLACE or m.place_marked)


def _inside(question: str, toks: Sequence[Tok]) -> list[Mention]:
    """Mentions of the question, plus what only binds inside it: acronyms ("the SNP"),
    bare plurals ("members"), and a leading "Who" ("Who said she would resign?")."""
    found = mentions(question)
    taken = {k for m in found for k in range(m.lead, m.end)}
    for i, t in enumerate(toks):
        if i in taken or t.punct:
            continue
        if t.text.isupper() and len(t.text) > 1:
            found.append(Mention(t.text, ORG, i, i, i + 1, name=True, bare=True))
        elif not t.cap and t.low not in _FUNCTION and _plural(t.low) and not _verb_like(t.low):
            found.append(Mention(t.text, GROUP, i, i, i + 1, plural=True, bare=True))
    if toks and toks[0].low == "who":
        found.append(Mention("who", PERSON, 0, 0, 1, wh=True, bare=True))
    return found


def _boundary(toks: Sequence[Tok], start: int, end: int) -> bool:
    return any(t.low in BOUNDARIES for t in toks[start:end])


def _bound(
    p: Pointer, toks: Sequence[Tok], found: Sequence[Mention], ps: Sequence[Pointer]
) -> bool:
    """True when the pointer's antecedent is inside the question."""
    if not p.kind:
        return False
    if any(q.kind == p.kind and q.index < p.index for q in ps):
        return True  # a chain: "What did he do before he moved?" (the first one decides)
    before = [m for m in found if m.end <= p.index and _fits_inside(m, p.kind)]
    if p.possessive:
        return any(m.text != "who" for m in before)
    return any(_boundary(toks, m.end, p.index) and _can_bind(m) for m in before)


def _can_bind(m: Mention) -> bool:
    """A plural noun binds "they" across a clause only when it names people or a group:
    "rowers ... whether they agree" yes, "how many jobs ... when they closed" no."""
    if m.name or not (m.kind == GROUP and m.plural):
        return True
    word = _strip_possessive(m.text.split()[-1].lower())
    singular = word[:-1] if word.endswith("s") else word
    agent = word.endswith(("ers", "ors", "ists", "ians"))  # rowers, voters, scientists
    return agent or word in IRREGULAR_PLURALS or singular in ROLE_NOUNS | GROUP_NOUNS


def free_pointers(question: str) -> list[Pointer]:
    """The pointers of *question* whose antecedent is not inside it."""
    toks = tokens(question)
    ps = pointers(toks)
    if not ps:
        return []
    found = _inside(question, toks)
    return [p for p in ps if not _bound(p, toks, found, ps)]


def _content_words(toks: Sequence[Tok]) -> list[str]:
    skip = _FUNCTION | FRAGMENT_EXTRA | _words("he she it they them him her his its their")
    return [t.low for t in toks if not t.punct and t.low not in skip]


def _is_fragment(toks: Sequence[Tok]) -> bool:
    """No verb of its own: "the canal?", "at the works?", "in 1990?"."""
    words = [t for t in toks if not t.punct]
    return bool(words) and words[0].low not in WH and not any(t.low in AUX for t in words)


def elliptical(question: str) -> bool:
    """ "What about X?", "And X?" without a verb, or no content at all ("Why?", "How so?")."""
    if _ELLIPTIC_OPENING.match(question):
        return True
    rest = _SOFT_OPENING.sub("", question, count=1)
    toks = tokens(rest)
    if rest != question and _is_fragment(toks):
        return True
    words = [t for t in tokens(question) if not t.punct]
    if not words or all(t.low in GREETINGS for t in words):
        return False
    return not _content_words(words)


def depends_on_history(question: str) -> bool:
    """True when the question cannot be understood without the conversation."""
    return elliptical(question) or bool(free_pointers(question))


# ----- antecedents from the conversation -------------------------------------------
def _usable_answer(turn: Turn) -> str:
    return "" if turn.answer.strip() in (REFUSAL, UNSURE) else turn.answer


def _asked(turn: Turn) -> str:
    """The earlier question as it was understood, without an appended topic."""
    return _TOPIC.sub("", turn.standalone or turn.question).strip()


def _has_content(turn: Turn) -> bool:
    words = [t for t in tokens(turn.question) if not t.punct]
    return any(t.low not in GREETINGS for t in words)


def content_turns(turns: Sequence[Turn]) -> list[Turn]:
    """The last :data:`LOOKBACK` turns that are not greetings or thanks, newest first."""
    return [t for t in reversed(turns) if _has_content(t)][:LOOKBACK]


def _fits_history(m: Mention, kind: str) -> bool:
    """Can *m*, said in an earlier turn, be what a pointer of *kind* refers to?"""
    if m.wh or m.temporal or m.modifier or m.kind == TIME or m.text[:1].isdigit():
        return False
    if kind == PERSON:  # a name: "the interpreter" says less than the pronoun's context
        return m.kind == PERSON and m.name and not m.thing_evidence
    if m.nested and kind != PLACE:
        return False
    if kind == THING:
        return (m.kind in (THING, ORG, PLACE) or _ambiguous(m)) and not m.plural
    if kind == GROUP:
        return m.kind in (GROUP, ORG) or (m.kind in (THING, PLACE) and m.plural)
    return kind == PLACE and (m.kind == PLACE or m.place_marked)


def _ambiguous(m: Mention) -> bool:
    """A name that may be a person or a thing ("Holloway Engineering")."""
    return m.name and m.kind == PERSON and not m.person_evidence


def _rank(primary: Sequence[Mention], secondary: Sequence[Mention], kind: str) -> list[Mention]:
    """People and places: names before common nouns; things: each text's ambiguous names last."""
    if kind in (PERSON, PLACE):
        return sorted([*primary, *secondary], key=lambda m: not m.name)
    return [*sorted(primary, key=_ambiguous), *sorted(secondary, key=_ambiguous)]


_ASKS_FOR = {PERSON: ("who", "whom", "whose"), PLACE: ("where",)}


def _focused(found: Sequence[Mention], toks: Sequence[Tok], asked: str) -> list[Mention]:
    """Answer mentions, those next to the question's verb first.

    "Where did Penn move to?" -> "... born in Ashwick ... moved to Leeds": Leeds.
    """
    asked_toks = tokens(asked)
    inside = {k for m in mentions(asked) for k in range(m.lead, m.end)}
    predicate = [t.low for k, t in enumerate(asked_toks) if k not in inside]
    stems = {w[:4] for w in tokenize(" ".join(predicate))}

    def near(m: Mention) -> bool:
        window = toks[max(m.lead - 3, 0) : m.lead]
        return any(t.low[:4] in stems for t in window if t.low not in _FUNCTION)

    return sorted(found, key=lambda m: not near(m))


def _new(found: Sequence[Mention], asked: str) -> list[Mention]:
    """Mentions that the question did not already name (what its answer added)."""
    asked_words = set(tokenize(asked))
    return [m for m in found if not set(tokenize(m.text)) <= asked_words]


def _candidates(turn: Turn, kind: str, known: frozenset[str]) -> list[Mention]:
    """Mentions of *turn* that fit *kind*, best first."""
    asked = _asked(turn)
    answer = _usable_answer(turn)
    asked_mentions = mentions(asked, known)
    in_question = [m for m in reversed(asked_mentions) if _fits_history(m, kind)]
    found = mentions(answer, known) if answer else []
    fitting = [m for m in found if _fits_history(m, kind) and _fits_answer(m, kind)]
    in_answer = _focused(fitting, tokens(answer), asked)
    noun, fallback = _asked_noun(asked_mentions, kind)
    if noun:  # "Which shop closed?": the answer's shop, or nothing
        named = [m for m in _new(in_answer, asked) if noun in tokenize(m.text)]
        return named + (in_question if fallback else [])
    if _asks_for(asked, kind):
        return _rank(_new(in_answer, asked), in_question, kind)
    return _rank(in_question, in_answer, kind)


def _fits_answer(m: Mention, kind: str) -> bool:
    """In an answer, a place named as where something happened is not what "it" means."""
    return not (kind == THING and m.place_marked)


def _asks_for(asked: str, kind: str) -> bool:
    """ "Who ...?" asks for a person and "Where ...?" for a place: the answer names it."""
    first = asked.split(maxsplit=1)[0].lower() if asked.strip() else ""
    return first in _ASKS_FOR.get(kind, ()) or (kind == PERSON and _asks_person(asked))


def _asked_noun(found: Sequence[Mention], kind: str) -> tuple[str, bool]:
    """The noun a "which/what NOUN" question asked for, if a pointer of *kind* may mean it.

    Also whether, when the answer does not repeat the noun, the question's other
    mentions may still be meant: yes after "which family" (an organisation: "they"
    is the family, "it" may be what the family did something to), no after "which
    shop" (then "it" is the shop, which only the answer names).
    """
    for m in found:
        words = tokenize(m.text)
        if not m.wh or m.name or not words:
            continue
        if kind == THING and m.kind == THING and not m.plural:
            return words[-1], False
        if kind == GROUP and (m.kind == GROUP or m.plural):
            return words[-1], False
        if kind in (THING, GROUP) and m.kind == ORG:
            return words[-1], True
    return "", True


def _asks_person(asked: str) -> bool:
    """ "Which engineer ...?", "What is the name of the poet ...?"."""
    if any(m.wh and m.kind == PERSON for m in mentions(asked)):
        return True
    toks = tokens(asked)
    return any(t.low == "name" for t in toks[:6]) and any(t.low in ROLE_NOUNS for t in toks)


def antecedent(turns: Sequence[Turn], kind: str, avoid: set[str]) -> Mention | None:
    """The mention a pointer of *kind* refers to.

    A person is looked for in the last :data:`LOOKBACK` turns, newest first; a thing,
    group or place only in the newest one (its resolved question carries an older
    antecedent forward: "When did it close?" was read as "When did the station close?").
    """
    known = people_words([text for t in turns for text in (_asked(t), _usable_answer(t))])
    for turn in turns if kind == PERSON else turns[:1]:
        for m in _candidates(turn, kind, known):
            if m.text not in avoid:
                return m
    return None


# ----- rewriting -------------------------------------------------------------------------
def _possessive(text: str) -> str:
    return f"{text}’" if text.endswith("s") else f"{text}’s"


def _replacement(p: Pointer, toks: Sequence[Tok], m: Mention) -> str:
    text = m.text
    if p.kind == PLACE:
        prev = toks[p.index - 1].low if p.index else ""
        if prev in LOCATIVE:
            return text
        return f"{'at' if m.preposition == 'at' else 'in'} {text}"
    return _possessive(text) if p.possessive else text


def _splice(text: str, edits: Sequence[tuple[int, int, str]]) -> str:
    """*text* with each ``(start, end, new)`` span replaced; every other character kept."""
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def substitute(question: str, turns: Sequence[Turn]) -> tuple[str, bool]:
    """*question* with its free pointers replaced; True when every one was replaced."""
    toks = tokens(question)
    free = free_pointers(question)
    edits = []
    used: set[str] = set()
    for p in free:
        m = antecedent(turns, p.kind, used) if p.kind else None
        if m is None:
            continue
        used.add(m.text)
        text = _replacement(p, toks, m)
        text = text[0].upper() + text[1:] if p.index == 0 else text
        edits.append((toks[p.index].start, toks[p.index].end, text))
    return _splice(question, edits), len(edits) == len(free)


def _fill_frame(question: str, turns: Sequence[Turn]) -> str | None:
    """ "And X?" / "What about X?" as the previous question about X (None if unclear)."""
    rest = _ELLIPTIC_OPENING.sub("", question, count=1)
    rest = _SOFT_OPENING.sub("", rest, count=1).strip().rstrip("?").strip()
    if not rest or not turns:
        return None
    frame = _asked(turns[0]).rstrip("?").rstrip()
    first = rest.split()[0].lower()
    if first in LOCATIVE | TEMPORAL | _words("for by with"):
        return f"{frame} {rest}?"
    new = mentions(rest)
    if not new or new[0].lead != 0:
        return None
    kind = PERSON if new[0].kind == PERSON else THING
    ftoks = tokens(frame)
    same = [m for m in mentions(frame) if not m.wh and _same_kind(m, kind, new[0].plural)]
    if len(same) != 1:
        return None
    span = (ftoks[same[0].lead].start, ftoks[same[0].end - 1].end, rest)
    return _splice(frame, [span]) + "?"


def _same_kind(m: Mention, kind: str, plural: bool) -> bool:
    if m.temporal or m.kind == TIME or m.nested:
        return False
    if kind == PERSON:
        return m.kind == PERSON
    return m.kind in (THING, PLACE, ORG) and m.plural == plural


def _topic(question: str, turn: Turn) -> str:
    asked = set(tokenize(question))
    words = re.findall(r"[\w£$’'.-]+", _asked(turn))
    extra = [w.strip(".?") for w in words if tokenize(w) and not set(tokenize(w)) <= asked]
    return " ".join(dict.fromkeys(extra))


def resolve(question: str, history: Sequence[Any] | None) -> Resolution:
    """Resolve *question* against *history*; unchanged when it stands alone."""
    turns = content_turns(as_turns(history))
    if not turns or not depends_on_history(question):
        return Resolution(question, question)
    previous = _usable_answer(turns[0])
    framed = _fill_frame(question, turns) if elliptical(question) else None
    if framed:
        return Resolution(framed, framed, previous)
    rewritten, complete = substitute(question, turns)
    topic = "" if complete and not elliptical(question) else _topic(rewritten, turns[0])
    query = f"{rewritten} ({topic})" if topic else rewritten
    log.debug("resolved %r as %r", question, query)
    return Resolution(rewritten, query, previous)


def condense(question: str, history: Sequence[Any] | None) -> str:
    """A standalone version of *question* for retrieval (itself when it needs none)."""
    return resolve(question, history).query
