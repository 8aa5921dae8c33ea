"""Is a retrieved passage an answer? A calibrated decision on raw, per-query signals.

The retriever's fused score is min-max rescaled per query, so its top hit always looks good. This
module reads signals that keep their meaning across queries:

- coverage: the share of the question's content terms (jieba words minus question/stop words, weighted
  by IDF over the indexed chunks) found in the best of the top hits; a word no chunk has (危废, 联单,
  分贝 …) carries the largest IDF, so it pulls coverage down most;
- anchor: the question names a term of the rating domain (industries of the tables; words whose chunks
  sit mostly in the 创B争A / 绩效分级 documents);
- dense: raw cosine of the top hit; the model standardises it by the mean over the calibration
  questions (the per-corpus, per-embedder baseline — refit after changing the embedder);
- agree: dense and word BM25 put the same chunk first;
- bm25: raw word-BM25 score of the top hit divided by the IDF mass of the question's content terms.

A search without raw signals (test fakes) leaves dense/agree/bm25 unknown; the model then uses their
calibration means, so only coverage and anchor decide.

A logistic regression over them (coefficients in `abstain_model.json`, written by
`jixiao eval calibrate`, see eval/calibrate.py) gives P(answerable). Above `answer_at` the turn answers
as before; below it the assistant says the documents do not answer and, when the best clause still
holds at least `related_coverage` of the question's content weight, quotes it as the most related one.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

from jixiao.knowledge.lexicon import words

MODEL_PATH = Path(__file__).resolve().parent / "abstain_model.json"
FEATURES = ("coverage", "anchor", "dense", "agree", "bm25")
# Documents about the rating itself: a word whose chunks sit mostly here is a domain anchor.
RATING_DOCS = ("cq-cbza-2024", "liaocheng-2020")
ANCHOR_SHARE = 0.75   # share of a word's chunks that must be in RATING_DOCS
ANCHOR_MIN_DF = 3     # … and at least this many of them
# Question and filler words: they say how something is asked, not what about.
QUESTION_WORDS = frozenset(words("stopwords", "QUESTION_WORDS"))  # knowledge/lexicon/stopwords.yaml


@dataclass(frozen=True)
class Evidence:
    """The decision features of one question over its retrieved hits."""
    coverage: float = 0.0
    anchor: float = 0.0
    dense: float | None = None   # None: not known (the search gives no raw signals)
    agree: float | None = None
    bm25: float | None = None
    terms: tuple[str, ...] = field(default=(), compare=False)

    def vector(self, fill: tuple[float, ...] | None = None) -> list[float]:
        """Feature values in FEATURES order; unknown ones from `fill` (the model's means) or 0."""
        values = [getattr(self, n) for n in FEATURES]
        return [float(v) if v is not None else (fill[i] if fill else 0.0) for i, v in enumerate(values)]


@dataclass(frozen=True)
class AbstainModel:
    """Logistic regression P(answerable) = σ(b + Σ wᵢ·(xᵢ − μᵢ)/σᵢ), a cut-off, and the coverage from which
    an abstention still quotes the most related clause."""
    coef: tuple[float, ...]
    intercept: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    answer_at: float = 0.5     # P(answerable) at or above: answer as before
    related_coverage: float = 0.5  # abstaining, quote the best clause when it covers this share (hand-set)
    features: tuple[str, ...] = FEATURES
    command: str = ""
    embedder: str = ""         # embedder the dense feature was fitted with; another one leaves it unknown

    def p_answerable(self, ev: Evidence) -> float:
        z = self.intercept + sum(w * (x - m) / (s or 1.0)
                                 for w, x, m, s in zip(self.coef, ev.vector(self.mean), self.mean, self.scale))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def fits(self, search) -> bool:
        """Whether this search's cosines are on the scale the model was fitted on (same embedder)."""
        name = getattr(getattr(search, "embedder", None), "name", None)
        return name is None or not self.embedder or name == self.embedder

    def decide(self, ev: Evidence) -> str:
        """"answer", "related" (abstain with the most related clause) or "abstain"."""
        if self.p_answerable(ev) >= self.answer_at:
            return "answer"
        return "related" if ev.coverage >= self.related_coverage else "abstain"

    def to_json(self) -> dict:
        return asdict(self)

    def save(self, path: str | Path = MODEL_PATH) -> None:
        Path(path).write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path = MODEL_PATH) -> "AbstainModel | None":
        """None when the file is missing (the assistant then answers as before)."""
        p = Path(path)
        if not p.is_file():
            return None
        d = json.loads(p.read_text(encoding="utf-8"))
        keys = {f for f in cls.__dataclass_fields__}
        d = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items() if k in keys}
        if tuple(d.get("features", FEATURES)) != FEATURES:
            return None  # fitted on other features: refit with `jixiao eval calibrate`
        return cls(**d)


