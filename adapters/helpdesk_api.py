"""Helpdesk JSON API under /api/helpdesk and the staff console page (GET /console).

Every API route needs a staff session (`require_staff`); approving a curated answer needs an admin.
Refused operations come back as HTTP errors with a Chinese `detail`: 404 unknown ticket, 409 a
transition the ticket's state does not allow, 403 not allowed, 400/422 bad input.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import Field

from jixiao.adapters.auth import User, require_admin, require_staff
from jixiao.adapters.edges import MAX_ID, MAX_OFFSET, TextBody
from jixiao.adapters.helpdesk_askers import DELIVERY_LABELS, ticket_deliveries
from jixiao.adapters.helpdesk_askers import summary as delivery_summary
from jixiao.adapters.helpdesk_store import STATE_LABELS, STATES, HelpdeskError, clocks

STATIC = Path(__file__).parent / "static"
router = APIRouter()
api = APIRouter(prefix="/api/helpdesk", tags=["helpdesk"])

TicketId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="工单号")]
State = Literal["new", "assigned", "answered", "closed", "reopened"]


class CitationIn(TextBody):
    doc_id: str = Field(min_length=1, max_length=64)
    title: str = Field(default="", max_length=200)
    section: str = Field(default="", max_length=100)
    quote: str = Field(default="", max_length=500)


class AnswerIn(TextBody):
    text: str = Field(min_length=1, max_length=5000)
    citations: list[CitationIn] = Field(default_factory=list, max_length=10)


class ReopenIn(TextBody):
    note: str = Field(min_length=1, max_length=1000)


class ProposeIn(TextBody):
    question: str | None = Field(default=None, min_length=2, max_length=500)
    text: str | None = Field(default=None, min_length=1, max_length=5000)


def get_helpdesk(request: Request):
    from jixiao.adapters.helpdesk import Helpdesk

    services = request.app.state.services
    helpdesk = services.extras.get("helpdesk")
    if helpdesk is None:
        helpdesk = services.extras.setdefault("helpdesk", Helpdesk(services))
    return helpdesk


@contextmanager
def _refusals():
    """Helpdesk errors (unknown ticket, illegal transition, not allowed) become HTTP errors with their message."""
    try:
        yield
    except HelpdeskError as e:
        raise HTTPException(status_code=e.status, detail=str(e)) from None


def _askers(helpdesk, ticket_ids: list[int]) -> dict[int, list[dict]]:
    with helpdesk.services.engine.connect() as conn:
        return ticket_deliveries(conn, ticket_ids)


def _summary(row: dict, askers: list[dict] | None = None) -> dict:
    """One queue line: every question asked (all askers' wordings) and the true delivery of the latest answer."""
    c = clocks(row)
    askers = askers or []
    questions = list(dict.fromkeys([row["question"]] + [a["question"] for a in askers]))
    states = [a["delivery"] for a in askers if a["delivery"]]
    delivery = delivery_summary(states) if states else row["delivery"]
    return {"id": row["id"], "channel": row["channel"], "user_id": row["user_id"], "state": row["state"],
            "state_label": STATE_LABELS[row["state"]], "question": row["question"][:200],
            "questions": [q[:200] for q in questions], "asker_count": max(1, len(askers)),
            "assignee": row["assignee"], "delivery": delivery,
            "delivery_label": DELIVERY_LABELS.get(delivery or "", ""), "reopen_count": row["reopen_count"],
            "created_at": row["created_at"], "updated_at": row["updated_at"], "claimed_at": row["claimed_at"],
            "first_response_at": row["first_response_at"], "answered_at": row["answered_at"],
            "closed_at": row["closed_at"], "first_response_seconds": c.first_response,
            "resolution_seconds": c.resolution, "age_seconds": c.age}


def _detail(helpdesk, ticket_id: int) -> dict:
    with _refusals():
        row = helpdesk.get(ticket_id)
    askers = _askers(helpdesk, [ticket_id])[ticket_id]
    return _summary(row, askers) | {"askers": askers,
        "question": row["question"], "draft": row["draft"], "bot_intent": row["bot_intent"],
        "bot_confidence": row["bot_confidence"], "evidence": row["evidence"] or {}, "history": row["history"] or [],
        "answer": row["answer"], "answer_citations": row["answer_citations"] or [],
        "pending_messages": helpdesk.outbox.pending(row["channel"], row["user_id"]),
        "events": helpdesk.store.events(ticket_id)}


@api.get("/tickets")
def list_tickets(state: State | None = None, assignee: str | None = Query(None, max_length=64),
                 channel: str | None = Query(None, max_length=16), mine: bool = False,
                 limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0, le=MAX_OFFSET),
                 user: User = Depends(require_staff), helpdesk=Depends(get_helpdesk)) -> dict:
    rows = helpdesk.store.list(state, user.username if mine else assignee, channel, limit, offset)
    askers = _askers(helpdesk, [r["id"] for r in rows])
    return {"tickets": [_summary(r, askers.get(r["id"])) for r in rows], "counts": helpdesk.store.counts(),
            "states": [{"state": s, "label": STATE_LABELS[s]} for s in STATES]}


