"""Web chat for bureau staff: login, the chat page, and its JSON API.

Pages: `/login`, `/` (the chat; redirects to /login without a session). API under `/api/`:
login/logout/me, chat, clause text of a citation, and the inbox of helpdesk answers
(held for the web channel in the outbox, because a browser cannot be pushed to).
The bot, the helpdesk and the outbox all see the user as `web:<username>` (channel "web").
"""
from __future__ import annotations

import json
import logging
import time
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field, field_validator

from jixiao.adapters.auth import (COOKIE, LOGIN_WINDOW, TOO_MANY_FAILURES, LoginThrottle, User, clear_session_cookie,
                                  set_csrf_cookie,
                                  current_user, require_staff, set_session_cookie, user_store)
from jixiao.adapters.clause import find_clause
from jixiao.adapters.edges import TextBody
from jixiao.adapters.services import Services, get_services

log = logging.getLogger(__name__)
router = APIRouter()
STATIC = files("jixiao.adapters") / "static"
HISTORY_TURNS = 20
CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
# paths whose request-validation errors are answered in Chinese (app.py installs the handler)
CHINESE_ERRORS = ("/api/login", "/api/chat", "/api/clause", "/api/inbox", "/api/history", "/api/helpdesk")


def web_user_id(username: str) -> str:
    """The channel-qualified id the bot, the helpdesk and the outbox know a staff user by."""
    return f"web:{username}"


# ---------------------------------------------------------------- models

class _Body(TextBody):
    pass


class LoginRequest(_Body):
    username: str = Field(min_length=1, max_length=64, description="用户名")
    password: str = Field(min_length=1, max_length=256, description="密码")


class UserOut(BaseModel):
    username: str
    role: str = Field(description="staff 或 admin")
    csrf_token: str = Field("", description="本会话的安全令牌：所有 POST 请求须带请求头 X-CSRF-Token")


class ChatRequest(_Body):
    message: str = Field(description="用户输入的一句话（问题、自评选项编号或“转人工”）。长度上限为 JIXIAO_MAX_MESSAGE_CHARS。")

    @field_validator("message")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("请输入问题内容")
        return v.strip()


class CitationOut(BaseModel):
    doc_id: str = Field(description="文件 ID，可用于 /api/clause")
    title: str = Field(description="《文件简称》")
    section: str = Field(description="条款位置，如 四（二）")
    quote: str = Field("", description="引用的原文句子")
    date: str | None = Field(None, description="文件日期（ISO）")
    label: str = Field(description="显示用出处：《文件简称》条款（日期）")


class ChatResponse(BaseModel):
    answer: str = Field(description="回答正文（纯文本，可含换行和编号选项）")
    citations: list[CitationOut] = Field(description="回答依据的条款")
    escalate: bool = Field(description="是否需要人工处理；为真且服务台可用时已开工单")
    confidence: float
    intent: str = Field(description="识别出的意图，如 tool_tiers / policy / human / assess")
    ticket_id: int | None = Field(None, description="已开的服务台工单号（仅在 escalate 时）")
    detail: str = Field("", description="完整回答（answer 为其简短版时；否则为空），网页以“展开全文”显示")


class ClauseOut(BaseModel):
    doc_id: str
    title: str
    short_title: str
    date: str
    section: str
    heading: str
    text: str = Field(description="条款原文（含下级条款）")


# ---------------------------------------------------------------- pages

def _page(name: str) -> HTMLResponse:
    return HTMLResponse((STATIC / name).read_text(encoding="utf-8"),
                        headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store",
                                 "X-Content-Type-Options": "nosniff"})


@router.get("/", include_in_schema=False)
def chat_page(request: Request):
    if current_user(request) is None:
        return RedirectResponse("/login", status_code=303)
    return _page("index.html")


@router.get("/login", include_in_schema=False)
def login_page() -> HTMLResponse:
    return _page("login.html")


# ---------------------------------------------------------------- session API

