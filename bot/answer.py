"""Render tool results and passages as plain Simplified Chinese with citations; split for WeChat.

A citation reads `《文件简称》条款（日期）`, built from a result's basis (doc_id, section, quote) and the
policy register (short title, date). Nothing here invents content: every sentence comes from a tool
result's message/fields or from a quoted passage.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache


from jixiao.knowledge.basis import SOURCES_DIR
from jixiao.knowledge.ingest.model import DocMeta, read_source
from jixiao.knowledge.rules import load_rules

WECHAT_LIMIT = 2048  # bytes (UTF-8) per WeChat text message
MAX_PARTS = 3
TRUNCATION_NOTE = "（内容较长，其余部分请在网页版或咨询服务台查看。）"
_SENTENCE_END = re.compile(r"(?<=[。！？；\n])")


@dataclass(frozen=True)
class Citation:
    doc_id: str
    title: str
    section: str
    quote: str

    def label(self) -> str:
        date = doc_date(self.doc_id)
        return f"{self.title}{self.section}" + (f"（{date}）" if date else "")


@dataclass
class Answer:
    text: str  # what is sent first (short: jixiao.bot.short_answer)
    citations: list[dict] = field(default_factory=list)  # {doc_id, title, section, quote}
    tools: list[dict] = field(default_factory=list)  # {name, args, result}
    escalate: bool = False
    confidence: float = 0.0
    intent: str = ""
    chunks: list[dict] = field(default_factory=list)  # passages used: {doc_id, section, score}
    evidence: list[str] = field(default_factory=list, repr=False)  # clause texts the answer may rest on
    drafted: bool = False  # True when the wording came from the LLM (checked against the evidence)
    route: dict = field(default_factory=dict)  # the router's decision (jixiao.bot.route.Route.to_json())
    route_note: dict = field(default_factory=dict, repr=False)  # what execution added: a failed check, a fallback
    detail: str = ""  # the full text when `text` is its short form ("" when `text` is whole): 详细 / 展开全文
    points: list[dict] = field(default_factory=list, repr=False)  # items of `text` a follow-up names, not repeats


# ---------------------------------------------------------------- documents

@cache
def _register() -> dict:
    return {d.id: d for d in load_rules().policy_register}


def _source_dirs() -> list:
    """The packaged sources, then the documents staff added (`<data_dir>/sources`, which win on the same id)."""
    from pathlib import Path

    from jixiao.settings import Settings

    return [SOURCES_DIR, Path(Settings().data_dir) / "sources"]


@cache
def _meta(doc_id: str) -> DocMeta | None:
    for folder in reversed(_source_dirs()):
        doc = read_source(doc_id, folder)
        if doc is not None:
            return doc.meta
    return None


def doc_jurisdiction(doc_id: str) -> str | None:
    meta = _meta(doc_id)
    return meta.jurisdiction if meta else None


def doc_title(doc_id: str, fallback: str | None = None) -> str:
    """《文件简称》 from the source's front matter, else the register, else `fallback`, else the id."""
    meta = _meta(doc_id)
    if meta and meta.short_title:
        return meta.short_title
    d = _register().get(doc_id)
    if d is not None:
        return d.short_title or f"《{d.title}》"
    return f"《{fallback.strip('《》')}》" if fallback else f"《{doc_id}》"


def doc_date(doc_id: str) -> str | None:
    meta = _meta(doc_id)
    if meta and meta.date:
        return meta.date
    d = _register().get(doc_id)
    return d.date if d else None


def find_document(text: str) -> DocMeta | None:
    """The loaded document a question names by its short title or its jurisdiction (聊城方案, 开封方案)."""
    metas = [d.meta for d in _sources()]
    t = text.replace("《", "").replace("》", "")
    for m in metas:
        short = (m.short_title or "").strip("《》")
        if short and short in t:
            return m
    places = [m for m in metas if m.jurisdiction and m.jurisdiction != "重庆" and m.jurisdiction in t]
    return places[0] if len(places) == 1 else None


@cache
def _sources():
    from jixiao.knowledge.ingest.model import load_corpus

    return tuple(load_corpus(_source_dirs()))


_YEAR = re.compile(r"(20\d\d)年")


def uncovered_years(question: str, sentences: list[str]) -> list[str]:
    """Years the question names that none of the answer's sentences mention (the documents are silent)."""
    said = "".join(sentences)
    return [f"{y}年" for y in dict.fromkeys(_YEAR.findall(question or "")) if y not in said]


def citation(doc_id: str, section: str, quote: str = "", title: str | None = None) -> Citation:
    return Citation(doc_id, title or doc_title(doc_id), section or "", quote or "")


def citations_of(basis) -> list[Citation]:
    """Citations from a tool result's basis (any objects with doc_id/section/quote), de-duplicated."""
    seen, out = set(), []
    for b in basis or ():
        key = (b.doc_id, b.section, b.quote)
        if key in seen:
            continue
        seen.add(key)
        out.append(citation(b.doc_id, b.section, b.quote))
    return out


