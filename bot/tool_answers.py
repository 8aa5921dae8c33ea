"""Answers from the rule tables (tool lookups): tiers (附件3), which industry, review route, and the assess refusal.

Each answer carries its tool call (name, args, result) and cites the clauses the table row gives as its basis.
"""
from __future__ import annotations

import dataclasses

from jixiao.bot.abstention import abstain
from jixiao.bot.answer import RENDERERS, Answer, Citation, citation, citations_of, cite_line, render_review_overview
from jixiao.bot.incentives import grade_label, normalize_grade
from jixiao.bot.industry import resolve_industry, tier_scheme
from jixiao.bot.passages import where_named
from jixiao.bot.review import load_review_routes, review_route
from jixiao.bot import short_answer
from jixiao.bot.understanding import Understanding

NOTICE_DOC = "cq-cbza-2024"


def _leading_equivalent(grade: str | None, valid: tuple[str, ...]) -> str | None:
    """A letter grade asked of an industry graded only 绩效引领/非绩效引领: the tier it corresponds to."""
    if not grade or grade[-1:] not in "ABCD-" or not valid:
        return None
    want = "非绩效引领" if grade[0] in "CD" else "绩效引领"
    return next((g for g in valid if g.endswith(want) and (want == "非绩效引领" or "非" not in g)), None)


def result_dict(result) -> dict:
    """A lookup result as recorded in the answer's tool call (without the industry resolution)."""
    data = dataclasses.asdict(result)
    data.pop("resolution", None)
    return data


def cite_dicts(cites: list[Citation]) -> list[dict]:
    return [dataclasses.asdict(c) for c in cites]


def ask_industry(u: Understanding) -> Answer:
    if u.industry_candidates:
        msg = f"您说的行业可能是：{'、'.join(u.industry_candidates)}。请告诉我具体是哪一个。"
    else:
        msg = "请告诉我企业所属行业或主要产品（例如“铸造”“包装印刷”“汽修”），我再查附件3。"
    return Answer(msg, confidence=0.4, intent=u.intent)


def tool_answer(u: Understanding, name: str, args: dict, result, prefix: str = "", short: bool = True) -> Answer:
    """The rendered lookup `result` of tool `name`, with its citations and tool call; sent short first when long
    (`short=False`: the full text only, for a caller that adds to it and shortens afterwards)."""
    body, cites = RENDERERS[name](result)
    text = prefix + body + ("\n" + cite_line(cites) if cites else "")
    answer = Answer(text, cite_dicts(cites), [{"name": name, "args": args, "result": result_dict(result)}],
                    escalate=False, confidence=0.9 if result.found else 0.4, intent=u.intent)
    return shorten(answer, u, name, result, prefix, cites) if short else answer


def shorten(answer: Answer, u: Understanding, name: str, result, prefix: str, cites: list[Citation],
            excluded: tuple[int, ...] = ()) -> Answer:
    """The short form of a tool answer (bot/short_answer.py), rendered from the tool result, not from its text."""
    if name == "tier_scheme":
        return short_answer.finish(answer, short_answer.short_tiers(result, prefix, cites))
    if name == "review_route":
        return short_answer.finish(answer, *short_answer.short_review(result, prefix, cites))
    if name == "incentives":
        from jixiao.bot.intents import measure_words

        question = f"{u.text} {measure_words(u.text)}"
        return short_answer.finish(answer, *short_answer.short_incentives(result, question, prefix, cites, excluded))
    return answer


def tiers(u: Understanding) -> Answer:
    """The grades 附件3 sets for the industry named (asked for when none is), and whether the grade asked is one."""
    if not u.industry:
        return ask_industry(u)
    args = {"industry": u.industry, "branch": u.branch}
    r = tier_scheme(u.industry, u.branch)
    prefix = ""
    if r.found and u.grade:
        canon, _ = normalize_grade(u.grade)
        grades = {g.removeprefix("地方") for b in r.branches for g in b.grades}
        if canon and canon not in grades:
            prefix = f"附件3中{r.industry}没有“{grade_label(canon)}”这一档。"
        elif canon:
            prefix = f"附件3中{r.industry}设有{grade_label(canon)}。"
    answer = tool_answer(u, "tier_scheme", args, r, prefix)
    if u.industry not in u.text and not (u.branch and u.branch in u.text):
        # an everyday name ("做轮胎翻新的") was read as the industry: that lookup is part of the answer, on record
        res = resolve_industry(u.text)
        if res.found:
            answer.tools = list(answer.tools) + [{"name": "resolve_industry", "args": {"text": u.text},
                                                  "result": result_dict(res)}]
    return answer


