"""Assessment sessions and turns in the one database (`jixiao.db.metadata`): SQLite or PostgreSQL.

One row per user holds the whole session state as JSON (answers, order, hints); every turn is logged.
Each call runs in its own transaction, so several processes on one PostgreSQL database share sessions:
whichever process gets a user's next message reads the state the previous one saved.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from sqlalchemy import Boolean, Column, Float, Integer, String, Table, Text, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from jixiao.db import make_engine, metadata

sessions_table = Table(
    "assess_sessions", metadata,
    Column("user_id", String(255), primary_key=True),
    Column("state", Text, nullable=False),  # JSON: {answers, order, hints, paused?}
    Column("updated_at", Float, nullable=False),
)

turns_table = Table(
    "assess_turns", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(255), nullable=False, index=True),
    Column("at", Float, nullable=False),
    Column("input", Text, nullable=False),
    Column("question_id", String(255), nullable=True),
    Column("not_an_answer", Boolean, nullable=False),
    Column("done", Boolean, nullable=False),
)


def engine_for(db: Engine | Path | str) -> Engine:
    """An Engine as given; a path is a SQLite file (scripts and tests); a URL string is used as is."""
    if isinstance(db, Engine):
        return db
    text = str(db)
    return make_engine(text if "://" in text else f"sqlite:///{Path(text).resolve()}")


class SessionStore:
    def __init__(self, db: Engine | Path | str) -> None:
        self.engine = engine_for(db)
        metadata.create_all(self.engine, tables=[sessions_table, turns_table])

    def load(self, user_id: str) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(sessions_table.c.state).where(sessions_table.c.user_id == user_id)).first()
        return json.loads(row.state) if row else None

    def save(self, user_id: str, state: dict) -> None:
        values = {"state": json.dumps(state, ensure_ascii=False), "updated_at": time.time()}
        for _ in range(2):  # a concurrent first insert by another process: update on the second try
            with self.engine.begin() as conn:
                done = conn.execute(update(sessions_table).where(sessions_table.c.user_id == user_id)
                                    .values(**values)).rowcount
            if done:
                return
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(sessions_table).values(user_id=user_id, **values))
                return
            except IntegrityError:
                continue

    def log(self, user_id: str, text: str, question_id: str | None, not_an_answer: bool, done: bool) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(turns_table).values(user_id=user_id, at=time.time(), input=text or "",
                                                    question_id=question_id, not_an_answer=not_an_answer,
                                                    done=done))


def import_legacy(store: SessionStore, path: Path) -> int:
    """Move sessions from the former separate SQLite file (`<data_dir>/assess.db`) into the one database:
    users not yet in `assess_sessions` are copied, the file is renamed `assess.db.imported`. The number copied."""
    import sqlite3

    if not path.is_file():
        return 0
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT user_id, state FROM sessions").fetchall()
    except sqlite3.DatabaseError:
        rows = []
    finally:
        conn.close()
    copied = 0
    for user_id, state in rows:
        if store.load(user_id) is None:
            store.save(user_id, json.loads(state))
            copied += 1
    path.rename(path.with_name(path.name + ".imported"))
    return copied
