"""Curated answers: staff answers an admin approved, reused for the same question asked again.

A question matches an approved one when their normalised texts are equal, or when their character
bigram Jaccard similarity is at least `THRESHOLD` and both name the same grades, industries, regions
and numbers (`Signature`): a question about A级 never gets the B级 answer, 铸造 never gets 水泥's.
The threshold was chosen on hand-written paraphrase / non-paraphrase pairs from the documents
(tests/test_helpdesk_curated.py prints precision and recall; docs/channels.md records the numbers).

A near-duplicate must also ask nothing more: every focus word of the new question (the answerability check's
nouns, jixiao.bot.answerability) occurs in the approved question or its answer, so "…变更费用" does not get the
answer approved for "…变更". Question-vector similarity was measured on the same pairs and does not separate
them (0.78–0.95 on both sides: 限产/停产 differ by one word), so curated entries keep this precise rule as their
"answer directly" threshold; the match is recorded as the turn's route (`curated:<id>`).
"""
from __future__ import annotations

import json
import re
import time
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import JSON, Column, Float, Integer, String, Table, Text, func, insert, select, update
from sqlalchemy.engine import Engine

from jixiao.db import metadata

THRESHOLD = 0.6
STATES = ("proposed", "approved")

curated_table = Table(
    "helpdesk_curated", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", Integer, nullable=True, unique=True),
    Column("question", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("citations", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("proposed_by", String(64), nullable=False),
    Column("proposed_at", Float, nullable=False),
    Column("approved_by", String(64), nullable=True),
    Column("approved_at", Float, nullable=True),
)

# ---------------------------------------------------------------- matching

_COURTESY = re.compile(r"^(请问一下|请问|您好|你好|麻烦问一下|想问一下|问一下|咨询一下|老师)+")
_PARTICLES = re.compile(r"(吗|呢|啊|呀|吧|哈)+$")
_PUNCT = re.compile(r"[^\w+\-]+|_+")  # keeps + and - of grades (A+, B-)
_GRADE = re.compile(r"(?<![A-Z])(地方)?([ABCD])\s*(\+|-|−|－)?(?![A-Z])")
_LEAD = re.compile(r"(地方)?(非)?(绩效)?引领")
_NUMBER = re.compile(r"\d+|第[一二三四五六七八九十百]+[条项款]")
_REGIONS = ("聊城", "开封", "四川", "成都", "山东", "河南", "湖北", "贵州")


def normalize_question(text: str) -> str:
    """NFKC, upper-case, no spaces or punctuation, no leading courtesy or trailing particles."""
    t = unicodedata.normalize("NFKC", text or "").upper().replace("−", "-")
    t = _PUNCT.sub("", t)
    t = _COURTESY.sub("", t)
    return _PARTICLES.sub("", t) or t


def bigrams(text: str) -> frozenset[str]:
    return frozenset(text[i:i + 2] for i in range(len(text) - 1)) if len(text) > 1 else frozenset({text})


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


@cache
def _industry_terms() -> tuple[tuple[str, str], ...]:
    """(cleaned term, industry) for every name, branch and everyday synonym of 附件3, longest first."""
    from jixiao.bot.industry import clean
    from jixiao.knowledge.industries import load_industries

    terms: dict[str, str] = {}
    for ind in load_industries().industries:
        for text in (ind.name, *ind.synonyms, *(n for b in ind.branches for n in (b.name, *b.synonyms))):
            key = clean(text)
            if len(key) >= 2:
                terms.setdefault(key, ind.name)
    return tuple(sorted(terms.items(), key=lambda kv: -len(kv[0])))


def _industries(norm: str) -> frozenset[str]:
    found, taken = set(), [False] * len(norm)
    for key, industry in _industry_terms():  # longest first; a shorter term inside a longer hit is skipped
        start = norm.find(key)
        while start >= 0:
            if not any(taken[start:start + len(key)]):
                found.add(industry)
                taken[start:start + len(key)] = [True] * len(key)
            start = norm.find(key, start + 1)
    return frozenset(found)


def _grades(norm: str) -> frozenset[str]:
    t = norm.replace("创B争A", "").replace("升C消D", "")
    out = {(m.group(1) or "") + ("非引领" if m.group(2) else "引领") for m in _LEAD.finditer(t)}
    t = _LEAD.sub("", t)
    out |= {(m.group(1) or "") + m.group(2) + ("+" if m.group(3) == "+" else "-" if m.group(3) else "")
            for m in _GRADE.finditer(t)}
    return frozenset(out)


@dataclass(frozen=True)
class Signature:
    """The entities two questions must share to be the same question."""

    grades: frozenset[str]
    industries: frozenset[str]
    regions: frozenset[str]
    numbers: frozenset[str]

    @classmethod
    def of(cls, norm: str) -> "Signature":
        return cls(_grades(norm), _industries(norm), frozenset(r for r in _REGIONS if r in norm),
                   frozenset(_NUMBER.findall(norm)))


# question words and fillers people vary without changing the question (applied in order)
_CANON = ((re.compile(r"多长时间|多少时间|多长时候"), "多久"), (re.compile(r"怎么样|如何|怎样|咋样|咋"), "怎么"),
          (re.compile(r"啥|哪些"), "什么"), (re.compile(r"能不能|能否|能够|可不可以|可以|可否"), "能"),
          (re.compile(r"是否|请问"), ""), (re.compile(r"需要|须要|需"), "要"), (re.compile(r"按照"), "按"),
          (re.compile(r"公司|工厂|厂家|单位|厂"), "企业"), (re.compile(r"[的是都来还在了呢]"), ""))
_NEGATION = frozenset("不非未没无别")
MAX_ADDED = 3  # characters one question may add to the other (时, 企业, 负责 …; 申报材料 is a new question)


def canonical(norm: str) -> str:
    for pattern, repl in _CANON:
        norm = pattern.sub(repl, norm)
    return norm


def only_added(ca: str, cb: str) -> bool:
    """True when one canonical question is the other with a few characters added: none replaced, at most
    MAX_ADDED distinct new characters, no negation."""
    extra_a, extra_b = set(ca) - set(cb), set(cb) - set(ca)
    if extra_a and extra_b:
        return False
    extra = extra_a | extra_b
    return len(extra) <= MAX_ADDED and not extra & _NEGATION


def similarity(a: str, b: str) -> float:
    """1.0 for equal normalised questions; else the bigram Jaccard of their canonical forms, or 0.0 when
    their signatures differ or one replaces words of the other."""
    na, nb = normalize_question(a), normalize_question(b)
    if na == nb:
        return 1.0
    if Signature.of(na) != Signature.of(nb):
        return 0.0
    ca, cb = canonical(na), canonical(nb)
    return jaccard(bigrams(ca), bigrams(cb)) if only_added(ca, cb) else 0.0


# ---------------------------------------------------------------- store

@dataclass(frozen=True)
class _Entry:
    id: int
    question: str
    norm: str
    canon: str
    grams: frozenset[str]
    signature: Signature
    text: str
    citations: tuple[dict, ...]


class CuratedAnswers:
    """Approved answers, matched by normalised exact question or near-duplicate (see module doc)."""

    def __init__(self, engine: Engine, threshold: float = THRESHOLD):
        self.engine = engine
        self.threshold = threshold
        self._cache: tuple[Any, tuple[_Entry, ...]] = (None, ())

    def propose(self, question: str, text: str, citations: list[dict], staff: str, ticket_id: int | None,
                conn) -> int:
        return int(conn.execute(insert(curated_table).values(
            ticket_id=ticket_id, question=question, text=text, citations=citations, state="proposed",
            proposed_by=staff, proposed_at=time.time())).inserted_primary_key[0])

    def approve(self, curated_id: int, admin: str, conn) -> int:
        t = curated_table.c
        return conn.execute(update(curated_table).where(t.id == curated_id, t.state == "proposed")
                            .values(state="approved", approved_by=admin, approved_at=time.time())).rowcount

    def get(self, curated_id: int) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(curated_table).where(curated_table.c.id == curated_id)).mappings().first()
        return dict(row) if row else None

    def list(self, state: str | None = None, limit: int = 100, offset: int = 0) -> list[dict]:
        q = select(curated_table).order_by(curated_table.c.id.desc()).limit(limit).offset(offset)
        if state:
            q = q.where(curated_table.c.state == state)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def _entries(self) -> tuple[_Entry, ...]:
        t = curated_table.c
        with self.engine.connect() as conn:
            version = tuple(conn.execute(select(func.count(), func.max(t.approved_at))
                                         .where(t.state == "approved")).one())
            if version == self._cache[0]:
                return self._cache[1]
            rows = conn.execute(select(t.id, t.question, t.text, t.citations).where(t.state == "approved")
                                .order_by(t.id)).all()
        entries = []
        for r in rows:
            norm = normalize_question(r.question)
            canon = canonical(norm)
            cites = r.citations if isinstance(r.citations, list) else json.loads(r.citations or "[]")
            entries.append(_Entry(r.id, r.question, norm, canon, bigrams(canon), Signature.of(norm), r.text,
                                  tuple(cites)))
        self._cache = (version, tuple(entries))
        return self._cache[1]

    def _asks_more(self, text: str, e: _Entry) -> bool:
        """`text` names a focus word that neither the approved question nor its answer contains."""
        from jixiao.bot.answerability import Answerability
        from jixiao.retrieval.keyword import Tokenizer
        from jixiao.retrieval.pinyin import pinyin_tokens

        if getattr(self, "_coverage", None) is None:
            tok = Tokenizer()
            self._coverage = Answerability(tok.tagged, pinyin_tokens, lambda w: float("inf"), is_word=tok.is_word)
        return not self._coverage.check(text, [e.question, e.text], focus=True, said=e.question + e.text).ok

    def match(self, text: str) -> tuple[_Entry, float] | None:
        """The best approved entry for `text` and its score, or None below the threshold (or asking more)."""
        norm = normalize_question(text)
        if not norm:
            return None
        entries = self._entries()
        for e in entries:
            if e.norm == norm:
                return e, 1.0
        sig, canon = Signature.of(norm), canonical(norm)
        grams = bigrams(canon)
        best = max(((e, jaccard(grams, e.grams)) for e in entries
                    if e.signature == sig and only_added(canon, e.canon)), key=lambda p: p[1], default=None)
        if best is None or best[1] < self.threshold or self._asks_more(text, best[0]):
            return None
        return best

    def lookup(self, text: str):
        """An `Answer` (intent "curated", confidence 1.0) for a question approved staff answered, else None."""
        from jixiao.bot.answer import Answer, Citation

        hit = self.match(text)
        if hit is None:
            return None
        e, score = hit
        body = e.text
        cites = [dict(c) for c in e.citations]
        if cites and "依据" not in body:
            body += "\n依据：" + "；".join(
                Citation(c["doc_id"], c.get("title") or "", c.get("section") or "", c.get("quote") or "").label()
                + (f"“{c['quote']}”" if c.get("quote") else "") for c in cites[:3]) + "。"
        route = {"kind": "curated", "name": "curated", "args": {"id": e.id}, "id": f"curated:{e.id}",
                 "reason": f"人工审核答复“{e.question}”", "scores": {"curated": round(score, 3)}}
        return Answer(body, cites, [{"name": "curated", "args": {"id": e.id}, "result": {"found": True}}],
                      escalate=False, confidence=1.0, intent="curated", route=route)
