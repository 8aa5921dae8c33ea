"""Short answers (issue #14 item 2): the first message answers the question itself, with at most three supporting
points cited inline; the full text is kept as the answer's `detail` (回复“详细” on any channel, 展开全文 on the web).

A point is one line of the short text that a follow-up may name instead of repeating it ("第1–4条同上。"):
`{"unit": "条"|"步", "n": 1, "key": "第1条 争取专项补助资金", "line": <the line as sent>}`. `key` is what every
rendering of the item (short or full) contains, so a previous answer that listed the item is recognised by it.
Words and lines live in `short_answers.yaml`.
"""
from __future__ import annotations

import dataclasses
import unicodedata
from functools import cache
from pathlib import Path

import yaml

from jixiao.bot.answer import Answer, Citation

SHORT_MAX = 300  # characters of a first message
POINTS = 3  # supporting points in a first message
DATA_PATH = Path(__file__).with_name("short_answers.yaml")
_STRIP = " \t\r\n。.！!？?，,~～"
_BIGRAM_SKIP = set("的了是在和与及或有对为企业级")


@cache
def _data() -> dict:
    return yaml.safe_load(DATA_PATH.read_text(encoding="utf-8"))


def more_line() -> str:
    return _data()["more_line"]


def nothing_more() -> str:
    return _data()["nothing_more"]


def is_detail_request(text: str) -> bool:
    """The whole message asks for the rest of the previous answer (详细, 展开, 全文 …)."""
    bare = unicodedata.normalize("NFKC", text or "").strip(_STRIP)
    return bare in _data()["detail_words"]


def label(c: Citation) -> str:
    return f"（{c.label()}）"


def seq_range(nums) -> str:
    """1、2、3、4、6 → "1–4、6"."""
    nums = sorted(dict.fromkeys(nums))
    runs: list[list[int]] = []
    for n in nums:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return "、".join(f"{r[0]}–{r[-1]}" if len(r) > 2 else "、".join(map(str, r)) for r in runs)


def finish(answer: Answer, short: str, points: list[dict] | None = None) -> Answer:
    """`answer` (whose text is the full rendering) sent as `short` first when the full text is long; else whole."""
    full = answer.text
    if len(full) <= SHORT_MAX or not short or short == full:
        return answer
    answer.text = f"{short}\n{more_line()}"
    answer.detail = full
    answer.points = [p for p in points or () if p["line"] in short]
    return answer


def fit(lines: list[str], keep: int = 1, budget: int = SHORT_MAX) -> list[str]:
    """The leading lines (at least `keep`) whose total length, with the more-line, stays within `budget`."""
    room = budget - len(more_line()) - 1
    out: list[str] = []
    for i, line in enumerate(lines):
        if i >= keep and sum(len(x) + 1 for x in out) + len(line) > room:
            break
        out.append(line)
    return out


# ---------------------------------------------------------------- short forms per tool

def short_tiers(r, prefix: str, cites: list[Citation]) -> str:
    """One line: the grades (with the 附件3 clause), then the review requirement."""
    if not r.found:
        return ""
    lines = [prefix + r.message + (label(cites[0]) if cites else "")]
    if r.review_requirement:
        lines.append(f"审核要求：{r.review_requirement}")
    return "\n".join(fit(lines))


def short_review(r, prefix: str, cites: list[Citation]) -> tuple[str, list[dict]]:
    """Who reviews, in order, one line each; the route's clause cited once."""
    if not r.found:
        return "", []
    head = prefix + r.message.split("流程：")[0].rstrip("。；，") + "。"
    points = [{"unit": "步", "n": s.order, "key": f"{s.actor}：{s.action}", "line": f"{s.order}. {s.actor}：{s.action}"}
              for s in r.steps]
    cite = f"依据：{cites[0].label()}。" if cites else ""
    lines = fit([head] + [p["line"] for p in points], keep=1, budget=SHORT_MAX - len(cite) - 1)
    return "\n".join(lines + ([cite] if cite else [])), points


