"""Rules that decide whether a sentence *can* be an answer to a question at all.

A sentence the rules reject is never quoted as an answer, however well it scores:

* **fragments**: headings (``# ...``), the document's title, and verbless or title-cased
  lines without closing punctuation (menus, captions, list labels);
* **answer type**: what the question asks for must be in the sentence: ``who`` -> a
  person or organisation not already named in the question, ``when`` -> a date or time,
  ``how many/much`` -> a number, ``where`` -> a place, "the name(s) of" -> a proper name;
* **alignment**: every number the question names must be in the sentence (or the
  sentence it continues), and every name it names must be in the passage or the
  document's title, so "the race in 2019" is not answered by the race of 2018;
* **contradiction**: a negated question ("what is *not* ...") needs a negated sentence,
  and a question about one of two common opposites ("exit") is not answered by a
  sentence stating the other ("enter").

The rules are about English questions in general, not about any one document; each has
tests on text written for them. This module scores nothing and loads no model: it
says yes or no, with the reason (for the answer's explanation and the eval).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

Kind = Literal["person", "name", "time", "number", "place", "other"]

_WH = re.compile(r"\b(who|whom|whose|what|which|when|where|why|how)\b", re.I)
NUMBER_WORDS: tuple[str, ...] = tuple(
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy "
    "eighty ninety hundred hundreds thousand thousands million millions billion billions "
    "trillion dozen dozens half quarter third twice thrice single double triple none zero "
    "few several numerous both".split()
)
_NUMBER = re.compile(rf"\d|\b({'|'.join(NUMBER_WORDS)})\b", re.I)
_MONTHS = "January February March April June July August September October November December"
_TIME = re.compile(
    r"\b(1\d{3}|20\d{2})s?\b|\b\d+\s?(BC|BCE|AD|CE)\b|"
    rf"\b({'|'.join(_MONTHS.split())})\b|"
    r"\bMay\s+\d|\d\s+May\b|\b(in|early|late|mid-?|by|since|until|of)\s+May\b|"
    r"\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b|"
    r"\b(today|tomorrow|yesterday|tonight|ago|centur(y|ies)|decades?|years?|months?|weeks?|"
    r"days?|hours?|minutes?|era|period|dynasty|reign|morning|evening|night|noon|midnight|"
    r"spring|summer|autumn|winter|o'clock|recently|formerly|"
    r"before|after|during|since|until|till|following|prior|subsequently|"
    r"afterwards|upon|eventually|initially|originally)\b|"
    r"\b\d{1,2}(:\d{2})?\s?(am|pm|a\.m\.|p\.m\.)",
    re.I,
)
_ASKS_NUMBER = re.compile(
    r"\bhow (many|much|old|long|far|tall|high|large|big|often)\b|"
    r"\bwhat (number|percentage|percent|proportion|amount|share|fraction|size)\b",
    re.I,
)
_ASKS_TIME = re.compile(
    r"^\W*(and |so |but )?when\b|\bsince when\b|\bhow long ago\b|"
    r"\b(what|which)\s+(year|years|day|date|month|century|decade|time|period|era|season)\b",
    re.I,
)
_ASKS_NAME = re.compile(r"\bnames?\s+of\b|\bwhat\s+(is|was|are|were)\s+\w+\s+called\b", re.I)
_CALENDAR = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)
_ASKS_PLACE = re.compile(
    r"^\W*(and |so |but )?where\b|\b(what|which)\s+(country|countries|city|cities|town|"
    r"place|state|region|continent|county|village|island|river|province|area|location|"
    r"building|street|port|nation)\b",
    re.I,
)
_NAME = re.compile(r"\b[A-Z][\w'’.-]*[A-Za-z]|\b[A-Z]\b")
_PERSON_NOUNS = re.compile(
    r"\b(people|person|persons|man|men|woman|women|king|kings|queen|queens|prince|princess|"
    r"emperor|president|presidents|minister|ministers|government|governments|council|"
    r"committee|court|courts|army|armies|navy|police|company|companies|firm|university|"
    r"college|school|students?|members?|officials?|officers?|scientists?|researchers?|"
    r"team|group|board|church|parliament|congress|senate|assembly|authority|authorities|"
    r"agency|department|ministry|party|parties|leaders?|founders?|author|authors|owner|"
    r"owners|workers?|soldiers?|citizens?|residents?|settlers?|farmers?|merchants?|"
    r"engineers?|architects?|director|directors|chairman|mayor|governor|judge|judges|"
    r"lawyers?|priests?|bishop|pope|monks?|family|families|tribe|tribes|colonists?|"
    r"commission|organisation|organization|association|society|union|federation|"
    r"club|staff|crew|volunteers?)\b",
    re.I,
)
_PLACE_NOUNS = re.compile(
    r"\b(city|cities|town|towns|village|villages|country|countries|street|road|river|"
    r"harbou?r|port|coast|island|islands|building|hall|room|campus|area|areas|region|"
    r"regions|district|state|states|province|county|park|square|station|lake|mountain|"
    r"mountains|valley|field|house|church|school|north|south|east|west|northern|southern|"
    r"eastern|western|abroad|overseas|home|here|there|inside|outside|near|nearby|between|"
    r"across|along|beneath|above|below|upstream|downstream|site|border|territory|capital|"
    r"library|museum|hotel|inn|pub|office|offices|centre|center|hospital|castle|palace|farm|"
    r"market|quay|bridge|lane|avenue|garden|gardens|shore|sea|ocean|bay|forest|"
    r"headquarters|base|camp|airport|embassy)\b|"
    r"\b(in|at|near|inside|outside|behind|beside|into|from|throughout)\s+(the|a|an)\s+\w+",
    re.I,
)
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
_WORD = re.compile(r"[^\W\d_][\w'’-]*|\d+(?:[.,]\d+)*")
_DIGIT_WORDS = dict(
    enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
)
STOPWORDS = frozenset(
    """
    a an the and or but if of to in on at by for with from as into onto about over under
    after before during between through is are was were be been being has have had do does
    did what which who whom whose when where why how this that these those it its there their
    they he she his her we our you your i my me not no than then so such also can could would
    should will shall may might must
    """.split()
)
# Words that do not start a short answer ("is", "by", "to" ... but articles do).
LEADING_FUNCTION_WORDS = STOPWORDS - {"the", "a", "an", "his", "her", "their", "its", "our"}


@dataclass(frozen=True)
class Verdict:
    """Whether a sentence may answer, and if not, why (a short reason for people)."""

    ok: bool
    reason: str = ""


OK = Verdict(True)


# The question-level helpers below run once per candidate sentence (dozens per question)
# on the same question text: they are pure, so each question is analysed once.
@functools.lru_cache(maxsize=256)
def question_kind(question: str) -> Kind:
    """What the question asks for: a person, a time, a number, a place, or anything."""
    # "When X happened, what ...?": the leading "when" is a clause, not the question.
    clause = re.match(r"^\W*(when|if|after|before|while)\b[^,?]*,\s*(?=\w)", question, re.I)
    if clause:
        question = question[clause.end() :]
    if _ASKS_NUMBER.search(question):
        return "number"
    if _ASKS_NAME.search(question):
        return "name"
    if _ASKS_TIME.search(question):
        return "time"
    if _ASKS_PLACE.search(question):
        return "place"
    first = _WH.search(question)
    if first and first.group(1).lower() in {"who", "whom", "whose"}:
        return "person"
    return "other"


def _plain(text: str) -> str:
    """Lower case without accents (Kücükdeveci / Kucukdeveci)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def stem(word: str) -> str:
    """Lower case, no accents, plural and possessive endings removed (a matching key)."""
    word = _plain(word).strip("'’.-")
    for suffix in ("'s", "’s", "ies", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


# Country and people are the same name to a reader (and to the question writer).
_DEMONYMS = {
    "british": "britain", "french": "france", "english": "england", "scottish": "scotland",
    "scots": "scotland", "welsh": "wales", "irish": "ireland", "spanish": "spain",
    "dutch": "netherlands", "chinese": "china", "japanese": "japan", "german": "germany",
    "swiss": "switzerland", "danish": "denmark", "swedish": "sweden", "polish": "poland",
    "greek": "greece", "turkish": "turkey", "portuguese": "portugal", "finnish": "finland",
}  # fmt: skip


def _same_word(a: str, b: str) -> bool:
    """Equal stems, one a prefix of the other (Scot / Scottish), or country and people."""
    a, b = stem(a), stem(b)
    a, b = _DEMONYMS.get(a, a), _DEMONYMS.get(b, b)
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    if len(short) >= 4 and long.startswith(short[: max(4, len(short) - 2)]):
        return True
    # one typo in a long name (Groner / Groener)
    return len(short) >= 5 and SequenceMatcher(None, a, b).ratio() >= 0.85


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _in_text(word: str, words: list[str]) -> bool:
    if any(_same_word(word, other) for other in words):
        return True
    return word.isupper() and 2 <= len(word) <= 6 and word in _initialisms(words)


def _initialisms(words: list[str]) -> set[str]:
    """Initials of every run of capitalised words (European Union -> EU, EU law -> EUL)."""
    found: set[str] = set()
    run: list[str] = []
    for word in [*words, "."]:
        if word[:1].isupper() or (run and word.lower() in {"of", "and", "for", "the"}):
            run.append(word)
            continue
        capitals = [w[0] for w in run if w[:1].isupper()]
        for i in range(len(capitals)):
            for j in range(i + 2, len(capitals) + 1):
                found.add("".join(capitals[i:j]))
        run = []
    return found


@functools.lru_cache(maxsize=256)
def question_names(question: str) -> tuple[str, ...]:
    """Capitalised words of the question other than its first word and function words."""
    names = []
    for match in _NAME.finditer(question):
        word = match.group().strip(".")
        if match.start() == 0 or word.lower() in STOPWORDS or len(word) < 2:
            continue
        names.append(word)
    return tuple(names)


@functools.lru_cache(maxsize=256)
def question_numbers(question: str) -> tuple[str, ...]:
    """Numbers written in digits in the question (years, counts, amounts)."""
    return tuple(re.findall(r"(?<![\w.-])\d+(?:[.,]\d+)*", question))


def _new_names(sentence: str, question: str) -> list[str]:
    """Capitalised words of the sentence that the question does not already name."""
    asked = _words(question)
    found = []
    for match in _NAME.finditer(sentence):
        word = match.group()
        if word.lower() in STOPWORDS or _in_text(word, asked):
            continue
        found.append(word)
    return found


def _proper_names(sentence: str, question: str) -> list[str]:
    """New capitalised words that read as proper names: not months or weekdays, and not
    after an article ("the Channel" names a thing; "Khushal" and "Margaret Holloway" do not
    take one)."""
    asked = _words(question)
    found = []
    for match in _NAME.finditer(sentence):
        word = match.group()
        before = sentence[: match.start()].rstrip().rsplit(" ", 1)[-1].lower()
        if word.lower() in STOPWORDS | _CALENDAR or before in {"the", "a", "an"}:
            continue
        if match.start() == 0 or _in_text(word, asked):
            continue
        found.append(word)
    return found


def holds_kind(kind: Kind, sentence: str, question: str) -> bool:
    """True when *sentence* contains the kind of thing *question* asks for."""
    if kind == "number":
        return bool(_NUMBER.search(sentence))
    if kind == "time":
        return bool(_TIME.search(sentence))
    if kind == "name":
        return bool(_proper_names(sentence, question))
    asked = _words(question)
    if kind == "person":
        nouns = [m.group() for m in _PERSON_NOUNS.finditer(sentence)]
        return bool(_new_names(sentence, question)) or any(not _in_text(n, asked) for n in nouns)
    if kind == "place":
        nouns = [m.group() for m in _PLACE_NOUNS.finditer(sentence)]
        return bool(_new_names(sentence, question)) or any(not _in_text(n, asked) for n in nouns)
    return True


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
    if title and _normal(body) == _normal(title):
        return "the document's title"
    words = _words(body)
    closed = bool(_END.search(body))
    if not _has_verb(words) and not closed:  # a full stop says "sentence" (verbs are open-ended)
        return "a fragment without a verb"
    if not closed and (len(words) <= 3 or _title_cased(words)):
        return "a heading or label"
    return ""


def _mentions_number(number: str, text: str) -> bool:
    if re.search(rf"(?<![\d.,]){re.escape(number)}(?![\d])", text):
        return True
    word = _DIGIT_WORDS.get(int(number)) if number.isdigit() else None
    return bool(word) and re.search(rf"\b{word}\b", text, re.I) is not None


def _normal(text: str) -> str:
    return " ".join(_words(text.lower()))


_NEGATION = re.compile(r"\b(not|no|never|none|nor|neither|without|cannot)\b|n['’]t\b", re.I)
# Common English opposites: a question that asks about one while the sentence states the
# other ("exit" / "enter", "later" / "early") asks something the sentence does not say.
_OPPOSITE_PAIRS = """
early late earlier later earliest latest first last before after large small larger smaller
largest smallest big little bigger smaller biggest smallest high low higher lower highest lowest
long short longer shorter longest shortest old new older newer oldest newest young old
younger older youngest oldest more less more fewer most least increase decrease increased
decreased increases decreases rise fall rose fell gain lose gained lost win lose won lost
wins loses victory defeat winner loser strong weak stronger weaker strongest weakest fast slow
faster slower fastest slowest major minor majority minority maximum minimum upper lower inner
outer internal external inside outside interior exterior import export imports exports
imported exported enter exit entered exited enters exits arrive depart arrived departed accept
reject accepted rejected allow forbid allowed forbidden permit prohibit permitted prohibited
include exclude included excluded includes excludes start end started ended begin end began
ended open close opened closed success failure successful unsuccessful succeeded failed
positive negative true false right wrong correct incorrect legal illegal north south northern
southern east west eastern western above below over under top bottom men women man woman male
female boys girls boy girl king queen public private national international nationwide
worldwide domestic foreign local global rich poor wealthy poor cheap expensive easy difficult
direct indirect directly indirectly always never ancient modern past future previous next
former latter friend enemy ally enemy allies enemies attack defend attacked defended offensive
defensive agree disagree support oppose supported opposed supporters opponents add remove
added removed create destroy created destroyed buy sell bought sold lend borrow lent borrowed
give take gave took send receive sent received heavy light hot cold warm cool wet dry
""".split()
_OPPOSITES: dict[str, set[str]] = {}
for _a, _b in zip(_OPPOSITE_PAIRS[0::2], _OPPOSITE_PAIRS[1::2], strict=True):
    _OPPOSITES.setdefault(_a, set()).add(_b)
    _OPPOSITES.setdefault(_b, set()).add(_a)


def contradiction(question: str, context: str) -> str:
    """Why *context* cannot answer *question* as asked ('' if nothing contradicts).

    A negated question ("What is *not* ...?") needs a negated statement; a question about
    one of two opposites needs that one, not the other.
    """
    if _NEGATION.search(question) and not _NEGATION.search(context):
        return "the question is negated, the sentence is not"
    asked = {w.lower() for w in _words(question)}
    said = {w.lower() for w in _words(context)}
    for word in sorted(asked - said):
        opposite = _OPPOSITES.get(word, set())
        if opposite & said and not opposite & asked:
            return f"it says {sorted(opposite & said)[0]!r}, not {word!r}"
    return ""


def missing_names(question: str, text: str) -> list[str]:
    """Names *question* uses that *text* does not mention (stems, initialisms, typos)."""
    words = _words(text)
    return [name for name in question_names(question) if not _in_text(name, words)]


def check(
    question: str, sentence: str, context: str, title: str = "", passage: str = ""
) -> Verdict:
    """May *sentence* answer *question*?

    *context* is the sentence with the one it continues (for pronouns), *passage* the
    retrieved text around it and *title* the document's title.
    """
    if reason := fragment_reason(sentence, title):
        return Verdict(False, reason)
    kind = question_kind(question)
    if not holds_kind(kind, context, question):
        return Verdict(False, f"no {kind} in it")
    # A sentence that continues an earlier one ("It also means...") may leave the
    # question's number to the passage; any other sentence must state it.
    where = context if context == sentence else f"{context} {passage}"
    for number in question_numbers(question):
        if not _mentions_number(number, where):
            return Verdict(False, f"does not mention {number}")
    missing = missing_names(question, " ".join((passage or context, title)))
    if missing:
        return Verdict(False, f"does not mention {missing[0]}")
    if reason := contradiction(question, context):
        return Verdict(False, reason)
    return OK
