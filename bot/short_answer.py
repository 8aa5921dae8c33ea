"""Short answers (issue #14 item 2): the first message answers the question itself, with at most three supporting
points cited inline; the full text is kept as the answer's `detail` (回复“详细” on any channel, 展开全文 on the web).

A point is one line of the short text that a follow-up may name instead of repeating it ("第1–4条同上。"):
`{"unit": "条"|"步", "n": 1, "key": "第1条 争取专项补助资金", "line": <the line as sent>}`. `key` is what every
rendering of the item (short or full) contains, so a previous answer that listed the item is recognised by it.
Words and lines live in `short_answers.yaml`.
"""
from __future__ import annotations

import dataclasses
import math
import re
import unicodedata
from functools import cache
from pathlib import Path

import yaml

from jixiao.bot.answer import Answer, Citation

SHORT_MAX = 300  # characters of a first message
POINTS = 3  # supporting points in a first message
DATA_PATH = Path(__file__).with_name("short_answers.yaml")
_STRIP = " \t\r\n。.！!？?，,~～"


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


def short_overview(table, cites: list[Citation], question: str = "") -> str:
    """The route the question is nearest to, with its clauses' words; the other routes one title a line."""
    routes = list(table.routes)
    texts = [route.title + "".join(b.quote for b in route.basis) for route in routes]
    ranked = scores(question, texts) if question else [0.0] * len(routes)
    order = sorted(range(len(routes)), key=lambda i: (-ranked[i], i))
    lead = "重庆的评级审核按行业和申报等级分为以下路径" + (label(cites[0]) if cites else "") + "："
    if len(routes) < 2 or ranked[order[0]] < max(2.0, 1.5 * ranked[order[1]]):  # no route stands out
        return "\n".join(fit([lead] + [f"- {route.title}" for route in routes], keep=2))
    best = routes[order[0]]
    quotes = "；".join(dict.fromkeys(f"“{b.quote}”" for b in best.basis))
    lines = [lead, f"- {best.title}。依据原文：{quotes}"] + [f"- {routes[i].title}" for i in order[1:]]
    return "\n".join(fit(lines, keep=2))


def _features(text: str) -> set[str]:
    """Characters and character pairs of `text` (CJK wording has no spaces), without function words."""
    pair_stop, char_stop = set(_data()["function_chars"]), set(_data()["common_chars"])
    chars = {c for c in text if c.isalnum() and c not in pair_stop | char_stop}
    pairs = {text[i:i + 2] for i in range(len(text) - 1)
             if all(c.isalnum() and c not in pair_stop for c in text[i:i + 2])}
    return chars | pairs


def weights(question: str, texts: list[str]) -> dict[str, float]:
    """The question's features weighted by rarity among `texts` (a word that only one text uses decides; one that
    every text uses does not; one that none uses is left out)."""
    asked = _features(question)
    feats = [_features(t) & asked for t in texts]
    df = {f: sum(f in fs for fs in feats) for f in asked}
    return {f: math.log((len(texts) + 1) / k) for f, k in df.items() if k}


def scores(question: str, texts: list[str], weight: dict[str, float] | None = None) -> list[float]:
    """How much each text shares with the question (`weight`: the features' weights, else rarity among `texts`)."""
    weight = weights(question, texts) if weight is None else weight
    return [sum(weight.get(f, 0.0) for f in _features(t) & set(weight)) for t in texts]


def _measure_text(m) -> str:
    return " ".join([m.name, m.summary] + [b.quote for b in m.basis[:1]] + [n.label for n in m.numbers])


def relevant(measures, question: str, limit: int = POINTS) -> list:
    """The measures whose wording shares most with the question, in the document's order (ties: the headline order
    of short_answers.yaml, the grade's own benefits first)."""
    measures = list(measures)
    score = dict(zip((m.seq for m in measures), scores(question, [_measure_text(m) for m in measures])))
    data = _data()
    order = {seq: i for i, seq in enumerate(data["headline_measures"])}  # ties: the grade's own benefits first
    floor = data["relevant_score"]
    rank = {seq: (s if s >= floor else 0.0) for seq, s in score.items()}
    return sorted(sorted(measures, key=lambda m: (-round(rank[m.seq], 6), order.get(m.seq, m.seq)))[:limit],
                  key=lambda m: m.seq)


def _sentences(text: str) -> list[str]:
    return [x for x in re.split(r"(?<=[；。])", text) if len(x.strip("；。")) > 3]


def measure_line(m, cite: Citation | None, weight: dict[str, float], numbers: bool = False) -> str:
    """第N条 名称：the clause's quote, or the summary sentence that answers the question clearly better (features
    weighted by `weight`); with its numbers when asked."""
    quote = m.basis[0].quote if m.basis else ""
    options = ([f"“{quote}”"] if quote else []) + [x.rstrip("；。") for x in _sentences(m.summary)]
    ranked = scores("", options, weight)
    best = max(range(len(options)), key=lambda i: (ranked[i], -i)) if options else None
    if quote and best and ranked[0] * 2 >= ranked[best]:  # the clause's own words unless a sentence fits better
        best = 0
    said = options[best] if options else m.summary
    nums = "；".join(f"{n.label}{n.value:g}{n.unit}" for n in m.numbers) if numbers else ""
    return f"第{m.seq}条 {m.name}：{said}" + (f"（{nums}）" if nums else "") + (label(cite) if cite else "")


def asks_amount(question: str) -> bool:
    return any(w in question for w in _data()["amount_cues"])


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
    asked = f"{question} {grade}级"  # the grade asked (named or from the previous turn) is part of the question
    weight = weights(asked, [_measure_text(m) for m in got])
    top = relevant(got, asked)
    points, amount = [], asks_amount(question)
    counted = [m for m in top if m.numbers] if amount else []  # an amount asked: the best measure that states one
    first = max(counted or top, key=lambda m: (scores("", [_measure_text(m)], weight)[0], -m.seq))
    for m in top:
        cite = next((by_clause[(b.doc_id, b.section)] for b in m.basis[:1] if (b.doc_id, b.section) in by_clause), None)
        line = measure_line(m, cite, weight, numbers=amount and m is first)
        points.append({"unit": "条", "n": m.seq, "key": f"第{m.seq}条 {m.name}", "line": line})
    lines = fit(lines + [p["line"] for p in points], keep=len(lines) + 1)
    rest = [m for m in got if m not in top]
    for tail in ([f"其余：{'、'.join(f'第{m.seq}条{m.name}' for m in rest)}。", f"其余：第{seq_range(m.seq for m in rest)}条。"]
                 if rest else []):  # by name when it fits, else by number
        if len(fit(lines + [tail], keep=len(lines))) > len(lines):
            lines.append(tail)
            break
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
