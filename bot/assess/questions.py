"""Which question comes next, derived from the answers so far, and how an answer is parsed.

The sequence is a pure function of `answers`: 返回 deletes the last answer and the same question is
asked again; nothing else needs undoing.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from jixiao.bot.assess import answers as natural
from jixiao.bot.assess.families import BARS, BY_ID, FAMILIES, STATUS_OPTIONS, YESNO_OPTIONS
from jixiao.bot.assess.pack import Indicator, Packs
from jixiao.bot.industry import resolve_industry, tier_scheme
from jixiao.knowledge.industries import load_industries

SKIPPED = "__skipped__"


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    kind: str  # industry | choice | yesno | percent | status
    options: tuple[tuple[str, str], ...] = ()
    skippable: bool = True
    help: str = ""
    family: str | None = None  # the indicator family asked about (families.py id)


class Invalid(Exception):
    """The text is not a valid answer; the message says what is expected."""


def looks_like_question(text: str) -> bool:
    """A clear question (the marks are in answer_forms.yaml); the only input that leaves the flow."""
    return natural.is_question(text)


# ---------------------------------------------------------------- context derived from answers

def industry_of(answers: dict) -> str | None:
    pick = answers.get("industry_pick")
    if pick and pick != SKIPPED:
        return pick
    first = answers.get("industry")
    return first.get("industry") if isinstance(first, dict) else None


def branch_of(answers: dict) -> str | None:
    b = answers.get("branch")
    if b and b != SKIPPED:
        return b
    first = answers.get("industry")
    hint = first.get("branch") if isinstance(first, dict) else None
    ind = industry_of(answers)
    if hint and ind and isinstance(first, dict) and first.get("industry") == ind:
        return hint
    industry = load_industries().by_name(ind) if ind else None
    return industry.branches[0].name if industry and len(industry.branches) == 1 else None


def grades_of(answers: dict) -> tuple[str, ...]:
    ind = industry_of(answers)
    if not ind:
        return ()
    ts = tier_scheme(ind, branch_of(answers))
    return ts.branches[0].grades if ts.found and ts.branches else ()


# ---------------------------------------------------------------- the sequence

def sequence(answers: dict, packs: Packs):
    """Yield the questions in order; the caller asks the first one without an answer."""
    yield Question("industry", "请问贵企业属于什么行业，或主要产品是什么？（例如：包装印刷、铸造、汽修）",
                   "industry", skippable=False)
    first = answers.get("industry")
    if isinstance(first, dict) and first.get("candidates"):
        said = f"“{first['text']}”" if len(first["text"]) <= 12 else "您说的行业"
        yield Question("industry_pick", f"{said}可能属于多个行业，请选择：", "choice",
                       tuple((c, c) for c in first["candidates"]), skippable=False)
    ind = industry_of(answers)
    industry = load_industries().by_name(ind) if ind else None
    if industry is None:
        return
    if len(industry.branches) > 1 and not branch_of(answers):
        yield Question("branch", f"{industry.name}分为以下分支，贵企业属于哪一类？", "choice",
                       tuple((b.name, b.name) for b in industry.branches), skippable=False)
    grades = grades_of(answers)
    yield Question("target", "贵企业希望申报哪个等级？", "choice",
                   tuple((g, g) for g in grades) + (("unsure", "还不确定，先评估"),))
    for qid, text in BARS:
        yield Question(qid, text, "yesno", YESNO_OPTIONS)
    for fam in FAMILIES:
        found = packs.indicators(ind, branch_of(answers), grades, fam.id)
        if not found:
            yield Question(f"fam:{fam.id}", BY_ID[fam.id].question, "status", STATUS_OPTIONS,
                           help="也可以直接用一句话描述现状。", family=fam.id)
        for _, indicator in found:
            yield from _indicator_questions(indicator, answers)


def variant_of(indicator: Indicator, answers: dict):
    """The variant chosen (the only one when there is one), or None (not chosen / not applicable)."""
    if len(indicator.variants) == 1:
        return indicator.variants[0]
    return next((v for v in indicator.variants if v.id == answers.get(f"ind:{indicator.id}:variant")), None)


def _indicator_questions(indicator: Indicator, answers: dict):
    if len(indicator.variants) > 1:
        yield Question(f"ind:{indicator.id}:variant", indicator.variant_question, "choice",
                       tuple((v.id, v.label) for v in indicator.variants) + (("na", indicator.na_label),),
                       family=indicator.family)
    variant = variant_of(indicator, answers)
    for check in variant.checks if variant else ():
        qid = f"ind:{indicator.id}:{check.id}"
        fam = indicator.family
        if check.kind == "percent":
            yield Question(qid, check.question, "percent", help="请回复0到100之间的数字，例如 85、85% 或“大概八成”。"
                           + (f"（{variant.note}）" if variant.note else ""), family=fam)
        elif check.kind == "choice":
            yield Question(qid, check.question, "choice", tuple((o.id, o.label) for o in check.options), family=fam)
        else:
            yield Question(qid, check.question, "yesno", YESNO_OPTIONS, family=fam)


def next_question(answers: dict, packs: Packs) -> Question | None:
    return next((q for q in sequence(answers, packs) if q.id not in answers), None)


def later_question(answers: dict, packs: Packs, families: set[str], current: Question) -> Question | None:
    """The first unanswered question about one of `families` after `current`, that a description can answer."""
    seen = False
    for q in sequence(answers, packs):
        seen = seen or q.id == current.id
        if seen and q.id not in answers and q.family in families and q.kind in ("status", "yesno", "percent"):
            return q
    return None


# ---------------------------------------------------------------- parsing

def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


def parse(q: Question, text: str):
    """The stored value for `text`, or raise Invalid with what is expected."""
    t = _norm(text)
    if q.kind == "industry":
        return _parse_industry(t)
    if q.kind == "percent":
        return _parse_percent(t)
    chosen = _pick(q.options, t)
    if chosen is not None:
        return chosen
    if q.kind == "yesno" and (said := natural.yesno(t)):
        return said
    if q.kind == "status":
        if said := natural.status(t):
            return said
        if len(t) >= 4 and not looks_like_question(t):
            return {"status": "described", "note": t}  # free description recorded as given
    if q.kind == "yesno":
        raise Invalid("请回复“有/是”或“没有/否”（也可回复编号 1-3）。")
    raise Invalid(f"请回复选项编号（1-{len(q.options)}）或选项文字。")


def _parse_percent(t: str) -> float:
    try:
        value = natural.percent(t)
    except natural.NotShare as exc:
        raise Invalid(f"您说的{exc.value:g}%看起来是{exc.cue}，不是这里问的比例。如果全部使用这类材料，请回复 100；"
                      "部分使用，请回复大致比例，例如“六成”。") from exc
    if value is None:
        raise Invalid("请回复0到100之间的数字（百分比），例如 85、85% 或“大概八成”。")
    return value


def _pick(options: tuple[tuple[str, str], ...], t: str) -> str | None:
    if t.isdigit() and 1 <= int(t) <= len(options):
        return options[int(t) - 1][0]
    for value, label in options:
        if t and (t == value or t == label or t.upper() == value.upper()):
            return value
    hits = [value for value, label in options if t and len(t) >= 2 and t in label]
    return hits[0] if len(hits) == 1 else None


def _parse_industry(t: str) -> dict:
    res = resolve_industry(t)
    if not res.found or res.best is None:
        raise Invalid(res.message)
    if res.ambiguous:
        return {"text": t, "candidates": [m.industry for m in res.candidates[:5]]}
    return {"text": t, "industry": res.best.industry, "branch": res.best.branch}
