"""Helpdesk tickets: a question the assistant could not settle, answered by staff on the user's channel.

States `new → assigned → answered → closed`, plus `reopened` (from answered or closed), which can be
claimed or answered again. Each transition is one conditional UPDATE (`WHERE state IN (...)`), so two
staff members racing for a ticket cannot both win, on SQLite or PostgreSQL. An answer commits the
ticket change, its event and the outbox message in one transaction; the push happens after the commit
(`Outbox.push`), so a failure before the commit leaves the ticket unchanged and nothing sent, and a
failure of the channel leaves the message held for the user's next visit, never sent twice.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Column, Float, Index, Integer, String, Table, Text, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from jixiao.db import metadata
from jixiao.adapters.helpdesk_curated import CuratedAnswers
from jixiao.adapters.helpdesk_askers import (askers, claim_question, open_ticket_for, release_questions, set_message,
                                              ticket_key)
from jixiao.adapters.helpdesk_open import TicketOpening
from jixiao.adapters.outbox import Outbox

log = logging.getLogger(__name__)

STATES = ("new", "assigned", "answered", "closed", "reopened")
STATE_LABELS = {"new": "待认领", "assigned": "处理中", "answered": "已答复", "closed": "已关闭", "reopened": "已重开"}
# action → states it may start from, and the state it leads to
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "claim": (("new", "reopened"), "assigned"),
    "answer": (("assigned", "reopened"), "answered"),
    "close": (("answered", "reopened"), "closed"),
    "reopen": (("answered", "closed"), "reopened"),
}
ACTION_LABELS = {"claim": "认领", "answer": "答复", "close": "关闭", "reopen": "重开"}

tickets_table = Table(
    "helpdesk_tickets", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),
    Column("user_id", String(255), nullable=False),
    Column("state", String(16), nullable=False),
    Column("question", Text, nullable=False),
    Column("draft", Text, nullable=False, default=""),  # the assistant's answer, prefilled for staff
    Column("bot_intent", String(32), nullable=False, default=""),
    Column("bot_confidence", Float, nullable=False, default=0.0),
    Column("evidence", JSON, nullable=False),  # {"citations": [...], "chunks": [...]}
    Column("history", JSON, nullable=False),  # [{question, answer, intent, at}], oldest first
    Column("assignee", String(64), nullable=True),
    Column("answer", Text, nullable=True),
    Column("answer_citations", JSON, nullable=True),
    Column("delivery", String(8), nullable=True),  # "pushed" | "held" for the latest answer
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("claimed_at", Float, nullable=True),
    Column("first_response_at", Float, nullable=True),  # first staff answer
    Column("answered_at", Float, nullable=True),  # latest staff answer
    Column("closed_at", Float, nullable=True),  # latest close; NULL again after a reopen
    Column("reopen_count", Integer, nullable=False, default=0),
    Index("helpdesk_tickets_user", "user_id", "state", "created_at"),
    Index("helpdesk_tickets_state", "state", "created_at"),
)

events_table = Table(
    "helpdesk_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", Integer, nullable=False, index=True),
    Column("at", Float, nullable=False),
    Column("actor", String(255), nullable=False),  # staff username, or the user id for "message"
    Column("action", String(16), nullable=False),  # open | message | claim | answer | close | reopen | curated
    Column("from_state", String(16), nullable=True),
    Column("to_state", String(16), nullable=True),
    Column("text", Text, nullable=True),
)


def user_message(ticket_id: int, question: str | None, text: str) -> str:
    """What the user receives: which ticket and question the staff answer belongs to, then the answer."""
    q = " ".join((question or "").split())
    q = q if len(q) <= 30 else q[:30] + "…"
    about = f"您的问题“{q}”" if q and not q.startswith("（") else "您的人工服务请求"
    return f"【人工服务答复·工单 {ticket_id}】{about}：\n{text}"


class HelpdeskError(Exception):
    """A refused helpdesk operation; the message is Chinese and safe to show to staff."""

    status = 400


class TicketNotFound(HelpdeskError):
    status = 404


class TransitionError(HelpdeskError):
    """The ticket is not in a state that allows the action (HTTP 409)."""

    status = 409


class NotAllowed(HelpdeskError):
    status = 403


def username(staff: Any) -> str:
    """A `User` (from jixiao.adapters.auth) or a plain username."""
    name = getattr(staff, "username", staff)
    if not isinstance(name, str) or not name:
        raise NotAllowed("缺少工作人员身份，请重新登录。")
    return name


@dataclass(frozen=True)
class Clocks:
    """Ticket timings in seconds (None while the clock still runs)."""

    first_response: float | None
    resolution: float | None
    age: float


def clocks(row: dict, now: float | None = None) -> Clocks:
    now = time.time() if now is None else now
    first = row["first_response_at"] - row["created_at"] if row.get("first_response_at") else None
    resolved = row["closed_at"] - row["created_at"] if row.get("closed_at") else None
    return Clocks(first, resolved, (row.get("closed_at") or now) - row["created_at"])


class TicketStore(TicketOpening):
    """Tickets, their events and the state machine (`open` in `helpdesk_open`); `Helpdesk` adds delivery."""

    table = tickets_table

    def __init__(self, engine, outbox: Outbox | None = None, curated: CuratedAnswers | None = None):
        self.engine = engine
        self.outbox = outbox or Outbox(engine)
        self.curated = curated or CuratedAnswers(engine)

    # -- reading

    def get(self, ticket_id: int) -> dict:
        with self.engine.connect() as conn:
            row = conn.execute(select(tickets_table).where(tickets_table.c.id == ticket_id)).mappings().first()
        if row is None:
            raise TicketNotFound(f"工单 {ticket_id} 不存在。")
        return dict(row)

    def events(self, ticket_id: int) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(events_table).where(events_table.c.ticket_id == ticket_id)
                                .order_by(events_table.c.id)).mappings().all()
        return [dict(r) for r in rows]

    def list(self, state: str | None = None, assignee: str | None = None, channel: str | None = None,
             limit: int = 50, offset: int = 0) -> list[dict]:
        t = tickets_table.c
        q = select(tickets_table).order_by(t.created_at.desc(), t.id.desc()).limit(limit).offset(offset)
        if state:
            q = q.where(t.state == state)
        if assignee:
            q = q.where(t.assignee == assignee)
        if channel:
            q = q.where(t.channel == channel)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def counts(self) -> dict[str, int]:
        t = tickets_table.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.state, func.count()).group_by(t.state)).all()
        return {s: 0 for s in STATES} | {r[0]: int(r[1]) for r in rows}

    # -- transitions

    @staticmethod
    def _event(conn, ticket_id: int, actor: str, action: str, from_state: str | None, to_state: str | None,
               text: str | None, now: float) -> None:
        conn.execute(insert(events_table).values(ticket_id=ticket_id, at=now, actor=actor, action=action,
                                                 from_state=from_state, to_state=to_state, text=text))

    def _refuse(self, conn, ticket_id: int, action: str, staff: str) -> HelpdeskError:
        row = conn.execute(select(tickets_table.c.state, tickets_table.c.assignee)
                           .where(tickets_table.c.id == ticket_id)).first()
        if row is None:
            return TicketNotFound(f"工单 {ticket_id} 不存在。")
        allowed, _ = TRANSITIONS[action]
        label = ACTION_LABELS[action]
        if action == "answer" and row.state == "assigned" and row.assignee != staff:
            return TransitionError(f"工单 {ticket_id} 已由 {row.assignee} 认领，只有认领人可以答复。")
        if action == "answer" and row.state == "new":
            return TransitionError(f"工单 {ticket_id} 尚未认领，请先认领再答复。")
        if action == "claim" and row.state == "assigned":
            return TransitionError(f"工单 {ticket_id} 已由 {row.assignee} 认领。")
        return TransitionError(f"工单 {ticket_id} 当前状态为“{STATE_LABELS[row.state]}”，不能{label}"
                               f"（仅“{'”“'.join(STATE_LABELS[s] for s in allowed)}”状态可以{label}）。")

    def transition(self, conn, ticket_id: int, action: str, staff: str, now: float, text: str | None = None,
                   **values) -> str:
        """Move the ticket for `action` inside `conn`'s transaction; the state it left. Raises HelpdeskError."""
        allowed, target = TRANSITIONS[action]
        t = tickets_table.c
        for from_state in allowed:  # one conditional UPDATE per source state: the winner of a race is unique
            cond = [t.id == ticket_id, t.state == from_state]
            if action == "answer" and from_state == "assigned":
                cond.append(t.assignee == staff)
            if conn.execute(update(tickets_table).where(*cond).values(state=target, updated_at=now, **values)
                            ).rowcount:
                self._event(conn, ticket_id, staff, action, from_state, target, text, now)
                return from_state
        raise self._refuse(conn, ticket_id, action, staff)

    def claim(self, ticket_id: int, staff: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self.engine.begin() as conn:
            self.transition(conn, ticket_id, "claim", staff, now, assignee=staff, claimed_at=now)

    def close(self, ticket_id: int, staff: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self.engine.begin() as conn:
            self.transition(conn, ticket_id, "close", staff, now, closed_at=now)
            release_questions(conn, ticket_id)

    def reopen(self, ticket_id: int, staff: str, note: str, now: float | None = None) -> None:
        if not (note or "").strip():
            raise HelpdeskError("重开工单时请填写原因。")
        now = time.time() if now is None else now
        with self.engine.begin() as conn:
            self.transition(conn, ticket_id, "reopen", staff, now, note.strip(), closed_at=None,
                            reopen_count=tickets_table.c.reopen_count + 1)
            question = conn.execute(select(tickets_table.c.question).where(tickets_table.c.id == ticket_id)).scalar()
            key = ticket_key(conn, ticket_id, question)
            if open_ticket_for(conn, key) is None:  # another ticket may be waiting for the same question
                claim_question(conn, key, ticket_id)

    def answer(self, ticket_id: int, staff: str, text: str, citations: list[dict],
               now: float | None = None) -> list[int]:
        """Record the staff answer and hold it in the outbox for every asker, in one transaction; the message ids."""
        now = time.time() if now is None else now
        with self.engine.begin() as conn:
            t = tickets_table.c
            row = conn.execute(select(t.channel, t.user_id, t.first_response_at, t.question)
                               .where(t.id == ticket_id)).first()
            if row is None:
                raise TicketNotFound(f"工单 {ticket_id} 不存在。")
            self.transition(conn, ticket_id, "answer", staff, now, text, assignee=staff, answer=text,
                            answer_citations=citations, answered_at=now, delivery="sending",
                            first_response_at=row.first_response_at or now)
            release_questions(conn, ticket_id)
            people = askers(conn, ticket_id) or [{"id": None, "channel": row.channel, "user_id": row.user_id,
                                                  "question": row.question}]
            ids = []
            for asker in people:
                mid = self.outbox.hold(asker["channel"], asker["user_id"],
                                       user_message(ticket_id, asker["question"], text), f"helpdesk:{ticket_id}",
                                       conn=conn)
                if asker["id"] is not None:
                    set_message(conn, asker["id"], mid)
                ids.append(mid)
            return ids

    def set_delivery(self, ticket_id: int, result: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(tickets_table).where(tickets_table.c.id == ticket_id).values(delivery=result))

    def propose(self, ticket_id: int, staff: str, question: str | None = None, text: str | None = None,
                now: float | None = None) -> int:
        row = self.get(ticket_id)
        if not row["answer"]:
            raise TransitionError(f"工单 {ticket_id} 还没有人工答复，不能提议为标准答复。")
        now = time.time() if now is None else now
        try:
            with self.engine.begin() as conn:
                cid = self.curated.propose((question or row["question"]).strip(), (text or row["answer"]).strip(),
                                           list(row["answer_citations"] or []), staff, ticket_id, conn)
                self._event(conn, ticket_id, staff, "curated", None, None, f"提议标准答复 #{cid}", now)
        except IntegrityError:
            raise TransitionError(f"工单 {ticket_id} 已提议过标准答复。") from None
        return cid

    def approve(self, curated_id: int, admin: str) -> None:
        with self.engine.begin() as conn:
            if self.curated.approve(curated_id, admin, conn):
                return
        entry = self.curated.get(curated_id)
        if entry is None:
            raise TicketNotFound(f"标准答复 {curated_id} 不存在。")
        raise TransitionError(f"标准答复 {curated_id} 已审核通过，无需重复操作。")

