"""Sound-alike terms: pinyin IME typos of 附件3 names (陶磁 → 陶瓷, 铸照 → 铸造, 包装印涮 → 包装印刷).

`soundalikes(query)` finds windows of a cleaned query that sound like a whole vocabulary term (or a
name without its generic suffix, 油墨制造 → 油墨) and differ from it in a character or two.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from jixiao.bot.vocabulary import Term, terms
from jixiao.knowledge.lexicon import words
from jixiao.retrieval.pinyin import fold

_HAN = re.compile(r"[\u4e00-\u9fff]")
_GENERIC_SUFFIXES = words("stopwords", "GENERIC_SUFFIXES")  # knowledge/lexicon/stopwords.yaml


@dataclass(frozen=True)
class _Sound:
    term: Term
    syllables: tuple[str, ...]  # folded, tone-less: 陶瓷 → ("tao", "ci"); 水泥 → ("sui", "li")
    flat: tuple[str, ...]  # tone-less, only zh/ch/sh flattened: 水泥 → ("sui", "ni")


@dataclass(frozen=True)
class SoundHit:
    start: int
    end: int
    subs: int  # characters of the window that differ from the term (homophones typed instead)
    term: Term


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


def _stems() -> list[Term]:
    """Names without their generic suffix (油墨制造 → 油墨), matched by sound only."""
    known, out = {t.key for t in terms()}, []
    for t in terms():
        if t.how in ("name", "branch"):
            for suffix in _GENERIC_SUFFIXES:
                stem = t.key.removesuffix(suffix)
                if stem != t.key and len(stem) >= 2 and stem not in known:
                    known.add(stem)
                    out.append(Term(stem, stem, t.industry, t.category, t.branch, "synonym", 0.88))
                    break
    return out


@cache
def _sound_index() -> dict[tuple[str, str], tuple[_Sound, ...]]:
    """Pure-Han terms of ≥ 2 characters by their first two syllables, read once in phrase context."""
    from pypinyin import lazy_pinyin

    index: dict[tuple[str, str], list[_Sound]] = {}
    for t in (*terms(), *_stems()):
        if len(t.key) >= 2 and all(_HAN.match(c) for c in t.key):
            plain = tuple(lazy_pinyin(t.key))
            if len(plain) == len(t.key):
                syllables = tuple(map(fold, plain))
                index.setdefault(syllables[:2], []).append(_Sound(t, syllables, tuple(map(_flatten, plain))))
    return {k: tuple(v) for k, v in index.items()}


def _hit(query: str, sounds: list[frozenset[str]], i: int, s: _Sound) -> SoundHit | None:
    """`s` sounded out at position `i` of the query, if it is a plausible typo of the term."""
    n = len(s.syllables)
    window = query[i:i + n]
    if len(window) < n or not all(s.syllables[j] in sounds[i + j] for j in range(2, n)):
        return None
    subs = [j for j in range(n) if window[j] != s.term.key[j]]
    if n == 2 and len(query) > 2 and not all(s.flat[j] in _flat(window[j]) for j in subs):
        return None
    if len(subs) > (1 if n <= 4 else 2):
        return None
    return SoundHit(i, i + n, len(subs), s.term)


def soundalikes(query: str) -> list[SoundHit]:
    """Windows of the query that sound like a whole term and differ from it in at most one character
    (two for terms of five or more): 陶磁 → 陶瓷, 包装印涮 → 包装印刷. Words that merely sound alike
    and share no character (收集/手机, 数字/树脂, 花费/化肥) are not typos and do not match. A
    two-character term typed inside more text takes no n/l or -ng/-n merge (我们厂 is not 锰厂)."""
    query = query[:120]
    sounds = [_sounds(c) for c in query]
    index, hits = _sound_index(), set()
    for i in range(len(query) - 1):
        for first in sounds[i]:
            for second in sounds[i + 1]:
                for s in index.get((first, second), ()):
                    hit = _hit(query, sounds, i, s)
                    if hit is not None:
                        hits.add(hit)
    # ties broken by the table entry, so equal-sounding candidates come out in the same order every run
    return sorted(hits, key=lambda h: (h.start, -h.end, h.subs, h.term.industry, h.term.branch or "", h.term.key))
