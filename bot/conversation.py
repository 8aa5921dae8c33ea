"""Every conversation turn and each user's follow-up context, in the one database (`jixiao.db`).

Turns keep the router's decision (`route`), so a wrong answer can be traced and real questions become golden
cases. The follow-up context (the previous turn's reading) lives here too, not in process memory, so a second
worker — or the same one after a restart — answers "那C级呢" the same way.
"""
from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import (Column, Float, Index, Integer, String, Table, Text, delete, inspect, insert, select, text,
                        update)
from sqlalchemy.engine import Engine

from jixiao.db import create_all, make_engine, metadata

turns_table = Table(
    "turns", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(255), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("question", Text, nullable=False),
    Column("intent", String(64), nullable=False),
    Column("tools", Text, nullable=False),      # JSON list of {name, args, found}
    Column("chunks", Text, nullable=False),     # JSON list of {doc_id, section, score}
    Column("answer", Text, nullable=False),
    Column("latency_ms", Integer, nullable=False),
    Column("escalate", Integer, nullable=False),
    Column("route", Text, nullable=False, default="{}"),  # JSON: {kind, name, args, id, reason, scores}
    Column("detail", Text, nullable=True),  # the full text when `answer` was its short form (详细 sends it)
    Column("created_at", Float, nullable=False),
    Index("turns_user", "user_id", "id"),
)

context_table = Table(
    "turn_context", metadata,
    Column("user_id", String(255), primary_key=True),
    Column("context", Text, nullable=False),    # JSON of the previous turn's Understanding
    Column("updated_at", Float, nullable=False),
)

CONTEXT_TTL = 24 * 3600.0  # a follow-up leans on a turn of the last day, not of last month


@dataclass(frozen=True)
class Turn:
    id: int
    user_id: str
    channel: str
    question: str
    intent: str
    tools: list
    chunks: list
    answer: str
    latency_ms: int
    escalate: bool
    created_at: float
    route: dict = dataclasses.field(default_factory=dict)
    detail: str = ""


def _add_detail_column(engine: Engine) -> None:
    """Databases made before `detail` existed get the column (nullable: old turns have no detail)."""
    if "detail" in {c["name"] for c in inspect(engine).get_columns("turns")}:
        return
    try:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE turns ADD COLUMN detail TEXT"))
    except Exception:  # another worker added it first
        if "detail" not in {c["name"] for c in inspect(engine).get_columns("turns")}:
            raise


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


class ConversationStore:
    """Turns and contexts on `engine` (or, given a path, on a SQLite file there); safe for concurrent turns."""

    def __init__(self, engine: Engine | str | Path):
        if not isinstance(engine, Engine):
            engine = make_engine(f"sqlite:///{Path(engine).resolve()}")
        self.engine = engine
        create_all(engine)
        _add_detail_column(engine)

    def record(self, user_id: str, channel: str, question: str, intent: str, tools: list, chunks: list,
               answer: str, latency_ms: int, escalate: bool, route: dict | None = None, detail: str = "") -> int:
        row = dict(user_id=user_id, channel=channel, question=question, intent=intent, tools=_json(tools),
                   chunks=_json(chunks), answer=answer, latency_ms=int(latency_ms), escalate=int(escalate),
                   route=_json(route or {}), created_at=time.time(), detail=detail or None)
        with self.engine.begin() as conn:
            return int(conn.execute(insert(turns_table).values(**row)).inserted_primary_key[0])

    def revise(self, turn_id: int, answer: str) -> None:
        """The answer as finally sent (a follow-up that names items instead of repeating them)."""
        with self.engine.begin() as conn:
            conn.execute(update(turns_table).where(turns_table.c.id == turn_id).values(answer=answer))

    def recent(self, user_id: str, limit: int = 10) -> list[Turn]:
        """The user's latest turns, newest first."""
        t = turns_table.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(turns_table).where(t.user_id == user_id).order_by(t.id.desc())
                                .limit(limit)).mappings().all()
        return [Turn(r["id"], r["user_id"], r["channel"], r["question"], r["intent"], json.loads(r["tools"]),
                     json.loads(r["chunks"]), r["answer"], r["latency_ms"], bool(r["escalate"]), r["created_at"],
                     json.loads(r["route"] or "{}"), r["detail"] or "") for r in rows]

    # ---- follow-up context -------------------------------------------------------------------
    def context(self, user_id: str, now: float | None = None) -> dict | None:
        """The stored reading of the user's previous turn (as a dict), or None when none is fresh."""
        c = context_table.c
        with self.engine.connect() as conn:
            row = conn.execute(select(c.context, c.updated_at).where(c.user_id == user_id)).first()
        if row is None or row.updated_at < (now or time.time()) - CONTEXT_TTL:
            return None
        return json.loads(row.context)

    def set_context(self, user_id: str, context: dict) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(context_table).where(context_table.c.user_id == user_id))
            conn.execute(insert(context_table).values(user_id=user_id, context=_json(context), updated_at=time.time()))

    def close(self) -> None:
        """Nothing to release per store: the engine belongs to whoever made it (the app disposes it)."""
