"""Opening a helpdesk ticket: one open ticket per distinct question, joined by every asker, reopened on re-escalation.

`TicketOpening.open` is a mixin of `helpdesk_store.TicketStore` (it uses the store's `engine`, `table`,
`transition` and `_event`).
"""
from __future__ import annotations

import logging
import time

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from jixiao.adapters.helpdesk_askers import add_asker, claim_question, last_ticket_of, open_ticket_for, question_key

log = logging.getLogger(__name__)


def _merge_unique(old: list, new: list, key) -> list:
    seen = {key(x) for x in old}
    out = list(old)
    for x in new:
        if key(x) not in seen:
            seen.add(key(x))
            out.append(x)
    return out


def _cite_key(c: dict) -> tuple:
    return c.get("doc_id"), c.get("section"), c.get("quote")


def _chunk_key(c: dict) -> tuple:
    return c.get("doc_id"), c.get("section")


class TicketOpening:
    table = None  # helpdesk_store.tickets_table, set by TicketStore
    def open(self, channel: str, user_id: str, question: str, draft: str, intent: str, confidence: float,
             citations: list[dict], chunks: list[dict], history: list[dict], now: float | None = None,
             extra: dict | None = None, personal: bool = False) -> int:
        """The ticket for this question: the open one (joined), this user's answered one (reopened), or a new one.

        Races (simultaneous 转人工, several workers) end in one ticket: the open-question key is a primary key,
        the loser's transaction rolls back and the retry joins the winner."""
        now = time.time() if now is None else now
        # `personal`: a request without a question of its own (bare 转人工, a self-assessment) is not shared
        key = question_key(f"{question}\x00{channel}:{user_id}" if personal else question)
        for attempt in range(5):
            try:
                with self.engine.begin() as conn:
                    tid = open_ticket_for(conn, key)
                    if tid is None:
                        tid = self._reopen_for_user(conn, channel, user_id, key, question, now)
                    if tid is not None:
                        self._join(conn, tid, channel, user_id, question, key, draft, intent, confidence,
                                   citations, chunks, history, extra, now)
                        return tid
                    tid = int(conn.execute(insert(self.table).values(
                        channel=channel, user_id=user_id, state="new", question=question, draft=draft or "",
                        bot_intent=intent or "", bot_confidence=float(confidence or 0.0),
                        evidence={"citations": citations, "chunks": chunks, **(extra or {})}, history=history,
                        created_at=now, updated_at=now, reopen_count=0)).inserted_primary_key[0])
                    claim_question(conn, key, tid)
                    add_asker(conn, tid, channel, user_id, question, key, now)
                    self._event(conn, tid, user_id, "open", None, "new", question, now)
                log.info("helpdesk ticket opened ticket_id=%s channel=%s", tid, channel)
                return tid
            except IntegrityError:
                if attempt == 4:
                    raise
                log.info("helpdesk open raced for one question; joining attempt=%d", attempt + 1)
        raise AssertionError("unreachable")

    def _reopen_for_user(self, conn, channel: str, user_id: str, key: str, question: str, now: float) -> int | None:
        """Re-escalation after an answer: the user's answered/closed ticket for this question, reopened."""
        prior = last_ticket_of(conn, channel, user_id, key)
        if prior is None:
            return None
        state = conn.execute(select(self.table.c.state).where(self.table.c.id == prior)).scalar()
        if state not in ("answered", "closed"):
            return None
        claim_question(conn, key, prior)
        self.transition(conn, prior, "reopen", user_id, now, f"用户再次请求人工服务：{question}", closed_at=None,
                        reopen_count=self.table.c.reopen_count + 1)
        return prior

    def _join(self, conn, tid: int, channel: str, user_id: str, question: str, key: str, draft: str, intent: str,
              confidence: float, citations: list[dict], chunks: list[dict], history: list[dict],
              extra: dict | None, now: float) -> None:
        row = conn.execute(select(self.table).where(self.table.c.id == tid)).mappings().first()
        evidence = row["evidence"] or {}
        merged = {**evidence, **(extra or {}),
                  "citations": _merge_unique(evidence.get("citations", []), citations, _cite_key),
                  "chunks": _merge_unique(evidence.get("chunks", []), chunks, _chunk_key)}
        hist = _merge_unique(list(row["history"] or []), history, lambda h: (h.get("question"), h.get("at")))
        values = dict(evidence=merged, history=hist, updated_at=now)
        if draft:
            values |= dict(draft=draft, bot_intent=intent, bot_confidence=confidence)
        conn.execute(update(self.table).where(self.table.c.id == tid).values(**values))
        new_asker = add_asker(conn, tid, channel, user_id, question, key, now)
        if new_asker or question != row["question"]:
            self._event(conn, tid, user_id, "message", None, None, question, now)