@router.post("/api/login", response_model=UserOut, tags=["web"], summary="登录",
             responses={401: {"description": "用户名或密码错误"},
                        429: {"description": "同一用户名或同一 IP 10 分钟内失败 5 次，暂时不再校验密码"}})
def login(body: LoginRequest, request: Request, response: Response,
          services: Services = Depends(get_services)) -> UserOut:
    """用户名和密码正确时设置会话 Cookie（HttpOnly，SameSite=Lax，12 小时）。

    同一用户名或同一 IP 在 10 分钟内失败 5 次后返回 429，登录成功会清零计数。
    """
    username, ip = body.username.strip(), request.client.host if request.client else "unknown"
    throttle = LoginThrottle(services.kv)
    wait = throttle.account_wait(username)
    if wait:
        log.warning("login backoff username=%r ip=%s wait=%s", username[:64], ip, wait)
        raise HTTPException(status_code=429, detail=f"该账号近期登录失败较多，请 {wait} 秒后再试",
                            headers={"Retry-After": str(wait)})
    if throttle.begin(username, ip) is None:
        log.warning("login throttled username=%r ip=%s", username[:64], ip)
        raise HTTPException(status_code=429, detail=TOO_MANY_FAILURES, headers={"Retry-After": str(LOGIN_WINDOW)})
    store = user_store(services)
    user = store.authenticate(username, body.password)
    if user is None:
        throttle.failed(username)
        log.warning("login failed username=%r ip=%s", username[:64], ip)
        raise HTTPException(status_code=401, detail="用户名或密码错误")
    throttle.succeeded(username, ip)
    token = store.open_session(user.username)
    set_session_cookie(response, request, token)
    csrf = store.csrf(token)
    set_csrf_cookie(response, request, csrf)
    log.info("login username=%s role=%s", user.username, user.role)
    return UserOut(username=user.username, role=user.role, csrf_token=csrf)


@router.post("/api/logout", status_code=204, tags=["web"], summary="退出登录")
def logout(request: Request, services: Services = Depends(get_services)) -> Response:
    user_store(services).close_session(request.cookies.get(COOKIE))
    response = Response(status_code=204)
    clear_session_cookie(response)  # the CSRF guard has checked the token of a request with a session
    return response


@router.get("/api/me", response_model=UserOut, tags=["web"], summary="当前用户",
            responses={401: {"description": "未登录"}})
def me(request: Request, response: Response, user: User = Depends(require_staff),
       services: Services = Depends(get_services)) -> UserOut:
    csrf = user_store(services).csrf(request.cookies.get(COOKIE, ""))
    set_csrf_cookie(response, request, csrf)  # pages read it from the cookie
    return UserOut(username=user.username, role=user.role, csrf_token=csrf)


# ---------------------------------------------------------------- chat API

def _citation(c: dict) -> CitationOut:
    from jixiao.bot.answer import Citation, doc_date

    doc_id = str(c.get("doc_id", ""))
    cite = Citation(doc_id, str(c.get("title") or doc_id), str(c.get("section") or ""), str(c.get("quote") or ""))
    try:
        date, label = doc_date(doc_id), cite.label()
    except Exception:  # an unknown doc id must not break the answer
        log.warning("citation without register entry doc_id=%r", doc_id, exc_info=True)
        date, label = None, f"{cite.title}{cite.section}"
    return CitationOut(doc_id=doc_id, title=cite.title, section=cite.section, quote=cite.quote, date=date, label=label)


def _history_key(username: str) -> str:
    return f"web:history:{username}"


def _history(services: Services, username: str) -> list[dict]:
    raw = services.kv.get(_history_key(username))
    try:
        return json.loads(raw) if raw else []
    except ValueError:
        return []


def _remember(services: Services, username: str, turn: dict) -> None:
    turns = (_history(services, username) + [turn])[-HISTORY_TURNS:]
    services.kv.set(_history_key(username), json.dumps(turns, ensure_ascii=False), ttl=7 * 24 * 3600)


