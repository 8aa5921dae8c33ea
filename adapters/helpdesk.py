"""Human helpdesk: tickets from the chat channels, answered by staff, delivered on the user's channel.

`Helpdesk(services)` is the entry point for channels (`open_ticket`) and for the console API
(`claim`, `answer`, `close`, `reopen`, `propose_curated`, `approve_curated`); `curated.lookup(text)`
returns an approved staff answer for a question asked again. Storage: `helpdesk_store.TicketStore`
(tickets, events), `helpdesk_curated.CuratedAnswers`, `outbox.Outbox`; the router is `helpdesk_api`.
User ids are stored exactly as the channel passes them (the channel-qualified id the bot saw,
e.g. `wechat:<openid>`) and handed unchanged to the channel's deliverer and the outbox.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jixiao.adapters.helpdesk_curated import CuratedAnswers
from jixiao.adapters.helpdesk_store import (HelpdeskError, NotAllowed, TicketNotFound, TicketStore, TransitionError,
                                            username)
from jixiao.adapters.helpdesk_askers import summary
from jixiao.adapters.outbox import Outbox, settle_interrupted

if TYPE_CHECKING:
    from jixiao.adapters.services import Services

log = logging.getLogger(__name__)

MAX_QUESTION = 10000
MAX_ANSWER = 5000
MAX_CITATIONS = 10
HISTORY_TURNS = 10

__all__ = ["Helpdesk", "HelpdeskError", "NotAllowed", "TicketNotFound", "TransitionError", "router"]


def check_citations(citations: list[dict] | None, evidence: list[dict] | None = None) -> list[dict]:
    """Citations a staff answer may carry, title filled in: one of the ticket's evidence citations as is
    (the assistant's own), or a document in the corpus whose text contains the quote."""
    from jixiao.bot.answer import doc_title
    from jixiao.knowledge.basis import normalize, source_text

    known = {(e.get("doc_id"), e.get("section") or "", e.get("quote") or ""): e for e in evidence or []}
    out = []
    for c in (citations or [])[:MAX_CITATIONS]:
        doc_id = str(c.get("doc_id") or "").strip()
        section = str(c.get("section") or "").strip()[:100]
        quote = str(c.get("quote") or "").strip()[:500]
        ev = known.get((doc_id, section, quote))
        if ev is None:
            text = source_text(doc_id) if doc_id else None
            if text is None:
                raise HelpdeskError(f"引用的文件 {doc_id!r} 不在资料库中，请从证据中选择或填写正确的文件编号。")
            if quote and normalize(quote) not in text:
                raise HelpdeskError(f"引用原文“{quote[:40]}”未在 {doc_title(doc_id)} 中找到，请逐字复制原文。")
        title = str(c.get("title") or "").strip() or (ev or {}).get("title") or doc_title(doc_id)
        out.append({"doc_id": doc_id, "title": title, "section": section, "quote": quote})
    return out


def _evidence(answer: Any, assessment: dict | None) -> dict | None:
    """What the ticket keeps beside the draft: the router's decision (why the bot answered or gave up) and the
    self-assessment result a hand-over carries."""
    extra = {}
    route = getattr(answer, "route", None)
    if route:
        extra["route"] = {k: route.get(k) for k in ("kind", "name", "id", "reason", "check") if route.get(k)}
    if assessment is not None:
        extra["assessment"] = assessment
    return extra or None


def history_from_store(engine, user_id: str, limit: int = HISTORY_TURNS) -> list[dict]:
    """The user's recent turns from the conversation store (table `turns` of the one database), oldest first,
    each with the route the assistant took."""
    from jixiao.bot.conversation import ConversationStore

    turns = ConversationStore(engine).recent(user_id, limit)
    return [{"question": t.question, "answer": t.answer, "intent": t.intent, "at": t.created_at,
             "route": t.route} for t in reversed(turns)]


def assessment_of(answer: Any) -> dict | None:
    """The self-assessment result the dialogue attached to `answer` (a `self_assessment` tool entry), if done."""
    for tool in reversed(getattr(answer, "tools", None) or []):
        result = tool.get("result") if isinstance(tool, dict) else None
        if tool.get("name") == "self_assessment" and isinstance(result, dict) and result.get("estimate_text"):
            return result
    return None


def assessment_question(result: dict) -> str:
    """A ticket question that says what the user wants reviewed when they handed over from a self-assessment."""
    industry = result.get("industry") or "未识别行业"
    return f"企业自评结果人工复核：{industry}，自评预估 {result.get('estimate_text')}"


def escalation_question(text: str, intent: str, history: list[dict]) -> str:
    """What a ticket is about: for 转人工 the user's last real question (not 转人工, not an assessment option)."""
    if intent != "human":
        return text
    asked = [t["question"] for t in history if t.get("intent") != "human"
             and not str(t.get("intent") or "").startswith("assess") and not str(t.get("question")).strip().isdigit()]
    return asked[-1] if asked else ""


class Helpdesk:
    """Tickets, delivery of staff answers and curated answers over `services.engine`."""

    def __init__(self, services: "Services"):
        self.services = services
        self.outbox = Outbox(services.engine)
        self.curated = CuratedAnswers(services.engine)
        self.store = TicketStore(services.engine, self.outbox, self.curated)
        self._pusher = ThreadPoolExecutor(max_workers=2, thread_name_prefix="helpdesk-push")
        try:
            settle_interrupted(services.engine)
        except Exception:  # tables not created yet (tests building parts by hand)
            log.debug("outbox settle skipped", exc_info=True)

    # -- channels

    def open_ticket(self, channel: str, user_id: str, question: str, answer: Any = None,
                    history: list[dict] | None = None) -> int:
        """The ticket for this question (joined when open, reopened for this user after an answer, else new);
        `answer` is the bot's Answer, kept as the draft; a self-assessment result on it goes into the evidence."""
        assessment = assessment_of(answer)
        question = (question or "").strip()[:MAX_QUESTION]
        personal = not question or question.isdigit() or assessment is not None
        if assessment is not None and (not question or question.isdigit()):
            question = assessment_question(assessment)
        if history is None:
            try:
                history = history_from_store(self.services.engine, user_id)
            except Exception:  # the ticket matters more than its context
                log.warning("helpdesk history unavailable user_id=%s", user_id, exc_info=True)
                history = []
        return self.store.open(
            channel, user_id, question or "（用户请求人工服务）",
            draft=getattr(answer, "text", "") or "", intent=getattr(answer, "intent", "") or "",
            confidence=float(getattr(answer, "confidence", 0.0) or 0.0),
            citations=list(getattr(answer, "citations", None) or []),
            chunks=list(getattr(answer, "chunks", None) or []), history=list(history),
            extra=_evidence(answer, assessment), personal=personal)

    # -- staff

    def get(self, ticket_id: int) -> dict:
        return self.store.get(ticket_id)

    def claim(self, ticket_id: int, staff: Any) -> None:
        self.store.claim(ticket_id, username(staff))

    def answer(self, ticket_id: int, staff: Any, text: str, citations: list[dict] | None = None,
               background: bool = False) -> str:
        """Record the answer and send it to every asker on their channel.

        Waits for the pushes and returns the least settled outcome ("unknown" > "held" > "pushed"), or with
        `background` returns "sending" at once (the console reads the true state from the outbox later)."""
        text = (text or "").strip()
        if not text:
            raise HelpdeskError("答复内容不能为空。")
        if len(text) > MAX_ANSWER:
            raise HelpdeskError(f"答复内容过长（{len(text)} 字），请控制在 {MAX_ANSWER} 字以内。")
        evidence = (self.store.get(ticket_id)["evidence"] or {}).get("citations") if citations else None
        message_ids = self.store.answer(ticket_id, username(staff), text, check_citations(citations, evidence))
        if background:
            self._pusher.submit(self._push_all, ticket_id, message_ids)
            return "sending"
        return self._push_all(ticket_id, message_ids)

    def _push_all(self, ticket_id: int, message_ids: list[int]) -> str:
        results = []
        for mid in message_ids:
            try:
                results.append(self.outbox.push(self.services, mid))
            except Exception:  # one asker's channel must not stop the others
                log.exception("helpdesk push failed ticket_id=%s message_id=%s", ticket_id, mid)
                results.append("held")
        result = summary(results) or "held"
        self.store.set_delivery(ticket_id, result)
        log.info("helpdesk answered ticket_id=%s askers=%d delivery=%s", ticket_id, len(message_ids), result)
        return result

    def close(self, ticket_id: int, staff: Any) -> None:
        self.store.close(ticket_id, username(staff))

    def reopen(self, ticket_id: int, staff: Any, note: str) -> None:
        self.store.reopen(ticket_id, username(staff), note)

    def propose_curated(self, ticket_id: int, staff: Any, question: str | None = None,
                        text: str | None = None) -> int:
        return self.store.propose(ticket_id, username(staff), question, text)

    def approve_curated(self, curated_id: int, admin: Any) -> None:
        if getattr(admin, "role", None) != "admin":
            raise NotAllowed("只有管理员可以审核通过标准答复。")
        self.store.approve(curated_id, username(admin))


from jixiao.adapters.helpdesk_api import router  # noqa: E402  (the API reads Helpdesk from services.extras)
