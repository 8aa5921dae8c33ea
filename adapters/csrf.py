"""Forgery protection for every state-changing request (ASGI middleware `CsrfGuard`).

Two independent checks on POST/PUT/PATCH/DELETE (WeChat's `/wechat` pushes are signed and exempt):
1. Origin: when the browser sends `Origin` (or, without it, `Referer`), its scheme://host:port must be this
   server's own; `Origin: null` and another port of the same host are refused.
2. Token: a request carrying a session cookie must carry `X-CSRF-Token` equal to
   HMAC-SHA256(secret, "csrf:" + session token). The login response sets it in the readable `jixiao_csrf`
   cookie (and returns it in the body, as does `GET /api/me`), so the pages send it from JavaScript; another
   site can neither read it nor compute it. Requests without a session cookie pass on (to their 401).
Refusals are 403 with a Chinese `detail`, logged at warning.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
from urllib.parse import urlsplit

from fastapi.responses import JSONResponse
from starlette.requests import cookie_parser

log = logging.getLogger(__name__)

HEADER = "x-csrf-token"
COOKIE = "jixiao_csrf"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
EXEMPT_PREFIXES = ("/wechat",)  # signed by WeChat; no cookies
BAD_ORIGIN = "请求来源不是本站，已拒绝。请在本站页面中操作。"
BAD_TOKEN = "请求缺少有效的安全令牌（CSRF），请刷新页面后重试。"


def csrf_token(secret: bytes, session_token: str) -> str:
    return hmac.new(secret, b"csrf:" + session_token.encode("utf-8"), hashlib.sha256).hexdigest()


def _origin_of(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}:{port}"


def own_origin(scope) -> str:
    headers = dict(scope.get("headers") or [])
    host = headers.get(b"host", b"").decode("latin-1") or "%s:%s" % tuple(scope.get("server") or ("", 80))
    return _origin_of(f"{scope.get('scheme', 'http')}://{host}") or ""


class CsrfGuard:
    """ASGI middleware; `secret_of(app)` gives the session secret (bytes) once the services exist."""

    def __init__(self, app, secret_of):
        self.app = app
        self.secret_of = secret_of

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS or \
                scope["path"].startswith(EXEMPT_PREFIXES):
            return await self.app(scope, receive, send)
        refusal = self._refusal(scope)
        if refusal:
            log.warning("csrf refused method=%s path=%s reason=%s", scope["method"], scope["path"][:200], refusal)
            response = JSONResponse({"detail": BAD_ORIGIN if refusal != "token" else BAD_TOKEN}, status_code=403)
            return await response(scope, receive, send)
        return await self.app(scope, receive, send)

    def _refusal(self, scope) -> str | None:
        headers = dict(scope.get("headers") or [])
        origin = headers.get(b"origin")
        referer = headers.get(b"referer")
        claimed = origin if origin is not None else referer
        if claimed is not None and _origin_of(claimed.decode("latin-1")) != own_origin(scope):
            return "origin" if origin is not None else "referer"
        from jixiao.adapters.auth import COOKIE as SESSION
        # the same parser Starlette uses for request.cookies, so the session seen here is the one used later
        session = cookie_parser(headers.get(b"cookie", b"").decode("latin-1")).get(SESSION)
        if not session:
            return None
        expected = csrf_token(self.secret_of(scope["app"]), session)
        given = headers.get(HEADER.encode(), b"").decode("latin-1")
        return None if hmac.compare_digest(given, expected) else "token"


def session_secret_of(app) -> bytes:
    from jixiao.adapters.auth import user_store
    return user_store(app.state.services)._secret
