"""Which industry of 附件3 (重庆) free text names: official names, branch names, everyday names, typos,
whole sentences, with "不是X" honoured. Never raises on unknown input: the resolution carries
`found=False`, a Chinese message and suggestions.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from jixiao.bot.negation import score_text
from jixiao.bot.term_match import suggest
from jixiao.bot.vocabulary import clean
from jixiao.knowledge.industries import CATEGORY_LABELS, Industry, load_industries

JURISDICTION = "重庆"
_AMBIGUITY_GAP = 0.05


@dataclass(frozen=True)
class IndustryMatch:
    industry: str
    category: str
    branch: str | None  # set when the text named a branch (e.g. 马桶 → 卫生陶瓷)
    matched_term: str
    how: str  # name | branch | synonym | contained | partial | homophone | fuzzy
    confidence: float


@dataclass(frozen=True)
class IndustryResolution:
    query: str
    found: bool
    ambiguous: bool
    best: IndustryMatch | None
    candidates: tuple[IndustryMatch, ...]
    message: str
    suggestions: tuple[str, ...] = ()
    jurisdiction: str = JURISDICTION


def _matches(text: str, query: str) -> tuple[IndustryMatch, ...]:
    """The best match per industry, most confident first."""
    best_by_industry: dict[str, IndustryMatch] = {}
    for conf, t, how in sorted(score_text(text, query), key=lambda p: -p[0]):
        m = IndustryMatch(t.industry, t.category, t.branch, t.text, how, min(1.0, conf))
        best = best_by_industry.get(t.industry)
        if best is None:
            best_by_industry[t.industry] = m
        elif best.branch is None and t.branch:  # a weaker match that names the branch refines the industry
            best_by_industry[t.industry] = replace(best, branch=t.branch)
    return tuple(sorted(best_by_industry.values(), key=lambda m: -m.confidence))


_EXACT = ("name", "branch", "synonym", "contained")


def _more_named(text: str, query: str, close: tuple, matches: tuple) -> tuple[tuple, tuple]:
    """Equally confident industries: the one the text names by more distinct terms wins ("合成氨、尿素的化肥厂":
    合成氨 and 尿素 name 煤制氮肥, 化肥厂 only names 肥料制造)."""
    names: dict[str, set[str]] = {}
    for _, t, how in score_text(text, query):
        if how in _EXACT:
            names.setdefault(t.industry, set()).add(t.text)
    counts = sorted(((len(names.get(m.industry, ())), m) for m in close), key=lambda p: -p[0])
    if counts[0][0] > counts[1][0]:
        winner = counts[0][1]
        return (winner,), (winner,) + tuple(m for m in matches if m is not winner)
    return close, matches


def resolve_industry(text: str) -> IndustryResolution:
    query = clean(text)
    if not query:
        return IndustryResolution(text or "", False, False, None, (), "请告诉我企业所属行业或主要产品，例如“铸造”“包装印刷”“汽修”。",
                                  suggest(""))
    matches = _matches(text, query)
    if not matches:
        sugg = suggest(query)
        return IndustryResolution(text, False, False, None, (),
                                  f"未能在重庆“创B争A”行业清单（附件3）中识别“{text}”对应的行业。"
                                  f"您可能想问：{'、'.join(sugg)}。也可以告诉我主要产品或工艺。", sugg)
    top = matches[0]
    close = tuple(m for m in matches if top.confidence - m.confidence <= _AMBIGUITY_GAP)
    if len(close) > 1:
        close, matches = _more_named(text, query, close, matches)
        top = matches[0]
    if len(close) > 1:
        names = "、".join(m.industry for m in close)
        return IndustryResolution(text, True, True, top, matches,
                                  f"“{text}”可能属于多个行业：{names}。请说明具体行业或产品。",
                                  tuple(m.industry for m in close))
    label = top.industry + (f"（{top.branch}）" if top.branch else "")
    return IndustryResolution(text, True, False, top, matches,
                              f"识别为附件3行业：{label}（{CATEGORY_LABELS[top.category]}）。")


def lookup(text: str) -> tuple[Industry | None, IndustryResolution]:
    """The industry named by `text` when it is unambiguous, and the resolution either way."""
    res = resolve_industry(text)
    if not res.found or res.ambiguous or res.best is None:
        return None, res
    return load_industries().by_name(res.best.industry), res
