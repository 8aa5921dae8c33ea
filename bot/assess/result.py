"""The assessment result: weakest-link grade over indicators with loaded thresholds, short boards,
evidence checklist, review route, incentives and how to apply; every fact carries its document and
clause. Chinese text split for WeChat (`jixiao.bot.answer.split_for_wechat`) plus JSON."""
from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass

from jixiao.bot.answer import WECHAT_LIMIT, citation, doc_title, split_for_wechat
from jixiao.bot.assess.families import BAR_NAMES, BARS, BY_ID, FAMILIES, GRADE_ORDER, STATUS_LABELS
from jixiao.bot.assess.pack import Packs, variant_grade
from jixiao.bot.assess.questions import SKIPPED, branch_of, grades_of, industry_of
from jixiao.bot.incentives import FactOut, incentives, procedure_facts
from jixiao.bot.review import review_route
from jixiao.knowledge.industries import load_industries

__all__ = ["WECHAT_LIMIT", "AssessmentResult", "IndicatorOutcome", "build_result", "render"]

_BARRED = ("A", "B", "B-", "绩效引领", "地方A", "地方B", "地方绩效引领")
_GAP = {"none": 0, "partial": 1, "unknown": 2}  # status answers that make a short board, worst first
_NOT_FOUND_TEXT = "有组织、无组织等其余指标"


@dataclass(frozen=True)
class IndicatorOutcome:
    family: str
    name: str
    status: str  # graded | below_loaded | no_threshold | skipped | not_applicable
    grade: str | None
    answer: str
    requirement: str
    evidence: tuple[str, ...]
    basis: tuple[str, ...] = ()
    gap: str | None = None  # none / partial / unknown for status answers


@dataclass(frozen=True)
class AssessmentResult:
    industry: str
    branch: str | None
    scheme_grades: tuple[str, ...]
    target: str | None
    estimate: str | None  # likely grade; None when an indicator prevents an estimate
    estimate_text: str  # “A” or “暂无法估计：<indicators>”
    ceiling: str | None  # best grade the graded indicators allow (weakest link)
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
    parts: tuple[str, ...]  # Chinese text, each ≤ WECHAT_LIMIT bytes

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


def _status_outcome(fam, a, home: str) -> IndicatorOutcome:
    status = "skipped" if a in (None, SKIPPED) else "not_applicable" if a == "na" else "no_threshold"
    text = a.get("note", "") if isinstance(a, dict) else STATUS_LABELS.get(a, "未回答")
    gap = a if isinstance(a, str) and a in _GAP else None
    return IndicatorOutcome(fam.id, fam.name, status, None, text, f"门槛定义于{home}", fam.evidence, gap=gap)


def _outcomes(answers: dict, packs: Packs, industry: str, home: str, cites: _Cites) -> list[IndicatorOutcome]:
    pack = packs.find(industry, branch_of(answers))
    out: list[IndicatorOutcome] = []
    for fam in FAMILIES:
        ind = pack.indicator_for(fam.id) if pack else None
        if ind is None:
            out.append(_status_outcome(fam, answers.get(f"fam:{fam.id}"), home))
            continue
        vid = answers.get(f"ind:{ind.id}:variant")
        variant = next((v for v in ind.variants if v.id == vid), None)
        if variant is None:
            status = "not_applicable" if vid == "na" else "skipped"
            out.append(IndicatorOutcome(fam.id, ind.name, status, None, "不涉及" if vid == "na" else "未回答",
                                        f"门槛见{ind.name}", (ind.evidence,)))
            continue
        vals = {c.id: answers.get(f"ind:{ind.id}:{c.id}") for c in variant.checks}
        vals = {k: (True if v == "yes" else False if v == "no" else v) for k, v in vals.items()}
        grade = variant_grade(variant, vals, pack.grades)
        req = "；".join(f"{g}级：{'，'.join(c.grades[g].text for c in variant.checks if g in c.grades)}"
                       for g in pack.grades if any(g in c.grades for c in variant.checks))
        shown = "，".join(f"{v:g}%" if isinstance(v, float) else {True: "是", False: "否"}.get(v, "未回答")
                         for v in vals.values())
        basis = tuple(f"{doc_title(b.doc_id)}{b.section}" + (f"（二手资料：{b.seen_at}，需以官方文本核实）"
                                                             if b.secondary else "") for b in variant.basis)
        cites.ref(*variant.basis)
        out.append(IndicatorOutcome(fam.id, f"{ind.name}（{variant.label}）", "graded" if grade else "below_loaded",
                                    grade, shown, req + f"（{ind.not_found}）", (ind.evidence,), basis))
    return out


