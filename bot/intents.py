"""The intent a turn's own keywords name (None for a bare entity), and the 惠企 measure an everyday phrase names."""
from __future__ import annotations

from jixiao.bot import cues
from jixiao.bot.cues import mentions


def measure_words(text: str) -> str:
    """The 附件1 measure wording an everyday description stands for ("" when it names none)."""
    return " ".join(words for pattern, words in cues.MEASURE_HINTS if pattern.search(text))


def keyword_intent(text: str, industry: str | None, grade: str | None) -> str | None:
    """The intent named by keywords, or None when the text names none (a bare entity)."""
    if mentions(text, cues.HUMAN):
        return "human"
    if mentions(text, cues.ASSESS) or (cues.ATTAIN.search(text) and not cues.JUMP.search(text)):
        return "assess"
    if ((mentions(text, cues.REVIEW) and (industry or grade or mentions(text, cues.REVIEW_CONTEXT))) or (
            cues.WHO_TO_APPLY.search(text)) or ("审" in text and (industry or grade))) \
            and not mentions(text, cues.REVIEW_NOT):
        return "tool_review"
    if mentions(text, cues.INCENTIVES) or measure_words(text):
        return "tool_incentives"
    if mentions(text, cues.WHICH_INDUSTRY) and industry:
        return "tool_industry"
    if mentions(text, cues.TIERS) or (industry and cues.TIER_ASKED.search(text)):
        return "tool_tiers"
    if mentions(text, cues.SMALLTALK) and len(text) <= 12:
        return "smalltalk"
    if mentions(text, cues.OFF_TOPIC):
        return "smalltalk"
    return None
