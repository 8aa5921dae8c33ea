"""The plain LangChain pipeline, as a baseline for `jixiao eval retrieval` (not used to answer users).

RecursiveCharacterTextSplitter (Chinese separators, 300 characters, 30 overlap) over each source body,
langchain-chroma `Chroma` persisted under the data dir, and the *same* embedder as the hybrid
retriever wrapped as LangChain `Embeddings`. No heading paths, no BM25, no fusion.

Mapping a hit to the golden answer: every split keeps its document id and its character span in the
source body (`add_start_index`). A hit is relevant when its document is the expected one and its span
overlaps a place where the expected snippet (`contains`) occurs in that body, compared after the same
`normalize()` as the hybrid's rule. A split that cuts the snippet in two still counts, so the baseline is
not penalised for cutting.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from jixiao.knowledge.basis import normalize
from jixiao.knowledge.ingest.model import load_sources
from jixiao.retrieval.embed import Embedder

SEPARATORS = ["\n\n", "\n", "。", "；", "！", "？", "，", "、", ""]
CHUNK_SIZE, CHUNK_OVERLAP = 300, 30
COLLECTION = "langchain_baseline"


class EmbedderAsLangChain(Embeddings):
    """Our Embedder seen through LangChain's interface (passages vs queries kept apart)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_passages(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text).tolist()


@dataclass(frozen=True)
class BaselineHit:
    chunk_id: str
    doc_id: str
    section: str
    text: str
    score: float
    start: int
    end: int
    locate: object          # (doc_id, contains) -> list of (start, end) spans in that body

    def relevant(self, expected) -> bool:
        return any(e.doc_id == self.doc_id and any(s < self.end and self.start < t
                                                   for s, t in self.locate(e.doc_id, e.contains))
                   for e in expected)


def _normalised_with_positions(body: str) -> tuple[str, list[int]]:
    """normalize() applied char by char, with each kept char's index in the raw body."""
    chars, pos = [], []
    for i, ch in enumerate(body):
        for out in normalize(ch):
            chars.append(out)
            pos.append(i)
    return "".join(chars), pos


class LangChainBaseline:
    def __init__(self, sources_dir: str | Path, persist_dir: str | Path, embedder: Embedder) -> None:
        self.sources_dir, self.persist_dir, self.embedder = Path(sources_dir), Path(persist_dir), embedder
        self._bodies: dict[str, str] = {}
        self._public: set[str] = set()
        self._store = None

    def splits(self) -> list[Document]:
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(separators=SEPARATORS, chunk_size=CHUNK_SIZE,
                                                  chunk_overlap=CHUNK_OVERLAP, keep_separator="end",
                                                  add_start_index=True)
        docs = []
        for src in load_sources(self.sources_dir):
            self._bodies[src.doc_id] = src.body
            audience = src.meta.audience or "public"
            if audience == "public":
                self._public.add(src.doc_id)
            docs += splitter.create_documents([src.body], metadatas=[{"doc_id": src.doc_id, "audience": audience}])
        return docs

    def build(self) -> "LangChainBaseline":
        """Split and embed; reuses the persisted collection when splits and embedder are unchanged."""
        from langchain_chroma import Chroma

        docs = self.splits()
        ids = [hashlib.sha256(f"{d.metadata['doc_id']}\x1f{d.metadata['start_index']}\x1f{d.page_content}"
                              .encode("utf-8")).hexdigest() for d in docs]
        stamp = hashlib.sha256(json.dumps([self.embedder.name, ids]).encode("utf-8")).hexdigest()
        manifest = self.persist_dir / "manifest.json"
        self._store = Chroma(collection_name=COLLECTION, embedding_function=EmbedderAsLangChain(self.embedder),
                             persist_directory=str(self.persist_dir),
                             collection_configuration={"hnsw": {"space": "cosine"}})
        fresh = manifest.is_file() and json.loads(manifest.read_text(encoding="utf-8")).get("stamp") == stamp
        if not fresh or self._store._collection.count() != len(docs):
            self._store.reset_collection()
            self._store.add_documents(docs, ids=ids)
            manifest.write_text(json.dumps({"stamp": stamp, "splits": len(docs)}), encoding="utf-8")
        self._locate.cache_clear()
        return self

    @lru_cache(maxsize=4096)
    def _locate(self, doc_id: str, contains: str) -> tuple[tuple[int, int], ...]:
        body = self._bodies.get(doc_id)
        needle = normalize(contains)
        if not body or not needle:
            return ()
        text, pos = _normalised_with_positions(body)
        spans, at = [], text.find(needle)
        while at >= 0:
            spans.append((pos[at], pos[at + len(needle) - 1] + 1))
            at = text.find(needle, at + 1)
        return tuple(spans)

    def search(self, query: str, k: int = 10, audience: str = "public") -> list[BaselineHit]:
        if self._store is None:
            self.build()
        where = {"audience": "public"} if audience != "staff" else None
        pairs = self._store.similarity_search_with_score(query, k=k, filter=where)
        hits = []
        for doc, distance in pairs:
            start = int(doc.metadata["start_index"])
            hits.append(BaselineHit(doc.id or "", doc.metadata["doc_id"], "", doc.page_content, 1.0 - float(distance),
                                    start, start + len(doc.page_content), self._locate))
        return hits