def short_overview(table, cites: list[Citation]) -> str:
    """Every review route in one line each (who reviews which grades), the first clause cited."""
    lead = "重庆的评级审核按行业和申报等级分为以下路径" + (label(cites[0]) if cites else "") + "："
    lines = fit([lead] + [f"- {route.title}" for route in table.routes], keep=2)
    return "\n".join(lines)


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1) if not (set(text[i:i + 2]) & _BIGRAM_SKIP)}


def relevant(measures, question: str, limit: int = POINTS) -> list:
    """The measures whose wording shares most with the question (ties: the document's order)."""
    asked = _bigrams(question)

    def score(m) -> int:
        words = " ".join([m.name, m.summary] + [b.quote for b in m.basis[:1]] + [n.label for n in m.numbers])
        return len(asked & _bigrams(words))

    return sorted(sorted(measures, key=lambda m: (-score(m), m.seq))[:limit], key=lambda m: m.seq)


def measure_line(m, cite: Citation | None) -> str:
    quote = m.basis[0].quote if m.basis else m.summary
    return f"第{m.seq}条 {m.name}：“{quote}”" + (label(cite) if cite else "")


def short_incentives(r, question: str, prefix: str, cites: list[Citation], excluded=()) -> tuple[str, list[dict]]:
    """"重庆B级企业可享受惠企措施第1–9条（共10条）", the three measures most relevant to the question, the rest by name."""
    if not r.found:
        return "", []
    got = list(r.measures) + list(r.upgrade_support)
    total = len(got) + len(excluded) + len(r.not_for_enterprises)
    grade = r.grade or ""
    lead = (f"{prefix}{r.region or '重庆'}{grade}{'' if grade.endswith('级') or '绩效' in grade else '级'}企业"
            f"可享受惠企措施第{seq_range(m.seq for m in got)}条（共{total}条）")
    if not r.measures:  # only the help towards a higher grade
        lead += "，均为提档升级帮扶"
    lines = [lead + "。"]
    if excluded:
        lines.append(f"第{seq_range(excluded)}条限定B级及以上或绩效引领性企业，不适用。")
    by_clause = {(c.doc_id, c.section): c for c in cites}
    top = relevant(got, question)
    points = []
    for m in top:
        cite = next((by_clause[(b.doc_id, b.section)] for b in m.basis[:1] if (b.doc_id, b.section) in by_clause), None)
        points.append({"unit": "条", "n": m.seq, "key": f"第{m.seq}条 {m.name}", "line": measure_line(m, cite)})
    rest = [m for m in got if m not in top]
    tail = [f"其余：{'、'.join(f'第{m.seq}条{m.name}' for m in rest)}。"] if rest else []
    lines = fit(lines + [p["line"] for p in points] + tail, keep=len(lines) + 1)
    return "\n".join(lines), points


def short_lines(lines: list[str], keep: int = 1) -> str:
    """Quoted clause sentences: the best first, at most two more, within the budget."""
    head = [x for x in lines[:keep]]
    return "\n".join(fit(head + lines[keep:keep + POINTS - 1], keep=keep))


# ---------------------------------------------------------------- follow-ups

def trim_repeats(answer: Answer, previous: str) -> Answer:
    """Points of `answer` the previous answer (`previous`, as sent) already gave: named by number, not repeated."""
    if not previous or not answer.points:
        return answer
    said = [p for p in answer.points if p["key"] in previous and p["line"] in answer.text]
    if not said:
        return answer
    lines = answer.text.split("\n")
    first = min(lines.index(p["line"]) for p in said if p["line"] in lines)
    units = dict.fromkeys(p["unit"] for p in said)
    refs = "、".join(f"第{seq_range(p['n'] for p in said if p['unit'] == u)}{u}" for u in units)
    gone = {p["line"] for p in said}
    kept = [x for i, x in enumerate(lines) if x not in gone or i == first]
    kept[kept.index(lines[first])] = _data()["same_as_before"].format(refs=refs)
    return dataclasses.replace(answer, text="\n".join(kept), points=[p for p in answer.points if p not in said])
