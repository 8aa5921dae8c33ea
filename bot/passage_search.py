"""The passage-search seam: what the assistant needs from a retriever, and a deterministic fake for tests."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from jixiao.bot.answer import doc_jurisdiction


@runtime_checkable
class Hit(Protocol):
    doc_id: str
    title: str
    section: str
    text: str
    score: float


class PassageSearch(Protocol):
    """Satisfied by `jixiao.retrieval.Retriever`: best passages first, `score` higher is better."""

    def search(self, query: str, k: int = 5, filters: dict | None = None) -> list[Hit]: ...


@dataclass(frozen=True)
class FakeHit:
    doc_id: str
    title: str
    section: str
    text: str
    score: float
    # raw signals as `jixiao.retrieval.search.Hit` carries them; dense_rank 0 means "not given"
    dense_cos: float = 0.0
    bm25_raw: float = 0.0
    dense_rank: int = 0
    bm25_rank: int = 0
    agree: bool = False
    chunk_id: str = ""


class FakePassageSearch:
    """Deterministic stand-in for tests: returns fixed hits whose text shares a character with the query."""

    def __init__(self, hits: list[FakeHit]):
        self.hits = list(hits)
        self.calls: list[tuple[str, int, dict | None]] = []

    def search(self, query: str, k: int = 5, filters: dict | None = None) -> list[FakeHit]:
        self.calls.append((query, k, filters))
        hits = [h for h in self.hits if set(query) & set(h.text)]
        if filters and filters.get("jurisdiction"):
            hits = [h for h in hits if doc_jurisdiction(h.doc_id) == filters["jurisdiction"]]
        return sorted(hits, key=lambda h: -h.score)[:k]