def _open_ticket(services: Services, user: User, text: str, answer, history: list[dict]) -> int | None:
    """The helpdesk ticket for an escalated turn: the same question joins its open ticket (from any user),
    asked again after an answer reopens it (see `TicketStore.open`)."""
    from jixiao.adapters.helpdesk import escalation_question

    helpdesk = services.extras.get("helpdesk")
    if helpdesk is None:
        log.warning("escalation without a helpdesk username=%s", user.username)
        return None
    question = escalation_question(text, answer.intent or "", history)
    try:  # history=None: the helpdesk reads the turns from the bot's conversation store
        ticket_id = int(helpdesk.open_ticket("web", web_user_id(user.username), question, answer))
    except Exception:
        log.exception("open_ticket failed username=%s", user.username)
        return None
    log.info("ticket opened ticket_id=%s channel=web username=%s", ticket_id, user.username)
    return ticket_id


@router.post("/api/chat", response_model=ChatResponse, tags=["web"], summary="对话一轮",
             responses={401: {"description": "未登录"}, 413: {"description": "消息过长"},
                        422: {"description": "请求格式不正确或消息为空"}})
def chat(body: ChatRequest, user: User = Depends(require_staff),
         services: Services = Depends(get_services)) -> ChatResponse:
    """把一句话交给政策助手，返回带出处的回答。

    - 自评：回答里的编号选项（`1. …`）可直接回复编号；
    - “转人工”或无法回答时 `escalate` 为真，服务台可用时自动开工单并返回 `ticket_id`，
      服务台的答复通过 `GET /api/inbox` 取回；
    - 消息长度上限为 `JIXIAO_MAX_MESSAGE_CHARS`（超出返回 413）。
    """
    limit = services.settings.max_message_chars
    if len(body.message) > limit:
        raise HTTPException(status_code=413,
                            detail=f"消息过长：最多 {limit} 个字，当前 {len(body.message)} 个字。请精简后再发送。")
    answer = services.bot.reply(web_user_id(user.username), body.message, channel="web")
    history = _history(services, user.username)
    ticket_id = _open_ticket(services, user, body.message, answer, history) if answer.escalate else None
    out = ChatResponse(answer=answer.text, citations=[_citation(c) for c in answer.citations or []],
                       escalate=bool(answer.escalate), confidence=float(answer.confidence or 0.0),
                       intent=answer.intent or "", ticket_id=ticket_id,
                       detail=answer.detail if getattr(answer, "detail", "") != answer.text else "")
    _remember(services, user.username, {"question": body.message, "answer": answer.text, "intent": out.intent,
                                        "at": time.time(), "reply": out.model_dump()})
    return out


@router.get("/api/clause", response_model=ClauseOut, tags=["web"], summary="引用条款原文",
            responses={404: {"description": "找不到该文件或条款"}})
def clause(doc_id: str = Query(max_length=80, description="文件 ID，如 cq-cbza-2024"),
           section: str = Query("", max_length=200, description="条款位置，如 四（二）"),
           quote: str = Query("", max_length=500, description="引用句子，用于定位"),
           user: User = Depends(require_staff), services: Services = Depends(get_services)) -> ClauseOut:
    """返回政策原文中该条款（含下级条款）的全文，用于展开引用。"""
    added = Path(services.settings.data_dir) / "sources"  # documents staff added win on the same id
    found = find_clause(doc_id, section, added, quote) or find_clause(doc_id, section, services.settings.sources_dir,
                                                                      quote)
    if found is None:
        raise HTTPException(status_code=404, detail=f"找不到文件 {doc_id!r} 的条款 {section!r}")
    return ClauseOut(**found.__dict__)


from jixiao.adapters import web_inbox  # noqa: E402  (staff answers: /api/inbox, /api/history; reads _history)

router.include_router(web_inbox.router)
