"""Retrieval evaluation against the hand-written golden set (eval/golden/retrieval.yaml).

A hit is relevant when its doc_id equals the expected doc_id and the normalised expected snippet
(`contains`) is a substring of the normalised hit text. Per case we keep the rank of the first
relevant hit in the top k (None when there is none) and aggregate recall@1/5/10, MRR and nDCG@10.

nDCG uses binary relevance with an ideal of exactly one relevant hit, so per case it is
1/log2(1 + rank) for the first relevant hit (0 when none): later relevant hits add nothing.

Modes run side by side over the same index:
- hybrid:    `Retriever.search` as configured (weighted min-max fusion of dense, word BM25 and
             pinyin BM25, with the jurisdiction prior);
- rrf:       the same signals fused by reciprocal rank instead (the issue asks for both measured);
- bm25:      the retriever's own word BM25 scores over every allowed chunk, ranked alone;
- dense:     the retriever's own vector store nearest neighbours, ranked alone;
- langchain: plain LangChain (RecursiveCharacterTextSplitter + langchain-chroma + the same embedder);
             see jixiao.retrieval.langchain_baseline for how its hits map to the golden answers.
The single-signal modes reuse the retriever's pieces (tokenizer, BM25 index, store, embedder,
audience/filter rules).
"""
from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import yaml

from jixiao.knowledge.basis import normalize

GOLDEN_PATH = Path(__file__).resolve().parent / "golden" / "retrieval.yaml"
MODES = ("hybrid", "rrf", "bm25", "dense", "langchain")
BASELINES = ("bm25", "dense", "langchain")
CUTOFFS = (1, 5, 10)


# ---- golden cases -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Expected:
    doc_id: str
    section: str
    contains: str


@dataclass(frozen=True)
class GoldenCase:
    id: str
    question: str
    category: str
    style: str
    expected: tuple[Expected, ...]

    @classmethod
    def from_dict(cls, d: dict) -> "GoldenCase":
        exp = tuple(Expected(str(e["doc_id"]), str(e.get("section", "")), str(e["contains"]))
                    for e in d.get("expected") or [])
        return cls(str(d["id"]), str(d["question"]), str(d.get("category", "")), str(d.get("style", "")), exp)


def load_golden(path: str | Path = GOLDEN_PATH) -> list[GoldenCase]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
    return [GoldenCase.from_dict(d) for d in data]


def is_relevant(hit, expected: Iterable[Expected]) -> bool:
    own_rule = getattr(hit, "relevant", None)     # baseline hits that map themselves (langchain)
    if own_rule is not None:
        return bool(own_rule(tuple(expected)))
    text = normalize(hit.text)
    return any(hit.doc_id == e.doc_id and normalize(e.contains) in text for e in expected)


def first_relevant_rank(hits: Sequence, expected: Iterable[Expected], k: int = 10) -> int | None:
    expected = tuple(expected)
    for i, hit in enumerate(hits[:k], 1):
        if is_relevant(hit, expected):
            return i
    return None


# ---- modes --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _ModeHit:
    """Just what relevance needs; hybrid mode keeps the retriever's own Hit objects."""
    chunk_id: str
    doc_id: str
    section: str
    text: str
    score: float


def search_mode(retriever, query: str, k: int, mode: str, filters: dict | None = None,
                audience: str = "public", baseline=None) -> list:
    """Top-k hits for one mode, using the retriever's own BM25 index, vector store and rules."""
    if mode == "hybrid":
        return retriever.search(query, k=k, filters=filters, audience=audience)
    if mode == "rrf":
        return retriever.search(query, k=k, filters=filters, audience=audience, fusion="rrf")
    if mode == "langchain":
        if baseline is None:
            raise ValueError("mode 'langchain' needs a built LangChainBaseline (run_eval builds one)")
        return baseline.search(query, k=k, audience=audience)
    filters = {key: v for key, v in (filters or {}).items() if v not in (None, "", [])}
    bm25 = retriever._load_bm25()
    if not query.strip():
        return []
    if mode == "bm25":
        scores = bm25.scores(retriever.tokenizer.tokens(query))
        allowed = [i for i, rec in enumerate(bm25.records) if retriever._allowed(rec["metadata"], filters, audience)]
        order = sorted(allowed, key=lambda i: -scores[i])[:k]  # stable: ties keep index order, as search()
        return [_ModeHit(bm25.ids[i], bm25.records[i]["doc_id"], bm25.records[i]["section"],
                         bm25.records[i]["text"], float(scores[i])) for i in order]
    if mode == "dense":
        pos = {cid: i for i, cid in enumerate(bm25.ids)}
        pairs = retriever.store.query(retriever.embedder.embed_query(query), k, retriever._where(filters, audience))
        out = []
        for cid, sim in pairs:
            if cid in pos:
                rec = bm25.records[pos[cid]]
                out.append(_ModeHit(cid, rec["doc_id"], rec["section"], rec["text"], float(sim)))
        return out[:k]
    raise ValueError(f"unknown mode {mode!r}; valid: {list(MODES)}")