def _rank(g: str) -> int:
    return GRADE_ORDER.index(g) if g in GRADE_ORDER else len(GRADE_ORDER)


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
    outs = _outcomes(answers, packs, industry, home, cites)
    graded = [o for o in outs if o.status == "graded"]
    below = [o for o in outs if o.status == "below_loaded"]
    ceiling = None if below else max((o.grade for o in graded), key=_rank, default=None)
    missing = tuple(o.name for o in outs if o.status in ("no_threshold", "skipped", "below_loaded"))
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
    result = AssessmentResult(industry, branch, grades, target, estimate, estimate_text, ceiling, missing, barred,
                              findings, tuple(outs), _short_boards(outs, target, findings, cites), evidence, home,
                              review_grade, review, inc_text, how, when, handoff, tuple(notes),
                              tuple(cites.items.values()), ())
    return dataclasses.replace(result, parts=tuple(split_for_wechat(render(result))))


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
                  cites: _Cites) -> tuple[str, ...]:
    """Gaps ordered by impact: prior-year violations, a loaded threshold holding the grade down, the
    short boards the notice names (无组织排放、在线监测、门禁系统), then other unmet families."""
    named = _fact("cq-gate-support", "重庆").basis[1]  # 《创B争A通知》三（二）
    boards = [f"前置条件：上一年度存在{f}" for f in findings]
    held = [o for o in outs if o.status == "below_loaded" or (o.grade and target and _rank(o.grade) > _rank(target))]
    boards += [f"{o.name}：{o.answer}，未达{'已载入门槛' if o.status == 'below_loaded' else target + '级'}要求"
               for o in held]
    gaps = sorted((o for o in outs if o.status == "no_threshold" and o.gap),
                  key=lambda o: (not BY_ID[o.family].singled_out, _GAP[o.gap]))
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


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def render(r: AssessmentResult) -> str:
    lines = [f"【自评结果】{r.industry}" + (f"·{r.branch}" if r.branch and r.branch != r.industry else "") +
             (f"，目标等级：{r.target}" if r.target else "")]
    lines.append(f"可能等级：{r.estimate_text}" + (f"。已载入门槛的指标最高允许：{r.ceiling}" if r.ceiling and not r.estimate
                                                else "") + "。")
    for o in (o for o in r.indicators if o.basis):
        g = o.grade + "级" if o.grade else "低于已载入门槛"
        lines.append(f"· {o.name}：{o.answer}，{g}。要求：{o.requirement}。依据：{'；'.join(o.basis)}")
    rest = [o for o in r.indicators if not o.basis]
    if rest:
        lines.append(f"以下指标的门槛定义于{r.threshold_home}，只记录您的回答，不估计等级：")
        lines.extend(f"· {o.name}：{_clip(o.answer)}" for o in rest)
    if r.short_boards:
        lines.append("短板（按影响排序）：" + "；".join(f"{i}. {b}" for i, b in enumerate(r.short_boards, 1)) + "。")
    lines.append("需准备的证明材料（《申报材料大纲》附件5）：申请表、两份承诺书、要件清单、企业基本情况（一至五）、"
                 "指标对标总表（六、1），以及六、2中的" + "、".join(r.evidence) + "。")
    lines.append(f"审核路径（{r.review_grade or '未定'}）：{r.review}")
    lines.append("惠企措施：" + r.incentives)
    lines.append("如何申报：" + r.how_to_apply)
    lines.append("何时申报：" + r.apply_when)
    lines.extend("说明：" + n for n in r.notes)
    lines.append(r.handoff)
    return "\n".join(lines)
