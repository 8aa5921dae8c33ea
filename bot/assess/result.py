"""The assessment result: weakest-link grade over indicators with loaded thresholds, short boards,
evidence checklist, review route, incentives and how to apply; Chinese text split for WeChat."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

from jixiao.bot.assess.families import BAR_NAMES, BARS, BY_ID, FAMILIES, GRADE_ORDER, STATUS_LABELS
from jixiao.bot.assess.pack import Packs, variant_grade
from jixiao.bot.assess.questions import SKIPPED, branch_of, grades_of, industry_of
from jixiao.bot.incentives import incentives
from jixiao.bot.review import review_route
from jixiao.knowledge.industries import load_industries

WECHAT_LIMIT = 2048  # bytes of UTF-8 per message part
_BARRED = ("A", "B", "B-", "绩效引领", "地方A", "地方B", "地方绩效引领")


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


@dataclass(frozen=True)
class AssessmentResult:
    industry: str
    branch: str | None
    scheme_grades: tuple[str, ...]
    target: str | None
    estimate: str | None  # likely grade; None when an indicator prevents an estimate
    ceiling: str | None  # best grade the graded indicators allow (weakest link)
    not_estimable: tuple[str, ...]  # indicators without a loaded threshold
    barred: bool
    bar_findings: tuple[str, ...]
    indicators: tuple[IndicatorOutcome, ...]
    short_boards: tuple[str, ...]
    evidence: tuple[str, ...]
    review: str
    incentives: str
    how_to_apply: str
    handoff: str
    notes: tuple[str, ...]
    parts: tuple[str, ...]  # Chinese text, each ≤ WECHAT_LIMIT bytes

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False, indent=2)


def _threshold_home(industry: str) -> str:
    ind = load_industries().by_name(industry)
    if ind is not None and ind.category == "local":
        return "四川省《地方指南》（川环办函〔2024〕337号，未载入）"
    return "2020年《技术指南》（环办大气函〔2020〕340号，未载入）"


def _outcomes(answers: dict, packs: Packs, industry: str) -> list[IndicatorOutcome]:
    pack = packs.find(industry, branch_of(answers))
    home = _threshold_home(industry)
    out: list[IndicatorOutcome] = []
    for fam in FAMILIES:
        ind = pack.indicator_for(fam.id) if pack else None
        if ind is None:
            a = answers.get(f"fam:{fam.id}")
            status = "skipped" if a in (None, SKIPPED) else "not_applicable" if a == "na" else "no_threshold"
            text = a.get("note") if isinstance(a, dict) else STATUS_LABELS.get(a, "未回答")
            out.append(IndicatorOutcome(fam.id, fam.name, status, None, text, f"门槛定义于{home}", fam.evidence))
            continue
        vid = answers.get(f"ind:{ind.id}:variant")
        variant = next((v for v in ind.variants if v.id == vid), None)
        if variant is None:
            status = "not_applicable" if vid == "na" else "skipped"
            out.append(IndicatorOutcome(fam.id, ind.name, status, None, "不涉及" if vid == "na" else "未回答",
                                        "", (ind.evidence,)))
            continue
        vals = {c.id: answers.get(f"ind:{ind.id}:{c.id}") for c in variant.checks}
        vals = {k: (True if v == "yes" else False if v == "no" else v) for k, v in vals.items()}
        grade = variant_grade(variant, vals, pack.grades)
        req = "；".join(f"{g}级：{'，'.join(c.grades[g].text for c in variant.checks if g in c.grades)}"
                       for g in pack.grades if any(g in c.grades for c in variant.checks))
        shown = "，".join(f"{v:g}%" if isinstance(v, float) else {True: "是", False: "否"}.get(v, "未回答")
                         for v in vals.values())
        status = "graded" if grade else "below_loaded"
        basis = tuple(f"{b.doc_id} {b.section}（二手：{b.seen_at}）" if b.secondary else f"{b.doc_id} {b.section}"
                      for b in variant.basis)
        out.append(IndicatorOutcome(fam.id, f"{ind.name}（{variant.label}）", status, grade, shown,
                                    req + f"（{ind.not_found}）", (ind.evidence,), basis))
    return out


def _rank(g: str) -> int:
    return GRADE_ORDER.index(g) if g in GRADE_ORDER else len(GRADE_ORDER)


def build_result(answers: dict, packs: Packs) -> AssessmentResult:
    industry = industry_of(answers) or ""
    branch = branch_of(answers)
    grades = grades_of(answers)
    target = answers.get("target") if answers.get("target") not in (None, SKIPPED, "unsure") else None
    findings = tuple(BAR_NAMES[q] for q, _ in BARS if answers.get(q) == "yes")
    unclear = tuple(BAR_NAMES[q] for q, _ in BARS if answers.get(q) in ("unknown", SKIPPED))
    outs = _outcomes(answers, packs, industry)
    graded = [o for o in outs if o.status == "graded"]
    ceiling = max((o.grade for o in graded), key=_rank, default=None)
    below = [o for o in outs if o.status == "below_loaded"]
    if below:
        ceiling = None
    missing = tuple(o.name for o in outs if o.status in ("no_threshold", "skipped", "below_loaded"))
    estimate = ceiling if graded and not missing else None
    barred = bool(findings)
    notes = ["门槛只载入了部分指标（二手资料，需以官方文本核实）；没有门槛的指标不估计等级。"]
    if barred:
        notes.append("聊城市实施方案（聊重指办〔2020〕6号）规定：前一年存在上述违法行为的，当年不得申报A级、B（含B-）级、"
                     "引领性企业。这是聊城的规定，重庆是否同样执行请向区县生态环境局确认。")
        if estimate in _BARRED:
            estimate = None
    if unclear:
        notes.append(f"以下前置条件未确认：{'、'.join(unclear)}。")
    notes.append("存在隐瞒或提供虚假材料行为的，直接评定为最低等级（《创B争A通知》五、二是）。")
    boards = _short_boards(outs, target)
    evidence = tuple(dict.fromkeys(e for o in outs if o.status != "not_applicable" for e in o.evidence))
    review = _review_text(industry, branch, target)
    inc = incentives(target or "B")
    inc_text = inc.message if inc.found else "惠企措施请咨询区县生态环境局。"
    how = "通过“重庆市重污染天气应急管理系统”注册申报，在规定时间内申报，一年只能申报一次（《创B争A通知》及附件4）。"
    handoff = "如需人工帮助，回复“转人工”，我们把本次自评结果转给帮办人员。"
    result = AssessmentResult(industry, branch, grades, target, estimate, ceiling, missing, barred, findings,
                              tuple(outs), boards, evidence, review, inc_text, how, handoff, tuple(notes), ())
    return dataclasses.replace(result, parts=split_parts(render(result)))


def _short_boards(outs: list[IndicatorOutcome], target: str | None) -> tuple[str, ...]:
    def weight(o: IndicatorOutcome) -> int:
        if o.status == "below_loaded" or (o.grade and target and _rank(o.grade) > _rank(target)):
            return 0  # a loaded threshold holds the grade down
        if o.status == "no_threshold" and o.answer in ("尚未开展", "部分完成/正在改造", "不清楚"):
            return 1 if BY_ID[o.family].singled_out else 2
        return 9
    ranked = sorted((o for o in outs if weight(o) < 9), key=weight)
    return tuple(f"{o.name}：{o.answer}" + ("（通知点名的短板）" if BY_ID[o.family].singled_out else "")
                 for o in ranked)


def _review_text(industry: str, branch: str | None, target: str | None) -> str:
    if not target:
        return "确定目标等级后，可查询对应的审核路径。"
    r = review_route(industry, branch=branch, grade=target)
    return r.message if r.found else "审核路径未能确定，请咨询区县生态环境局。"


def render(r: AssessmentResult) -> str:
    lines = [f"【自评结果】{r.industry}" + (f"·{r.branch}" if r.branch else "") +
             (f"，目标等级：{r.target}" if r.target else "")]
    if r.barred:
        lines.append(f"前置条件：存在{'、'.join(r.bar_findings)}，当年不宜申报A/B/引领等级（见说明）。")
    if r.estimate:
        lines.append(f"可能等级：{r.estimate}")
    else:
        lines.append("可能等级：无法估计。" + (f"已有门槛的指标最高允许：{r.ceiling}。" if r.ceiling else ""))
    lines.append("各指标：")
    for o in r.indicators:
        g = o.grade if o.grade else {"below_loaded": "低于已载入门槛", "not_applicable": "不涉及"}.get(o.status, "无法估计")
        lines.append(f"· {o.name}：{g}（您的回答：{o.answer}）")
        if o.basis:
            lines.append(f"  要求：{o.requirement}；依据：{'；'.join(o.basis)}")
    if r.short_boards:
        lines.append("短板（按影响排序）：" + "；".join(r.short_boards))
    lines.append("需准备的证明材料（附件5 六、2）：" + "、".join(r.evidence))
    lines.append("审核路径：" + r.review)
    lines.append("惠企措施：" + r.incentives)
    lines.append("如何申报：" + r.how_to_apply)
    lines.extend("说明：" + n for n in r.notes)
    lines.append(r.handoff)
    return "\n".join(lines)


def split_parts(text: str, limit: int = WECHAT_LIMIT) -> tuple[str, ...]:
    """Split on line ends (or inside a too-long line) so every part is ≤ `limit` UTF-8 bytes."""
    parts, cur = [], ""
    for line in text.split("\n"):
        while len(line.encode()) > limit:
            cut = limit // 4  # 4 bytes per char at most
            if cur:
                parts.append(cur)
                cur = ""
            parts.append(line[:cut])
            line = line[cut:]
        candidate = f"{cur}\n{line}" if cur else line
        if len(candidate.encode()) > limit:
            parts.append(cur)
            cur = line
        else:
            cur = candidate
    if cur:
        parts.append(cur)
    return tuple(parts)
