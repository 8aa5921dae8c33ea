"""Staff answers in the web chat, stored with the conversation: unread list, mark read, history on every device.

`GET /api/inbox` lists the unread helpdesk answers of the signed-in user (a GET changes nothing: a link from
another site consumes nothing); the page marks what it has shown with `POST /api/inbox/read`; `GET
/api/history` returns the recent turns and every staff answer (read or not), so any device shows them.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from jixiao.adapters.auth import User, require_staff
from jixiao.adapters.edges import TextBody
from jixiao.adapters import web  # imported by web at its end, after everything used here is defined
from jixiao.adapters.services import Services, get_services

router = APIRouter()


class StaffMessage(BaseModel):
    id: int
    text: str
    at: float = Field(description="服务台答复的时间（unix 秒）")
    read: bool = False


class InboxOut(BaseModel):
    messages: list[str] = Field(description="未读的服务台答复（GET 不会改变状态；读后用 POST /api/inbox/read 标记）")
    items: list[StaffMessage] = Field(default_factory=list, description="同上，带编号和时间")


class ReadRequest(TextBody):
    ids: list[int] = Field(max_length=200, description="已显示的服务台答复编号")


class HistoryOut(BaseModel):
    turns: list[dict[str, Any]] = Field(description="最近的对话（问题与回答），用于刷新页面后恢复")
    staff: list[StaffMessage] = Field(default_factory=list, description="服务台答复（所有设备可见，已读也保留）")


@router.get("/api/history", response_model=HistoryOut, tags=["web"], summary="最近的对话")
def history(user: User = Depends(require_staff), services: Services = Depends(get_services)) -> HistoryOut:
    """最近的对话和服务台答复（按时间排列，在任何设备上都能看到）。"""
    staff = _outbox(services).recent("web", web.web_user_id(user.username), "helpdesk:", web.HISTORY_TURNS)
    return HistoryOut(turns=[{"question": t["question"], "reply": t.get("reply"), "at": t.get("at")}
                             for t in web._history(services, user.username)],
                      staff=[StaffMessage(**m) for m in staff])


@router.get("/api/inbox", response_model=InboxOut, tags=["web"], summary="服务台答复")
def inbox(user: User = Depends(require_staff), services: Services = Depends(get_services)) -> InboxOut:
    """未读的服务台答复（页面每隔几秒轮询）；只读不改，显示后用 POST /api/inbox/read 标记已读。"""
    items = _outbox(services).unread("web", web.web_user_id(user.username))
    return InboxOut(messages=[m["text"] for m in items], items=[StaffMessage(**m) for m in items])


@router.post("/api/inbox/read", status_code=204, tags=["web"], summary="标记服务台答复已读")
def inbox_read(body: ReadRequest, user: User = Depends(require_staff),
               services: Services = Depends(get_services)) -> Response:
    _outbox(services).mark_read("web", web.web_user_id(user.username), body.ids)
    return Response(status_code=204)


def _outbox(services: Services):
    from jixiao.adapters.outbox import Outbox

    outbox = services.extras.get("outbox")
    if outbox is None:
        outbox = services.extras["outbox"] = Outbox(services.engine)
    return outbox
