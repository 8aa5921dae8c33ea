"""The vocabulary of 附件3: every industry name, branch name and synonym as a cleaned, weighted term.

Also the two text measures the matchers share: `clean` (how queries and terms are normalised) and
`edit_distance` (how typos are counted).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from jixiao.knowledge.industries import load_industries


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


def window_distance(query: str, key: str) -> int:
    """Smallest edit distance between `key` and any window of `query` of about its length."""
    n, best = len(key), len(key)
    for size in {n - 1, n, n + 1}:
        if size < 2:
            continue
        for start in range(0, max(1, len(query) - size + 1)):
            best = min(best, edit_distance(query[start:start + size], key))
    return best


@dataclass(frozen=True)
class Term:
    key: str  # cleaned
    text: str
    industry: str
    category: str
    branch: str | None
    how: str
    weight: float


@cache
def terms() -> tuple[Term, ...]:
    out: list[Term] = []
    for ind in load_industries().industries:
        def add(text: str, branch: str | None, how: str, weight: float) -> None:
            out.append(Term(clean(text), text, ind.name, ind.category, branch, how, weight))
        add(ind.name, None, "name", 1.0)
        for s in ind.synonyms:
            add(s, None, "synonym", 0.9)
        for b in ind.branches:
            if b.name != ind.name:
                add(b.name, b.name, "branch", 0.97)
            for s in b.synonyms:
                add(s, b.name, "synonym", 0.92)
    return tuple(out)
