"""Who asked a ticket's question, and whether each of them got the staff answer.

- `helpdesk_askers`: one row per (ticket, channel, user) with the user's own wording and the outbox
  message that carries the latest answer to them. The same unanswered question from many users is one
  ticket with many askers; the answer is held (and pushed) once per asker, on the asker's channel.
- `helpdesk_open_questions`: `question_key` → the ticket waiting for an answer to it. Its primary key makes
  "one open ticket per distinct question" hold under races (simultaneous 转人工 on several workers: one
  insert wins, the others join). The row goes when the ticket is answered or closed, comes back on reopen.
- Delivery is read from the outbox rows themselves, so it is never stale: sending → pushed / held (waiting
  for the user's next visit) → delivered (taken or read) / unknown (sent, no answer; never resent).
"""
from __future__ import annotations

import hashlib
import re
import unicodedata

from sqlalchemy import (Column, Float, Index, Integer, String, Table, Text, UniqueConstraint, delete, insert, select,
                        update)
from sqlalchemy.engine import Connection

from jixiao.adapters.outbox import outbox_table
from jixiao.db import metadata

askers_table = Table(
    "helpdesk_askers", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", Integer, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("user_id", String(255), nullable=False),
    Column("question", Text, nullable=False),
    Column("question_key", String(64), nullable=False),
    Column("at", Float, nullable=False),
    Column("message_id", Integer, nullable=True),  # outbox row of the latest answer to this asker
    UniqueConstraint("ticket_id", "channel", "user_id", name="helpdesk_askers_once"),
    Index("helpdesk_askers_user", "channel", "user_id", "question_key"),
)

open_questions_table = Table(
    "helpdesk_open_questions", metadata,
    Column("question_key", String(64), primary_key=True),
    Column("ticket_id", Integer, nullable=False, index=True),
)

DELIVERY_LABELS = {"sending": "发送中", "pushed": "已推送", "held": "待用户下次访问时送达", "delivered": "已送达",
                   "unknown": "发送结果未知（未重发）", "dropped": "未送达"}
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def question_key(question: str) -> str:
    """Same question ⇔ same key: NFKC, case, white space and punctuation do not count."""
    norm = _PUNCT.sub("", unicodedata.normalize("NFKC", question or "").lower())
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()[:40]


def open_ticket_for(conn: Connection, key: str) -> int | None:
    row = conn.execute(select(open_questions_table.c.ticket_id)
                       .where(open_questions_table.c.question_key == key)).first()
    return int(row.ticket_id) if row else None


def claim_question(conn: Connection, key: str, ticket_id: int) -> None:
    """Mark `key` as awaiting `ticket_id`'s answer. IntegrityError when another ticket got it first: the
    caller's transaction is rolled back and retried (it then joins that ticket)."""
    conn.execute(insert(open_questions_table).values(question_key=key, ticket_id=ticket_id))


def release_questions(conn: Connection, ticket_id: int) -> None:
    conn.execute(delete(open_questions_table).where(open_questions_table.c.ticket_id == ticket_id))


def last_ticket_of(conn: Connection, channel: str, user_id: str, key: str) -> int | None:
    a = askers_table.c
    row = conn.execute(select(a.ticket_id).where(a.channel == channel, a.user_id == user_id, a.question_key == key)
                       .order_by(a.ticket_id.desc()).limit(1)).first()
    return int(row.ticket_id) if row else None


def add_asker(conn: Connection, ticket_id: int, channel: str, user_id: str, question: str, key: str,
              now: float) -> bool:
    """Record the asker (their own wording, latest wins); True when they are new to the ticket.
    IntegrityError when the same user joined in parallel: the caller retries (then it is an update)."""
    a = askers_table.c
    values = dict(question=question, question_key=key, at=now)
    if conn.execute(update(askers_table).where(a.ticket_id == ticket_id, a.channel == channel,
                                                a.user_id == user_id).values(**values)).rowcount:
        return False
    conn.execute(insert(askers_table).values(ticket_id=ticket_id, channel=channel, user_id=user_id, **values))
    return True


def ticket_key(conn: Connection, ticket_id: int, question: str) -> str:
    """The key the ticket was opened under (its first asker's), else the question's own."""
    row = conn.execute(select(askers_table.c.question_key).where(askers_table.c.ticket_id == ticket_id)
                       .order_by(askers_table.c.id).limit(1)).first()
    return row.question_key if row else question_key(question)


def askers(conn: Connection, ticket_id: int) -> list[dict]:
    a = askers_table.c
    rows = conn.execute(select(askers_table).where(a.ticket_id == ticket_id).order_by(a.id)).mappings().all()
    return [dict(r) for r in rows]


def set_message(conn: Connection, asker_id: int, message_id: int) -> None:
    conn.execute(update(askers_table).where(askers_table.c.id == asker_id).values(message_id=message_id))


def delivery_of(row: dict | None) -> str | None:
    """The true state of one outbox message (see module doc)."""
    if row is None:
        return None
    via = row["delivered_via"]
    if row["delivered_at"] is None:
        return "held"
    return {"push": "pushed", "pushing": "sending", "take": "delivered", "read": "delivered",
            "unknown": "unknown", "dropped": "dropped"}.get(via, "delivered")


def summary(states: list[str | None]) -> str | None:
    """One label for a ticket: the least settled of its askers' deliveries."""
    for state in ("unknown", "sending", "held", "pushed", "delivered", "dropped"):
        if state in states:
            return state
    return None


def ticket_deliveries(conn: Connection, ticket_ids: list[int]) -> dict[int, list[dict]]:
    """ticket id → its askers with `delivery` (state of the latest answer's message to them)."""
    if not ticket_ids:
        return {}
    a, o = askers_table.c, outbox_table.c
    rows = conn.execute(select(askers_table, o.delivered_at, o.delivered_via)
                        .select_from(askers_table.outerjoin(outbox_table, o.id == a.message_id))
                        .where(a.ticket_id.in_(ticket_ids)).order_by(a.id)).mappings().all()
    out: dict[int, list[dict]] = {t: [] for t in ticket_ids}
    for r in rows:
        d = dict(r)
        d["delivery"] = delivery_of(d) if d["message_id"] is not None else None
        d["delivery_label"] = DELIVERY_LABELS.get(d["delivery"] or "", "")
        out[d["ticket_id"]].append({k: d[k] for k in ("id", "channel", "user_id", "question", "at", "message_id",
                                                      "delivery", "delivery_label")})
    return out