# ---------------------------------------------------------------- features

def content_terms(weights: dict[str, float]) -> dict[str, float]:
    """Query tokens that carry content: two characters or more (or Latin/digits), no question words."""
    out = {}
    for t, w in weights.items():
        if t in QUESTION_WORDS or (len(t) < 2 and not t.isascii()) or t.isdigit():
            continue
        out[t] = w
    return out


@cache
def _table_terms() -> frozenset[str]:
    """Industry names, branches and everyday synonyms of the tables (knowledge/tables/industries.yaml)."""
    import yaml

    from jixiao.knowledge.basis import SOURCES_DIR

    path = SOURCES_DIR.parent / "tables" / "industries.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}
    out = set()
    for ind in (data or {}).get("industries", []) or []:
        out.add(str(ind.get("name", "")))
        out.update(str(s) for s in ind.get("synonyms", []) or [])
        for br in ind.get("branches", []) or []:
            out.add(str(br.get("name", "")))
            out.update(str(s) for s in br.get("synonyms", []) or [])
    return frozenset(t.lower() for t in out if len(t) >= 2)


def anchor_terms(term_documents: dict[str, dict[str, int]]) -> frozenset[str]:
    """Rating-domain words: every industry term of the tables, plus each indexed word of two or more
    characters whose chunks are mostly (≥ ANCHOR_SHARE, ≥ ANCHOR_MIN_DF) in the rating documents."""
    out = set(_table_terms())
    for w, per in term_documents.items():
        if len(w) < 2 or w in QUESTION_WORDS or w.isdigit():
            continue
        core = sum(n for d, n in per.items() if d.startswith(RATING_DOCS))
        if core >= ANCHOR_MIN_DF and core >= ANCHOR_SHARE * sum(per.values()):
            out.add(w)
    return frozenset(out)


_ANCHORS: dict[int, frozenset[str]] = {}


def _anchors_of(search) -> frozenset[str]:
    key = id(search)
    if key not in _ANCHORS:
        docs = search.term_documents() if hasattr(search, "term_documents") else {}
        _ANCHORS[key] = anchor_terms(docs)
    return _ANCHORS[key]


def _bigram_weights(text: str) -> dict[str, float]:
    """Fallback for a search without term statistics (test fakes): character bigrams, weight 1."""
    from jixiao.bot.passages import terms

    return {t.lower(): 1.0 for t in terms(text)}


def evidence(query: str, hits: list, search=None, depth: int = 3) -> Evidence:
    """The decision features of `query` over its top `depth` hits."""
    if hasattr(search, "term_weights"):
        weights = content_terms(search.term_weights(query))
        chunk_terms = [search.chunk_terms(getattr(h, "chunk_id", "")) for h in hits[:depth]]
    else:
        weights = content_terms(_bigram_weights(query))
        chunk_terms = [frozenset(_bigram_weights(h.text or "")) for h in hits[:depth]]
    total = sum(weights.values())
    if not hits or total <= 0:
        return Evidence(terms=tuple(weights))
    covered = [sum(w for t, w in weights.items() if t in ct) / total for ct in chunk_terms]
    anchors = _anchors_of(search) if search is not None else _table_terms()
    text = query.lower()
    anchor = any(t in anchors for t in weights) or any(a in text for a in _table_terms())
    top = hits[0]
    if not getattr(top, "dense_rank", 0):  # no raw signals on these hits
        return Evidence(max(covered), float(anchor), terms=tuple(weights))
    return Evidence(max(covered), float(anchor), float(top.dense_cos), float(bool(top.agree)),
                    float(top.bm25_raw) / total, tuple(weights))
