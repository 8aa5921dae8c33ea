"""Answer-level evaluation against eval/golden/answers.yaml (judging rules: eval/golden/ANSWERS.md).

Every case runs through the real `Assistant` (one fresh user per case, its turns in order); the last
answer is judged:

- facts: each expected string occurs in the answer (NFKC, no white space; `N%` ≡ 百分之<中文数字>);
- citation: a citation of the expected doc_id whose section matches the expected clause (marker path
  such as 四（二） / 五、三是 / 附件3 一、) and whose clause contains the expected quote;
- tool: the named lookup tool was called;
- forbidden: none of the forbidden strings occurs;
- escalate: the answer escalates exactly when expected;
- invented (escalate cases): no number/date/amount in the answer that is in neither the question nor a
  cited document;
- jurisdiction: rules of 聊城/开封 are labelled with that place.
"""
from __future__ import annotations

import re
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

import yaml

from jixiao.knowledge.basis import normalize, source_text

GOLDEN_PATH = Path(__file__).resolve().parent / "golden" / "answers.yaml"
GROUPS = ("tool", "policy", "followup", "out_of_scope")
CHECKS = ("facts", "citation", "tool", "forbidden", "escalate", "invented", "jurisdiction")


# ---------------------------------------------------------------- cases

@dataclass(frozen=True)
class Expect:
    facts: tuple[str, ...] = ()
    doc_id: str | None = None
    section: str | None = None
    quote: str | None = None
    tool: str | None = None
    escalate: bool = False
    forbidden: tuple[str, ...] = ()
    jurisdiction: str | None = None


@dataclass(frozen=True)
class AnswerCase:
    id: str
    group: str
    turns: tuple[str, ...]
    expect: Expect

    @classmethod
    def from_dict(cls, d: dict) -> "AnswerCase":
        e = d.get("expect") or {}
        return cls(str(d["id"]), str(d["group"]), tuple(str(t) for t in d["turns"]),
                   Expect(tuple(str(f) for f in e.get("facts") or ()), e.get("doc_id"), e.get("section"),
                          e.get("quote"), e.get("tool"), bool(e.get("escalate", False)),
                          tuple(str(f) for f in e.get("forbidden") or ()), e.get("jurisdiction")))


def load_cases(path: str | Path = GOLDEN_PATH) -> list[AnswerCase]:
    return [AnswerCase.from_dict(d) for d in yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []]


# ---------------------------------------------------------------- normalisation

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}


def cn_number(text: str) -> int | None:
    """七十五 → 75, 三十 → 30, 一百 → 100; None when `text` is not a Chinese integer."""
    if not text:
        return None
    total, digit = 0, None
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _UNITS:
            total += (1 if digit is None else digit) * _UNITS[ch]
            digit = None
        else:
            return None
    return total + (digit or 0)


_PERCENT_CN = re.compile(r"百分之([零〇一二两三四五六七八九十百千]+)")


def canon(text: str) -> str:
    """`normalize` (NFKC, quotes, no white space) plus 百分之七十五 → 75%."""
    text = _PERCENT_CN.sub(lambda m: f"{cn_number(m.group(1))}%" if cn_number(m.group(1)) is not None else m.group(0),
                           text or "")
    return normalize(text)


# ---------------------------------------------------------------- clauses

_MARKER = re.compile(r"\s*(附件\s*\d+|[（(][一二三四五六七八九十]+[）)]|[一二三四五六七八九十]+是|[一二三四五六七八九十]+"
                     r"|\d+(?:\.\d+)*)\s*[、.．]?\s*")


def markers(section: str | None) -> tuple[str, ...]:
    """Leading clause markers: "附件3 一、国家…" → (一,); "四（二）" → (四, (二)); "五、三是" → (五, 三是)."""
    out, pos, s = [], 0, (section or "").strip()
    while pos < len(s):
        m = _MARKER.match(s, pos)
        if not m or m.end() == pos:
            break
        token = m.group(1).replace(" ", "").replace("(", "（").replace(")", "）")
        out.append(token)
        pos = m.end()
    return tuple(t for t in out if not t.startswith("附件"))


