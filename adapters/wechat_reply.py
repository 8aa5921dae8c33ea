"""Composing WeChat replies from held texts and a new body, and opening helpdesk tickets for escalations.

Paging (`compose`): a long reply keeps part 1 for the passive reply; the rest goes by customer-service
message (verified) or is held as "wechat:more" and paged out only when the user sends "继续" (`page=True`).
A new body (a new question or menu click) retires the unread tail of an earlier answer, so the user's
next question is answered on its own. Late answers and helpdesk answers held for the user come first.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from jixiao.adapters import wechat_menu as texts
from jixiao.adapters.outbox import Outbox
from jixiao.bot.answer import WECHAT_LIMIT, split_for_wechat

log = logging.getLogger(__name__)

CHANNEL = "wechat"
MORE = "wechat:more"  # unverified: the tail of a long answer, paged on "继续" only
REST = "wechat:rest"  # verified: parts not (yet) sent by customer-service message, given with the next reply


@dataclass
class Reply:
    """The passive reply (None → "success") and, for verified accounts, parts to send right after it."""
    text: str | None
    followups: list[str] = field(default_factory=list)


def _utf8(s: str) -> int:
    return len(s.encode("utf-8"))


def compose(outbox: Outbox, uid: str, body: str | None, verified: bool, page: bool = False) -> Reply:
    """Held texts, then `body`, split for WeChat: part 1 now, the rest sent (verified) or held for "继续"."""
    if body is not None:
        outbox.supersede(CHANNEL, uid, MORE)  # a new topic: the old tail is not put in front of it
    held = outbox.take(CHANNEL, uid, except_source=MORE) if outbox.pending(CHANNEL, uid) else []
    if page:
        held += outbox.take(CHANNEL, uid, source=MORE)
    if body:
        body = "".join(split_for_wechat(body))  # an answer keeps at most 3 parts
    whole = "\n\n".join(held + ([body] if body else []))
    if not whole:
        return Reply(None)
    hint = "" if verified else "\n" + texts.MORE_HINT
    parts = split_for_wechat(whole, WECHAT_LIMIT - _utf8(hint), max_parts=10_000)
    if len(parts) == 1:
        return Reply(parts[0])
    if verified:
        return Reply(parts[0], followups=parts[1:])
    outbox.hold(CHANNEL, uid, "".join(parts[1:]), source=MORE)  # re-split on "继续"
    return Reply(parts[0] + hint)


def escalate(services, openid: str, question: str, answer, history: list[dict]) -> int | None:
    """The helpdesk ticket for an escalated answer (joined, reopened or new: `TicketStore.open`)."""
    from jixiao.adapters.helpdesk import escalation_question

    helpdesk = services.extras.get("helpdesk")
    if helpdesk is None:
        log.warning("escalation without a helpdesk channel=wechat openid=%s", openid)
        return None
    question = escalation_question(question, answer.intent or "", history)
    try:
        ticket = int(helpdesk.open_ticket(CHANNEL, f"{CHANNEL}:{openid}", question, answer, history=None))
    except Exception:
        log.exception("open_ticket failed channel=wechat openid=%s", openid)
        return None
    log.info("ticket opened ticket_id=%s channel=wechat openid=%s", ticket, openid)
    return ticket
