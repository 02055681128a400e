"""The word lists and kinds the follow-up resolver uses (general English, no document's words).

Data and one helper only; nothing here reads a question.
"""

from __future__ import annotations

import logging
import re

from rag.retrieval.lexical import STOPWORDS

log = logging.getLogger(__name__)

LOOKBACK = 3  # earlier turns with content searched for an antecedent

PERSON, PLACE, ORG, GROUP, THING, TIME, UNKNOWN = (
    "person", "place", "org", "group", "thing", "time", "unknown"
)  # fmt: skip


def word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# ----- word lists (general English) ------------------------------------------------
TITLES = word_set(
    "Mr Mrs Ms Miss Dr Sir Dame Lord Lady Professor Prof King Queen Prince Princess Saint "
    "St Reverend Rev Father Sister Brother President Chancellor Secretary Minister Senator "
    "Governor Mayor General Colonel Captain Judge Justice Chief Commissioner Ambassador "
    "Inspector Sergeant Councillor Alderman Bishop Archbishop Pope Duke Duchess Earl"
)
ROLE_NOUNS = word_set(
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
GROUP_NOUNS = word_set(
    "family team club council company firm board committee government crew society trust "
    "union band staff police party section army navy community group class jury "
    "parliament cabinet management workforce association department ministry agency "
    "office church school college university institute business partnership "
    "organisation organization charity federation league"
)
PLACE_HEADS = word_set(
    "Street Road Lane Square Bridge Ferry Town City Village River Castle Hall Park Station "
    "Hotel Inn Church Abbey Priory Harbour Port Bay Island Isle Coast Lake Mountain Mount "
    "Hill Valley Cape Forest Moor Rock Lighthouse Quay Tower County Province "
    "State Kingdom Republic Ocean Sea Channel Tunnel Airport Works Mill Centre Center "
    "Museum Library Hospital Market Gardens Estate Avenue Cathedral Palace Farm Falls "
    "Beach Heath Common Green Wharf Dock Docks Canal Marsh Fen Downs Crescent Terrace"
)
ORG_HEADS = word_set(
    "Council Club Society University Trust Company Ltd Limited Inc Corporation "
    "Party Union Army Navy Agency Office Ministry Government Police Court Bank Association "
    "Institute College School Committee Board Group Department Commission League Team "
    "Federation Foundation Service Services Press International Nations Authority Fund "
    "Assembly Parliament Congress Senate Brigade Regiment Band Orchestra Choir"
)
THING_HEADS = word_set(
    "range collection project report plan festival race fund scheme line prize "
    "award museum station bridge castle mill works hall road street canal navigation "
    "railway centre library building shop market school hotel church tower"
)
TIME_NOUNS = word_set(
    "year years century centuries decade decades month months week weeks day days morning "
    "evening night afternoon winter summer spring autumn season seasons time times half "
    "quarter period era age moment hour hours minute minutes"
)
MONTHS_DAYS = word_set(
    "January February March April May June July August September October November December "
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday"
)
TIME_ADVERBS = word_set("today yesterday tomorrow tonight now then ago still already later again")
IRREGULAR_PLURALS = word_set("people men women children police staff folk cattle crew")
NOT_PLURAL = word_set("works news series species means headquarters physics politics")
LOCATIVE = word_set(
    "in at to from near into onto across outside inside towards toward around through via "
    "off within beyond on"
)
TEMPORAL = word_set("after before during since until till")
BOUNDARIES = word_set(
    "when after before because if while and but or that who which whom whose where until "
    "since so although though once unless whether as than say said says think thinks thought "
    "claim claimed claims believe believed announce announced expect expected hope hoped , ;"
)
AUX = word_set(
    "is are was were be been being am do does did has have had will would can could should "
    "may might must shall 's"
)
WH = word_set("what which who whom whose when where why how")
DETERMINERS = word_set("the a an this these those")
FRAGMENT_EXTRA = word_set("much many long often far come else so not exactly then")
GREETINGS = word_set(
    "hi hello hey thanks thank you ok okay cheers great good morning afternoon evening bye "
    "goodbye please yes no sure cool nice wow lovely perfect"
)
EXPLETIVE_ADJECTIVES = word_set(
    "true possible likely necessary important hard easy difficult worth unusual common "
    "rare known clear right wrong fair safe"
)
EXPLETIVE_VERBS = word_set("take takes took cost costs")  # with a later "to": "did it take to"
SENTENCE_OPENERS = word_set(
    "however meanwhile today yesterday tomorrow later now then also still instead "
    "afterwards finally eventually moreover furthermore nevertheless yet indeed first "
    "second third last next here there back once since after before while during thus"
)
PERSON_VERBS = word_set("born died married retired resigned said says told")
DO_SUPPORT = word_set("do does did will would can could should may might must has have had")
IRREGULAR_PAST = word_set(
    "went came became began bought brought built caught did drew fell found gave got grew "
    "held kept knew led left lost made met paid put ran rose said sat saw sent set sold "
    "spent stood struck taught told thought took won wrote run done shut cut read taken "
    "shown known grown written drawn given seen fallen broken chosen driven hidden ridden "
    "risen spoken stolen born"
)

FUNCTION_WORDS = STOPWORDS | AUX | LOCATIVE | TEMPORAL | DETERMINERS | WH | word_set("'s n't not")
POSSESSIVES = word_set("its his her their")
# A number range ("2019 - 20", "1914–18") is one token: "the 2019 - 20 season" is one phrase.
TOKEN = re.compile(
    r"\d+(?:[.,]\d+)*(?: ?[-–—] ?\d+(?:[.,]\d+)*)?"  # a number, or a range of two
    r"|[^\W_](?:[\w’'&.-]*[^\W_])?[’']?|[?!.,;:()]"
)
ELLIPTIC_OPENING = re.compile(r"^\s*(what about|how about)\b[\s,]*", re.I)
SOFT_OPENING = re.compile(r"^\s*(and|also|but|or|so|then|what else)\b[\s,]*", re.I)
TOPIC_SUFFIX = re.compile(r"\s*\([^()]*\)\s*$")
