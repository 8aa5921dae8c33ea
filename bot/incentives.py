"""Lookup tools over the rule tables: Chongqing's 10 incentive measures, procedure facts, policy register.

Tools never raise on unknown input: they return `found=False` with a Chinese message and suggestions.
Tables load lazily on first call (no I/O at import).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from jixiao.knowledge.basis import Basis
from jixiao.knowledge.rules import Measure, PolicyDoc, ProcedureFact, load_rules

VALID_GRADES = ("A", "B", "B-", "绩效引领", "C", "D", "非绩效引领")
B_AND_ABOVE = ("A", "B", "B-", "绩效引领")
NEWER_RULE_ID = "mee-2026-2"
_JURISDICTIONS = {"重庆": "重庆", "渝": "重庆", "chongqing": "重庆", "聊城": "聊城", "liaocheng": "聊城",
                  "开封": "开封", "kaifeng": "开封", "全国": "全国", "国家": "全国"}


@dataclass(frozen=True)
class BasisRef:
    doc_id: str
    section: str
    quote: str
    loaded: bool = True
    secondary: bool = False
    seen_at: str | None = None


@dataclass(frozen=True)
class DocRef:
    doc_id: str
    title: str
    number: str | None
    date: str | None
    status: str
    note: str | None = None


@dataclass(frozen=True)
class NumberOut:
    key: str
    label: str
    value: float
    unit: str
    grade: str | None = None
    below_standard_pct: float | None = None


@dataclass(frozen=True)
class MeasureResult:
    id: str
    seq: int
    name: str
    title: str
    summary: str
    applies_because: str
    certainty: str  # 明确 / 推定（需确认） / 不限等级
    grade_note: str | None
    condition: str | None
    numbers: tuple[NumberOut, ...]
    basis: tuple[BasisRef, ...]


@dataclass(frozen=True)
class IncentivesResult:
    found: bool
    grade_input: str
    grade: str | None
    region: str
    message: str
    measures: tuple[MeasureResult, ...] = ()
    upgrade_support: tuple[MeasureResult, ...] = ()
    not_for_enterprises: tuple[MeasureResult, ...] = ()
    caveats: tuple[str, ...] = ()
    basis: tuple[BasisRef, ...] = ()
    documents: tuple[DocRef, ...] = ()
    newer_rules: tuple[DocRef, ...] = ()
    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True)
class FactOut:
    id: str
    topic: str
    jurisdiction: str
    statement: str
    items: tuple[str, ...]
    numbers: dict = field(default_factory=dict)
    secondary: bool = False
    seen_at: str | None = None
    basis: tuple[BasisRef, ...] = ()


@dataclass(frozen=True)
class ProcedureFactsResult:
    found: bool
    jurisdiction: str
    topic: str | None
    message: str
    facts: tuple[FactOut, ...] = ()
    national_secondary: tuple[FactOut, ...] = ()
    documents: tuple[DocRef, ...] = ()
    suggestions: tuple[str, ...] = ()


# ---------------------------------------------------------------- helpers

def _ref(b: Basis) -> BasisRef:
    return BasisRef(b.doc_id, b.section, b.quote, b.loaded, b.secondary, b.seen_at)


def _doc(d: PolicyDoc) -> DocRef:
    note = "二手资料，需以官方文本核实" if d.status == "secondary" else None
    return DocRef(d.id, d.title, d.number, d.date, d.status, note)


def _docs(ids) -> tuple[DocRef, ...]:
    by_id = {d.id: d for d in load_rules().policy_register}
    return tuple(_doc(by_id[i]) for i in dict.fromkeys(ids) if i in by_id)


def normalize_grade(text: str) -> tuple[str | None, bool]:
    """Canonical grade and whether it was a local (地方) grade; (None, False) when not recognised."""
    s = unicodedata.normalize("NFKC", text or "").strip().upper().replace("—", "-").replace("–", "-")
    s = re.sub(r"\s+", "", s)
    local = s.startswith("地方")
    s = s.removeprefix("地方")
    for word in ("企业", "等级", "级别", "级", "类"):
        s = s.replace(word, "")
    if "引领" in s or "领跑" in s:
        return ("非绩效引领" if s.startswith("非") else "绩效引领"), local
    s = s.removeprefix("绩效").removeprefix("环保绩效")
    if s in ("A+", "A", "B", "B-", "C", "D"):
        return s, local
    return None, False


def grade_label(grade: str, local: bool = False) -> str:
    """How a grade is written in Chinese text: B级, 绩效引领性, 地方B级."""
    label = grade if "引领" in grade else f"{grade}级"
    return ("地方" + label) if local else label


def _is_chongqing(region: str) -> bool:
    r = unicodedata.normalize("NFKC", region or "").strip().lower()
    return any(key in r for key, value in _JURISDICTIONS.items() if value == "重庆")


def _measure_out(m: Measure, grade: str | None, because: str, certainty: str) -> MeasureResult:
    numbers = tuple(NumberOut(n.key, n.label, n.value, n.unit, n.grade, n.below_standard_pct)
                    for n in m.numbers if n.grade is None or n.grade == grade)
    note = m.grade_notes.get(grade) if grade else None
    # the clause naming this grade first, so a one-line citation quotes the relevant sentence
    bases = sorted(m.basis, key=lambda b: not (grade and grade_label(grade) in b.quote and "及以上" not in b.quote))
    return MeasureResult(m.id, m.seq, m.name, m.title, m.summary, because, certainty, note, m.condition,
                         numbers, tuple(_ref(b) for b in bases))


# ---------------------------------------------------------------- tools

def incentives(grade: str, region: str = "重庆") -> IncentivesResult:
    """Which of Chongqing's 10 "创B争A" measures apply to an enterprise of `grade`, with numbers and basis."""
    rules = load_rules()
    table = rules.incentives
    docs = _docs(["cq-cbza-2024-att1", "cq-cbza-2024"])
    newer = _docs([NEWER_RULE_ID])
    if not _is_chongqing(region):
        return IncentivesResult(
            False, grade, None, region,
            f"惠企10条措施是重庆市的地方措施（《创B争A通知》附件1，2024-08-05），不适用于“{region}”。"
            "其他地区的待遇请查当地文件。",
            basis=tuple(_ref(b) for b in table.names.basis), documents=docs,
            suggestions=("重庆", "聊城、开封的程序规定可用 procedure_facts(jurisdiction=...) 查询"))
    canon, local = normalize_grade(grade)
    if canon is None:
        return IncentivesResult(False, grade, None, "重庆",
                                f"无法识别等级“{grade}”。可选：{'、'.join(VALID_GRADES)}（可写“B级”“地方B”“引领性”等）。",
                                documents=docs, suggestions=VALID_GRADES)
    caveats: list[str] = []
    effective = canon
    label = grade_label(canon, local)
    if canon == "A+":
        effective = "A"
        caveats.append("A+级由环办大气〔2026〕2号新增（二手资料），晚于2024年惠企措施；附件1未提及A+，以下按A级列出，请向生态环境部门核实。")
    if local:
        caveats.append("附件1只写“B级及以上”，未单列地方A/地方B/地方绩效引领；以下按对应等级列出，是否同等适用请向区县生态环境局确认。")
    district = tuple(_measure_out(m, None, "受益对象为区县，不是企业", "明确")
                     for m in table.measures if m.scope == "district")
    general = [m for m in table.measures if m.scope in ("pursuit", "all")]
    if effective not in B_AND_ABOVE:
        support = tuple(_measure_out(m, None, m.condition or "", "不限等级") for m in general)
        return IncentivesResult(
            True, grade, canon, "重庆",
            f"{label}不属于B级及以上或绩效引领性企业，惠企10条措施中的等级待遇（第五至九条）均不适用。"
            "第一至四条是对开展深度治理和“创B争A”企业的帮扶，可在提档升级时争取。",
            upgrade_support=support, not_for_enterprises=district,
            caveats=tuple(caveats), basis=tuple(_ref(b) for b in table.grade_equivalence.basis),
            documents=docs, newer_rules=newer, suggestions=("B", "A", "绩效引领"))
    out: list[MeasureResult] = []
    for m in table.measures:
        if m.scope in ("pursuit", "all"):
            out.append(_measure_out(m, effective, m.condition or "条文未设绩效等级门槛", "不限等级"))
        elif m.scope == "grade" and effective in m.grades:
            sure = "明确" if canon == effective and not local else "推定（需确认）"
            out.append(_measure_out(m, effective, f"条文明确适用于{grade_label(effective)}", sure))
        elif m.scope == "grade" and effective in m.inferred_grades:
            out.append(_measure_out(m, effective, f"条文写“B级及以上”，{grade_label(effective)}据通知表述推定适用", "推定（需确认）"))
        elif m.scope == "grade":
            caveats.append(f"第{m.seq}条（{m.name}）条文只写{'、'.join(m.grades)}，未提及{grade_label(effective)}，未列入。")
    if any(r.certainty.startswith("推定") for r in out):
        caveats.append(table.grade_equivalence.note or "")
    caveats.append("以上依据重庆市生态环境局办公室《创B争A通知》附件1（2024-08-05）；"
                   "国家已于2026-01-13印发环办大气〔2026〕2号（二手资料），新增A+级，请留意后续地方文件。")
    names = "、".join(r.name for r in out)
    return IncentivesResult(
        True, grade, canon, "重庆",
        f"重庆{label}企业可适用惠企措施{len(out)}条：{names}。第十条（考核激励）奖励区县，不直接惠及企业。",
        measures=tuple(out), not_for_enterprises=district, caveats=tuple(c for c in caveats if c),
        basis=tuple(_ref(b) for b in table.names.basis), documents=docs, newer_rules=newer)