# ---- metrics ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Metrics:
    n: int
    recall: dict[int, float]          # cutoff -> share of cases with a relevant hit at rank <= cutoff
    mrr: float
    ndcg: float                       # nDCG@k, binary relevance, ideal = one relevant hit at rank 1

    @property
    def r1(self) -> float:
        return self.recall.get(1, 0.0)

    @property
    def r5(self) -> float:
        return self.recall.get(5, 0.0)

    @property
    def r10(self) -> float:
        return self.recall.get(10, 0.0)


def metrics_from_ranks(ranks: Sequence[int | None], k: int = 10, cutoffs: Sequence[int] = CUTOFFS) -> Metrics:
    """Aggregate first-relevant ranks (None = not found in top k); ranks beyond k count as misses."""
    n = len(ranks)
    hits = [r for r in ranks if r is not None and r <= k]
    if n == 0:
        return Metrics(0, {c: 0.0 for c in cutoffs}, 0.0, 0.0)
    recall = {c: sum(1 for r in hits if r <= c) / n for c in cutoffs if c <= k}
    mrr = sum(1.0 / r for r in hits) / n
    ndcg = sum(1.0 / math.log2(r + 1) for r in hits) / n
    return Metrics(n, recall, mrr, ndcg)


# ---- report -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CaseResult:
    id: str
    question: str
    category: str
    style: str
    ranks: dict[str, int | None]      # mode -> rank of first relevant hit in top k


@dataclass
class EvalReport:
    k: int
    modes: tuple[str, ...]
    cases: list[CaseResult]
    overall: dict[str, Metrics]
    by_style: dict[str, dict[str, Metrics]]
    by_category: dict[str, dict[str, Metrics]]
    seconds: dict[str, float] = field(default_factory=dict)   # mode -> wall seconds for all queries

    def to_json(self) -> dict:
        def m(x: Metrics) -> dict:
            return {"n": x.n, **{f"recall@{c}": round(v, 4) for c, v in x.recall.items()},
                    "mrr": round(x.mrr, 4), f"ndcg@{self.k}": round(x.ndcg, 4)}
        return {
            "k": self.k, "modes": list(self.modes), "seconds": {a: round(b, 2) for a, b in self.seconds.items()},
            "overall": {mode: m(x) for mode, x in self.overall.items()},
            "hybrid_beats": beats_baselines(self),
            "by_style": {g: {mode: m(x) for mode, x in ms.items()} for g, ms in self.by_style.items()},
            "by_category": {g: {mode: m(x) for mode, x in ms.items()} for g, ms in self.by_category.items()},
            "cases": [asdict(c) for c in self.cases],
        }


def _group(cases: list[CaseResult], attr: str, modes: Sequence[str], k: int) -> dict[str, dict[str, Metrics]]:
    groups: dict[str, list[CaseResult]] = defaultdict(list)
    for c in cases:
        groups[getattr(c, attr)].append(c)
    return {g: {mode: metrics_from_ranks([c.ranks[mode] for c in cs], k) for mode in modes}
            for g, cs in sorted(groups.items())}


def build_report(cases: list[CaseResult], modes: Sequence[str] | None = None, k: int = 10,
                 seconds: dict[str, float] | None = None) -> EvalReport:
    """Aggregate per-case ranks; `modes` defaults to those the cases were ranked in."""
    modes = tuple(modes) if modes is not None else tuple(cases[0].ranks) if cases else MODES
    overall = {mode: metrics_from_ranks([c.ranks[mode] for c in cases], k) for mode in modes}
    return EvalReport(k, modes, cases, overall, _group(cases, "style", modes, k),
                      _group(cases, "category", modes, k), dict(seconds or {}))


