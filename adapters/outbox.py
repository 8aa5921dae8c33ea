"""Messages for a user on a channel: pushed now when the channel can, otherwise held until taken.

Every message passes through the `outbox` table. `deliver` first holds the message, then claims it
(one conditional UPDATE) and calls the channel's deliverer; on success the row stays delivered
("pushed"), on False or an exception the claim is released ("held"). `take` marks all pending rows of
a user delivered in one UPDATE tagged with a fresh token and returns the rows carrying that token, so
two workers never hand out the same message. A push is at most once: a crash between claim and push
leaves the row "pushing", recorded as "unknown" at the next start (`settle_interrupted`), never repeated.

Callers that must commit a message together with their own change (the helpdesk answer) call
`hold(..., conn=conn)` inside their transaction and `push(services, message_id)` after the commit.
"""
from __future__ import annotations

import logging
import os
import time
import uuid
from typing import TYPE_CHECKING, Literal

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text, func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from jixiao.db import metadata


class DeliveryUnknown(Exception):
    """A deliverer raises this when the message went out but no answer came: it may have arrived."""

if TYPE_CHECKING:
    from jixiao.adapters.services import Services

log = logging.getLogger(__name__)

MAX_TEXT = 20000  # characters; channels split long texts themselves

outbox_table = Table(
    "outbox", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),
    Column("user_id", String(255), nullable=False),
    Column("text", Text, nullable=False),
    Column("source", String(64), nullable=False, default=""),  # e.g. "helpdesk:12"
    Column("created_at", Float, nullable=False),
    Column("delivered_at", Float, nullable=True),  # NULL = pending
    Column("delivered_via", String(8), nullable=True),  # push|pushing|take|read|unknown|dropped
    Column("claim", String(36), nullable=True),  # token of the push/take that delivered it
    Index("outbox_pending", "channel", "user_id", "delivered_at"),
)

DeliveryResult = Literal["pushed", "held", "unknown"]


