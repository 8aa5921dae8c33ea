"""What a user turn asks for: intent, entities (industry, branch, grade, region) and escalation flags.

Rule-based (keyword sets and a few patterns), deterministic and fast. `understand` never raises:
empty input gives intent `empty`, 10 000-character input is truncated before analysis.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from jixiao.bot import cues
from jixiao.bot.cues import mentions
from jixiao.bot.entities import extract_grade, industry_match, industry_of, region_of
from jixiao.bot.followup import is_followup, resolve_followup
from jixiao.bot.industry import resolve_industry
from jixiao.bot.intents import keyword_intent, measure_words
from jixiao.bot.personal_flags import asks_fee, asks_own_amount, asks_threshold, named_standing, on_list, personal_flags
from jixiao.bot.understanding import DEFAULT_REGION, INTENTS, TOOL_INTENTS, Understanding

__all__ = ["DEFAULT_REGION", "INTENTS", "MAX_CHARS", "TOOL_INTENTS", "Understanding", "asks_fee", "asks_own_amount",
           "asks_threshold", "expand", "extract_grade", "measure_words", "named_standing", "normalize", "on_list",
           "understand", "with_intent"]

MAX_CHARS = 400  # the analysed prefix of a long message
# Chongqing speech asks "how much" as 好多 (好多钱, 好多吨); "罚了好多钱" (a lot, after 了) stays as it is
_HAODUO = cues.HAODUO


def normalize(text) -> str:
    """NFKC, upper case, control and format characters removed; non-text input becomes text first."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    elif text is not None and not isinstance(text, str):
        text = str(text)
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(ch if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co") else " "
                   for ch in text)
    return text.upper().strip()


def understand(text: str, context: Understanding | None = None) -> Understanding:
    """Analyse one user turn; `context` is the previous turn's Understanding (or None)."""
    full = normalize(text)
    t = cues.HAOJIU.sub("多久", _HAODUO.sub("多少", full[:MAX_CHARS]))
    truncated = len(full) > MAX_CHARS
    if not re.sub(r"[\W_]+", "", t):
        return Understanding(t, "empty", truncated=truncated)
    industry, candidates, branch = industry_of(t)
    grade = extract_grade(t)
    region = region_of(t)
    personal = personal_flags(t, region)
    off_topic = mentions(t, cues.OFF_TOPIC)
    intent = keyword_intent(t, industry, grade)
    followup = is_followup(t, context)
    query = expand(t)
    if context is not None and intent not in ("human", "smalltalk"):
        own_intent = intent
        intent, followup = resolve_followup(t, intent, followup, context, industry or candidates, grade)
        if own_intent is None and intent == "tool_review" and industry is None and context.industry is None:
            industry, candidates, branch = industry_match(resolve_industry(context.text))  # "谁来定？"
        if followup or (intent in TOOL_INTENTS and context.intent in TOOL_INTENTS):
            if industry is None and not candidates:
                industry, candidates, branch = context.industry, context.industry_candidates, context.branch
                branch = _branch_within(industry, t) or branch  # "那改成天然气炉呢" after 铸件（冲天炉）
            if grade is None and followup and (intent == context.intent
                                               or (intent in TOOL_INTENTS and mentions(t, cues.DEIXIS))):
                grade = context.grade
            if region == DEFAULT_REGION and followup and context.region != DEFAULT_REGION and DEFAULT_REGION not in t:
                region = context.region
            if followup and not (intent == "policy" and context.intent in TOOL_INTENTS):
                query = f"{context.query or context.text} {expand(t)}"  # a lookup question is no search topic
    if intent is None:
        # a bare industry ("油墨厂分级", "红木家具厂") asks for its tiers
        if industry and not mentions(t, cues.OPEN_QUESTION) and (_bare(t) or mentions(t, cues.RATING_TOPIC)):
            intent = "tool_tiers"
        elif off_topic:
            intent = "smalltalk"
        else:
            intent = "policy"
    return Understanding(t, intent, industry, candidates, branch, grade, region, personal, off_topic,
                         followup, truncated, query)


BARE_CHARS = 18  # "我们是做铸件的，有冲天炉和电炉两条线": a message this short naming an industry asks its tiers


def _bare(text: str) -> bool:
    return len(re.sub(r"[\W_]+", "", text)) <= BARE_CHARS


def _branch_within(industry: str | None, text: str) -> str | None:
    """The branch of the previous turn's industry that this turn names, if any."""
    if not industry:
        return None
    res = resolve_industry(f"{industry} {text}")
    best = res.best if res.found else None
    return best.branch if best is not None and best.industry == industry else None


def expand(text: str) -> str:
    extra = [v for k, v in cues.EXPANSIONS.items() if k in text] + ([measure_words(text)] if measure_words(text) else [])
    rewritten = text
    for old, new in cues.REWRITES:
        rewritten = rewritten.replace(old, new)
    if rewritten != text:
        extra.append(rewritten)
    return text + (" " + " ".join(dict.fromkeys(extra)) if extra else "")


def with_intent(u: Understanding, intent: str) -> Understanding:
    return replace(u, intent=intent)