def langchain_baseline(retriever):
    """The LangChain baseline over the retriever's sources and embedder, persisted beside the eval."""
    from jixiao.retrieval.langchain_baseline import LangChainBaseline

    persist = Path(retriever.config.data_dir) / "eval" / "langchain-chroma"
    return LangChainBaseline(retriever.config.sources_dir, persist, retriever.embedder).build()


def run_eval(retriever, cases: Sequence[GoldenCase | dict], k: int = 10,
             modes: Sequence[str] = MODES, audience: str = "public", baseline=None) -> EvalReport:
    """Ask every golden question in every mode; ranks of the first relevant hit → EvalReport.

    The LangChain baseline is built (or reused from its persisted collection) when its mode is asked."""
    golden = [c if isinstance(c, GoldenCase) else GoldenCase.from_dict(c) for c in cases]
    ranks: dict[str, dict[str, int | None]] = {c.id: {} for c in golden}
    seconds: dict[str, float] = {}
    if "langchain" in modes and baseline is None:
        baseline = langchain_baseline(retriever)
    for mode in modes:
        t0 = time.perf_counter()
        for c in golden:
            hits = search_mode(retriever, c.question, k, mode, audience=audience, baseline=baseline)
            ranks[c.id][mode] = first_relevant_rank(hits, c.expected, k)
        seconds[mode] = time.perf_counter() - t0
    results = [CaseResult(c.id, c.question, c.category, c.style, ranks[c.id]) for c in golden]
    return build_report(results, modes, k, seconds)


# ---- table --------------------------------------------------------------------------------------
_HEAD = "| {g} | n | 模式 mode | R@1 | R@5 | R@10 | MRR | nDCG@{k} |"
_RULE = "|---|---:|---|---:|---:|---:|---:|---:|"


def _rows(label: str, ms: dict[str, Metrics], modes: Sequence[str]) -> list[str]:
    best = {attr: max(getattr(ms[m], attr) for m in modes) for attr in ("r1", "r5", "r10", "mrr", "ndcg")}
    rows = []
    for i, mode in enumerate(modes):
        x = ms[mode]
        cells = [(f"**{v:.3f}**" if len(modes) > 1 and v == best[a] and v > 0 else f"{v:.3f}")
                 for a, v in (("r1", x.r1), ("r5", x.r5), ("r10", x.r10), ("mrr", x.mrr), ("ndcg", x.ndcg))]
        rows.append(f"| {label if i == 0 else ''} | {x.n if i == 0 else ''} | {mode} | " + " | ".join(cells) + " |")
    return rows


def beats_baselines(report: EvalReport) -> dict[str, bool]:
    """For each baseline in the report: does hybrid have strictly higher R@1 and MRR overall?"""
    if "hybrid" not in report.overall:
        return {}
    h = report.overall["hybrid"]
    return {b: h.r1 > report.overall[b].r1 and h.mrr > report.overall[b].mrr
            for b in BASELINES if b in report.overall}


def format_table(report: EvalReport) -> str:
    """Markdown: overall, per style, per category; modes side by side, best value per group in bold."""
    k, modes = report.k, report.modes
    out = [f"## 检索评测 retrieval eval (k={k}, {len(report.cases)} questions)", "",
           "### 总体 overall", "", _HEAD.format(g="分组 group", k=k), _RULE]
    out += _rows("all", report.overall, modes)
    verdict = beats_baselines(report)
    if verdict:
        out += ["", "hybrid 对比基线 vs baselines (R@1 与 MRR 均更高 beats on R@1 and MRR): "
                + ", ".join(f"{b} {'是 yes' if ok else '否 no'}" for b, ok in verdict.items())]
    for title, groups in (("按问法 by style", report.by_style), ("按主题 by category", report.by_category)):
        out += ["", f"### {title}", "", _HEAD.format(g="分组 group", k=k), _RULE]
        for g, ms in groups.items():
            out += _rows(g or "-", ms, modes)
    if report.seconds:
        out += ["", "查询耗时 query time: " + ", ".join(f"{m} {s:.1f}s" for m, s in report.seconds.items())]
    misses = [c for c in report.cases if all(c.ranks.get(m) is None for m in modes)]
    if misses:
        out += ["", f"全部模式均未命中 missed by every mode ({len(misses)}): " + ", ".join(c.id for c in misses)]
    return "\n".join(out) + "\n"