def which_industry(u: Understanding) -> Answer:
    res = resolve_industry(u.text)
    tools = [{"name": "resolve_industry", "args": {"text": u.text}, "result": result_dict(res)}]
    if not u.industry:
        a = ask_industry(u)
        a.tools = tools
        return a
    r = tier_scheme(u.industry, u.branch)
    body, cites = RENDERERS["tier_scheme"](r)
    place = "附件3所列的" + (r.category_label or "") if r.found else ""
    lead = f"按附件3，这类企业属于{place}“{r.industry or u.industry}”行业。\n" if r.found else ""
    named = where_named(NOTICE_DOC, r.industry) if r.found and r.industry else None
    if named:  # the notice itself names the industry (e.g. 通用行业（含工业锅炉/炉窑）)
        cites = [citation(NOTICE_DOC, named[0], named[1])] + cites
    text = lead + body + ("\n" + cite_line(cites) if cites else "")
    tools.append({"name": "tier_scheme", "args": {"industry": u.industry, "branch": u.branch}, "result": result_dict(r)})
    answer = Answer(text, cite_dicts(cites), tools, escalate=False, confidence=0.9 if r.found else 0.4,
                    intent=u.intent)
    return short_answer.finish(answer, short_answer.short_tiers(r, lead, cites))


def review(u: Understanding) -> Answer:
    if not u.industry:
        if u.industry_candidates:
            return ask_industry(u)
        table = load_review_routes()
        body, cites = render_review_overview(table, u.grade, u.text)
        text = body + ("\n" + cite_line(cites) if cites else "")
        answer = Answer(text, cite_dicts(cites), [{"name": "review_route", "args": {"industry": None,
                        "grade": u.grade, "region": u.region}, "result": {"found": True, "overview": True}}],
                        escalate=False, confidence=0.8, intent=u.intent)
        return short_answer.finish(answer, short_answer.short_overview(table, cites, u.text))
    args = {"industry": u.industry, "branch": u.branch, "grade": u.grade, "region": u.region}
    r = review_route(u.industry, u.branch, u.grade, u.region)
    prefix = ""
    mapped = _leading_equivalent(u.grade, r.valid_grades) if not r.found else None
    if mapped:  # 汽修 has no A/B/C/D: 绩效引领 stands for A/B, 非绩效引领 for C/D
        prefix = (f"{r.industry}不分A/B/C/D级，只有{'/'.join(r.valid_grades)}；{u.grade}级对应的是“{mapped}”。"
                  f"以下按{mapped}回答：\n")
        args = dict(args, grade=mapped)
        r = review_route(u.industry, u.branch, mapped, u.region)
    if r.found and not r.steps and len(r.routes) > 1:  # no grade named: cite each route's own clause first
        body, cites = RENDERERS["review_route"](r)
        cites = citations_of(tuple(b for route in r.routes for b in route.basis[:1])) + cites
        answer = Answer(prefix + body + "\n" + cite_line(cites, limit=len(r.routes) + 1), cite_dicts(cites),
                        [{"name": "review_route", "args": args, "result": result_dict(r)}],
                        escalate=False, confidence=0.9, intent=u.intent)
        return shorten(answer, u, "review_route", r, prefix, cites)
    return tool_answer(u, "review_route", args, r, prefix)


def assess(u: Understanding) -> Answer:
    known = ""
    if u.industry:
        r = tier_scheme(u.industry, u.branch)
        if r.found:
            known = f"可以确定的是：{r.message}"
    return abstain(u, "需要对照《地方指南》等指标并经审核才能确定企业能评何等级", known)
