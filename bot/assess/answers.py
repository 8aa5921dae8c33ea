"""Natural answers: yes/no, status and percentages in the forms people type, from `answer_forms.yaml`.

`yesno("没有吧应该")` → "no"; `status("正在改造")` → "partial"; `percent("大概五成")` → 50.0;
`percent("VOCs含量大概5%")` raises `NotShare` (a number describing something else, not the share asked).
`is_question(text)` is True only for a clear question (the only input that leaves the assessment flow).
"""
from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

import yaml

FORMS_PATH = Path(__file__).parent / "answer_forms.yaml"
_CLAUSE = re.compile(r"[，,。.；;、！!\s]+")
_PUNCT = "，,。.；;、！!~～…　 \"'“”"


class NotShare(ValueError):
    """A percentage that describes something else (e.g. the ink's VOCs content), not the share asked for."""

    def __init__(self, value: float, cue: str) -> None:
        super().__init__(f"{value:g}% ({cue})")
        self.value, self.cue = value, cue


@cache
def forms() -> dict:
    return yaml.safe_load(FORMS_PATH.read_text(encoding="utf-8"))


def norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip().lower()


def _strip_fillers(t: str) -> str:
    fillers = sorted(forms()["fillers"], key=len, reverse=True)
    changed = True
    while changed and t:
        changed = False
        t = t.strip(_PUNCT)
        for f in fillers:
            if t.startswith(f) and len(t) > len(f):
                t, changed = t[len(f):], True
                break
            if t.endswith(f) and len(t) > len(f):
                t, changed = t[:-len(f)], True
                break
    return t.strip(_PUNCT)


def _lead(t: str, vocab: dict[str, list[str]]) -> str | None:
    """The category of the longest word that starts `t`'s first clause (whole text tried first)."""
    raw = norm(t).strip(_PUNCT)
    t = _strip_fillers(raw)
    if not t:
        return None
    # the first clause with fillers stripped, and as typed (so 已经装了 / 做好了 keep their 了)
    firsts = {_strip_fillers(_CLAUSE.split(t)[0]) or t, _CLAUSE.split(raw)[0]}
    best, best_len = None, 0
    for first in firsts:
        for category, words in vocab.items():
            for w in words:
                w = norm(str(w))
                if first.startswith(w) and len(w) > best_len and (len(w) > 1 or len(first) <= 4 or w == first):
                    best, best_len = category, len(w)
    return best


def families_in(text: str) -> set[str]:
    """The indicator families a description names (answer_forms.yaml `families`)."""
    t = norm(text)
    return {fam for fam, words in forms()["families"].items() if fam != "examples"
            and any(norm(str(w)) in t for w in words)}


def _without_topic(text: str) -> str:
    """门禁装了 → 装了: a leading family word (the subject) dropped, so the yes/no word leads."""
    t = norm(text).strip(_PUNCT)
    for f in sorted(forms()["fillers"], key=len, reverse=True):  # leading fillers only: 了 must stay
        if t.startswith(f) and len(t) > len(f):
            t = t[len(f):]
            break
    words = sorted((norm(str(w)) for fam, ws in forms()["families"].items() if fam != "examples" for w in ws),
                   key=len, reverse=True)
    for w in words:
        if t.startswith(w) and len(t) > len(w):
            return t[len(w):].lstrip("也都已还是系统视频")
    return t


def yesno(text: str) -> str | None:
    """yes / no / unknown, or None when the text is not a yes/no answer."""
    f = forms()["yesno"]
    vocab = {k: f[k] for k in ("yes", "no", "unknown")}
    return _lead(text, vocab) or _lead(_without_topic(text), vocab)


def status(text: str) -> str | None:
    """done / partial / none / unknown / na for a family status question, or None."""
    s = forms()["status"]
    found = _lead(text, {k: s[k] for k in ("done", "partial", "none", "unknown", "na")})
    if found:
        return found
    return {"yes": "done", "no": "none", "unknown": "unknown"}.get(yesno(text) or "")


def _cn_number(s: str) -> float | None:
    """五 → 5, 十五 → 15, 八十五 → 85, 一百 → 100 (enough for percentages)."""
    nums = forms()["percent"]["numerals"]
    if not s or any(ch not in nums for ch in s):
        return None
    total, current = 0, 0
    for ch in s:
        v = nums[ch]
        if v >= 10:
            total += (current or 1) * v
            current = 0
        else:
            current = current * 10 + v
    return float(total + current)


_NUM = r"(\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百]+)"


def percent(text: str) -> float | None:
    """The percentage in `text` (0–100), None when there is none; NotShare when it describes something else."""
    p = forms()["percent"]
    t = norm(text).replace("％", "%")
    bare = _strip_fillers(t)
    for approx in sorted(p["approx"], key=len, reverse=True):
        bare = bare.replace(approx, "")
    bare = bare.strip(_PUNCT)
    if bare in p["whole"] and p["whole"][bare] is not None:
        return float(p["whole"][bare])
    found = _find_percent(t)
    if found is None:
        return None
    value, start = found
    cue = next((c for c in p["not_share"] if c in t[:start]), None)
    if cue:
        raise NotShare(value, cue)
    return value if 0 <= value <= 100 else None


def _find_percent(t: str) -> tuple[float, int] | None:
    patterns = (rf"百分之{_NUM}", rf"{_NUM}\s*%", rf"(?<![\d.]){_NUM}成(?:{_NUM})?", rf"^{_NUM}$")
    for i, pat in enumerate(patterns):
        m = re.search(pat, t)
        if not m:
            continue
        value = _number(m.group(1))
        if value is None:
            continue
        if i == 2:  # 八成五 = 85
            value = value * 10 + (_number(m.group(2)) or 0 if m.group(2) else 0)
        return value, m.start()
    only = re.fullmatch(rf"[^\d]*?(\d+(?:\.\d+)?)[^\d%]*", _strip_fillers(t))
    if only and len(t) <= 12:  # "70吧", "大约70"
        return float(only.group(1)), only.start(1)
    return None


def _number(s: str) -> float | None:
    try:
        return float(s)
    except ValueError:
        return _cn_number(s)


def is_question(text: str) -> bool:
    t = norm(text)
    return any(m in t for m in forms()["question"]["marks"])