@api.get("/tickets/{ticket_id}")
def get_ticket(ticket_id: TicketId, user: User = Depends(require_staff), helpdesk=Depends(get_helpdesk)) -> dict:
    return _detail(helpdesk, ticket_id)


@api.post("/tickets/{ticket_id}/claim")
def claim(ticket_id: TicketId, user: User = Depends(require_staff), helpdesk=Depends(get_helpdesk)) -> dict:
    with _refusals():
        helpdesk.claim(ticket_id, user)
    return _detail(helpdesk, ticket_id)


@api.post("/tickets/{ticket_id}/answer")
def answer(ticket_id: TicketId, body: AnswerIn, user: User = Depends(require_staff),
           helpdesk=Depends(get_helpdesk)) -> dict:
    """Records the answer and returns at once; the answer is pushed to every asker in the background
    (the ticket's `delivery` and each asker's show the true state as it settles)."""
    with _refusals():
        delivery = helpdesk.answer(ticket_id, user, body.text, [c.model_dump() for c in body.citations],
                                   background=True)
    return {"delivery": delivery, "message": "答复已保存，正在发送给提问用户；发送结果见工单的送达状态。",
            "ticket": _detail(helpdesk, ticket_id)}


@api.post("/tickets/{ticket_id}/close")
def close(ticket_id: TicketId, user: User = Depends(require_staff), helpdesk=Depends(get_helpdesk)) -> dict:
    with _refusals():
        helpdesk.close(ticket_id, user)
    return _detail(helpdesk, ticket_id)


@api.post("/tickets/{ticket_id}/reopen")
def reopen(ticket_id: TicketId, body: ReopenIn, user: User = Depends(require_staff),
           helpdesk=Depends(get_helpdesk)) -> dict:
    with _refusals():
        helpdesk.reopen(ticket_id, user, body.note)
    return _detail(helpdesk, ticket_id)


@api.post("/tickets/{ticket_id}/curated", status_code=201)
def propose_curated(ticket_id: TicketId, body: ProposeIn | None = None, user: User = Depends(require_staff),
                    helpdesk=Depends(get_helpdesk)) -> dict:
    body = body or ProposeIn()
    with _refusals():
        curated_id = helpdesk.propose_curated(ticket_id, user, body.question, body.text)
    return {"curated": helpdesk.curated.get(curated_id)}


@api.get("/curated")
def list_curated(state: Literal["proposed", "approved"] | None = None, limit: int = Query(100, ge=1, le=500),
                 offset: int = Query(0, ge=0, le=MAX_OFFSET), user: User = Depends(require_staff),
                 helpdesk=Depends(get_helpdesk)) -> dict:
    return {"curated": helpdesk.curated.list(state, limit, offset), "can_approve": user.role == "admin"}


@api.post("/curated/{curated_id}/approve")
def approve_curated(curated_id: Annotated[int, PathParam(ge=1, le=MAX_ID)], user: User = Depends(require_admin), helpdesk=Depends(get_helpdesk)) -> dict:
    with _refusals():
        helpdesk.approve_curated(curated_id, user)
    return {"curated": helpdesk.curated.get(curated_id)}


@api.get("/me")
def me(user: User = Depends(require_staff)) -> dict:
    return {"username": user.username, "role": user.role}


router.include_router(api)


CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"


@router.get("/console", include_in_schema=False)
def console_page(request: Request):
    """The staff console (static page; its data comes from the API above). Without a session: the login page."""
    from jixiao.adapters.auth import current_user

    if current_user(request) is None:
        return RedirectResponse("/login?next=/console", status_code=303)
    return HTMLResponse((STATIC / "console.html").read_text(encoding="utf-8"),
                        headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store",
                                 "X-Content-Type-Options": "nosniff"})
