"""The corpus the assistant answers from: packaged sources + documents staff added, minus removed/superseded.

Documents staff add live in `<data_dir>/sources/` (never in the installed package). Each document's
status (active / superseded / removed) is a row in the one database (`corpus_documents`), and a corpus
version stamp (a KV entry) changes whenever the index is rebuilt from a changed corpus: every worker
compares it before a turn and reloads its indexes when it moved (`CorpusWatch`).
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Column, Float, String, Table, select
from sqlalchemy.engine import Engine

from jixiao.db import KV, metadata
from jixiao.errors import InputError

log = logging.getLogger(__name__)

STATUSES = {"active": "有效", "superseded": "已被替代", "removed": "已移除"}
VERSION_KEY = "corpus:version"

corpus_documents = Table(
    "corpus_documents", metadata,
    Column("doc_id", String(128), primary_key=True),
    Column("status", String(16), nullable=False),      # active / superseded / removed
    Column("superseded_by", String(128), nullable=True),
    Column("changed_by", String(128), nullable=True),
    Column("changed_at", Float, nullable=False),
)


@dataclass(frozen=True)
class Entry:
    doc_id: str
    title: str
    doc_number: str
    date: str
    jurisdiction: str
    origin: str            # package / upload
    status: str
    superseded_by: str | None
    parent: str


class Corpus:
    """Config in the constructor (settings, engine); reads the folders and the status table per call."""

    def __init__(self, settings, engine: Engine):
        self.settings, self.engine, self.kv = settings, engine, KV(engine)

    @property
    def package_dir(self) -> Path:
        return Path(self.settings.sources_dir)

    @property
    def uploaded_dir(self) -> Path:
        return Path(self.settings.data_dir) / "sources"

    def _statuses(self) -> dict[str, tuple[str, str | None]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(corpus_documents.c.doc_id, corpus_documents.c.status,
                                       corpus_documents.c.superseded_by)).all()
        return {r.doc_id: (r.status, r.superseded_by) for r in rows}

    def _all(self) -> dict[str, tuple[object, str]]:
        from jixiao.knowledge.ingest.model import load_sources

        docs: dict[str, tuple[object, str]] = {}
        for folder, origin in ((self.package_dir, "package"), (self.uploaded_dir, "upload")):
            if folder.is_dir():
                for doc in load_sources(folder):
                    docs[doc.doc_id] = (doc, origin)
        return docs

    def documents(self) -> list:
        """The SourceDocs answers may cite: every active one (an attachment goes with its parent)."""
        statuses = self._statuses()
        docs = self._all()

        def active(doc_id: str) -> bool:
            return statuses.get(doc_id, ("active", None))[0] == "active"

        return [doc for doc_id, (doc, _) in docs.items()
                if active(doc_id) and (not doc.meta.parent or active(doc.meta.parent))]

    def entries(self) -> list[Entry]:
        statuses = self._statuses()
        out = []
        for doc_id, (doc, origin) in sorted(self._all().items(), key=lambda kv: (kv[1][1] != "upload", kv[0])):
            status, by = statuses.get(doc_id, ("active", None))
            m = doc.meta
            out.append(Entry(doc_id, m.title, m.doc_number, m.date, m.jurisdiction, origin, status, by, m.parent))
        return out

    def existing(self) -> list:
        """Every document on disk (any status): what a new upload is compared with for duplicates."""
        return [doc for doc, _ in self._all().values()]

    def set_status(self, doc_id: str, status: str, superseded_by: str | None = None, by: str = "") -> None:
        if status not in STATUSES:
            raise InputError(f"未知的状态 {status!r}：可选 {'、'.join(STATUSES)}")
        known = self._all()
        if doc_id not in known:
            raise InputError(f"知识库中没有文件 {doc_id!r}")
        if status == "superseded" and superseded_by and superseded_by not in known:
            raise InputError(f"替代它的文件 {superseded_by!r} 不在知识库中")
        values = dict(status=status, superseded_by=superseded_by if status == "superseded" else None,
                      changed_by=by or None, changed_at=time.time())
        with self.engine.begin() as conn:
            done = conn.execute(corpus_documents.update().where(corpus_documents.c.doc_id == doc_id).values(**values))
            if not done.rowcount:
                conn.execute(corpus_documents.insert().values(doc_id=doc_id, **values))

    # ------------------------------------------------------------ the index and its version

    def version(self) -> str:
        return self.kv.get(VERSION_KEY) or ""

    def bump(self) -> str:
        stamp = f"{time.time():.6f}-{uuid.uuid4().hex[:8]}"
        self.kv.set(VERSION_KEY, stamp)
        return stamp

    def index(self, progress=None, retriever=None):
        """Incremental re-index of the active corpus (only new chunks are embedded), then a new version."""
        from jixiao.retrieval.search import RetrievalConfig, Retriever

        retriever = retriever or Retriever(RetrievalConfig.from_settings(self.settings))
        report = retriever.index(progress=progress, docs=self.documents())
        self.bump()
        return report


def open_corpus(settings=None) -> Corpus:
    """The corpus of `settings` (default: the environment's) on its database, tables created."""
    from jixiao.db import create_all, make_engine
    from jixiao.settings import Settings

    settings = settings or Settings()
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url())
    create_all(engine)
    return Corpus(settings, engine)


class CorpusWatch:
    """Before a turn: has any worker re-indexed since this one loaded? Then reload (once, under a lock)."""

    def __init__(self, corpus: Corpus, retriever, min_interval: float = 0.0):
        self.corpus, self.retriever, self.min_interval = corpus, retriever, min_interval
        self.seen = corpus.version()
        self._lock = threading.Lock()
        self._checked = 0.0

    def check(self) -> bool:
        """True when this call reloaded the indexes."""
        now = time.monotonic()
        if self.retriever is None or now - self._checked < self.min_interval:
            return False
        self._checked = now
        current = self.corpus.version()
        if current == self.seen:
            return False
        with self._lock:
            if current == self.seen:
                return False
            self.retriever.reload()
            _forget_cached_sources()
            self.seen = current
        log.info("corpus reloaded version=%s", current)
        return True


def _forget_cached_sources() -> None:
    """Per-document caches of the answer layer (titles, dates, clause lists) read the folders again."""
    import sys

    for module, names in (("jixiao.bot.answer", ("_meta", "_sources")),
                          ("jixiao.bot.passages", ("top_clauses", "_labelled_lines"))):
        mod = sys.modules.get(module)
        for name in names:
            cached = getattr(mod, name, None) if mod else None
            if hasattr(cached, "cache_clear"):
                cached.cache_clear()
