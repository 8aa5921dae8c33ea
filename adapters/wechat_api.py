"""Client for WeChat's server API: access token, customer-service text messages, menu.

The access token lives in the shared `KV` (all workers reuse one token; WeChat allows 2 000 token
fetches a day) and expires 5 minutes before WeChat says it does. A call answered with 40001/42001/40014
(token invalid or expired, e.g. another process fetched a new one) drops the cached token, fetches a
fresh one and retries once. Bodies are sent as UTF-8 JSON without `\\u` escapes: WeChat shows escaped
Chinese literally in menus.
"""
from __future__ import annotations

import json
import logging
import threading
from typing import Any

import httpx

from jixiao.db import KV
from jixiao.errors import ConfigError

log = logging.getLogger(__name__)

TOKEN_ERRCODES = {40001, 40014, 42001}  # invalid credential, invalid token, token expired
OUT_OF_WINDOW = 45015  # the user has not written in the last 48 h
TOO_MANY_MESSAGES = 45047  # customer-service messages beyond the limit without a user reply
TOKEN_MARGIN = 300  # seconds: refresh this long before WeChat's expiry
SYSTEM_BUSY = -1  # WeChat's "system busy, try again"
NOT_SENT = -2  # transport failure before the request reached WeChat (connect error/timeout): safe to retry
OUTCOME_UNKNOWN = -3  # the request went out but no answer came (read timeout, dropped connection): never resend
HTTP_ERROR = -5  # WeChat answered with an HTTP 5xx: not processed, safe to retry
RETRYABLE = {SYSTEM_BUSY, NOT_SENT, HTTP_ERROR, TOO_MANY_MESSAGES}


class WeChatAPIError(RuntimeError):
    """WeChat answered with a non-zero errcode, or not at all: NOT_SENT (-2), OUTCOME_UNKNOWN (-3), HTTP_ERROR (-5)."""

    def __init__(self, errcode: int, errmsg: str, path: str = ""):
        super().__init__(f"WeChat API {path or ''} errcode={errcode} errmsg={errmsg!r}".replace("  ", " "))
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatClient:
    """Config in the constructor (base URL, app id, secret, shared KV); one method per API call."""

    def __init__(self, base_url: str, appid: str | None, secret: str | None, kv: KV, timeout: float = 5.0,
                 http: httpx.Client | None = None):
        if not appid or not secret:
            raise ConfigError("JIXIAO_WECHAT_APPID and JIXIAO_WECHAT_SECRET must both be set to call WeChat's API "
                              "(customer-service messages, menu)")
        self.base_url = base_url.rstrip("/")
        self.appid = appid
        self.secret = secret
        self.kv = kv
        self.http = http or httpx.Client(timeout=timeout)
        self._token_lock = threading.Lock()  # one fetch per process at a time

    @property
    def token_key(self) -> str:
        return f"wechat:access_token:{self.appid}"

    @classmethod
    def from_settings(cls, settings, kv: KV) -> "WeChatClient":
        return cls(settings.wechat_api_base, settings.wechat_appid, settings.wechat_secret, kv)

    # -- token

    def access_token(self, refresh: bool = False) -> str:
        """The cached token, or a new one from GET /cgi-bin/token when missing, expired or `refresh`."""
        if not refresh and (token := self.kv.get(self.token_key)):
            return token
        with self._token_lock:
            if not refresh and (token := self.kv.get(self.token_key)):
                return token  # another thread fetched it while we waited
            data = self._send("GET", "/cgi-bin/token", params={
                "grant_type": "client_credential", "appid": self.appid, "secret": self.secret})
            token = data.get("access_token")
            if not token:
                raise WeChatAPIError(-1, "no access_token in the answer", "/cgi-bin/token")
            ttl = max(60.0, float(data.get("expires_in", 7200)) - TOKEN_MARGIN)
            self.kv.set(self.token_key, token, ttl=ttl)
            log.info("wechat access token fetched appid=%s ttl=%s", self.appid, ttl)
            return token

    # -- calls

    def send_text(self, openid: str, text: str) -> None:
        """One customer-service text message (≤ 2048 UTF-8 bytes: split before calling)."""
        self.call("/cgi-bin/message/custom/send", {"touser": openid, "msgtype": "text", "text": {"content": text}})

    def create_menu(self, menu: dict) -> None:
        self.call("/cgi-bin/menu/create", menu)

    def call(self, path: str, body: dict) -> dict:
        """POST `body` with the access token; on a token error refresh once and retry."""
        token = self.access_token()
        try:
            return self._send("POST", path, params={"access_token": token}, body=body)
        except WeChatAPIError as exc:
            if exc.errcode not in TOKEN_ERRCODES:
                raise
            log.warning("wechat token rejected errcode=%s path=%s; fetching a new one", exc.errcode, path)
            if self.kv.get(self.token_key) == token:
                self.kv.delete(self.token_key)
            return self._send("POST", path, params={"access_token": self.access_token(refresh=True)}, body=body)

    def _send(self, method: str, path: str, params: dict, body: dict | None = None) -> dict[str, Any]:
        content = json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else None
        headers = {"Content-Type": "application/json; charset=utf-8"} if content is not None else {}
        try:
            resp = self.http.request(method, self.base_url + path, params=params, content=content, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol) as exc:
            raise WeChatAPIError(NOT_SENT, f"transport (not sent): {exc}", path) from exc
        except httpx.HTTPError as exc:  # sent, but no answer: WeChat may or may not have acted on it
            raise WeChatAPIError(OUTCOME_UNKNOWN, f"transport (outcome unknown): {exc!r}", path) from exc
        if resp.status_code >= 500:
            raise WeChatAPIError(HTTP_ERROR, f"HTTP {resp.status_code}", path)
        if resp.status_code >= 400:
            raise WeChatAPIError(NOT_SENT, f"HTTP {resp.status_code}", path)
        try:
            data = resp.json()
        except ValueError as exc:
            raise WeChatAPIError(OUTCOME_UNKNOWN, f"answer is not JSON: {exc}", path) from exc
        if not isinstance(data, dict):
            raise WeChatAPIError(OUTCOME_UNKNOWN, "answer is not a JSON object", path)
        if data.get("errcode", 0) != 0:
            raise WeChatAPIError(int(data["errcode"]), str(data.get("errmsg", "")), path)
        return data

    def close(self) -> None:
        self.http.close()
