"""The one SQLAlchemy database for all state: users, tickets, WeChat state, the outbox, turns, assessments.

SQLite under the data dir by default; a PostgreSQL URL (`JIXIAO_DATABASE_URL`) works unchanged
because every table is declared on `metadata` with portable types. `KV` is the shared store for
short-lived values (WeChat access token, message dedup keys, login failures) with expiry; expired
rows are ignored on read and removed by `KV.purge_expired` (the app's lifespan runs it periodically).
"""
from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import (Column, Float, MetaData, String, Table, Text, create_engine, delete, event, func, insert, or_,
                        select, update)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

metadata = MetaData()

kv_table = Table(
    "kv", metadata,
    Column("key", String(255), primary_key=True),
    Column("value", Text, nullable=False),
    Column("expires_at", Float, nullable=True),  # unix seconds; NULL = never
)


def make_engine(url: str) -> Engine:
    """Engine for `url`; SQLite gets WAL, a busy timeout and its folder created.

    A plain `postgresql://` URL is read as psycopg 3 (the driver we ship), not psycopg2.
    """
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    kwargs = {"connect_args": {"check_same_thread": False, "timeout": 15}} if url.startswith("sqlite") else {
        "pool_pre_ping": True}
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        @event.listens_for(engine, "connect")
        def _pragmas(conn, _record):  # noqa: ANN001
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
    return engine


def create_all(engine: Engine) -> None:
    """Create every table declared on `metadata` (modules declaring tables must be imported first)."""
    metadata.create_all(engine)


class KV:
    """Key-value entries with optional expiry, shared by all workers through the database."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def get(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(kv_table.c.value, kv_table.c.expires_at).where(kv_table.c.key == key)).first()
        if row is None or (row.expires_at is not None and row.expires_at <= time.time()):
            return None
        return row.value

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        """Insert or overwrite; safe when several workers set the same key at once (last write wins)."""
        expires = time.time() + ttl if ttl else None
        for _ in range(3):
            with self.engine.begin() as conn:
                if conn.execute(update(kv_table).where(kv_table.c.key == key)
                                .values(value=value, expires_at=expires)).rowcount:
                    return
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(kv_table).values(key=key, value=value, expires_at=expires))
                return
            except IntegrityError:  # another worker inserted it meanwhile: overwrite on the next round
                continue
        raise RuntimeError(f"KV.set({key!r}) lost three races in a row")

    def add(self, key: str, value: str = "1", ttl: float | None = None) -> bool:
        """Insert only if absent (or expired); True when this call inserted. Atomic across workers."""
        now = time.time()
        with self.engine.begin() as conn:
            conn.execute(delete(kv_table).where(kv_table.c.key == key, kv_table.c.expires_at <= now))
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(kv_table).values(key=key, value=value, expires_at=now + ttl if ttl else None))
        except IntegrityError:
            return False
        return True

    def delete(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(kv_table).where(kv_table.c.key == key))

    def count_prefix(self, prefix: str) -> int:
        """Live (unexpired) entries whose key starts with `prefix` (`%` and `_` in it are literal)."""
        now = time.time()
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(kv_table).where(
                kv_table.c.key.startswith(prefix, autoescape=True),
                or_(kv_table.c.expires_at.is_(None), kv_table.c.expires_at > now))).scalar_one()

    def delete_prefix(self, prefix: str) -> int:
        """Delete every entry whose key starts with `prefix`; the number deleted."""
        with self.engine.begin() as conn:
            return conn.execute(delete(kv_table).where(kv_table.c.key.startswith(prefix, autoescape=True))).rowcount

    def purge_expired(self, now: float | None = None) -> int:
        """Delete expired entries (reads already ignore them; this keeps the table small); the number deleted."""
        now = time.time() if now is None else now
        with self.engine.begin() as conn:
            return conn.execute(delete(kv_table).where(kv_table.c.expires_at <= now)).rowcount
