"""The official account's server URL: GET /wechat (URL check) and POST /wechat (messages and events).

`install(services)` builds the channel once per process (called by `build_services`; the router
installs it lazily when a test passed its own `Services`): the request gate (token, AES key), the desk
that answers and delivers, the API client when JIXIAO_WECHAT_APPID/SECRET are set, and
`services.deliverers["wechat"]`. Rejected pushes (403/413/400) never reach the desk, so they write nothing.
"""
from __future__ import annotations

import logging
import threading
import time

import anyio
from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.requests import ClientDisconnect

from jixiao.adapters.services import Services
from jixiao.adapters.wechat_api import WeChatClient
from jixiao.adapters.wechat_desk import WeChatDesk
from jixiao.adapters.wechat_inbound import MAX_BODY, Gate, Rejected
from jixiao.errors import ConfigError

log = logging.getLogger(__name__)

router = APIRouter(tags=["wechat"])
_install_lock = threading.Lock()
# requests mostly wait on the assistant's worker; don't let them starve anyio's shared thread pool
_waiters = anyio.CapacityLimiter(256)


def install(services: Services) -> WeChatDesk:
    """Set up the WeChat channel on `services` (idempotent): `extras["wechat"]`, `deliverers["wechat"]`."""
    with _install_lock:
        desk = services.extras.get("wechat")
        if desk is not None:
            return desk
        settings = services.settings
        gate = client = None
        try:
            gate = Gate.from_settings(settings)
        except ConfigError as exc:
            log.warning("wechat channel disabled: %s", exc)
        if settings.wechat_appid and settings.wechat_secret:
            client = WeChatClient.from_settings(settings, services.kv)
        elif settings.wechat_account == "verified":
            log.warning("JIXIAO_WECHAT_ACCOUNT=verified but JIXIAO_WECHAT_APPID/SECRET are unset: late answers "
                        "are held for the user's next message instead of sent")
        desk = services.extras["wechat"] = WeChatDesk(services, client=client, gate=gate,
                                                      workers=services.settings.wechat_turn_threads)
        services.deliverers["wechat"] = desk.deliver
        if gate is not None and services.bot is not None:
            desk.start()  # answer and deliver what a crashed or killed process left behind
        return desk


def _desk(request: Request) -> WeChatDesk:
    services: Services = request.app.state.services
    return services.extras.get("wechat") or install(services)


def _refuse(exc: Rejected) -> PlainTextResponse:
    log.warning("wechat push rejected status=%s reason=%s", exc.status, exc.reason)
    return PlainTextResponse(exc.reason, status_code=exc.status)


def _not_configured() -> PlainTextResponse:
    return PlainTextResponse("wechat channel not configured: set JIXIAO_WECHAT_TOKEN", status_code=503)


@router.get("/wechat", response_class=PlainTextResponse, summary="微信服务器地址校验")
def verify(request: Request) -> Response:
    """微信公众平台“服务器配置”提交时的校验：签名正确则原样返回 echostr。"""
    desk = _desk(request)
    if desk.gate is None:
        return _not_configured()
    try:
        desk.gate.check_url(request.query_params)
    except Rejected as exc:
        return _refuse(exc)
    return PlainTextResponse(request.query_params.get("echostr", ""))


@router.post("/wechat", summary="接收微信消息与事件")
async def receive(request: Request, background: BackgroundTasks) -> Response:
    """明文或安全模式的消息推送；文字消息交给政策助手，5 秒内被动回复，超时按账号类型补发或暂存。"""
    deadline = time.monotonic() + request.app.state.services.settings.wechat_reply_budget  # from arrival
    desk = _desk(request)
    if desk.gate is None:
        return _not_configured()
    try:
        body = await _read_body(request)
        msg, encrypted = desk.gate.open(body, request.query_params)
    except Rejected as exc:
        return _refuse(exc)
    reply = await anyio.to_thread.run_sync(desk.handle, msg, deadline, limiter=_waiters)
    if reply.followups:  # held now (durable), pushed after the passive reply has been sent
        message_id = await anyio.to_thread.run_sync(desk.hold_followups, msg.openid, reply.followups)
        background.add_task(desk.push_followups, message_id)
    if reply.text is None:
        return PlainTextResponse("success")
    xml = desk.gate.seal(msg, reply.text, request.query_params.get("nonce", ""), encrypted)
    return Response(xml, media_type="application/xml")


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise Rejected(413, "body too large")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                raise Rejected(413, "body too large")
            chunks.append(chunk)
    except ClientDisconnect:  # the app-wide body limit cut a streamed body off, or the sender went away
        raise Rejected(413, "body too large or incomplete") from None
    return b"".join(chunks)
