"""The words and patterns a user turn is read by: intent cues, escalation cues, follow-up cues, grade patterns.

Data, not logic: the vocabulary lives in knowledge/lexicon/cues.yaml, regions.yaml and followup.yaml (each entry
with the examples tests/test_lexicon.py runs); `understand`, `entities`, `personal_flags`, `intents` and `followup`
match text against the values loaded here.
"""
from __future__ import annotations

from jixiao.knowledge.lexicon import lexicon, pairs, pattern, prefixed, words


def _w(key: str, name: str = "cues") -> tuple[str, ...]:
    return words(name, key)


def _p(key: str, name: str = "cues"):
    return pattern(name, key)


HUMAN, SMALLTALK, OFF_TOPIC, ASSESS = _w("HUMAN"), _w("SMALLTALK"), _w("OFF_TOPIC"), _w("ASSESS")
ATTAIN, JUMP = _p("ATTAIN"), _p("JUMP")
REVIEW, REVIEW_CONTEXT, WHO_TO_APPLY = _w("REVIEW"), _w("REVIEW_CONTEXT"), _p("WHO_TO_APPLY")
REVIEW_NOT = _w("REVIEW_NOT")
INCENTIVES, TIERS, TIER_ASKED = _w("INCENTIVES"), _w("TIERS"), _p("TIER_ASKED")
OPEN_QUESTION, WHICH_INDUSTRY, RATING_TOPIC = _w("OPEN_QUESTION"), _w("WHICH_INDUSTRY"), _w("RATING_TOPIC")
PERSONAL = {flag: e.vocabulary() for flag, e in prefixed("cues", "PERSONAL").items()}
POLLUTANT, VALUE_ASKED, UNIT = _w("POLLUTANT"), _p("VALUE_ASKED"), _p("UNIT")
TAX, QUOTA = _w("TAX"), _w("QUOTA")
FEE, FEE_NOT, FEE_OF = _p("FEE"), _w("FEE_NOT"), _w("FEE_OF")
OWN_AMOUNT, FIGURE, MONEY_ASKED = _p("OWN_AMOUNT"), _p("FIGURE"), _w("MONEY_ASKED")
COMPANY, LIST, MEMBER, STANDING = _p("COMPANY"), _w("LIST"), _p("MEMBER"), _p("STANDING")
HANDOVER, ACT_FOR_ME, MY_CASE, GRADED_NOW = _p("HANDOVER"), _p("ACT_FOR_ME"), _p("MY_CASE"), _p("GRADED_NOW")
STATUS_NOW, INDICATOR_ASKED, HAOJIU = _p("STATUS_NOW"), _p("INDICATOR_ASKED"), _p("HAOJIU")
SELF_CHECK = _p("SELF_CHECK")
EXPANSIONS = dict(pairs("cues", "EXPANSIONS"))
MEASURE_HINTS = tuple((e.regex(), e.adds or "") for e in prefixed("cues", "MEASURE").values())
MINE, PROGRESS = _w("MINE"), _w("PROGRESS")
REWRITES = pairs("cues", "REWRITES")
LATER_YEAR, HAODUO = _p("LATER_YEAR"), _p("HAODUO")
GRADE_WORDS, GRADE, LEAD = _p("GRADE_WORDS"), _p("GRADE"), _p("LEAD")
GRADE_AFTER, GRADE_BEFORE, NEGATION = _w("GRADE_AFTER"), _w("GRADE_BEFORE"), _p("NEGATION")

REGIONS, NOT_A_REGION = _w("REGIONS", "regions"), _w("NOT_A_REGION", "regions")
REFERENCE_VERBS = _w("REFERENCE_VERBS", "regions")
REFERENCED = {place: e.vocabulary() for place, e in prefixed("regions", "REFERENCED").items()}
CHONGQING = _w("CHONGQING", "regions")

FOLLOWUP_START, FOLLOWUP_END = _w("FOLLOWUP_START", "followup"), _w("FOLLOWUP_END", "followup")
ALSO = _w("ALSO", "followup")
DEIXIS, OPEN_FOLLOW = _w("DEIXIS", "followup"), _w("OPEN_FOLLOW", "followup")
STAY_ON_TOPIC, FILLER = _w("STAY_ON_TOPIC", "followup"), _p("FILLER", "followup")

__all__ = [k for k in dir() if k.isupper()] + ["mentions", "lexicon"]


def mentions(text: str, words) -> bool:
    """Any of `words` occurs in `text`."""
    return any(w in text for w in words)
