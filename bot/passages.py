"""Sentences worth quoting: clause texts read from the sources, query terms, best-sentence selection.

Everything returned is verbatim document text, so an answer built from it invents nothing.
"""
from __future__ import annotations

import math
import re
from functools import cache
from typing import Any

from jixiao.bot.timeplace import place_words
from jixiao.knowledge.lexicon import words

_SENT = re.compile(r"[^。！？；\n]+[。！？；]?")
_STOP_WORDS = words("stopwords", "STOP_WORDS")  # knowledge/lexicon/stopwords.yaml
_STOP = set("".join(words("stopwords", "STOP_CHARS")))
_TABLE_HEAD = re.compile(r"^\|[^\n]*\n\|(?:\s*:?-+:?\s*\|)+[ \t]*(?:\n|$)", re.M)
_CN_ORDINAL = re.compile(r"^(附件\s*\d+\s*)?([一二三四五六七八九十]+)[、.．]")
GENERIC = set(words("stopwords", "GENERIC"))


def terms(query: str) -> set[str]:
    """Character bigrams of the query without stop characters (Chinese has no spaces to split on)."""
    q = query.upper()
    for w in _STOP_WORDS:
        q = q.replace(w, " ")
    q = "".join(ch if ch not in _STOP else " " for ch in q)
    return {w[i:i + 2] for w in re.split(r"[\W_]+", q) for i in range(len(w) - 1)}


def sentences(text: str) -> list[str]:
    """Sentences of a clause; a short lead-in ("企业申报。", "2.非重点行业试行范围。") is joined to the next."""
    out, lead = [], ""
    for line in (text or "").split("\n"):
        for s in _SENT.findall(line):
            s = s.strip().lstrip("#").strip()
            if not s:
                continue
            if len(s) <= 12 and s.endswith("。") and not re.search(r"\d{2,}|[，,、]", s):
                lead += s
                continue
            out.append(lead + s)
            lead = ""
        if lead:
            out.append(lead)
            lead = ""
    return out


