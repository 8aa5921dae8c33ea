"""Per-user turn order without a process-wide lock: turns of one user run one after another, in every
worker process; turns of different users run at once.

Two layers: an exact per-user lock inside the process (a dict of reference-counted locks, so two users
never share one), then a lease row in the shared database (`turn_leases`), so a second worker process
waits for the first one's turn of the same user. A lease expires after `ttl` seconds, so a worker that
died mid-turn never blocks its user for longer than that. Portable SQL (insert-if-absent), SQLite and
PostgreSQL alike; no connection is held while the turn runs.
"""
from __future__ import annotations

import logging
import time
import uuid
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Column, Float, String, Table, delete, insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from jixiao.bot.user_locks import UserLocks
from jixiao.db import metadata

log = logging.getLogger(__name__)

turn_leases = Table(
    "turn_leases", metadata,
    Column("user_id", String(255), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("expires_at", Float, nullable=False),  # unix seconds
)


class TurnOrder:
    """`with order.turn(user_id):` — this user's earlier turns (in any worker) have finished."""

    def __init__(self, engine: Engine, ttl: float = 60.0, poll: float = 0.02, wait: float = 90.0):
        self.engine, self.ttl, self.poll, self.wait = engine, ttl, poll, wait
        self.local = UserLocks()

    @contextmanager
    def turn(self, user_id: str) -> Iterator[None]:
        with self.local.hold(user_id):
            holder = self._acquire(user_id)
            try:
                yield
            finally:
                self._release(user_id, holder)

    def _acquire(self, user_id: str) -> str | None:
        """The lease's holder id, or None when the database did not answer in time (the turn still runs:
        losing order for one turn is better than losing the answer)."""
        holder, give_up = uuid.uuid4().hex, time.monotonic() + self.wait
        while time.monotonic() < give_up:
            now = time.time()
            try:
                with self.engine.begin() as conn:
                    conn.execute(delete(turn_leases).where(turn_leases.c.user_id == user_id,
                                                           turn_leases.c.expires_at <= now))
                with self.engine.begin() as conn:
                    conn.execute(insert(turn_leases).values(user_id=user_id, holder=holder, expires_at=now + self.ttl))
                return holder
            except IntegrityError:  # another worker's turn of this user is running
                time.sleep(self.poll)
            except OperationalError:  # SQLite busy under load: retry
                log.warning("turn lease busy user_id=%s; retrying", user_id, exc_info=True)
                time.sleep(self.poll)
        log.warning("turn lease not acquired in %ss user_id=%s; answering without cross-worker order",
                    self.wait, user_id)
        return None

    def _release(self, user_id: str, holder: str | None) -> None:
        if holder is None:
            return
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(turn_leases).where(turn_leases.c.user_id == user_id,
                                                       turn_leases.c.holder == holder))
        except Exception:  # expires by itself after ttl
            log.warning("turn lease release failed user_id=%s", user_id, exc_info=True)
