"""The assessment result: weakest-link grade over indicators with loaded thresholds, short boards,
evidence checklist, review route, incentives and how to apply; every fact carries its document and
clause. Chinese text split for WeChat (`jixiao.bot.answer.split_for_wechat`) plus JSON."""
from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass

from jixiao.bot.answer import WECHAT_LIMIT, citation, split_for_wechat
from jixiao.bot.assess.families import BAR_NAMES, BARS, BY_ID, GRADE_ORDER, lv
from jixiao.bot.assess.outcomes import GAP, IndicatorOutcome, outcomes
from jixiao.bot.assess.pack import Packs
from jixiao.bot.assess.questions import SKIPPED, branch_of, grades_of, industry_of, sequence
from jixiao.bot.incentives import FactOut, incentives, procedure_facts
from jixiao.bot.review import review_route
from jixiao.knowledge.industries import load_industries

__all__ = ["WECHAT_LIMIT", "AssessmentResult", "IndicatorOutcome", "build_result"]

_BARRED = ("A", "B", "B-", "绩效引领", "地方A", "地方B", "地方绩效引领")


@dataclass(frozen=True)
class AssessmentResult:
    industry: str
    branch: str | None
    scheme_grades: tuple[str, ...]
    target: str | None
    estimate: str | None  # likely grade; None when an indicator prevents an estimate
    estimate_text: str  # “A” or “暂无法估计：<indicators>”
    ceiling: str | None  # best grade the indicators with loaded thresholds allow (weakest link)
    ceiling_reasons: tuple[str, ...]  # the rows holding the ceiling down, each with what it rests on
    ceiling_short: str  # the first of them in a few words, with its document (for the short message)
    not_estimable: tuple[str, ...]  # indicators without a loaded threshold (or unanswered)
    barred: bool
    bar_findings: tuple[str, ...]
    indicators: tuple[IndicatorOutcome, ...]
    short_boards: tuple[str, ...]
    evidence: tuple[str, ...]
    threshold_home: str
    review_grade: str | None
    review: str
    incentives: str
    how_to_apply: str
    apply_when: str
    handoff: str
    notes: tuple[str, ...]
    citations: tuple[dict, ...]  # {doc_id, title, section, quote}
    warning: str | None  # what the likely grade must do in a yellow/orange/red warning, where a document says it
    answers: tuple[dict, ...]  # {question, answer} in the order asked, for the helpdesk
    short: str = ""  # the first message: ≤ SHORT_LIMIT bytes
    parts: tuple[str, ...] = ()  # the full report, each ≤ WECHAT_LIMIT bytes

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False, indent=2)