def body(text: str) -> str:
    """A chunk's text without its first line, the 《title》 + clause-path label added by chunking."""
    if text.startswith("《"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
    return _TABLE_HEAD.sub("", text)  # a table's header row says nothing on its own


@cache
def top_clauses(doc_id: str) -> tuple[tuple[str, str], ...]:
    """(ordinal 一/二/…, verbatim clause text) for each `##` clause of a source document."""
    from jixiao.knowledge.basis import SOURCES_DIR
    from jixiao.knowledge.ingest.model import read_source

    doc = read_source(doc_id, SOURCES_DIR)
    if doc is None:
        return ()
    out: list[tuple[str, list[str]]] = []
    for line in doc.body.splitlines():
        if line.startswith("## "):
            m = _CN_ORDINAL.match(line[3:].strip())
            out.append((m.group(2) if m else "", [line[3:].strip()]))
        elif out and line.strip() and not line.startswith("#"):
            out[-1][1].append(line.strip())
    return tuple((k, "\n".join(v)) for k, v in out)


def weighted_overlap(query_terms: set[str], texts: list[str], weights: dict[str, float] | None = None) -> list[float]:
    """Score each text by its query bigrams, weighted by inverse document frequency over `texts` (times the term's
    weight in `weights`, default 1)."""
    n = len(texts)
    df = {t: sum(1 for x in texts if t in x) for t in query_terms}
    w = weights or {}
    return [sum(w.get(t, 1.0) * math.log((n + 1) / df[t]) for t in query_terms if df[t] and t in x and t not in GENERIC)
            for x in texts]


def focus_clause(doc_id: str, query: str, min_score: float = 2.5) -> tuple[str, str] | None:
    """The one clause of `doc_id` the query is clearly about (score above `min_score` and above the rest)."""
    clauses = top_clauses(doc_id)
    if not clauses:
        return None
    scores = weighted_overlap(terms(query), [c[1] for c in clauses])
    ranked = sorted(range(len(clauses)), key=lambda i: -scores[i])
    best = ranked[0]
    second = scores[ranked[1]] if len(ranked) > 1 else 0.0
    if scores[best] >= min_score and scores[best] > second * 1.2:
        return clauses[best]
    return None


def _label(text: str) -> str:
    """The chunk's first line (《title》 + clause path + heading): it names what the clause is about."""
    return text.split("\n", 1)[0] if text.startswith("《") else ""


def unit_sentences(text: str) -> list[str]:
    """Quotable units of a chunk: its sentences; an outline (short item lines only) is one unit; table rows
    are left out (lookup tools answer from the tables)."""
    lines = [x.strip() for x in text.split("\n") if x.strip() and not x.strip().startswith("|")]
    if len(lines) >= 2 and all(len(x) <= 30 and not x.endswith("。") for x in lines):
        return ["；".join(lines)]
    return sentences("\n".join(lines))


_SKIP_COLUMNS = ("序号",)
_CJK_SPACE = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")  # "九龙 坡区" as typeset in the source


@cache
def _tool_table_doc() -> str:
    from jixiao.knowledge.industries import load_industries

    return load_industries().doc_id


def table_rows(doc_id: str, text: str) -> list[str]:
    """The data rows of a chunk's Markdown table as quotable units, each cell named by its column
    ("区县 江津区，优良天数目标 106，PM2.5浓度目标 39.3"); a header repeated side by side (two tables in one) is
    read as two rows per line."""
    if doc_id == _tool_table_doc():  # the industry list: the lookup tools answer from its table, not quotes
        return []
    lines = [x.strip() for x in text.split("\n") if x.strip().startswith("|")]
    if len(lines) < 3:
        return []
    cells = [[_CJK_SPACE.sub("", c.strip()) for c in line.strip("|").split("|")] for line in lines]
    head, rows = cells[0], [r for r in cells[1:] if not all(re.fullmatch(r":?-+:?", c) for c in r if c)]
    width = len(head) // 2 if len(head) % 2 == 0 and head[:len(head) // 2] == head[len(head) // 2:] else len(head)
    out = []
    for row in rows:
        for start in range(0, len(row), width):
            pairs = [(h, v) for h, v in zip(head[:width], row[start:start + width])
                     if v and h not in _SKIP_COLUMNS]
            if len(pairs) >= 2:
                out.append("，".join(f"{h} {v}" for h, v in pairs))
    return out


def row_named(row: str, query: str) -> bool:
    """A table row is quoted only for a question naming one of its text cells ("合川区的目标" → the 合川区 row, also
    as "合川"); a question about the whole ("全市目标是多少") is not answered by one district's row."""
    for cell in row.split("，"):
        value = cell.split(" ", 1)[-1]
        if len(value) >= 2 and not re.fullmatch(r"[\d.%\-—]+", value):
            stem = value[:-1] if len(value) >= 3 and value[-1] in place_words().suffixes else value
            if stem in query:
                return True
    return False


def outline_of(doc_id: str) -> str | None:
    """"一、…；二、…" for a document made of short headings only (an outline such as 附件5): no clause of it
    holds a sentence (a notice whose clauses have short titles is not an outline)."""
    clauses = top_clauses(doc_id)
    heads = [c[1].split("\n", 1)[0] for c in clauses]
    if len(heads) >= 3 and all(c[0] and len(h) <= 30 and "。" not in c[1] for c, h in zip(clauses, heads)):
        return "；".join(heads)
    return None


def best_sentences(hits, query: str, limit: int = 3, depth: int = 5, prefer=(), bridged: str = "",
                   semantic=None, anchor: frozenset[str] = frozenset()) -> list[tuple[str, Any]]:
    """The best sentences of the top `depth` hits.

    A sentence scores by the query bigrams it shares (weighted by rarity among the candidates, its
    clause heading counting half) plus the hit's retrieval score, so a one-line clause that the
    retriever ranks first ("一、工作时段：2024年8月1日—12月31日") is kept even when it shares no word with
    the question. The sentence right after the best one is added when it continues it (same clause).
    `prefer`: patterns of the kind of item the question asks (a date, a count): when no sentence picked holds one,
    the first sentence of the best sentence's own clause that does is added ("…应用建设啥时候完成" quotes the
    clause's "完成时限:2025年6月"); never one of another clause, which would be about something else.
    `bridged`: the policy terms the question's everyday words stand for (塞红包 → 贿赂), counted at BRIDGE_WEIGHT.
    `semantic(query, sentences)`: each sentence's cosine to the question (None: words only); a sentence loses
    SEMANTIC_WEIGHT per unit of cosine below the closest one.
    `anchor`: chunk ids a question card matches closely (the question is a known way of asking for that clause):
    their sentences are candidates even sharing no word with the question, and count ANCHOR_WEIGHT more.
    """
    qt = terms(query)
    weights = _title_weights(qt, hits[:depth])
    named = named_documents(qt, hits[:depth])  # a question naming a document: another's card is no anchor
    for t in terms(bridged) - qt:
        qt.add(t)
        weights[t] = BRIDGE_WEIGHT
    cands = []  # (sentence, hit, rank, index in hit, label)
    per_hit: dict[int, list[str]] = {}
    for rank, h in enumerate(hits[:depth]):
        rows = [r for r in table_rows(h.doc_id, h.text or "") if row_named(r, query)]
        sents = [x for x in unit_sentences(body(h.text or "")) + rows if 4 <= len(x) <= 300]
        per_hit[rank] = sents
        for i, x in enumerate(sents):
            cands.append((x, h, rank, i, _label(h.text or "")))
    if not cands:
        return []
    own = weighted_overlap(qt, [c[0] for c in cands], weights)
    head = weighted_overlap(qt, [c[4] for c in cands], weights)
    top = max(max(own), 1e-9)
    near = semantic(query, [c[0] for c in cands]) if semantic is not None else None  # cosine to the question
    best_near = max(near) if near is not None and len(near) else 0.0
    scored = []
    for k, (x, h, rank, i, _) in enumerate(cands):
        lexical = (own[k] + 0.5 * head[k]) / (1.5 * top)
        score = lexical + 0.5 * float(getattr(h, "score", 0.0)) - 0.08 * rank
        if near is not None:
            score += SEMANTIC_WEIGHT * (near[k] - best_near)
        anchored = getattr(h, "chunk_id", None) in anchor and (not named or h.doc_id in named)
        score += ANCHOR_WEIGHT if anchored else 0.0
        if own[k] > 0 or anchored or (rank == 0 and len(per_hit[rank]) <= 2):  # the top hit's one-line clause
            scored.append((score, k))
    scored.sort(key=lambda t: -t[0])
    out, seen = [], set()
    for _, k in scored:
        x, h, rank, i, _ = cands[k]
        group = [x]
        if not out and i + 1 < len(per_hit[rank]):  # the best sentence's continuation
            group.append(per_hit[rank][i + 1])
        for y in group:
            if y not in seen and len(out) < limit + 1:
                seen.add(y)
                out.append((y, h))
        if len(out) >= limit:
            break
    return _complete(out, per_hit, cands, scored, prefer, qt) if prefer and out else out


@cache
def _title_terms(doc_id: str) -> tuple[frozenset[str], frozenset[str]]:
    """(bigrams of the short title, bigrams of the title and short title) of a document."""
    from jixiao.bot.answer import _meta

    meta = _meta(doc_id)
    if meta is None:
        return frozenset(), frozenset()
    short = frozenset(terms(meta.short_title or ""))
    return short, short | frozenset(terms(meta.title or ""))


NAMES_DOCUMENT = 3  # bigrams of a short title a question must repeat to name that document ("秋冬季治气方案")
SEMANTIC_WEIGHT = 5.0  # per unit of cosine below the closest candidate sentence (embedder cosines are compressed)
ANCHOR_WEIGHT = 1.0  # what a sentence of a clause a question card closely matches gains (see best_sentences)
BRIDGE_WEIGHT = 0.5  # what a bigram of a policy term bridged from an everyday word counts for
TITLE_WEIGHT = 0.3  # what a bigram of the named document's title counts for when picking its sentences


def _title_weights(qt: set[str], hits) -> dict[str, float]:
    """Lower weights for the question's bigrams that name a document it names ("秋冬季治气方案覆盖哪些县": the title
    words found the document; the sentence must answer 覆盖…县)."""
    named: set[str] = set()
    for doc_id in named_documents(qt, hits):
        named |= _title_terms(doc_id)[1]
    return {t: TITLE_WEIGHT for t in qt & named}


def named_documents(qt: set[str], hits) -> set[str]:
    """The documents among the hits' whose short title the question repeats (NAMES_DOCUMENT bigrams or more)."""
    return {doc_id for doc_id in {h.doc_id for h in hits} if len(qt & _title_terms(doc_id)[0]) >= NAMES_DOCUMENT}


class Labelled:
    """A `prefer` pattern of an item as documents label it ("完成时限:2025年6月", answerability slot `label`): a
    sentence holding it answers the ask without sharing a word with the question ("啥时候建好")."""

    def __init__(self, pattern: str):
        self._re = re.compile(pattern)

    def search(self, text: str):
        return self._re.search(text)


def _complete(out: list, per_hit: dict, cands: list, scored: list, prefer, qt: set[str]) -> list:
    """Add the asked kind of item from the best sentence's clause when the picked sentences lack it: a sentence
    of that clause sharing a word with the question ("完成时限" for "啥时候完成") that holds one. Never one of another
    clause, which would be about something else (a tax rate is not the share a warning makes a plant cut)."""
    if any(p.search(x) for x, _ in out for p in prefer):
        return out
    _, h, rank, _, _ = cands[scored[0][1]]
    extra = next((x for x in per_hit[rank] if any(p.search(x) for p in prefer)
                  and (any(t in x for t in qt) or any(isinstance(p, Labelled) and p.search(x) for p in prefer))), None)
    return out if extra is None else [(extra, h)] + [o for o in out if o[0] != extra][:2]  # the asked item first


def clause_sentences(text: str, query: str, limit: int = 2) -> list[str]:
    """The sentences of one clause that share most query bigrams, in document order."""
    qt = terms(query)
    sents = [s for s in sentences(text) if not (len(s) <= 14 and _CN_ORDINAL.match(s))]  # drop a bare "六、首违不罚。"
    if len(sents) <= limit:
        return sents
    scores = weighted_overlap(qt, sents) if sents else []
    ranked = sorted(range(len(sents)), key=lambda i: -scores[i])[:limit]
    keep = sorted(i for i in ranked if scores[i] > 0) or ranked[:1]
    return [sents[i] for i in keep]


_LABEL = re.compile(r"^([一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)]|\d+[.．])")


@cache
def _labelled_lines(doc_id: str) -> tuple[tuple[str, str], ...]:
    """(clause path such as 四（二）, line) for every body line of a source document."""
    from jixiao.knowledge.basis import SOURCES_DIR
    from jixiao.knowledge.ingest.model import read_source

    doc = read_source(doc_id, SOURCES_DIR)
    if doc is None:
        return ()
    out, stack = [], []
    for line in doc.body.splitlines():
        m = re.match(r"^(#{2,6})\s+(.*)$", line)
        if m:
            level, lab = len(m.group(1)), _LABEL.match(m.group(2).strip())
            stack = [x for x in stack if x[0] < level] + [(level, lab.group(1).rstrip("、.．") if lab else "")]
            line = m.group(2)
        path = "".join(x[1] for x in stack)
        if line.strip():
            out.append((path, line.strip()))
    return tuple(out)


def where_named(doc_id: str, name: str) -> tuple[str, str] | None:
    """Where a document names `name` (with a parenthesis that follows it): (clause path, verbatim phrase)."""
    for path, line in _labelled_lines(doc_id):
        i = line.find(name)
        if i >= 0:
            m = re.match(re.escape(name) + r"(（[^）]{1,30}）)?", line[i:])
            return path, m.group(0)
    return None
