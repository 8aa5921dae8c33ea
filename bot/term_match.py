"""Which vocabulary terms a cleaned query names, scored: the matching stages behind `resolve_industry`.

Stages, the first that finds something wins: the whole query is a term (exact); terms written out in
it (contained); the query is part of a term (partial); sound-alikes of whole terms (homophone); edit
distance (fuzzy). `suggest` offers industry names when nothing matched.
"""
from __future__ import annotations

from typing import Iterable

from jixiao.bot.soundalike import soundalikes
from jixiao.bot.vocabulary import Term, edit_distance, terms, window_distance

Scored = tuple[float, Term, str]  # confidence, term, how it matched


def _contained(query: str) -> list[Scored]:
    """Terms written out in the query, the longest kept: 肥料制造（除煤制氮肥） beats 煤制氮肥 inside it.
    A homophone of a longer term covering a written one wins too: 电子陶磁 is 电子陶瓷, not 电子."""
    hits = [(query.find(t.key), t, "contained") for t in terms() if len(t.key) >= 2 and t.key in query]
    if not hits:
        return []
    spans = [(s, s + len(t.key)) for s, t, _ in hits]
    hits += [(h.start, h.term, "homophone") for h in soundalikes(query) if h.subs and any(
        h.start <= s and e <= h.end and (h.end - h.start) > (e - s) for s, e in spans)]
    return _longest(query, hits)


def _longest(query: str, hits: list[tuple[int, Term, str]]) -> list[Scored]:
    spans = [(s, s + len(t.key)) for s, t, _ in hits]
    out = []
    for (s, t, how), (_, e) in zip(hits, spans):
        if any(s2 <= s and e <= e2 and (e2 - s2) > (e - s) for s2, e2 in spans):
            continue
        conf = 0.85 * t.weight + 0.1 * min(1.0, len(t.key) / max(4, len(query)))
        out.append((round(conf * (0.9 if how == "homophone" else 1.0), 3), t, how))
    return out


def _edit_typos(query: str, candidates: Iterable[Term] | None = None) -> list[Scored]:
    qset, query = set(query), query[:120]  # typos are looked for in the first 120 characters
    scored = []
    for t in terms() if candidates is None else candidates:
        n = len(t.key)
        allowed = 1 if n <= 5 else 2
        if n < 2 or len(set(t.key) & qset) < len(set(t.key)) - allowed:
            continue  # cannot be within `allowed` edits: skip the costly window scan
        if n == 2 and len(query) > 3:
            continue  # two-character typos only when the whole question is that short
        dist = window_distance(query, t.key) if len(query) > n + 1 else edit_distance(query, t.key)
        if dist <= allowed and dist < n:
            scored.append((round(max(0.4, 0.8 * (1 - dist / n)), 3), t, "fuzzy"))
    return scored


def score(query: str) -> list[Scored]:
    """Stages, the first that finds something wins: the whole query is a term; terms written out in
    it; the query is part of a term; homophones of whole terms (pinyin IME typos); edit distance."""
    exact = [(t.weight, t, t.how) for t in terms() if t.key == query]
    if exact:
        return exact
    contained = _contained(query)
    if contained:
        return contained
    if len(query) >= 2:
        partial = [(round(0.55 + 0.3 * len(query) / len(t.key), 3), t, "partial") for t in terms() if query in t.key]
        if partial:
            return partial
    homophones = _longest(query, [(h.start, h.term, "homophone") for h in soundalikes(query)])
    if homophones:  # a branch typed nearby still picks the branch: 铸照厂用电炉熔化 → 铸件（天然气炉、电炉）
        found = {t.industry for _, t, _ in homophones}
        return homophones + _edit_typos(query, (t for t in terms() if t.branch and t.industry in found))
    return _edit_typos(query)


def suggest(query: str, limit: int = 5) -> tuple[str, ...]:
    chars = set(query)
    ranked: dict[str, float] = {}
    for t in terms():
        common = len(chars & set(t.key))
        if common:
            ranked[t.industry] = max(ranked.get(t.industry, 0.0), common / len(set(t.key) | chars))
    names = sorted(ranked, key=lambda k: -ranked[k])[:limit]
    if len(names) < limit:  # fill with common industries so the user always sees options
        for fallback in ("铸造", "包装印刷", "工业涂装", "家具制造", "汽修行业", "通用行业"):
            if fallback not in names and len(names) < limit:
                names.append(fallback)
    return tuple(names)