class _Cites:
    """Collects citations; `ref` returns the short inline label “（《文件》条款）”."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str, str], dict] = {}

    def ref(self, *basis) -> str:
        label = self.label(*basis)
        return f"（{label}）" if label else ""

    def label(self, *basis) -> str:
        labels = []
        for b in basis:
            c = citation(b.doc_id, b.section, b.quote)
            self.items.setdefault((c.doc_id, c.section, c.quote), dataclasses.asdict(c))
            label = f"{c.title}{c.section}" + ("，二手资料" if getattr(b, "secondary", False) else "")
            if label not in labels:
                labels.append(label)
        return "；".join(labels)


def _fact(fact_id: str, jurisdiction: str) -> FactOut:
    r = procedure_facts(jurisdiction=jurisdiction)
    return next(f for f in r.facts + r.national_secondary if f.id == fact_id)


def _threshold_home(industry: str, cites: _Cites) -> str:
    ind = load_industries().by_name(industry)
    guide = _fact("cq-local-guide", "重庆")
    if ind is not None and ind.category == "local":
        return "四川省《地方指南》（川环办函〔2024〕337号，本助手未载入）" + cites.ref(guide.basis[1])
    return "2020年《技术指南》（环办大气函〔2020〕340号，本助手未载入）" + cites.ref(guide.basis[0])


def _rank(g: str, scheme: tuple[str, ...] = ()) -> int:
    order = scheme or GRADE_ORDER
    return order.index(g) if g in order else len(order)


def _evidence_key(item: str) -> tuple[int, ...]:
    m = re.match(r"[\d.]+", item)
    return tuple(int(n) for n in m.group(0).strip(".").split(".")) if m else (99,)


def build_result(answers: dict, packs: Packs) -> AssessmentResult:
    cites = _Cites()
    industry = industry_of(answers) or ""
    branch = branch_of(answers)
    grades = grades_of(answers)
    target = answers.get("target") if answers.get("target") not in (None, SKIPPED, "unsure") else None
    findings = tuple(BAR_NAMES[q] for q, _ in BARS if answers.get(q) == "yes")
    unclear = tuple(BAR_NAMES[q] for q, _ in BARS if answers.get(q) in ("unknown", SKIPPED, None))
    home = _threshold_home(industry, cites)
    outs = outcomes(answers, packs, home)
    _cite_rows(outs, packs, cites)
    ceiling, reasons, ceiling_short = _ceiling(outs, grades)
    missing = tuple(o.name for o in outs if o.status in ("no_threshold", "skipped", "below_loaded", "reference",
                                                          "unanswered"))
    graded = [o for o in outs if o.status == "graded"]
    estimate = ceiling if graded and not missing else None
    barred = bool(findings)
    if barred and estimate in _BARRED:
        estimate = None
    if estimate:
        weakest = _fact("nat-weakest-link", "全国")
        estimate_text = f"{estimate}（按短板原则取各指标中的最低等级{cites.ref(weakest.basis[0])}）"
    else:
        why = ([f"前置条件（{'、'.join(findings)}）"] if barred else []) + list(missing)
        estimate_text = "暂无法估计：" + "、".join(why or ["没有载入门槛的指标"])
    notes = _notes(findings, unclear, cites)
    review_grade = target or ceiling or (grades[0] if grades else None)
    review = _review_text(industry, branch, review_grade, cites)
    inc = incentives(review_grade or "B")
    inc_text = inc.message + cites.ref(*(m.basis[0] for m in inc.measures[:1]), *inc.basis[:1]) if inc.found \
        else "惠企措施请咨询区县生态环境局。"
    how, when = _how_and_when(cites)
    materials = _fact("cq-materials-outline", "重庆")
    evidence = tuple(sorted(dict.fromkeys(e for o in outs if o.status != "not_applicable" for e in o.evidence),
                            key=_evidence_key))
    cites.ref(materials.basis[2])
    handoff = "如需人工帮助，回复“转人工”，我们把本次自评结果转给帮办人员。"
    warn = packs.warnings(industry, branch)
    likely = estimate or ceiling
    warning = (f"{lv(likely)}企业在重污染天气预警期间：{warn.grades[likely]}{cites.ref(*warn.basis)}"
               if warn and likely in warn.grades else None)
    result = AssessmentResult(industry, branch, grades, target, estimate, estimate_text, ceiling, reasons,
                              ceiling_short, missing,
                              barred, findings, tuple(outs), _short_boards(outs, target, findings, cites, grades),
                              evidence, home,
                              review_grade, review, inc_text, how, when, handoff, tuple(notes),
                              tuple(cites.items.values()), warning, answers_shown(answers, packs))
    from jixiao.bot.assess.render import render, render_short
    return dataclasses.replace(result, short=render_short(result), parts=tuple(split_for_wechat(render(result))))


def _cite_rows(outs: list[IndicatorOutcome], packs: Packs, cites: "_Cites") -> None:
    """Every pack row a judgement rests on goes into the citations."""
    for p in packs.packs:
        for ind in p.indicators:
            if any(o.pack and o.name.startswith(ind.name) for o in outs):
                for v in ind.variants:
                    cites.ref(*v.basis)


def _ceiling(outs: list[IndicatorOutcome], scheme: tuple[str, ...]) -> tuple[str | None, tuple[str, ...], str]:
    """The weakest grade the pack rows allow and the rows that set it (each with its basis)."""
    allowed = [(o.grade if o.status == "graded" else o.ceiling, o) for o in outs
               if o.status == "graded" or (o.status == "below_loaded" and o.ceiling)]
    if not allowed:
        return None, (), ""
    worst = max((g for g, _ in allowed), key=lambda g: _rank(g, scheme))
    if _rank(worst, scheme) == 0:
        return worst, (), ""
    rows = [o for g, o in allowed if g == worst]
    reasons = tuple(f"{o.name}：{o.answer}，未达{lv(o.failed or _better(o.grade, scheme))}要求"
                    f"（依据：{o.source}）" for o in rows)
    o = rows[0]
    docs = "、".join(dict.fromkeys(x.split("》")[0] + "》" for x in o.source.split("；")))
    short = (f"{o.name.split('（')[0]}：{o.answer}，未达{lv(o.failed or _better(o.grade, scheme))}要求"
             f"（依据{docs}{'，二手资料' if '二手资料' in o.source else ''}）")
    return worst, reasons, short


def _better(grade: str | None, scheme: tuple[str, ...]) -> str:
    i = scheme.index(grade) if grade in scheme else 0
    return scheme[i - 1] if i > 0 else (grade or "")


def answers_shown(answers: dict, packs: Packs) -> tuple[dict, ...]:
    """{question, answer} for each answered question, as the user would read them (for the helpdesk)."""
    out = []
    if answers.get("branch") not in (None, SKIPPED):
        out.append({"question": "行业分支", "answer": answers["branch"]})
    for q in sequence(answers, packs):
        if q.id not in answers:
            continue
        a = answers[q.id]
        if a == SKIPPED:
            shown = "跳过"
        elif isinstance(a, dict):
            shown = a.get("industry") or a.get("note") or a.get("text") or ""
        elif isinstance(a, float):
            shown = f"{a:g}%"
        else:
            shown = dict(q.options).get(a, str(a))
        out.append({"question": q.text, "answer": shown})
    return tuple(out)


def _notes(findings: tuple[str, ...], unclear: tuple[str, ...], cites: _Cites) -> list[str]:
    bar = _fact("lc-prior-violation", "聊城")
    notes = []
    if findings:
        notes.append(f"{bar.statement}这是聊城的规定，重庆是否同样执行请向区县生态环境局确认{cites.ref(bar.basis[1])}。")
    if unclear:
        notes.append(f"以下前置条件未确认：{'、'.join(unclear)}，申报前请核实（参照{cites.label(bar.basis[0])}）。")
    false = _fact("cq-false-material", "重庆")
    notes.append(false.statement.rstrip("。") + cites.ref(*false.basis) + "。")
    newer = _fact("nat-2026-a-plus", "全国")
    notes.append("2026年1月生态环境部等印发环办大气〔2026〕2号，将逐行业替代2020年《技术指南》，申报前请以最新文件为准"
                 + cites.ref(*newer.basis) + "。")
    return notes


def _how_and_when(cites: _Cites) -> tuple[str, str]:
    """How to apply (system, once a year, resubmission) and when, from the sourced procedure facts."""
    system, once, resubmit, period = (_fact(i, "重庆") for i in
                                      ("cq-system", "cq-once-a-year", "cq-resubmission", "cq-campaign-period"))
    how = (f"通过“重庆市重污染天气应急管理系统”注册申报{cites.ref(system.basis[0])}；{once.statement.rstrip('。')}"
           f"{cites.ref(*once.basis)}；{resubmit.statement.rstrip('。')}{cites.ref(resubmit.basis[0])}。")
    when = f"{period.statement.rstrip('。')}{cites.ref(*period.basis)}；以后年度的申报时间以当年通知为准。"
    return how, when


def _short_boards(outs: list[IndicatorOutcome], target: str | None, findings: tuple[str, ...],
                  cites: _Cites, scheme: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Gaps ordered by impact: prior-year violations, a loaded threshold holding the grade down, the
    short boards the notice names (无组织排放、在线监测、门禁系统), then other unmet families."""
    named = _fact("cq-gate-support", "重庆").basis[1]  # 《创B争A通知》三（二）
    boards = [f"前置条件：上一年度存在{f}" for f in findings]
    held = [o for o in outs if o.status == "below_loaded" or (o.grade and target and
                                                                _rank(o.grade, scheme) > _rank(target, scheme))]
    boards += [f"{o.name}：{o.answer}，未达"
               f"{(lv(o.failed) if o.failed else '已载入门槛') if o.status == 'below_loaded' else lv(target)}要求"
               for o in held]
    boards += [f"{o.name}：未满足已知要求（{r}）" for o in outs for r in o.unmet]
    gaps = sorted((o for o in outs if o.status in ("no_threshold", "unanswered") and o.gap),
                  key=lambda o: (not BY_ID[o.family].singled_out, GAP[o.gap]))
    first_named = next((o for o in gaps if BY_ID[o.family].singled_out), None)
    for o in gaps:
        why = ""
        if BY_ID[o.family].singled_out:
            why = f"，{cites.label(named)}点名的短板" if o is first_named else "，同为通知点名的短板"
        boards.append(f"{o.name}（{o.answer}{why}）")
    return tuple(boards)


def _review_text(industry: str, branch: str | None, grade: str | None, cites: _Cites) -> str:
    if not grade:
        return "确定目标等级后，可查询对应的审核路径。"
    r = review_route(industry, branch=branch, grade=grade)
    if not r.found:
        return "审核路径未能确定，请咨询区县生态环境局。"
    return r.message + cites.ref(*r.basis[:2])
