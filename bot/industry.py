"""Which industry is the user talking about, and how is it graded (附件3, 重庆).

`resolve_industry` maps free text (official names, branch names, everyday names, typos, whole
sentences) to industries of 附件3; `tier_scheme` tells the grading scheme of an industry/branch.
Neither raises on unknown input: results carry `found=False`, a Chinese message and suggestions.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Iterable

from jixiao.knowledge.industries import CATEGORY_LABELS, SCHEME_LABELS, Branch, Industry, load_industries
from jixiao.retrieval.pinyin import fold

JURISDICTION = "重庆"
_AMBIGUITY_GAP = 0.05


@dataclass(frozen=True)
class BasisRef:
    doc_id: str
    section: str
    quote: str

    @classmethod
    def of(cls, basis) -> "BasisRef":
        return cls(basis.doc_id, basis.section, basis.quote)


@dataclass(frozen=True)
class IndustryMatch:
    industry: str
    category: str
    branch: str | None  # set when the text named a branch (e.g. 马桶 → 卫生陶瓷)
    matched_term: str
    how: str  # name | branch | synonym | contained | partial | homophone | fuzzy
    confidence: float


@dataclass(frozen=True)
class IndustryResolution:
    query: str
    found: bool
    ambiguous: bool
    best: IndustryMatch | None
    candidates: tuple[IndustryMatch, ...]
    message: str
    suggestions: tuple[str, ...] = ()
    jurisdiction: str = JURISDICTION


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


# ---------------------------------------------------------------- text helpers

def clean(text: str) -> str:
    """NFKC, upper-case Latin, drop spaces and punctuation except the brackets of official names."""
    text = unicodedata.normalize("NFKC", text or "").upper()
    return re.sub(r"[\s,.;:!?'\"“”‘’、，。；：！？…—\-_/]+", "", text)


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


@dataclass(frozen=True)
class _Term:
    key: str  # cleaned
    text: str
    industry: str
    category: str
    branch: str | None
    how: str
    weight: float


@cache
def _terms() -> tuple[_Term, ...]:
    out: list[_Term] = []
    for ind in load_industries().industries:
        def add(text: str, branch: str | None, how: str, weight: float) -> None:
            out.append(_Term(clean(text), text, ind.name, ind.category, branch, how, weight))
        add(ind.name, None, "name", 1.0)
        for s in ind.synonyms:
            add(s, None, "synonym", 0.9)
        for b in ind.branches:
            if b.name != ind.name:
                add(b.name, b.name, "branch", 0.97)
            for s in b.synonyms:
                add(s, b.name, "synonym", 0.92)
    return tuple(out)


def _window_distance(query: str, key: str) -> int:
    """Smallest edit distance between `key` and any window of `query` of about its length."""
    n, best = len(key), len(key)
    for size in {n - 1, n, n + 1}:
        if size < 2:
            continue
        for start in range(0, max(1, len(query) - size + 1)):
            best = min(best, edit_distance(query[start:start + size], key))
    return best


# ---------------------------------------------------------------- homophones (pinyin IME typos)

_HAN = re.compile(r"[\u4e00-\u9fff]")
_GENERIC_SUFFIXES = ("制造工业", "制造业", "制造", "工业", "行业")


@dataclass(frozen=True)
class _Sound:
    term: _Term
    syllables: tuple[str, ...]  # folded, tone-less: 陶瓷 → ("tao", "ci"); 水泥 → ("sui", "li")
    flat: tuple[str, ...]  # tone-less, only zh/ch/sh flattened: 水泥 → ("sui", "ni")


@dataclass(frozen=True)
class _SoundHit:
    start: int
    end: int
    subs: int  # characters of the window that differ from the term (homophones typed instead)
    term: _Term


def _flatten(syllable: str) -> str:
    return syllable[0] + syllable[2:] if syllable[:2] in ("zh", "ch", "sh") else syllable


@cache
def _flat(ch: str) -> frozenset[str]:
    """Every tone-less reading of one typed character (a typo has no phrase context to pick one by),
    zh/ch/sh flattened: the commonest Chongqing slip (铸照 for 铸造)."""
    if not _HAN.match(ch):
        return frozenset({ch})
    from pypinyin import Style, pinyin

    return frozenset(map(_flatten, pinyin(ch, style=Style.NORMAL, heteronym=True)[0]))


@cache
def _sounds(ch: str) -> frozenset[str]:
    return frozenset(map(fold, _flat(ch)))


def _stems() -> list[_Term]:
    """Names without their generic suffix (油墨制造 → 油墨), matched by sound only."""
    known, out = {t.key for t in _terms()}, []
    for t in _terms():
        if t.how in ("name", "branch"):
            for suffix in _GENERIC_SUFFIXES:
                stem = t.key.removesuffix(suffix)
                if stem != t.key and len(stem) >= 2 and stem not in known:
                    known.add(stem)
                    out.append(_Term(stem, stem, t.industry, t.category, t.branch, "synonym", 0.88))
                    break
    return out


@cache
def _sound_index() -> dict[tuple[str, str], tuple[_Sound, ...]]:
    """Pure-Han terms of ≥ 2 characters by their first two syllables, read once in phrase context."""
    from pypinyin import lazy_pinyin

    index: dict[tuple[str, str], list[_Sound]] = {}
    for t in (*_terms(), *_stems()):
        if len(t.key) >= 2 and all(_HAN.match(c) for c in t.key):
            plain = tuple(lazy_pinyin(t.key))
            if len(plain) == len(t.key):
                syllables = tuple(map(fold, plain))
                index.setdefault(syllables[:2], []).append(_Sound(t, syllables, tuple(map(_flatten, plain))))
    return {k: tuple(v) for k, v in index.items()}


def _homophones(query: str) -> list[_SoundHit]:
    """Windows of the query that sound like a whole term and differ from it in at most one character
    (two for terms of five or more): 陶磁 → 陶瓷, 包装印涮 → 包装印刷. Words that merely sound alike
    and share no character (收集/手机, 数字/树脂, 花费/化肥) are not typos and do not match. Inside a
    a two-character term typed with more text takes no n/l or -ng/-n merge (我们厂 is not 锰厂)."""
    query = query[:120]
    sounds = [_sounds(c) for c in query]
    index, hits = _sound_index(), set()
    for i in range(len(query) - 1):
        for first in sounds[i]:
            for second in sounds[i + 1]:
                for s in index.get((first, second), ()):
                    n = len(s.syllables)
                    window = query[i:i + n]
                    if len(window) < n or not all(s.syllables[j] in sounds[i + j] for j in range(2, n)):
                        continue
                    subs = [j for j in range(n) if window[j] != s.term.key[j]]
                    if n == 2 and len(query) > 2 and not all(s.flat[j] in _flat(window[j]) for j in subs):
                        continue
                    if len(subs) <= (1 if n <= 4 else 2):
                        hits.add(_SoundHit(i, i + n, len(subs), s.term))
    return sorted(hits, key=lambda h: (h.start, -h.end))


def _contained(query: str) -> list[tuple[float, _Term, str]]:
    """Terms written out in the query, the longest kept: 肥料制造（除煤制氮肥） beats 煤制氮肥 inside it.
    A homophone of a longer term covering a written one wins too: 电子陶磁 is 电子陶瓷, not 电子."""
    hits = [(query.find(t.key), t, "contained") for t in _terms() if len(t.key) >= 2 and t.key in query]
    if not hits:
        return []
    spans = [(s, s + len(t.key)) for s, t, _ in hits]
    hits += [(h.start, h.term, "homophone") for h in _homophones(query) if h.subs and any(
        h.start <= s and e <= h.end and (h.end - h.start) > (e - s) for s, e in spans)]
    return _longest(query, hits)


def _longest(query: str, hits: list[tuple[int, _Term, str]]) -> list[tuple[float, _Term, str]]:
    spans = [(s, s + len(t.key)) for s, t, _ in hits]
    out = []
    for (s, t, how), (_, e) in zip(hits, spans):
        if any(s2 <= s and e <= e2 and (e2 - s2) > (e - s) for s2, e2 in spans):
            continue
        conf = 0.85 * t.weight + 0.1 * min(1.0, len(t.key) / max(4, len(query)))
        out.append((round(conf * (0.9 if how == "homophone" else 1.0), 3), t, how))
    return out


def _edit_typos(query: str, terms: Iterable[_Term] | None = None) -> list[tuple[float, _Term, str]]:
    qset, query = set(query), query[:120]  # typos are looked for in the first 120 characters
    scored = []
    for t in _terms() if terms is None else terms:
        n = len(t.key)
        allowed = 1 if n <= 5 else 2
        if n < 2 or len(set(t.key) & qset) < len(set(t.key)) - allowed:
            continue  # cannot be within `allowed` edits: skip the costly window scan
        if n == 2 and len(query) > 3:
            continue  # two-character typos only when the whole question is that short
        dist = _window_distance(query, t.key) if len(query) > n + 1 else edit_distance(query, t.key)
        if dist <= allowed and dist < n:
            scored.append((round(max(0.4, 0.8 * (1 - dist / n)), 3), t, "fuzzy"))
    return scored


def _score(query: str) -> list[tuple[float, _Term, str]]:
    """Stages, the first that finds something wins: the whole query is a term; terms written out in
    it; the query is part of a term; homophones of whole terms (pinyin IME typos); edit distance."""
    exact = [(t.weight, t, t.how) for t in _terms() if t.key == query]
    if exact:
        return exact
    contained = _contained(query)
    if contained:
        return contained
    if len(query) >= 2:
        partial = [(round(0.55 + 0.3 * len(query) / len(t.key), 3), t, "partial") for t in _terms() if query in t.key]
        if partial:
            return partial
    homophones = _longest(query, [(h.start, h.term, "homophone") for h in _homophones(query)])
    if homophones:  # a branch typed nearby still picks the branch: 铸照厂用电炉熔化 → 铸件（天然气炉、电炉）
        found = {t.industry for _, t, _ in homophones}
        return homophones + _edit_typos(query, (t for t in _terms() if t.branch and t.industry in found))
    return _edit_typos(query)


def _suggest(query: str, limit: int = 5) -> tuple[str, ...]:
    chars = set(query)
    ranked: dict[str, float] = {}
    for t in _terms():
        common = len(chars & set(t.key))
        if common:
            score = common / len(set(t.key) | chars)
            ranked[t.industry] = max(ranked.get(t.industry, 0.0), score)
    names = sorted(ranked, key=lambda k: -ranked[k])[:limit]
    if len(names) < limit:  # fill with common industries so the user always sees options
        for fallback in ("铸造", "包装印刷", "工业涂装", "家具制造", "汽修行业", "通用行业"):
            if fallback not in names and len(names) < limit:
                names.append(fallback)
    return tuple(names)


# ---------------------------------------------------------------- "不是X"

_NOT = re.compile(r"(?<!是)(?:不是|并非|而非|不属于)(?P<what>[^，。,.;；:：!！?？()（）【】\s]{1,15}?)"
                  r"(?=而是|但是|是|[，。,.;；:：!！?？()（）【】\s]|$)")


def _exclusions(negated: list[str]) -> tuple[set[str], set[tuple[str, str]]]:
    """Industries and branches the user said they are not: a named branch excludes that branch only
    (不是冲天炉 → still 铸造), an industry named without a branch (不是尿素, 不是煤制的) excludes it."""
    table = load_industries()
    industries: set[str] = set()
    branches: set[tuple[str, str]] = set()
    for what in map(clean, negated):
        terms = [t for _, t, _ in _score(what)] + [t for t in _terms() if len(what) >= 2 and t.key.startswith(what[:2])]
        for ind in {t.industry for t in terms}:
            named = {t.branch for t in terms if t.industry == ind and t.branch}
            if named and len(table.by_name(ind).branches) > 1:
                branches |= {(ind, b) for b in named}
            else:
                industries.add(ind)
    return industries, branches


def _score_text(text: str, query: str) -> list[tuple[float, _Term, str]]:
    """`_score`, minus what the user negated (复合肥（不是煤制的那种）, 不是电炉的，是冲天炉) when something else is named."""
    scored = _score(query)
    text = unicodedata.normalize("NFKC", text)
    negated = [m.group("what") for m in _NOT.finditer(text)]
    if not negated:
        return scored
    industries, branches = _exclusions(negated)
    positive = clean(_NOT.sub("，", text))
    kept = [(c, t, how) for c, t, how in (_score(positive) if positive else [])
            if t.industry not in industries and (t.industry, t.branch) not in branches]
    if kept:
        return kept
    return [(c, replace(t, branch=None) if (t.industry, t.branch) in branches else t, how) for c, t, how in scored]


def resolve_industry(text: str) -> IndustryResolution:
    query = clean(text)
    if not query:
        return IndustryResolution(text or "", False, False, None, (), "请告诉我企业所属行业或主要产品，例如“铸造”“包装印刷”“汽修”。",
                                  _suggest(""))
    best_by_industry: dict[str, IndustryMatch] = {}
    for conf, t, how in sorted(_score_text(text, query), key=lambda p: -p[0]):
        m = IndustryMatch(t.industry, t.category, t.branch, t.text, how, min(1.0, conf))
        best = best_by_industry.get(t.industry)
        if best is None:
            best_by_industry[t.industry] = m
        elif best.branch is None and t.branch:  # a weaker match that names the branch refines the industry
            best_by_industry[t.industry] = replace(best, branch=t.branch)
    matches = tuple(sorted(best_by_industry.values(), key=lambda m: -m.confidence))
    if not matches:
        sugg = _suggest(query)
        return IndustryResolution(text, False, False, None, (),
                                  f"未能在重庆“创B争A”行业清单（附件3）中识别“{text}”对应的行业。"
                                  f"您可能想问：{'、'.join(sugg)}。也可以告诉我主要产品或工艺。", sugg)
    top = matches[0]
    close = tuple(m for m in matches if top.confidence - m.confidence <= _AMBIGUITY_GAP)
    if len(close) > 1:
        names = "、".join(m.industry for m in close)
        return IndustryResolution(text, True, True, top, matches,
                                  f"“{text}”可能属于多个行业：{names}。请说明具体行业或产品。",
                                  tuple(m.industry for m in close))
    label = top.industry + (f"（{top.branch}）" if top.branch else "")
    return IndustryResolution(text, True, False, top, matches,
                              f"识别为附件3行业：{label}（{CATEGORY_LABELS[top.category]}）。")


# ---------------------------------------------------------------- tier scheme

def _branch_scheme(b: Branch) -> BranchScheme:
    return BranchScheme(b.name, b.scheme, SCHEME_LABELS[b.scheme], tuple(
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


def lookup(text: str) -> tuple[Industry | None, IndustryResolution]:
    """The industry named by `text` when it is unambiguous, and the resolution either way."""
    res = resolve_industry(text)
    if not res.found or res.ambiguous or res.best is None:
        return None, res
    return load_industries().by_name(res.best.industry), res


def tier_scheme(industry: str, branch: str | None = None) -> TierSchemeResult:
    ind, res = lookup(industry)
    if ind is None:
        return TierSchemeResult(industry, False, res.message, ambiguous=res.ambiguous,
                                candidates=tuple(m.industry for m in res.candidates[:5]),
                                suggestions=res.suggestions, resolution=res)
    table = load_industries()
    section = table.section(ind.category)
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
    msg += f"（重庆，依据附件3 {CATEGORY_LABELS[ind.category]}）"
    basis = tuple(BasisRef.of(b) for b in ind.basis) + (
        tuple(BasisRef.of(b) for b in section.basis[:2]) if section else ())
    return TierSchemeResult(industry, True, msg, ind.name, ind.seq, ind.category, CATEGORY_LABELS[ind.category],
                            schemes, others, uniform, section.review_requirement if section else None, ind.note,
                            basis, suggestions=others, resolution=res)
