"""How an industry of 附件3 (重庆) is graded: `tier_scheme` gives the grading scheme (管控类型) and tiers
of an industry or one of its branches, with the clauses it rests on. Never raises on unknown input.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from jixiao.bot.industry_resolution import JURISDICTION, IndustryResolution, lookup
from jixiao.bot.vocabulary import clean, edit_distance
from jixiao.knowledge.industries import CATEGORY_LABELS, Branch, Industry, load_industries, scheme_label


@dataclass(frozen=True)
class BasisRef:
    doc_id: str
    section: str
    quote: str

    @classmethod
    def of(cls, basis) -> "BasisRef":
        return cls(basis.doc_id, basis.section, basis.quote)


@dataclass(frozen=True)
class BranchScheme:
    name: str
    scheme: str
    scheme_label: str
    tiers: tuple[str, ...]  # as listed in 附件3 (B（B-） where shown)
    grades: tuple[str, ...]  # grades one can apply for (B- spelled out)
    b_minus: bool
    basis: BasisRef


@dataclass(frozen=True)
class TierSchemeResult:
    query: str
    found: bool
    message: str
    industry: str | None = None
    seq: int | None = None
    category: str | None = None
    category_label: str | None = None
    branches: tuple[BranchScheme, ...] = ()
    other_branches: tuple[str, ...] = ()
    uniform: bool = True
    review_requirement: str | None = None
    note: str | None = None
    basis: tuple[BasisRef, ...] = ()
    ambiguous: bool = False
    candidates: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()
    jurisdiction: str = JURISDICTION
    resolution: IndustryResolution | None = field(default=None, repr=False)


def _branch_scheme(b: Branch) -> BranchScheme:
    return BranchScheme(b.name, b.scheme, scheme_label(b.scheme, b.tiers), tuple(
        "B（B-）" if t == "B" and b.b_minus else t for t in b.tiers), b.grades, b.b_minus, BasisRef.of(b.basis))


def find_branch(ind: Industry, text: str) -> Branch | None:
    q = clean(text)
    for b in ind.branches:
        if q in (clean(b.name), *map(clean, b.synonyms)):
            return b
    for b in ind.branches:
        if q and (q in clean(b.name) or clean(b.name) in q):
            return b
    scored = [(edit_distance(q, clean(b.name)), b) for b in ind.branches]
    scored = [(d, b) for d, b in scored if d <= max(1, len(b.name) // 4)]
    return min(scored, key=lambda p: p[0])[1] if scored else None


def _scheme_message(ind: Industry, schemes: tuple[BranchScheme, ...], uniform: bool) -> str:
    if not ind.branches:
        msg = f"{ind.name}不是单独的行业分级，而是民生保障（豁免）类别。{ind.note or ''}"
    elif len(schemes) == 1:
        s = schemes[0]
        msg = f"{ind.name}·{s.name}：管控类型为{s.scheme_label}（{'、'.join(s.tiers)}）。"
    elif uniform:
        msg = f"{ind.name}各分支均为{schemes[0].scheme_label}（{'、'.join(schemes[0].tiers)}）。"
    else:
        msg = f"{ind.name}各分支管控类型不同，请按企业实际分支对照：" + "；".join(
            f"{s.name}：{'、'.join(s.tiers)}" for s in schemes) + "。"
    return msg + f"（重庆，依据附件3 {CATEGORY_LABELS[ind.category]}）"


def tier_scheme(industry: str, branch: str | None = None) -> TierSchemeResult:
    ind, res = lookup(industry)
    if ind is None:
        return TierSchemeResult(industry, False, res.message, ambiguous=res.ambiguous,
                                candidates=tuple(m.industry for m in res.candidates[:5]),
                                suggestions=res.suggestions, resolution=res)
    section = load_industries().section(ind.category)
    chosen = ind.branches
    if branch:
        b = find_branch(ind, branch)
        if b is None:
            names = "、".join(x.name for x in ind.branches)
            return TierSchemeResult(industry, False, f"{ind.name}没有名为“{branch}”的分支。附件3所列分支：{names}。",
                                    industry=ind.name, category=ind.category, suggestions=tuple(
                                        x.name for x in ind.branches), resolution=res)
        chosen = [b]
    elif res.best and res.best.branch:
        chosen = [x for x in ind.branches if x.name == res.best.branch]
    schemes = tuple(_branch_scheme(b) for b in chosen)
    uniform = len({(s.scheme, s.tiers) for s in schemes}) <= 1
    others = tuple(b.name for b in ind.branches if b not in chosen)
    basis = tuple(BasisRef.of(b) for b in ind.basis) + (
        tuple(BasisRef.of(b) for b in section.basis[:2]) if section else ())
    return TierSchemeResult(industry, True, _scheme_message(ind, schemes, uniform), ind.name, ind.seq, ind.category,
                            CATEGORY_LABELS[ind.category], schemes, others, uniform,
                            section.review_requirement if section else None, ind.note,
                            basis, suggestions=others, resolution=res)
