"""One tool registry for the router, the CLI (`jixiao tools`) and the LLM's tool binding.

A tool has a name, a description, pydantic arguments (`extra="forbid"`), `run(args)` returning a frozen result from
the rule tables, and `answer(u, args)` rendering that result for a turn (text, citations, the recorded tool call).
Adding a kind of tool question = one `Tool` here (or in its own module, registered with `register`) plus its cards
in `knowledge/cards/tools/`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field

from jixiao.bot import incentive_answer, tool_answers
from jixiao.bot.answer import Answer, citation, citations_of, cite_line
from jixiao.bot.short_answer import finish, fit, label
from jixiao.bot.incentives import incentives, policy_register, procedure_facts
from jixiao.bot.industry import resolve_industry, tier_scheme
from jixiao.bot.review import load_review_routes, review_route
from jixiao.bot.tool_answers import cite_dicts, result_dict
from jixiao.bot.understanding import Understanding


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IndustryArgs(Args):
    industry: str = Field(description="行业名称、俗称或产品，如“铸件”“汽修”")
    branch: str | None = None
    grade: str | None = None


class ReviewArgs(Args):
    industry: str | None = None
    branch: str | None = None
    grade: str | None = Field(default=None, description="A、B、B-、C、D、绩效引领、地方A …")
    region: str = "重庆"


class GradeArgs(Args):
    grade: str = Field(default="B", description="绩效等级")
    region: str = "重庆"


class MeasureArgs(Args):
    measure: int = Field(ge=1, le=10, description="附件1 惠企措施序号 1–10")
    grade: str | None = None


class TopicArgs(Args):
    topic: str = Field(description="procedures.yaml 的主题，如 工作时段、抽查、申报材料")
    jurisdiction: str = "重庆"


class TextArgs(Args):
    text: str


class NoArgs(Args):
    pass


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    args: type[Args]
    run: Callable[[Any], Any]                        # args model → frozen result
    answer: Callable[[Understanding, Any], Answer]   # the turn's reading, args model → rendered answer
    # The answer must cover the question's focus words (answerability). Lookups keyed by an industry read the
    # product words of a question as the industry, so only the asked slot is checked for them.
    checks_focus: bool = True


# ---------------------------------------------------------------- answers of the newer tools

def _delegated(u: Understanding, _args) -> Answer:
    route = next(r for r in load_review_routes().routes if r.delegated)
    quote = route.basis[0]
    c = citation(quote.doc_id, quote.section, quote.quote)
    names = "、".join(route.applies_to.industries or ())
    lead = (f"委托区县生态环境局审核的是《地方指南》中的7个行业：{names}（B级及绩效引领性企业）；"
            f"集体会议审查和公示公告仍由市生态环境局负责。")
    answer = Answer(lead + "\n" + cite_line([c] + citations_of(route.basis[1:])),
                    cite_dicts([c] + citations_of(route.basis[1:])),
                    [{"name": "delegated_industries", "args": {}, "result": {"found": True, "industries": names}}],
                    confidence=0.9, intent="tool_review")
    return finish(answer, lead + label(c))


def _measure(u: Understanding, args: MeasureArgs) -> Answer:
    from jixiao.bot.passages import top_clauses

    grade = args.grade or u.grade or "B"
    r = incentives(grade, u.region)
    ordinal = "一二三四五六七八九十"[args.measure - 1]
    focus = next((c for c in top_clauses(incentive_answer.INCENTIVES_DOC) if c[0] == ordinal), None)
    if not r.found or focus is None:
        return incentive_answer.incentives_answer(u)
    return incentive_answer.incentive_focus(dataclasses.replace(u, grade=args.grade or u.grade),
                                            {"grade": grade, "region": u.region, "measure": args.measure}, r, focus)


def _procedure(u: Understanding, args: TopicArgs) -> Answer:
    r = procedure_facts(args.topic, args.jurisdiction)
    if not r.found or not r.facts:
        return Answer(r.message, confidence=0.3, intent="policy", escalate=True)
    facts = _nearest_first(r.facts, u.text)[:3]
    cites = citations_of(tuple(b for f in facts for b in f.basis))
    text = "\n".join(_with_items(f) for f in facts) + "\n" + cite_line(cites)
    answer = Answer(text, cite_dicts(cites), [{"name": "procedure_fact", "args": args.model_dump(),
                                               "result": {"found": True, "facts": [f.id for f in facts]}}],
                    confidence=0.85, intent="policy")
    short = [_with_items(f) + "".join(label(c) for c in citations_of(f.basis[:1])) for f in facts]
    return finish(answer, "\n".join(fit(short)))


def _nearest_first(facts, question: str) -> list:
    """The facts of a topic, those sharing most character bigrams with the question first (stable otherwise):
    "退回来了还能重新交不" puts the resubmission fact before the once-a-year one."""
    from jixiao.bot.passages import terms

    asked = terms(question)
    return sorted(facts, key=lambda f: -len(terms(f.statement + "".join(f.items)) & asked))


def _with_items(fact) -> str:
    """A procedure fact as said: its statement and, when it lists them, its items ("共六部分：一、…；二、…")."""
    if not fact.items:
        return fact.statement
    return f"{fact.statement.rstrip('。')}：{'；'.join(fact.items)}。"


def _register(u: Understanding, _args) -> Answer:
    docs = policy_register("loaded")
    lines = ["本助手收录的政策文件（回答都以这些文件为准）："]
    for d in docs:
        if d.parent:
            continue
        meta = "，".join(x for x in (d.number, d.date) if x)
        lines.append(f"- {d.short_title or d.title}（{d.jurisdiction}{'，' + meta if meta else ''}）")
    cites = [citation(d.id, "发文", d.number or d.title) for d in docs if not d.parent][:3]
    answer = Answer("\n".join(lines), cite_dicts(cites),
                    [{"name": "policy_register", "args": {}, "result": {"found": True,
                                                                         "documents": [d.id for d in docs]}}],
                    confidence=0.9, intent="policy")
    count = len(lines) - 1
    return finish(answer, "\n".join(fit([f"本助手收录了{count}份政策文件（回答都以这些文件为准），主要有："] + lines[1:])))


def _handoff(u: Understanding, _args) -> Answer:
    return Answer("好的，已为您记录转人工请求，工作人员会尽快联系您。也可直接咨询所在区县生态环境局。",
                  escalate=True, confidence=1.0, intent="human")


# ---------------------------------------------------------------- the registry

TOOLS: dict[str, Tool] = {}


def register(tool: Tool) -> Tool:
    if tool.name in TOOLS:
        raise ValueError(f"tool {tool.name!r} registered twice")
    TOOLS[tool.name] = tool
    return tool


def _as(intent: str, fn: Callable[[Understanding], Answer]) -> Callable[[Understanding, Any], Answer]:
    return lambda u, _args: fn(dataclasses.replace(u, intent=intent))


for _tool in (
    Tool("tier_scheme", "某行业（附件3）适用的绩效分级管控类型：A/B/C/D、绩效引领/非绩效引领、地方A/B/C。", IndustryArgs,
         lambda a: tier_scheme(a.industry, a.branch), _as("tool_tiers", tool_answers.tiers), checks_focus=False),
    Tool("review_route", "某行业、某等级的评级申报由谁审核、按什么顺序（重庆）。", ReviewArgs,
         lambda a: review_route(a.industry or "", a.branch, a.grade, a.region), _as("tool_review", tool_answers.review),
         checks_focus=False),
    Tool("delegated_industries", "委托区县审核B级及绩效引领性企业的《地方指南》7个行业（通知四（二））。", NoArgs,
         lambda a: load_review_routes(), _delegated),
    Tool("incentives", "某绩效等级的企业可享受的惠企措施（附件1，惠企10条）。", GradeArgs,
         lambda a: incentives(a.grade, a.region), _as("tool_incentives", incentive_answer.incentives_answer)),
    Tool("incentive_measure", "附件1 惠企措施中的某一条：内容与适用等级。", MeasureArgs,
         lambda a: incentives(a.grade or "B"), _measure),
    Tool("resolve_industry", "日常说法、产品或工艺属于附件3的哪个行业。", TextArgs,
         lambda a: resolve_industry(a.text), _as("tool_industry", tool_answers.which_industry), checks_focus=False),
    Tool("procedure_fact", "评级程序事实（工作时段、目标、抽查、整改、申报、材料等），按主题。", TopicArgs,
         lambda a: procedure_facts(a.topic, a.jurisdiction), _procedure),
    Tool("policy_register", "已收录的政策文件：标题、文号、日期、属地。", NoArgs,
         lambda a: policy_register("loaded"), _register),
    Tool("start_assessment", "开始企业绩效分级自评。", ReviewArgs,
         lambda a: {"start": True}, _as("assess", tool_answers.assess), checks_focus=False),
    Tool("handoff", "转人工服务台。", NoArgs, lambda a: {"handoff": True}, _handoff, checks_focus=False),
):
    register(_tool)

TOOL_NAMES = tuple(TOOLS)


def result_json(result) -> Any:
    """A tool result as JSON-ready data (dataclasses, pydantic rows and tuples of them)."""
    if dataclasses.is_dataclass(result):
        return result_dict(result)
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    if isinstance(result, (list, tuple)):
        return [result_json(r) for r in result]
    return result
