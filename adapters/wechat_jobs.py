"""Every accepted WeChat push is a row in `wechat_jobs`: dedup, answer and delivery survive a crash.

States (each change is one conditional UPDATE, so exactly one actor wins every race, across workers):

    accepted ──answer ready──▶ answered ──request/retry claims it──▶ replied   (passive reply)
        │                          └──nobody waits (recovered)──▶ delivering
        └──request stopped waiting──▶ late ──answer ready──▶ delivering
    delivering ──▶ delivered (customer-service API) | held (outbox) | unknown (sent, no answer: never resent)

`dedup_key` is unique: the first arrival inserts the row, WeChat's retries find it. A retry of a job whose
answer is ready but not yet given gets that answer as its passive reply; one already replied gets the same
text again. After a crash, `recoverable()` lists the jobs a dead process left behind (its pid is gone, or its
lease ran out) and `adopt` takes them over one by one; the desk answers and delivers them.
"""
from __future__ import annotations

import os
import socket
import time
import uuid

from sqlalchemy import Column, Float, Integer, String, Table, Text, delete, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from jixiao.db import metadata

LEASE = 300.0  # seconds a process owns its jobs without finishing them; another may adopt them after
OPEN_STATES = ("accepted", "answered", "late", "delivering")
FINAL_STATES = ("replied", "delivered", "held", "unknown")
OWNER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

jobs_table = Table(
    "wechat_jobs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dedup_key", String(255), nullable=False, unique=True),
    Column("openid", String(128), nullable=False),
    Column("question", Text, nullable=True),  # NULL: not a question for the assistant (event, media …)
    Column("state", String(12), nullable=False),
    Column("answer", Text, nullable=True),
    Column("reply", Text, nullable=True),  # the passive reply given (None → "success")
    Column("owner", String(128), nullable=False),
    Column("lease_until", Float, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)


def _alive_here(owner: str) -> bool:
    """Whether `owner` may still be running: False only for a process on this host whose pid is gone."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if owner == OWNER or host != socket.gethostname() or not pid.isdigit():
        return True  # ourselves, or another host: its lease decides
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


class JobStore:
    def __init__(self, engine: Engine):
        self.engine = engine

    def accept(self, dedup_key: str, openid: str, question: str | None = None) -> tuple[int, bool]:
        """(job id, True) for the first arrival of this push; (existing id, False) for a retry."""
        now = time.time()
        try:
            with self.engine.begin() as conn:
                job_id = conn.execute(insert(jobs_table).values(
                    dedup_key=dedup_key, openid=openid, question=question, state="accepted", owner=OWNER,
                    lease_until=now + LEASE, created_at=now, updated_at=now)).inserted_primary_key[0]
            return int(job_id), True
        except IntegrityError:
            with self.engine.connect() as conn:
                row = conn.execute(select(jobs_table.c.id).where(jobs_table.c.dedup_key == dedup_key)).first()
            if row is None:  # deleted between the two statements (purge): treat as new next time
                raise
            return int(row.id), False

    def get(self, job_id: int) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(jobs_table).where(jobs_table.c.id == job_id)).first()
        return dict(row._mapping) if row else None

    def move(self, job_id: int, from_states: str | tuple[str, ...], to_state: str,
             conn: Connection | None = None, **values) -> bool:
        """Conditional state change; True when this caller made it."""
        from_states = (from_states,) if isinstance(from_states, str) else from_states
        stmt = (update(jobs_table).where(jobs_table.c.id == job_id, jobs_table.c.state.in_(from_states))
                .values(state=to_state, updated_at=time.time(), **values))
        if conn is not None:
            return conn.execute(stmt).rowcount == 1
        with self.engine.begin() as c:
            return c.execute(stmt).rowcount == 1

    def set_reply(self, job_id: int, reply: str | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(jobs_table).where(jobs_table.c.id == job_id).values(reply=reply))

    def recoverable(self) -> list[dict]:
        """Open jobs whose owner is gone (dead pid on this host, or lease expired), oldest first."""
        now = time.time()
        with self.engine.connect() as conn:
            rows = conn.execute(select(jobs_table).where(jobs_table.c.state.in_(OPEN_STATES),
                                                         jobs_table.c.owner != OWNER)
                                .order_by(jobs_table.c.id)).all()
        return [dict(r._mapping) for r in rows if r.lease_until < now or not _alive_here(r.owner)]

    def adopt(self, job: dict) -> bool:
        """Take over a recoverable job (one winner among the workers recovering it)."""
        with self.engine.begin() as conn:
            return conn.execute(update(jobs_table).where(
                jobs_table.c.id == job["id"], jobs_table.c.owner == job["owner"],
                jobs_table.c.state == job["state"]).values(owner=OWNER, lease_until=time.time() + LEASE,
                                                           updated_at=time.time())).rowcount == 1

    def purge(self, older_than: float) -> int:
        """Delete finished jobs created before `older_than` (unix seconds)."""
        with self.engine.begin() as conn:
            return conn.execute(delete(jobs_table).where(
                jobs_table.c.created_at < older_than, jobs_table.c.state.in_(FINAL_STATES))).rowcount
