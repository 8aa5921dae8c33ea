"""Sound-alike keys for typo-tolerant keyword search.

Users type Chinese with pinyin input methods, so their typos are homophones (评级 → 平级, 审核 →
审合, 资金 → 资今, 叉车 → 插车). Word BM25 misses them; BM25 over *pinyin bigrams* does not.
Keys are folded the way Chongqing speakers pronounce (and so type): no retroflex initials
(zh/ch/sh → z/c/s), n and l merged, and -ng finals after a/e/i merged with -n (eng/en, ing/in,
ang/an). Latin and digit runs stay as lower-case units, so "B极" and "B级" both give "b_ji".
"""
from __future__ import annotations

import re

PINYIN_STAMP = "pinyin-bigram-fold-v1"     # bump when the keys change: persisted tokens are then rebuilt
_HAN = re.compile(r"[\u4e00-\u9fff]")
_UNIT = re.compile(r"[\u4e00-\u9fff]|[a-zA-Z]+|\d+(?:\.\d+)?")


def fold(syllable: str) -> str:
    """Fold one tone-less pinyin syllable to its dialect-tolerant key (zhong → zong, neng → len, ping → pin)."""
    for retroflex in ("zh", "ch", "sh"):
        if syllable.startswith(retroflex):
            syllable = syllable[0] + syllable[2:]
            break
    if syllable.startswith("n"):
        syllable = "l" + syllable[1:]
    if len(syllable) >= 3 and syllable.endswith("ng") and syllable[-3] in "aei":
        syllable = syllable[:-1]
    return syllable


def _readings(text: str) -> list[str]:
    """One pinyin reading per character of `text` (non-Han characters as themselves), read in
    phrase context so 重庆 is chong qing and 行业 hang ye. One pypinyin call per text: it is the slow part."""
    from pypinyin import lazy_pinyin

    readings = lazy_pinyin(text, errors=lambda s: list(s))
    if len(readings) != len(text):         # never seen; fall back to one character at a time
        readings = [lazy_pinyin(ch)[0] if _HAN.match(ch) else ch for ch in text]
    return readings


def pinyin_tokens(text: str) -> list[str]:
    """Bigrams of folded syllables within each run of text: "评级要交费" → ["pin_ji", "ji_yao", …]."""
    readings = _readings(text) if _HAN.search(text) else list(text)
    out: list[str] = []
    for run in re.finditer(r"[\u4e00-\u9fffa-zA-Z0-9.]+", text):
        units = [fold(readings[m.start()]) if _HAN.match(m.group()) else m.group().lower()
                 for m in _UNIT.finditer(text, run.start(), run.end())]
        if len(units) == 1:
            out.append(units[0])
        out += [f"{a}_{b}" for a, b in zip(units, units[1:])]
    return out