def _fact_out(f: ProcedureFact) -> FactOut:
    return FactOut(f.id, f.topic, f.jurisdiction, f.statement, f.items, dict(f.numbers), f.secondary,
                   f.seen_at, tuple(_ref(b) for b in f.basis))


def _rank(f: ProcedureFact, topic: str) -> int:
    """0 exact topic, 1 topic overlap, 2 mentioned in the statement, 9 no match."""
    t = re.sub(r"\s+", "", topic)
    if t == f.topic:
        return 0
    if t in f.topic or f.topic in t or t in f.id:
        return 1
    return 2 if t in f.statement or any(t in item for item in f.items) else 9


def _select(facts: list[ProcedureFact], topic: str) -> list[ProcedureFact]:
    ranked = sorted((r, i, f) for i, f in enumerate(facts) if (r := _rank(f, topic)) < 9)
    return [f for _, _, f in ranked]


def procedure_facts(topic: str | None = None, jurisdiction: str = "重庆") -> ProcedureFactsResult:
    """Procedure rules of one jurisdiction only; national secondary facts are returned separately."""
    facts = load_rules().procedures
    raw = unicodedata.normalize("NFKC", jurisdiction or "").strip().lower()
    canon = next((v for k, v in _JURISDICTIONS.items() if k in raw), None)
    available = sorted({f.jurisdiction for f in facts})
    if canon is None:
        return ProcedureFactsResult(False, jurisdiction, topic,
                                    f"没有“{jurisdiction}”的程序规定。可选地区：{'、'.join(available)}。",
                                    suggestions=tuple(available))
    own = [f for f in facts if f.jurisdiction == canon]
    national = [f for f in facts if f.jurisdiction == "全国"] if canon != "全国" else []
    if topic:
        own, national = _select(own, topic), _select(national, topic)
    topics = tuple(dict.fromkeys(f.topic for f in facts if f.jurisdiction == canon))
    if not own:
        return ProcedureFactsResult(False, canon, topic,
                                    f"{canon}没有关于“{topic}”的程序规定。可查主题：{'、'.join(topics)}。",
                                    national_secondary=tuple(_fact_out(f) for f in national), suggestions=topics)
    doc_ids = [b.doc_id for f in own for b in f.basis]
    message = f"{canon}相关规定{len(own)}条" + (f"（主题：{topic}）" if topic else "") + "。"
    if canon != "重庆" and canon != "全国":
        message += f"以下只适用于{canon}，不是重庆的规定。"
    return ProcedureFactsResult(True, canon, topic, message, tuple(_fact_out(f) for f in own),
                                tuple(_fact_out(f) for f in national), _docs(doc_ids))


def policy_register(status: str | None = None) -> tuple[PolicyDoc, ...]:
    """Every known document (loaded, cited-not-loaded, secondary), optionally filtered by status."""
    docs = load_rules().policy_register
    return tuple(d for d in docs if status is None or d.status == status)
