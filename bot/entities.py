"""The entities a turn names: grade, region (jurisdiction asked about) and industry (with branch)."""
from __future__ import annotations

import re

from jixiao.bot import cues
from jixiao.bot.cues import mentions
from jixiao.bot.industry import resolve_industry
from jixiao.bot.understanding import DEFAULT_REGION


def extract_grade(text: str) -> str | None:
    m = cues.LEAD.search(text)
    if m:
        return (m.group(1) or "") + ("非绩效引领" if m.group(2) else "绩效引领")
    t = text.replace("创B争A", "").replace("A+级", "A+")
    for m in cues.GRADE.finditer(t):
        local, letter, sign = m.group(1) or "", m.group(2), m.group(3)
        after = t[m.end():m.end() + 1]
        before = t[max(0, m.start() - 1):m.start()]
        if not (local or after == "" or after in cues.GRADE_AFTER or before in cues.GRADE_BEFORE):
            continue
        if sign == "+":
            return local + letter + "+"
        return local + letter + ("-" if sign else "")
    return None


def region_of(text: str) -> str:
    t = text
    for joint in cues.NOT_A_REGION:
        t = t.replace(joint, "")
    for place in cues.REGIONS:
        if place in t and not _referenced(t, place):
            return place
    return DEFAULT_REGION


def _referenced(text: str, place: str) -> bool:
    """`place` is named as the source of a document Chongqing's notice references, not as a jurisdiction asked
    about ("那10个地方行业参照的四川指南，文号是多少" vs "四川的企业评级在哪个系统申报")."""
    words = cues.REFERENCED.get(place, ())
    if not words:
        return False
    return mentions(text, words) or bool(re.search(f"({'|'.join(cues.REFERENCE_VERBS)})[^，。？?]{{0,4}}" + place, text))


def industry_of(text: str) -> tuple[str | None, tuple[str, ...], str | None]:
    res = resolve_industry(text)
    if res.found and res.best is not None and res.best.category == "livelihood" and not mentions(text, cues.REVIEW):
        return None, (), None  # 民生保障类 is an exemption category: only its review route is a lookup
    return industry_match(res)


def industry_match(res) -> tuple[str | None, tuple[str, ...], str | None]:
    if not res.found or res.best is None:
        return None, (), None
    if res.best.how == "fuzzy" and res.best.confidence < 0.6:
        return None, (), None
    if res.ambiguous:
        best, others = res.best, [m for m in res.candidates if m.industry != res.best.industry]
        specific = others and (len(best.matched_term) > max(len(m.matched_term) for m in others)
                               or (best.branch and not any(m.branch for m in others)))
        if not specific:
            return None, tuple(m.industry for m in res.candidates[:5]), None
    return res.best.industry, (), res.best.branch


def entity_words(u) -> list[str]:
    """The words of a turn the lookups read as entities (industry names as typed, grade, place): not its focus."""
    res = resolve_industry(u.text)
    typed = [m.matched_term for m in (res.candidates or ()) if getattr(m, "matched_term", None)]
    return [w for w in (*typed, u.industry, u.branch, u.grade, u.region) if w]
