"""Who reviews a rating application in 重庆, step by step, with the clause for each step."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from jixiao.bot.cues import CHONGQING
from jixiao.bot.industry import JURISDICTION, BasisRef, find_branch, lookup
from jixiao.knowledge.industries import Industry, Route, load_review_routes, scheme_label

_CQ_PLACES = CHONGQING  # knowledge/lexicon/regions.yaml


@dataclass(frozen=True)
class ReviewStep:
    order: int
    actor: str
    action: str
    basis: tuple[BasisRef, ...]


@dataclass(frozen=True)
class RouteOption:
    route_id: str
    title: str
    grades: tuple[str, ...]  # the grades (of this industry) that take this route
    delegated: bool
    steps: tuple[ReviewStep, ...]
    note: str | None
    basis: tuple[BasisRef, ...]


@dataclass(frozen=True)
class ReviewRouteResult:
    query: str
    found: bool
    message: str
    industry: str | None = None
    category: str | None = None
    branch: str | None = None
    grade: str | None = None
    valid_grades: tuple[str, ...] = ()
    steps: tuple[ReviewStep, ...] = ()  # the route's steps when one route applies
    delegated: bool | None = None
    note: str | None = None
    routes: tuple[RouteOption, ...] = ()
    system: str | None = None
    once_a_year: str | None = None
    resubmission: str | None = None
    expert_review: str | None = None
    basis: tuple[BasisRef, ...] = ()
    suggestions: tuple[str, ...] = ()
    region: str = JURISDICTION
    jurisdiction: str = JURISDICTION


def is_chongqing(region: str | None) -> bool:
    r = unicodedata.normalize("NFKC", region or JURISDICTION).upper().strip()
    return any(p in r for p in _CQ_PLACES)


def canonical_grade(grade: str, local: bool) -> str | None:
    """`b级`, `B（B-）`, `引领`, `地方B` … → the table's grade name for a national or local industry."""
    g = unicodedata.normalize("NFKC", grade).upper()
    g = re.sub(r"[\s级类性企业]", "", g).replace("地方", "")
    g = {"B(B-)": "B", "B-": "B-", "B−": "B-", "引领": "绩效引领", "绩效引领": "绩效引领", "非引领": "非绩效引领",
         "非绩效引领": "非绩效引领", "其他": "其他", "A": "A", "B": "B", "C": "C", "D": "D"}.get(g)
    if g is None:
        return None
    if local and g in ("A", "B", "C", "绩效引领", "非绩效引领"):
        return "地方" + g
    return g


def _option(route: Route, grades: tuple[str, ...]) -> RouteOption:
    steps = tuple(ReviewStep(i, s.actor, s.action, tuple(BasisRef.of(b) for b in s.basis))
                  for i, s in enumerate(route.steps, 1))
    return RouteOption(route.id, route.title, grades, route.delegated, steps, route.note,
                       tuple(BasisRef.of(b) for b in route.basis))


def _route_for(ind: Industry, grade: str | None) -> Route | None:
    return next((r for r in load_review_routes().routes if r.matches(ind.category, ind.name, grade)), None)


def _fail(query: str, message: str, **kw) -> ReviewRouteResult:
    return ReviewRouteResult(query, False, message, **kw)


def review_route(industry: str, branch: str | None = None, grade: str | None = None,
                 region: str | None = JURISDICTION) -> ReviewRouteResult:
    region = region or JURISDICTION
    if not is_chongqing(region):
        return _fail(industry, f"本工具的审核路径表只覆盖重庆市（依据重庆市生态环境局“创B争A”通知及附件3、附件4），"
                               f"不适用于“{region}”。请咨询当地生态环境部门。", region=region)
    ind, res = lookup(industry)
    if ind is None:
        return _fail(industry, res.message, suggestions=res.suggestions, region=region)
    branches = ind.branches
    if branch:
        b = find_branch(ind, branch)
        if b is None:
            return _fail(industry, f"{ind.name}没有名为“{branch}”的分支。附件3所列分支："
                                   f"{'、'.join(x.name for x in ind.branches)}。", industry=ind.name,
                         category=ind.category, suggestions=tuple(x.name for x in ind.branches), region=region)
        branches = [b]
    elif res.best and res.best.branch:
        branches = [x for x in ind.branches if x.name == res.best.branch]
    branch_name = branches[0].name if len(branches) == 1 else None
    label = ind.name + (f"·{branch_name}" if branch_name and branch_name != ind.name else "")
    valid: list[str] = []
    for b in branches:
        valid += [g for g in (b.grades or ("其他",)) if g not in valid]
    common = dict(industry=ind.name, category=ind.category, branch=branch_name, valid_grades=tuple(valid),
                  region=region)

    g = None
    if grade:
        g = canonical_grade(grade, ind.category == "local")
        if ind.category != "livelihood" and (g is None or g not in valid):
            schemes = "；".join(f"{b.name}：{scheme_label(b.scheme, b.tiers)}（{b.tiers_label}）" for b in branches)
            hint = ""
            if any(b.scheme in ("leading", "local_leading") for b in branches) and g and "引领" not in g:
                hint = "该分支按绩效引领/非绩效引领管控，不分A/B/C/D级，请按“绩效引领”查询。"
            elif any(b.scheme == "other" for b in branches):
                hint = "管控类型为“其他”的分支在附件3中不设A/B/C/D或绩效引领等级。"
            return _fail(industry, f"“{grade}”不是{label}可申报的等级。{hint}附件3所列管控类型：{schemes}。", **common)

    table = load_review_routes()
    if ind.category == "livelihood":
        groups = {None: _route_for(ind, None)}
    elif g is not None:
        groups = {g: _route_for(ind, g)}
    else:
        groups = {x: _route_for(ind, x) for x in valid}
    options: dict[str, tuple[Route, list[str]]] = {}
    for gr, route in groups.items():
        if route is None:
            continue
        options.setdefault(route.id, (route, []))[1].extend([gr] if gr else [])
    routes = tuple(_option(r, tuple(gs)) for r, gs in options.values())
    if not routes:
        return _fail(industry, f"审核路径表中没有{ind.name}（{grade or '未指定等级'}）的路径，请咨询市生态环境局。", **common)

    single = routes[0] if len(routes) == 1 else None
    who = label + (f" {g}" if g else "")
    if single:
        flow = "→".join(f"{s.actor}{s.action}" for s in single.steps)
        message = f"{who}（重庆）：{single.title}。流程：{flow}。"
    else:
        message = f"{who}（重庆）按申报等级走不同审核路径：" + "；".join(
            f"{'、'.join(o.grades)}：{o.title}" for o in routes) + "。请说明申报等级以查看具体步骤。"
    rules = {r.id: r for r in table.rules}
    basis = tuple(BasisRef.of(b) for r in ("system", "once_a_year", "resubmission") for b in rules[r].basis)
    return ReviewRouteResult(
        industry, True, message, grade=g, steps=single.steps if single else (),
        delegated=single.delegated if single else None, note=single.note if single else None, routes=routes,
        system=table.system, once_a_year=rules["once_a_year"].statement,
        resubmission=rules["resubmission"].statement, expert_review=rules["expert_accounts"].statement,
        basis=(single.basis if single else ()) + basis, **common)