class Outbox:
    """Held messages per (channel, user_id), shared by all workers through the database."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def hold(self, channel: str, user_id: str, text: str, source: str = "", conn: Connection | None = None) -> int:
        """Store a pending message; its id. With `conn`, inside the caller's transaction."""
        if not text:
            raise ValueError("outbox: empty message")
        values = dict(channel=channel, user_id=user_id, text=text[:MAX_TEXT], source=source[:64],
                      created_at=time.time())
        if conn is not None:
            return int(conn.execute(insert(outbox_table).values(**values)).inserted_primary_key[0])
        with self.engine.begin() as c:
            return int(c.execute(insert(outbox_table).values(**values)).inserted_primary_key[0])

    def take(self, channel: str, user_id: str, source: str | None = None, except_source: str | None = None
             ) -> list[str]:
        """Pending texts for the user, oldest first, marked delivered; concurrent callers never share one.

        `source` takes only messages of that source; `except_source` leaves those alone."""
        token = uuid.uuid4().hex
        t = outbox_table.c
        where = [t.channel == channel, t.user_id == user_id, t.delivered_at.is_(None)]
        if source is not None:
            where.append(t.source == source)
        if except_source is not None:
            where.append(t.source != except_source)
        with self.engine.begin() as conn:
            conn.execute(update(outbox_table).where(*where)
                         .values(delivered_at=time.time(), delivered_via="take", claim=token))
            rows = conn.execute(select(t.text).where(t.claim == token).order_by(t.id)).all()
        return [r.text for r in rows]

    def unread(self, channel: str, user_id: str) -> list[dict]:
        """Pending messages of the user, oldest first, without marking them (a GET may call this)."""
        t = outbox_table.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.id, t.text, t.created_at).where(
                t.channel == channel, t.user_id == user_id, t.delivered_at.is_(None)).order_by(t.id)).all()
        return [{"id": r.id, "text": r.text, "at": r.created_at} for r in rows]

    def mark_read(self, channel: str, user_id: str, ids: list[int]) -> int:
        """Mark these pending messages of the user read (they stay in the table, shown in the history)."""
        t = outbox_table.c
        with self.engine.begin() as conn:
            return conn.execute(update(outbox_table).where(
                t.channel == channel, t.user_id == user_id, t.id.in_(ids), t.delivered_at.is_(None))
                .values(delivered_at=time.time(), delivered_via="read", claim=uuid.uuid4().hex)).rowcount

    def recent(self, channel: str, user_id: str, source_prefix: str = "", limit: int = 20) -> list[dict]:
        """The user's latest messages (read or not) whose source starts with `source_prefix`, oldest first."""
        t = outbox_table.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.id, t.text, t.created_at, t.delivered_at).where(
                t.channel == channel, t.user_id == user_id, t.source.startswith(source_prefix, autoescape=True))
                .order_by(t.id.desc()).limit(limit)).all()
        return [{"id": r.id, "text": r.text, "at": r.created_at, "read": r.delivered_at is not None}
                for r in reversed(rows)]

    def pending(self, channel: str, user_id: str, source: str | None = None) -> int:
        t = outbox_table.c
        where = [t.channel == channel, t.user_id == user_id, t.delivered_at.is_(None)]
        if source is not None:
            where.append(t.source == source)
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(outbox_table).where(*where)).scalar_one())

    def supersede(self, channel: str, user_id: str, source: str) -> int:
        """Retire the user's pending messages of `source` (e.g. the unread tail of an earlier long answer)."""
        t = outbox_table.c
        with self.engine.begin() as conn:
            return conn.execute(update(outbox_table).where(
                t.channel == channel, t.user_id == user_id, t.source == source, t.delivered_at.is_(None))
                .values(delivered_at=time.time(), delivered_via="dropped", claim=uuid.uuid4().hex)).rowcount

    def push(self, services: "Services", message_id: int) -> DeliveryResult:
        """Try to push a held message now through `services.deliverers[channel]`: "pushed", "held" or "unknown".

        While the push runs the row says "pushing"; a process killed then leaves it so, and
        `settle_interrupted` (at start-up) records it as "unknown" — WeChat may have it — never resends it."""
        t = outbox_table.c
        token = f"{os.getpid()}:{uuid.uuid4().hex[:26]}"
        with self.engine.begin() as conn:
            claimed = conn.execute(update(outbox_table).where(t.id == message_id, t.delivered_at.is_(None))
                                   .values(delivered_at=time.time(), delivered_via="pushing", claim=token)).rowcount
            row = conn.execute(select(t.channel, t.user_id, t.text).where(t.id == message_id)).first()
        if not claimed or row is None:  # already taken by another worker (or unknown): not ours to send
            return "held"
        deliverer = services.deliverers.get(row.channel)
        ok = False
        if deliverer is not None:
            try:
                ok = bool(deliverer(row.user_id, row.text))
            except DeliveryUnknown:  # sent without an answer: recorded, never sent again
                with self.engine.begin() as conn:
                    conn.execute(update(outbox_table).where(t.id == message_id, t.claim == token)
                                 .values(delivered_via="unknown"))
                log.warning("outbox push outcome unknown channel=%s user_id=%s message_id=%s", row.channel,
                            row.user_id, message_id)
                return "unknown"
            except Exception:  # a channel outage must not lose the message
                log.exception("outbox push failed channel=%s user_id=%s message_id=%s", row.channel, row.user_id,
                              message_id)
        if ok:
            with self.engine.begin() as conn:
                conn.execute(update(outbox_table).where(t.id == message_id, t.claim == token)
                             .values(delivered_via="push"))
            return "pushed"
        with self.engine.begin() as conn:
            conn.execute(update(outbox_table).where(t.id == message_id, t.claim == token)
                         .values(delivered_at=None, delivered_via=None, claim=None))
        if deliverer is not None:
            log.warning("outbox held channel=%s user_id=%s message_id=%s", row.channel, row.user_id, message_id)
        return "held"


def settle_interrupted(engine: Engine, stale_after: float = 300.0) -> int:
    """Pushes cut off by a dead process (its pid is gone here, or older than `stale_after`) → "unknown"."""
    t = outbox_table.c
    with engine.connect() as conn:
        rows = conn.execute(select(t.id, t.claim, t.delivered_at).where(t.delivered_via == "pushing")).all()
    settled = 0
    for r in rows:
        pid = (r.claim or "").partition(":")[0]
        if time.time() - (r.delivered_at or 0) < stale_after and (not pid.isdigit() or _alive(int(pid))):
            continue
        with engine.begin() as conn:
            settled += conn.execute(update(outbox_table).where(t.id == r.id, t.delivered_via == "pushing",
                                                               t.claim == r.claim)
                                    .values(delivered_via="unknown")).rowcount
    if settled:
        log.warning("outbox pushes interrupted by a stopped process recorded as unknown count=%d", settled)
    return settled


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def deliver(services: "Services", channel: str, user_id: str, text: str, source: str = "") -> DeliveryResult:
    """Push `text` to the user now if the channel's deliverer accepts it ("pushed"), else hold it ("held")."""
    box = Outbox(services.engine)
    return box.push(services, box.hold(channel, user_id, text, source))
