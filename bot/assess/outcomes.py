"""Per-indicator outcomes of an assessment: what each indicator says about the grade and what it rests on.

Indicators with a pack row are graded against the loaded thresholds (top-down over the enterprise's
grade scheme; see `pack.variant_grade`); families without one record the answer and say plainly that
the threshold is not loaded.
"""
from __future__ import annotations

from dataclasses import dataclass

from jixiao.bot.answer import doc_title
from jixiao.bot.assess.families import BY_ID, FAMILIES, STATUS_LABELS
from jixiao.bot.assess.pack import COMMON, Check, Indicator, Pack, Packs, variant_grade
from jixiao.bot.assess.questions import SKIPPED, branch_of, grades_of, industry_of, variant_of

GAP = {"none": 0, "partial": 1, "unknown": 2}  # status answers that make a short board, worst first
_SHOWN = {True: "是", False: "否", "unknown": "不清楚", SKIPPED: "跳过"}


@dataclass(frozen=True)
class IndicatorOutcome:
    family: str
    name: str
    status: str  # graded | below_loaded | no_threshold | reference | not_graded | unanswered | skipped | not_applicable
    grade: str | None  # graded: the best grade this indicator allows
    answer: str
    requirement: str
    evidence: tuple[str, ...]
    basis: tuple[str, ...] = ()  # what the judgement rests on (document, clause, where seen)
    gap: str | None = None  # none / partial / unknown for status answers
    failed: str | None = None  # below_loaded: the last grade whose requirement is not met
    ceiling: str | None = None  # below_loaded: the best grade still possible (next one down in the scheme)
    unmet: tuple[str, ...] = ()  # known requirements (grade column unconfirmed) answered 否
    pack: str = ""  # the pack file the row comes from; "" for families without a pack
    source: str = ""  # short form of `basis`: 《document》section, and “二手资料” when secondary
    seen: tuple[str, ...] = ()  # where each secondary source was seen


def _value(check: Check, raw):
    if check.kind == "yesno":
        return True if raw == "yes" else False if raw == "no" else raw
    return raw


def _shown(check: Check, v) -> str:
    if isinstance(v, float):
        return f"{v:g}%"
    if check.kind == "choice":
        return next((o.label for o in check.options if o.id == v), "未回答")
    return _SHOWN.get(v, "未回答")


def basis_text(variant) -> tuple[str, ...]:
    return tuple(f"{doc_title(b.doc_id)}{b.section}" + (f"（二手资料：{b.seen_at}，需以官方文本核实）"
                                                       if b.secondary else "") for b in variant.basis)


def source_text(variant) -> str:
    return "；".join(dict.fromkeys(f"{doc_title(b.doc_id)}{b.section}" + ("，二手资料" if b.secondary else "")
                                   for b in variant.basis))


def _seen(variant) -> tuple[str, ...]:
    return tuple(dict.fromkeys(b.seen_at for b in variant.basis if b.secondary and b.seen_at))


def _next_down(grade: str, scheme: tuple[str, ...]) -> str | None:
    i = scheme.index(grade) if grade in scheme else -1
    return scheme[i + 1] if 0 <= i < len(scheme) - 1 else None


def pack_outcome(pack: Pack, name: str, ind: Indicator, answers: dict, scheme: tuple[str, ...]) -> IndicatorOutcome:
    variant = variant_of(ind, answers)
    if variant is None:
        na = answers.get(f"ind:{ind.id}:variant") == "na"
        return IndicatorOutcome(ind.family, ind.name, "not_applicable" if na else "skipped", None,
                                ind.na_label if na else "未回答", f"门槛见{ind.name}", (ind.evidence,), pack=name)
    label = ind.name if len(ind.variants) == 1 else f"{ind.name}（{variant.label}）"
    basis = basis_text(variant)
    if not variant.checks:
        return IndicatorOutcome(ind.family, label, "not_graded", None, variant.label, variant.note or "",
                                (ind.evidence,), basis, pack=name, source=source_text(variant), seen=_seen(variant))
    vals = {c.id: _value(c, answers.get(f"ind:{ind.id}:{c.id}")) for c in variant.checks}
    graded = [c for c in variant.checks if c.grades]
    if any(vals[c.id] in (None, "unknown", SKIPPED) for c in graded):  # 不清楚 / 跳过: not judged, not failed
        shown = "，".join(_shown(c, vals[c.id]) for c in variant.checks)
        return IndicatorOutcome(ind.family, label, "unanswered", None, shown, _requirements(graded, scheme),
                                (ind.evidence,), basis, gap="unknown", pack=name, source=source_text(variant),
                                seen=_seen(variant))
    grade, failed = variant_grade(variant, vals, scheme)
    unmet = tuple(c.requirement for c in variant.checks if not c.grades and vals[c.id] is False)
    req = _requirements(graded, scheme)
    known = "；".join(c.requirement for c in variant.checks if not c.grades)
    if known:
        req = "；".join(x for x in (req, f"已知要求（等级归属待核实）：{known}") if x)
    shown = "，".join(_shown(c, vals[c.id]) for c in variant.checks)
    if not graded:
        status = "reference"
    elif grade:
        status = "graded"
    else:
        status = "below_loaded" if failed else "no_threshold"
    return IndicatorOutcome(ind.family, label, status, grade, shown, req + f"（{ind.not_found}）", (ind.evidence,),
                            basis, failed=failed, ceiling=_next_down(failed, scheme) if failed else None,
                            unmet=unmet, pack=name, source=source_text(variant), seen=_seen(variant))


def _requirements(graded: list[Check], scheme: tuple[str, ...]) -> str:
    """“A级：…；B级：…”, grades with the same wording merged (“A、B级：…”)."""
    by_text: dict[str, list[str]] = {}
    for g in scheme:
        if any(g in c.grades for c in graded):
            by_text.setdefault("，".join(c.grades[g].text for c in graded if g in c.grades), []).append(g)
    return "；".join(f"{'、'.join(gs)}级：{text}" for text, gs in by_text.items())


def status_outcome(fam, a, home: str) -> IndicatorOutcome:
    status = "skipped" if a in (None, SKIPPED) else "not_applicable" if a == "na" else "no_threshold"
    text = a.get("note", "") if isinstance(a, dict) else STATUS_LABELS.get(a, "未回答")
    gap = a if isinstance(a, str) and a in GAP else None
    return IndicatorOutcome(fam.id, fam.name, status, None, text, f"门槛定义于{home}，本助手未载入", fam.evidence, gap=gap)


def outcomes(answers: dict, packs: Packs, home: str) -> list[IndicatorOutcome]:
    industry, branch = industry_of(answers), branch_of(answers)
    scheme = grades_of(answers)
    names = dict(zip((id(p) for p in packs.packs), packs.names))
    out: list[IndicatorOutcome] = []
    for fam in FAMILIES:
        found = packs.indicators(industry, branch, scheme, fam.id)
        if not found:
            out.append(status_outcome(fam, answers.get(f"fam:{fam.id}"), home))
        for pack, ind in found:
            out.append(pack_outcome(pack, names.get(id(pack), ""), ind, answers, scheme or tuple(pack.grades)))
    return out


def is_common(pack_name: str, packs: Packs) -> bool:
    return any(n == pack_name and p.industry == COMMON for p, n in zip(packs.packs, packs.names))


__all__ = ["BY_ID", "GAP", "IndicatorOutcome", "outcomes", "pack_outcome", "status_outcome", "is_common"]
