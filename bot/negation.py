"""What the user said they are not: "不是X", "并非X", "而非X", "不属于X" in an industry question.

`score_text` scores the query as `term_match.score` does, minus the industries and branches the
user negated (复合肥（不是煤制的那种）, 不是电炉的，是冲天炉) when something else is named.
"""
from __future__ import annotations

import unicodedata
from dataclasses import replace

from jixiao.bot.cues import NEGATION
from jixiao.bot.term_match import Scored, score
from jixiao.bot.vocabulary import clean, terms
from jixiao.knowledge.industries import load_industries

_NOT = NEGATION  # knowledge/lexicon/cues.yaml


def _exclusions(negated: list[str]) -> tuple[set[str], set[tuple[str, str]]]:
    """Industries and branches the user said they are not: a named branch excludes that branch only
    (不是冲天炉 → still 铸造), an industry named without a branch (不是尿素, 不是煤制的) excludes it."""
    table = load_industries()
    industries: set[str] = set()
    branches: set[tuple[str, str]] = set()
    for what in map(clean, negated):
        named_terms = [t for _, t, _ in score(what)]
        named_terms += [t for t in terms() if len(what) >= 2 and t.key.startswith(what[:2])]
        for ind in {t.industry for t in named_terms}:
            named = {t.branch for t in named_terms if t.industry == ind and t.branch}
            if named and len(table.by_name(ind).branches) > 1:
                branches |= {(ind, b) for b in named}
            else:
                industries.add(ind)
    return industries, branches


def score_text(text: str, query: str) -> list[Scored]:
    """`score(query)`, minus what the user negated in `text` (复合肥（不是煤制的那种）, 不是电炉的，是冲天炉)
    when something else is named; `query` is `clean(text)`."""
    scored = score(query)
    text = unicodedata.normalize("NFKC", text)
    negated = [m.group("what") for m in _NOT.finditer(text)]
    if not negated:
        return scored
    industries, branches = _exclusions(negated)
    positive = clean(_NOT.sub("，", text))
    kept = [(c, t, how) for c, t, how in (score(positive) if positive else [])
            if t.industry not in industries and (t.industry, t.branch) not in branches]
    if kept:
        return kept
    return [(c, replace(t, branch=None) if (t.industry, t.branch) in branches else t, how) for c, t, how in scored]
