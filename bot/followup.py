"""Follow-up resolution: whether a turn leans on the previous one, and what it then asks."""
from __future__ import annotations

import re

from jixiao.bot import cues
from jixiao.bot.cues import mentions
from jixiao.bot.industry import resolve_industry
from jixiao.bot.intents import keyword_intent
from jixiao.bot.understanding import TOOL_INTENTS, Understanding


def is_followup(text: str, previous: Understanding | None) -> bool:
    if previous is None or previous.intent in ("empty", "smalltalk"):
        return False
    if len(re.sub(r"[\W_]+", "", text)) <= 6:  # "谁来定？" "C级谁审" lean on the previous turn
        return True
    if len(text) <= 40 and mentions(text, cues.DEIXIS):  # "上面说的整改要多久"
        return True
    return len(text) <= 30 and (text.startswith(cues.FOLLOWUP_START)
                                or text.rstrip("？?。.!！ ").endswith(cues.FOLLOWUP_END) or mentions(text, cues.ALSO))


def _residue(text: str) -> str:
    """What is left of a turn without its industry, grade, starters, particles and question words: empty for
    "那A级呢" "印刷厂呢" "那要多久？", a topic of its own for "那抽查发现不达标怎么处理"."""
    res = resolve_industry(text)
    t = text.replace(res.best.matched_term, "") if res.found and res.best and res.best.matched_term else text
    t = cues.GRADE_WORDS.sub("", t)
    t = cues.FILLER.sub("", t)
    return re.sub(r"[\W_]+", "", t)


def _own_topic(text: str) -> bool:
    """The turn names a subject of its own (three or more characters beyond the elliptical words)."""
    return len(_residue(text)) >= 3


def resolve_followup(t: str, intent: str | None, followup: bool, context: Understanding, named_industry,
                     grade: str | None) -> tuple[str | None, bool]:
    """The intent of a turn read against the previous one, and whether it leans on it.

    - a turn with its own topic after a lookup ("那抽查发现不达标怎么处理" after "铸造能评几级") stands alone;
    - an elliptical turn after a lookup that asks something no table answers ("那要多久？") goes to the passages,
      searched on its own words (a lookup question is no search topic);
    - an elliptical or deictic turn after a policy answer ("那要多久？" "刚才那个…") is searched with the previous one;
    - a turn naming only a grade or an industry ("那A级呢" "印刷厂呢") repeats the previous lookup for it;
    - a tool keyword read with the previous entities ("那审核是区县还是市里？" after 铸造) switches the tool.
    """
    if intent is not None:
        return intent, followup
    own = _own_topic(t)
    after_tool = context.intent in TOOL_INTENTS or context.intent == "assess"
    if own and after_tool and not mentions(t, cues.DEIXIS):
        return None, False
    if not (followup or named_industry or grade):
        return None, followup
    if followup and mentions(t, cues.REVIEW) and not named_industry:
        return "tool_review", True  # "谁来定？" after "民生保障要什么等级"
    if after_tool and not (named_industry or grade) and mentions(t, cues.OPEN_FOLLOW):
        return "policy", True
    if own and not after_tool:
        return context.intent, True
    if not mentions(t, cues.OPEN_FOLLOW + cues.STAY_ON_TOPIC):
        switched = keyword_intent(t, named_industry or context.industry, grade or context.grade)
        if switched in TOOL_INTENTS:
            return switched, True
    return context.intent, True