@cache
def _clauses(doc_id: str) -> dict[tuple[str, ...], str]:
    """Heading marker path → normalised text of that clause with its sub-clauses."""
    from jixiao.knowledge.basis import SOURCES_DIR
    from jixiao.knowledge.ingest.model import read_source

    doc = read_source(doc_id, SOURCES_DIR)
    if doc is None:
        return {}
    out: dict[tuple[str, ...], list[str]] = {(): []}
    stack: list[tuple[int, tuple[str, ...]]] = []
    for line in doc.body.splitlines():
        m = re.match(r"^(#{2,6})\s+(.*)$", line)
        if m:
            level = len(m.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            own = markers(m.group(2))[:1]
            path = (stack[-1][1] if stack else ()) + own
            stack.append((level, path))
            out.setdefault(path, [])
        path = stack[-1][1] if stack else ()
        for i in range(len(path) + 1):
            out.setdefault(path[:i], []).append(line)
    return {k: canon("\n".join(v)) for k, v in out.items()}


def clause_text(doc_id: str, section: str) -> str:
    """The cited clause's normalised text: the deepest heading matching the section's markers."""
    clauses, path = _clauses(doc_id), markers(section)
    while path and path not in clauses:
        path = path[:-1]
    return clauses.get(path, "") if path else ""


def _contains(seq: tuple[str, ...], sub: tuple[str, ...]) -> bool:
    return any(seq[i:i + len(sub)] == sub for i in range(len(seq) - len(sub) + 1))


_CN_DIGITS = "一二三四五六七八九"


def _ordinal_value(marker: str) -> int | None:
    """一 → 1, 十二 → 12, （三） → 3, 4 → 4; None for anything else (2.13, 三是)."""
    core = marker.strip("（）")
    return int(core) if core.isdigit() else cn_number(core)


def _ordinal_text(value: int, like: str) -> str:
    """`value` (below 100) written the way `like` is (Chinese numerals, in brackets, or digits)."""
    core = like.strip("（）")
    if core.isdigit():
        text = str(value)
    else:
        tens, units = divmod(value, 10)
        text = (("" if tens == 1 else _CN_DIGITS[tens - 1]) + "十" if tens else "") + (_CN_DIGITS[units - 1] if units else "")
    return f"（{text}）" if like.startswith("（") else text


def section_variants(section: str | None) -> list[str]:
    """A merged chunk's section stands for every clause it runs over: "四、（三）—（五）" for 四、（三）,
    四、（四） and 四、（五）; "一、—四、" for 一、 … 四、."""
    s = section or ""
    if "—" not in s:
        return [s]
    first, last = s.split("—", 1)
    head, tail = markers(first), markers(last)
    if not tail:
        return [first]
    keep = head[:max(0, len(head) - len(tail))]
    prefix = "".join(_sep(k) for k in keep)
    out = [first]
    start, end = head[len(keep)] if len(head) > len(keep) else "", tail[0]
    lo, hi = _ordinal_value(start), _ordinal_value(end)
    if len(tail) == 1 and lo is not None and hi is not None and lo < hi < 100:
        out += [prefix + _sep(_ordinal_text(v, end)) for v in range(lo + 1, hi)]
    out.append(prefix + "".join(_sep(t) for t in tail))
    return out


def _sep(marker: str) -> str:
    """A Chinese-numeral marker gets its 、 back so `markers` reads it as one ("三" → "三、")."""
    return marker + "、" if marker and marker[0] in _CN_DIGITS + "十" else marker


def citation_ok(cite: dict, expect: Expect) -> bool:
    """Right document, right clause, and the clause contains the expected quote."""
    if cite.get("doc_id") != expect.doc_id:
        return False
    return any(_citation_ok(dict(cite, section=v), expect) for v in section_variants(cite.get("section")))


def _citation_ok(cite: dict, expect: Expect) -> bool:
    quote = canon(expect.quote or "")
    cited_quote = canon(cite.get("quote") or "")
    want, got = markers(expect.section), markers(cite.get("section"))
    if want and got and _contains(got, want):  # same clause or a sub-clause of it
        return not quote or quote in cited_quote or quote in clause_text(cite["doc_id"], cite.get("section") or "")
    if want and got and want[:len(got)] == got:  # a coarser clause: its quoted sentence must carry the fact
        return bool(quote) and quote in cited_quote
    if not want:  # 导语 / 发文 / a whole attachment: the quote decides
        return bool(quote) and (quote in cited_quote or canon(expect.section or "") in canon(cite.get("section") or "")
                                and quote in canon(source_text(cite["doc_id"]) or ""))
    return False


# ---------------------------------------------------------------- invented facts

_FACT = re.compile(r"\d+(?:\.\d+)?(?:%|万元|元|天|个工作日|日|年|月|家|mg|毫克|吨|小时|个|项|次|倍)?")


def invented_facts(answer_text: str, question: str, citations: list[dict]) -> list[str]:
    """Numbers in the answer found neither in the question nor in any cited document.

    Citation labels (clause numbers, document dates) are removed first: they are provenance, not facts.
    """
    sources = "".join(source_text(d) or "" for d in {c.get("doc_id") for c in citations})
    text = re.sub(r"\d{4}-\d{2}-\d{2}", "", answer_text)
    for c in citations:
        for part in (c.get("section"), c.get("title")):
            if part:
                text = text.replace(part, "")
    q = canon(question)
    canon_sources = canon(sources)  # the answer was canonicalised (百分之三十 → 30%); compare like with like
    out = []
    for m in _FACT.finditer(canon(text)):
        token = m.group(0)
        if token in q or token in sources or token in canon_sources:
            continue
        out.append(token)
    return out


# ---------------------------------------------------------------- judging

@dataclass
class CaseResult:
    id: str
    group: str
    question: str
    answer: str
    passed: bool
    checks: dict[str, bool]
    escalate: bool
    expected_escalate: bool
    tools: list[str]
    citations: list[dict]
    latency_ms: float
    missing: list[str] = field(default_factory=list)
    invented: list[str] = field(default_factory=list)
    error: str | None = None
    route: dict = field(default_factory=dict)   # the router's decision for the last turn
    confidence: float = 0.0                      # the answer's stated probability of being right


def judge(case: AnswerCase, answer, question: str, latency_ms: float) -> CaseResult:
    e = case.expect
    text = canon(answer.text)
    checks: dict[str, bool] = {}
    missing = [f for f in e.facts if canon(f) not in text]
    checks["facts"] = not missing
    if e.doc_id and not e.escalate:
        checks["citation"] = any(citation_ok(c, e) for c in answer.citations)
    tools = [t.get("name") for t in answer.tools]
    if e.tool:
        checks["tool"] = e.tool in tools
    checks["forbidden"] = not any(canon(f) in text for f in e.forbidden)
    checks["escalate"] = bool(answer.escalate) == e.escalate
    invented: list[str] = []
    if e.escalate:
        invented = invented_facts(answer.text, " ".join(case.turns), list(answer.citations))
        checks["invented"] = not invented
    if e.jurisdiction and e.jurisdiction != "重庆":
        ok = e.jurisdiction in answer.text
        if ok and e.jurisdiction not in question:  # the user asked about 重庆: say 重庆's documents are silent
            ok = "重庆" in answer.text and bool(re.search(r"没有|未作|未规定|未找到", answer.text))
        checks["jurisdiction"] = ok
    return CaseResult(case.id, case.group, question, answer.text, all(checks.values()), checks, bool(answer.escalate),
                      e.escalate, tools, list(answer.citations), latency_ms, missing, invented,
                      route=dict(getattr(answer, "route", None) or {}),
                      confidence=float(getattr(answer, "confidence", 0.0) or 0.0))


def run_case(assistant, case: AnswerCase) -> CaseResult:
    user = f"eval:{case.id}"
    answer, latency = None, 0.0
    for turn in case.turns:
        t0 = time.perf_counter()
        answer = assistant.reply(user, turn, "eval")
        latency = (time.perf_counter() - t0) * 1000
    return judge(case, answer, case.turns[-1], latency)


# ---------------------------------------------------------------- report

@dataclass
class AnswerReport:
    cases: list[CaseResult]
    seconds: float
    note: str = ""

    def by_group(self) -> dict[str, tuple[int, int]]:
        out = {}
        for g in GROUPS + tuple(sorted({c.group for c in self.cases} - set(GROUPS))):
            rows = [c for c in self.cases if c.group == g]
            if rows:
                out[g] = (sum(c.passed for c in rows), len(rows))
        return out

    def summary(self) -> dict:
        n = len(self.cases)
        cited = [c for c in self.cases if "citation" in c.checks]
        cited_policy = [c for c in cited if c.group == "policy"]
        tp = sum(c.escalate and c.expected_escalate for c in self.cases)
        fp = sum(c.escalate and not c.expected_escalate for c in self.cases)
        fn = sum(not c.escalate and c.expected_escalate for c in self.cases)
        lat = sorted(c.latency_ms for c in self.cases)
        escalate_cases = [c for c in self.cases if c.expected_escalate]
        return {
            "cases": n,
            "passed": sum(c.passed for c in self.cases),
            "accuracy": _ratio(sum(c.passed for c in self.cases), n),
            "groups": {g: {"passed": p, "total": t, "accuracy": _ratio(p, t)} for g, (p, t) in self.by_group().items()},
            "citation_correct": _ratio(sum(c.checks["citation"] for c in cited), len(cited)),
            "citation_correct_policy": _ratio(sum(c.checks["citation"] for c in cited_policy), len(cited_policy)),
            "abstention_precision": _ratio(tp, tp + fp),
            "abstention_recall": _ratio(tp, tp + fn),
            "abstention": {"tp": tp, "fp": fp, "fn": fn},
            "invented": sum(bool(c.invented) or not c.checks.get("forbidden", True) for c in escalate_cases),
            "by_route": self.by_route(),
            "length": answer_lengths([c.answer for c in self.cases]),
            "calibration": calibration([(c.confidence, c.passed) for c in self.cases]),
            "latency_p50_ms": round(_pct(lat, 50), 1),
            "latency_p95_ms": round(_pct(lat, 95), 1),
            "seconds": round(self.seconds, 1),
        }

    def by_route(self) -> dict[str, dict]:
        """Pass rate per route kind of the last turn (tool, clause, out_of_scope, …)."""
        out: dict[str, list[int]] = {}
        for c in self.cases:
            row = out.setdefault(c.route.get("kind") or "-", [0, 0])
            row[0] += c.passed
            row[1] += 1
        return {k: {"passed": p, "total": t, "accuracy": _ratio(p, t)} for k, (p, t) in sorted(out.items())}

    def to_json(self) -> dict:
        return {"summary": self.summary(), "note": self.note, "cases": [asdict(c) for c in self.cases]}


def answer_lengths(texts: list[str]) -> dict:
    """Median and p90 characters, the first WeChat message's share of answers, messages per answer."""
    from jixiao.bot.answer import WECHAT_LIMIT, split_for_wechat

    chars = sorted(len(t) for t in texts)
    parts = [len(split_for_wechat(t, max_parts=99)) for t in texts]
    return {"median_chars": round(_pct(chars, 50)), "p90_chars": round(_pct(chars, 90)),
            "one_message": _ratio(sum(len(t.encode("utf-8")) <= WECHAT_LIMIT for t in texts), len(texts)),
            "messages_mean": round(sum(parts) / len(parts), 2) if parts else 0.0}


def calibration(pairs: list[tuple[float, bool]], bins: int = 10) -> dict:
    """How well `confidence` reads as the probability that the answer is right: the Brier score and the
    expected calibration error (mean |confidence − pass rate| over equal-width bins, weighted by cases)."""
    if not pairs:
        return {"brier": 0.0, "ece": 0.0}
    brier = sum((p - float(ok)) ** 2 for p, ok in pairs) / len(pairs)
    buckets: dict[int, list[tuple[float, bool]]] = {}
    for p, ok in pairs:
        buckets.setdefault(min(int(p * bins), bins - 1), []).append((p, ok))
    ece = sum(abs(sum(p for p, _ in b) / len(b) - sum(ok for _, ok in b) / len(b)) * len(b)
              for b in buckets.values()) / len(pairs)
    return {"brier": round(brier, 4), "ece": round(ece, 4)}


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 0.0


def _pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def format_markdown(report: AnswerReport, golden: Path | None = None) -> str:
    s = report.summary()
    name = Path(golden or GOLDEN_PATH).resolve()
    shown = f"eval/golden/{name.name}" if name.parent == GOLDEN_PATH.parent else str(name)
    lines = [f"# 答案级评测 ({shown})", ""]
    if report.note:
        lines += [f"> {report.note}", ""]
    lines += ["| 组 | 通过 | 总数 | 通过率 |", "|---|---:|---:|---:|"]
    for g, v in s["groups"].items():
        lines.append(f"| {g} | {v['passed']} | {v['total']} | {v['accuracy']:.1%} |")
    lines.append(f"| **全部** | {s['passed']} | {s['cases']} | {s['accuracy']:.1%} |")
    lines += ["", "| 指标 | 值 |", "|---|---:|",
              f"| 引用正确率（有出处要求的用例） | {s['citation_correct']:.1%} |",
              f"| 引用正确率（policy 组） | {s['citation_correct_policy']:.1%} |",
              f"| 转人工/拒答 精确率 | {s['abstention_precision']:.1%} |",
              f"| 转人工/拒答 召回率 | {s['abstention_recall']:.1%} |",
              f"| 应拒答用例中出现编造/禁用内容 | {s['invented']} |",
              f"| 回答长度 中位数 / p90（字） | {s['length']['median_chars']} / {s['length']['p90_chars']} |",
              f"| 一条微信消息（2048字节）放得下的回答 | {s['length']['one_message']:.1%} |",
              f"| 每个回答的微信消息数（平均） | {s['length']['messages_mean']} |",
              f"| 置信度校准 Brier / ECE（越小越好） | {s['calibration']['brier']} / {s['calibration']['ece']} |",
              f"| 延迟 p50 / p95 (ms，最后一轮) | {s['latency_p50_ms']} / {s['latency_p95_ms']} |", ""]
    lines += ["| 路由 route | 通过 | 总数 | 通过率 |", "|---|---:|---:|---:|"]
    lines += [f"| {k} | {v['passed']} | {v['total']} | {v['accuracy']:.1%} |" for k, v in s["by_route"].items()]
    lines.append("")
    failed = [c for c in report.cases if not c.passed]
    if failed:
        lines += ["## 未通过用例", "", "| id | 组 | 问题 | 未通过的检查 | 缺少的事实 | 路由 |", "|---|---|---|---|---|---|"]
        for c in failed:
            bad = ", ".join(k for k, v in c.checks.items() if not v)
            lines.append(f"| {c.id} | {c.group} | {c.question} | {bad} | {'、'.join(c.missing + c.invented)} | "
                         f"{c.route.get('id', '')} |")
        lines.append("")
    return "\n".join(lines)


def run_eval(assistant, cases: list[AnswerCase], note: str = "") -> AnswerReport:
    t0 = time.perf_counter()
    results = [run_case(assistant, c) for c in cases]
    return AnswerReport(results, time.perf_counter() - t0, note)


def set_day(path: str | Path, today: str | None = None):
    """The day a golden set is read against: `today` (ISO), else its entry in eval/golden/dates.yaml, else None."""
    import datetime as dt

    import yaml

    if today:
        return dt.date.fromisoformat(today)
    dates = GOLDEN_PATH.parent / "dates.yaml"
    table = yaml.safe_load(dates.read_text(encoding="utf-8")) if dates.is_file() else {}
    day = (table or {}).get(Path(path).name)
    return dt.date.fromisoformat(str(day)) if day else None


def build_eval_assistant(settings, llm: bool = False, today=None):
    """The real assistant over the configured index, storing turns in a throw-away database.

    Returns (assistant, note); note is non-empty when the index is missing (tools only).
    """
    from jixiao.bot.turn import Assistant

    note, search = "", None
    try:
        from jixiao.retrieval.search import open_retriever

        search = open_retriever(settings)
        search.search("申报", k=1)  # fail here, not in every case, when the index does not fit the code
    except Exception as exc:  # noqa: BLE001 — any index problem: say so, run tools only
        search = None
        note = (f"未能打开检索索引（{exc}）；政策类用例将无法通过。请先运行 `jixiao index`（数据目录 "
                f"{settings.data_dir}）。")
    store = Path(tempfile.mkdtemp(prefix="jixiao-eval-")) / "turns.db"
    drafter = None
    if llm:
        from jixiao.bot.llm import make_drafter

        drafter = make_drafter(settings)
    from jixiao.bot.timeplace import FixedClock

    return Assistant(search, store, llm=drafter, clock=FixedClock(today) if today else None), note