def cite_line(cites: list[Citation], limit: int = 3) -> str:
    if not cites:
        return ""
    return "依据：" + "；".join(f"{c.label()}“{c.quote}”" if c.quote else c.label() for c in cites[:limit]) + "。"


# ---------------------------------------------------------------- tool results

def render_tiers(r) -> tuple[str, list[Citation]]:
    if not r.found:
        extra = f"您可能想问：{'、'.join(r.candidates or r.suggestions)}。" if (r.candidates or r.suggestions) else ""
        return r.message + ("" if "您可能想问" in r.message else extra), []
    lines = [r.message]
    if r.note:
        lines.append(r.note)
    if r.review_requirement:
        lines.append(f"审核要求：{r.review_requirement}")
    cites = citations_of(tuple(b.basis for b in r.branches) + tuple(r.basis))
    return "\n".join(lines), cites


def render_review(r) -> tuple[str, list[Citation]]:
    if not r.found:
        return r.message, []
    lines = [r.message]
    for s in r.steps:
        lines.append(f"{s.order}. {s.actor}：{s.action}")
    if r.note:
        lines.append(r.note)
    if r.system:
        lines.append(f"申报系统：{r.system}。")
    cites = citations_of(tuple(b for s in r.steps for b in s.basis) + tuple(r.basis))
    return "\n".join(lines), cites


def render_incentives(r) -> tuple[str, list[Citation]]:
    if not r.found:
        return r.message, citations_of(r.basis)
    lines = [r.message]
    for m in r.measures + r.upgrade_support:
        nums = "；".join(f"{n.label}{n.value:g}{n.unit}" for n in m.numbers)
        quote = m.basis[0].quote if m.basis else ""
        lines.append(f"第{m.seq}条 {m.name}：{m.summary}" + (f"原文：“{quote}”" if quote and quote not in m.summary else "")
                     + (f"（{nums}）" if nums else "")
                     + (f"〔{m.certainty}〕" if m.certainty.startswith("推定") else ""))
    lines += list(r.caveats)
    cites = citations_of(tuple(b for m in r.measures + r.upgrade_support for b in m.basis[:1]) + tuple(r.basis))
    return "\n".join(lines), cites


def render_review_overview(table, grade: str | None = None, question: str = "") -> tuple[str, list[Citation]]:
    """Who reviews which grades, for a question that names no industry: every route with its basis quotes."""
    lines = ["重庆各类企业的评级审核路径（按附件3所属行业和申报等级区分）："]
    bases = []
    for route in table.routes:
        quotes = "；".join(dict.fromkeys(f"“{b.quote}”" for b in route.basis))
        lines.append(f"- {route.title}。依据原文：{quotes}")
        bases += list(route.basis)
    rules = {r.id: r for r in table.rules}
    for rid in ("levels", "expert_accounts"):
        if rid in rules:
            lines.append(rules[rid].statement)
            bases += list(rules[rid].basis)
    lines.append("请告诉我企业所属行业和申报等级，我可以给出具体的审核步骤。")
    return "\n".join(lines), citations_of(bases)


RENDERERS = {"tier_scheme": render_tiers, "review_route": render_review, "incentives": render_incentives}


# ---------------------------------------------------------------- WeChat

def _utf8_len(s: str) -> int:
    return len(s.encode("utf-8"))


def _hard_cut(s: str, limit: int) -> list[str]:
    """Cut a sentence longer than `limit` bytes at character boundaries."""
    out, cur = [], ""
    for ch in s:
        if _utf8_len(cur + ch) > limit:
            out.append(cur)
            cur = ""
        cur += ch
    return out + ([cur] if cur else [])


def split_for_wechat(text: str, limit: int = WECHAT_LIMIT, max_parts: int = MAX_PARTS) -> list[str]:
    """Split on sentence ends into parts of ≤ `limit` UTF-8 bytes; at most `max_parts` parts.

    When the text does not fit, the last part ends with TRUNCATION_NOTE (and still fits the limit).
    """
    if _utf8_len(text) <= limit:
        return [text]
    pieces: list[str] = []
    for sentence in (s for s in _SENTENCE_END.split(text) if s):
        pieces += _hard_cut(sentence, limit) if _utf8_len(sentence) > limit else [sentence]
    parts, cur = [], ""
    for p in pieces:
        if cur and _utf8_len(cur + p) > limit:
            parts.append(cur)
            cur = ""
        cur += p
    if cur:
        parts.append(cur)
    if len(parts) <= max_parts:
        return parts
    kept = parts[:max_parts]
    room = limit - _utf8_len(TRUNCATION_NOTE)
    last = kept[-1]
    while _utf8_len(last) > room:  # drop whole sentences from the end, then characters
        cut = [m.end() for m in re.finditer(r"[。！？；\n]", last[:-1])]
        last = last[:cut[-1]] if cut else last[:-1]
    kept[-1] = last + TRUNCATION_NOTE
    return kept
