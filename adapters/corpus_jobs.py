"""Corpus changes staff make in the console, as jobs in the one database: an upload is staged (what
ingestion found), confirmed (files written to `<data_dir>/sources`), then indexed incrementally with
progress; a status change (superseded / removed) re-indexes too. Any worker can show any job.

Index runs are serialised across workers by a lease (`turn_leases`, key `corpus:index`); each run ends by
bumping the corpus version, so every worker reloads before its next turn (`jixiao.knowledge.corpus`).
"""
from __future__ import annotations

import json
import logging
import threading
import time

from sqlalchemy import Column, Float, Integer, String, Table, Text, insert, select, update
from sqlalchemy.engine import Engine

from jixiao.db import metadata
from jixiao.errors import InputError
from jixiao.knowledge.corpus import Corpus

log = logging.getLogger(__name__)

corpus_jobs = Table(
    "corpus_jobs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),          # upload / status
    Column("filename", String(255), nullable=True),
    Column("created_by", String(128), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("state", String(16), nullable=False),         # staged / queued / indexing / done / failed / cancelled
    Column("plan", Text, nullable=False),                # JSON: what ingestion found and what to write
    Column("done", Integer, nullable=False, default=0),
    Column("total", Integer, nullable=False, default=0),
    Column("message", Text, nullable=True),
    Column("finished_at", Float, nullable=True),
)

STATES = {"staged": "待确认", "queued": "排队中", "indexing": "正在建立索引", "done": "已完成", "failed": "失败",
          "cancelled": "已取消"}


def _row(r) -> dict:
    plan = json.loads(r.plan)
    return {"id": r.id, "kind": r.kind, "filename": r.filename, "created_by": r.created_by,
            "created_at": r.created_at, "state": r.state, "state_text": STATES.get(r.state, r.state),
            "done": r.done, "total": r.total, "message": r.message, "finished_at": r.finished_at,
            "inspection": plan.get("inspection"), "change": plan.get("change")}


class CorpusJobs:
    def __init__(self, corpus: Corpus, engine: Engine):
        self.corpus, self.engine = corpus, engine
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------ reading

    def get(self, job_id: int) -> dict:
        with self.engine.connect() as conn:
            r = conn.execute(select(corpus_jobs).where(corpus_jobs.c.id == job_id)).first()
        if r is None:
            raise LookupError(f"没有编号为 {job_id} 的导入任务")
        return _row(r)

    def recent(self, limit: int = 20) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(corpus_jobs).order_by(corpus_jobs.c.id.desc()).limit(limit)).all()
        return [_row(r) for r in rows]

    # ------------------------------------------------------------ staff actions

    def stage(self, inspection, user: str) -> dict:
        plan = {"inspection": inspection.to_json(), "write": inspection.write, "delete": inspection.delete}
        with self.engine.begin() as conn:
            job_id = conn.execute(insert(corpus_jobs).values(
                kind="upload", filename=inspection.filename, created_by=user, created_at=time.time(),
                state="staged", plan=json.dumps(plan, ensure_ascii=False), done=0, total=0)).inserted_primary_key[0]
        return self.get(job_id)

    def _take(self, job_id: int, to: str) -> dict:
        """Move a staged job on (once: a second confirmation from any worker finds it taken)."""
        with self.engine.begin() as conn:
            moved = conn.execute(update(corpus_jobs).where(corpus_jobs.c.id == job_id, corpus_jobs.c.state == "staged")
                                 .values(state=to)).rowcount
        job = self.get(job_id)
        if not moved:
            raise InputError(f"导入任务 {job_id} 当前状态为“{job['state_text']}”，不能再确认或取消。")
        return job

    def confirm(self, job_id: int, user: str) -> dict:
        from jixiao.knowledge.ingest.upload import apply_plan

        self._take(job_id, "queued")
        with self.engine.connect() as conn:
            plan = json.loads(conn.execute(select(corpus_jobs.c.plan).where(corpus_jobs.c.id == job_id)).scalar_one())
        written = apply_plan(plan["write"], plan["delete"], self.corpus.uploaded_dir)
        for doc_id in written:  # a document uploaded again is active again
            self.corpus.set_status(doc_id, "active", by=user)
        log.info("documents confirmed job=%s by=%s written=%s", job_id, user, written)
        self._start(job_id)
        return self.get(job_id)

    def cancel(self, job_id: int) -> dict:
        self._take(job_id, "cancelled")
        return self.get(job_id)

    def change_status(self, doc_id: str, status: str, superseded_by: str | None, user: str) -> dict:
        self.corpus.set_status(doc_id, status, superseded_by, by=user)
        change = {"doc_id": doc_id, "status": status, "superseded_by": superseded_by}
        with self.engine.begin() as conn:
            job_id = conn.execute(insert(corpus_jobs).values(
                kind="status", filename=None, created_by=user, created_at=time.time(), state="queued",
                plan=json.dumps({"change": change}, ensure_ascii=False), done=0, total=0)).inserted_primary_key[0]
        self._start(job_id)
        return self.get(job_id)

    # ------------------------------------------------------------ indexing

    def _start(self, job_id: int) -> None:
        thread = threading.Thread(target=self.run, args=(job_id,), name=f"corpus-job-{job_id}", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _set(self, job_id: int, **values) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(corpus_jobs).where(corpus_jobs.c.id == job_id).values(**values))

    def run(self, job_id: int) -> None:
        """Index the active corpus (only new chunks are embedded) under the cross-worker lease."""
        from jixiao.adapters.turn_order import TurnOrder

        try:
            with TurnOrder(self.engine, ttl=3600, wait=3600).turn("corpus:index"):
                self._set(job_id, state="indexing")
                report = self.corpus.index(progress=lambda done, total: self._set(job_id, done=done, total=total))
            self._set(job_id, state="done", finished_at=time.time(),
                      message=f"索引已更新：新增片段 {report.added}，删除 {report.removed}，共 {report.chunks} 个片段；"
                              "各进程下一轮对话起即按新文件作答。")
        except Exception as exc:  # the admin sees the reason; the operator the traceback
            log.exception("corpus job failed job=%s", job_id)
            self._set(job_id, state="failed", finished_at=time.time(), message=f"建立索引失败：{exc}")

    def recover(self) -> int:
        """At start-up: jobs left queued or indexing by a worker that died (no live index lease) run again.

        Indexing is incremental and idempotent, so a job that another live worker is about to take runs
        twice at worst. Returns how many jobs were restarted."""
        from jixiao.adapters.turn_order import turn_leases

        with self.engine.connect() as conn:
            busy = conn.execute(select(turn_leases.c.user_id).where(turn_leases.c.user_id == "corpus:index",
                                                                   turn_leases.c.expires_at > time.time())).first()
            orphans = [] if busy else conn.execute(select(corpus_jobs.c.id).where(
                corpus_jobs.c.state.in_(("queued", "indexing"))).order_by(corpus_jobs.c.id)).scalars().all()
        for job_id in orphans:
            log.warning("corpus job left unfinished by a stopped worker; running it again job=%s", job_id)
            self._start(job_id)
        return len(orphans)

    def close(self) -> None:
        """Wait briefly for running index jobs (app shutdown)."""
        for thread in self._threads:
            thread.join(timeout=30)
