"""A fake of WeChat on loopback HTTP, speaking the real protocol from both sides.

`FakeWeChatAPI` is api.weixin.qq.com: GET /cgi-bin/token, POST /cgi-bin/message/custom/send and
POST /cgi-bin/menu/create with WeChat's errcodes (40013/40125 bad app id/secret, 40001 invalid token,
42001 expired token, 45002 content too long, 45015 outside the 48 h window, 45047 too many messages,
4001x menu errors, 47001 bad JSON). Tests steer it (`expire_tokens`, `out_of_window`, `limit_per_user`)
and read what it received (`messages`, `menus`, `raw_bodies`).

`WeChatPush` is WeChat's server pushing to our /wechat: signed query strings, plain or safe (AES) mode,
and decoding of our passive replies.
"""
from __future__ import annotations

import json
import secrets
import threading
import time
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import httpx
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

TEXT_LIMIT = 2048  # bytes per customer-service text


class FakeWeChatAPI:
    def __init__(self, appid: str = "wxfake0001", secret: str = "fake-secret", expires_in: int = 7200):
        self.appid, self.secret, self.expires_in = appid, secret, expires_in
        self.tokens: dict[str, float] = {}  # token → expiry (unix seconds)
        self.token_fetches = 0
        self.messages: list[tuple[str, str]] = []  # (openid, content) accepted
        self.refused: list[tuple[str, int]] = []  # (openid, errcode)
        self.menus: list[dict] = []
        self.raw_bodies: list[bytes] = []
        self.out_of_window: set[str] = set()
        self.limit_per_user: int | None = None
        # faults for the next customer-service sends, one per send: an errcode (answered with it), "http500",
        # or "timeout" (the message is accepted, the answer comes after `hang` seconds: the client gives up)
        self.faults: list = []
        self.hang = 3.0
        self.send_attempts = 0
        self._sent_per_user: dict[str, int] = {}
        self._cond = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "FakeWeChatAPI":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- steering

    def expire_tokens(self) -> None:
        """Every issued token now answers 42001 (as after 7200 s)."""
        with self._cond:
            for t in self.tokens:
                self.tokens[t] = 0.0

    def revoke_tokens(self) -> None:
        """Every issued token now answers 40001 (as when another process fetched a new one)."""
        with self._cond:
            self.tokens.clear()

    def wait_for_messages(self, n: int, timeout: float = 10.0) -> list[tuple[str, str]]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.messages) < n and (left := deadline - time.monotonic()) > 0:
                self._cond.wait(left)
            return list(self.messages)

    # -- protocol

    def _token(self, q: dict) -> tuple[int, dict]:
        if q.get("grant_type") != "client_credential":
            return 200, {"errcode": 40002, "errmsg": "invalid grant_type"}
        if q.get("appid") != self.appid:
            return 200, {"errcode": 40013, "errmsg": "invalid appid"}
        if q.get("secret") != self.secret:
            return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
        token = secrets.token_urlsafe(24)
        with self._cond:
            self.token_fetches += 1
            self.tokens[token] = time.time() + self.expires_in
        return 200, {"access_token": token, "expires_in": self.expires_in}

    def _check_token(self, q: dict) -> dict | None:
        with self._cond:
            expiry = self.tokens.get(q.get("access_token", ""))
        if expiry is None:
            return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
        if expiry <= time.time():
            return {"errcode": 42001, "errmsg": "access_token expired"}
        return None

    def fail_next(self, *faults) -> None:
        with self._cond:
            self.faults.extend(faults)

    def _fault(self):
        with self._cond:
            self.send_attempts += 1
            return self.faults.pop(0) if self.faults else None

    def _send(self, body: dict, fault=None) -> dict:
        openid, content = body.get("touser"), (body.get("text") or {}).get("content")
        if not openid or body.get("msgtype") != "text" or not isinstance(content, str):
            return {"errcode": 47001, "errmsg": "data format error"}
        if isinstance(fault, int):
            with self._cond:
                self.refused.append((openid, fault))
            return {"errcode": fault, "errmsg": "injected fault"}
        if len(content.encode("utf-8")) > TEXT_LIMIT:
            return {"errcode": 45002, "errmsg": "content size out of limit"}
        with self._cond:
            if openid in self.out_of_window:
                self.refused.append((openid, 45015))
                return {"errcode": 45015, "errmsg": "response out of time limit or subscription is canceled"}
            sent = self._sent_per_user.get(openid, 0)
            if self.limit_per_user is not None and sent >= self.limit_per_user:
                self.refused.append((openid, 45047))
                return {"errcode": 45047, "errmsg": "out of response count limit"}
            self._sent_per_user[openid] = sent + 1
            self.messages.append((openid, content))
            self._cond.notify_all()
        return {"errcode": 0, "errmsg": "ok"}

    def _menu(self, body: dict) -> dict:
        buttons = body.get("button")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            return {"errcode": 40016, "errmsg": "invalid button size"}
        for b in buttons:
            if len(str(b.get("name", "")).encode("utf-8")) > 16 or not b.get("name"):
                return {"errcode": 40018, "errmsg": "invalid button name size"}
            subs = b.get("sub_button")
            if subs is not None:
                if not 1 <= len(subs) <= 5:
                    return {"errcode": 40023, "errmsg": "invalid sub button size"}
                for s in subs:
                    if len(str(s.get("name", "")).encode("utf-8")) > 60 or not s.get("name"):
                        return {"errcode": 40018, "errmsg": "invalid button name size"}
                    if err := self._button_action(s):
                        return err
            elif err := self._button_action(b):
                return err
        with self._cond:
            self.menus.append(body)
        return {"errcode": 0, "errmsg": "ok"}

    @staticmethod
    def _button_action(b: dict) -> dict | None:
        if b.get("type") == "click":
            key = str(b.get("key", ""))
            return None if key and len(key.encode("utf-8")) <= 128 else {"errcode": 40019, "errmsg": "invalid button key size"}
        if b.get("type") == "view":
            return None if b.get("url") else {"errcode": 40024, "errmsg": "invalid button url"}
        return {"errcode": 40017, "errmsg": "invalid button type"}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _query(self) -> dict:
                return {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}

            def _answer(self, status: int, data: dict) -> None:
                raw = json.dumps(data, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; encoding=utf-8")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                if urlparse(self.path).path == "/cgi-bin/token":
                    return self._answer(*fake._token(self._query()))
                self._answer(404, {"errcode": 404, "errmsg": "not found"})

            def do_POST(self) -> None:
                path = urlparse(self.path).path
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                routes = {"/cgi-bin/message/custom/send": fake._send, "/cgi-bin/menu/create": fake._menu}
                if path not in routes:
                    return self._answer(404, {"errcode": 404, "errmsg": "not found"})
                if err := fake._check_token(self._query()):
                    return self._answer(200, err)
                with fake._cond:
                    fake.raw_bodies.append(raw)
                try:
                    body = json.loads(raw.decode("utf-8"))
                except ValueError:
                    return self._answer(200, {"errcode": 47001, "errmsg": "data format error"})
                if path != "/cgi-bin/message/custom/send":
                    return self._answer(200, routes[path](body))
                fault = fake._fault()
                if fault == "http500":
                    return self._answer(500, {"errcode": -1, "errmsg": "internal error"})
                if fault == 40001:  # as if another process had fetched a new token
                    fake.revoke_tokens()
                    return self._answer(200, {"errcode": 40001, "errmsg": "invalid credential"})
                result = fake._send(body, fault if isinstance(fault, int) else None)
                if fault == "timeout":
                    time.sleep(fake.hang)  # delivered, but the answer comes too late
                try:
                    self._answer(200, result)
                except OSError:  # the client gave up and closed the connection
                    pass

        return Handler


def sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


class WeChatPush:
    """WeChat's server side of /wechat: builds and signs pushes, decodes passive replies."""

    def __init__(self, base_url: str, token: str, appid: str, aes_key: str | None = None,
                 account: str = "gh_fake_account"):
        self.url = base_url.rstrip("/") + "/wechat"
        self.token, self.appid, self.account = token, appid, account
        self.crypto = WeChatCrypto(token, aes_key, appid) if aes_key else None
        self.http = httpx.Client(timeout=30)
        self._msg_id = int(time.time() * 1000) * 1000

    def next_msg_id(self) -> str:
        self._msg_id += 1
        return str(self._msg_id)

    def text(self, openid: str, content: str, msg_id: str | None = None, create_time: int | None = None) -> str:
        return (f"<xml><ToUserName><![CDATA[{self.account}]]></ToUserName>"
                f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{create_time or int(time.time())}"
                f"</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
                f"<MsgId>{msg_id or self.next_msg_id()}</MsgId></xml>")

    def event(self, openid: str, event: str, key: str | None = None, create_time: int | None = None) -> str:
        key_xml = f"<EventKey><![CDATA[{key}]]></EventKey>" if key is not None else ""
        return (f"<xml><ToUserName><![CDATA[{self.account}]]></ToUserName>"
                f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{create_time or int(time.time())}"
                f"</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>{key_xml}</xml>")

    def media(self, openid: str, msg_type: str = "image") -> str:
        return (f"<xml><ToUserName><![CDATA[{self.account}]]></ToUserName>"
                f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{int(time.time())}</CreateTime>"
                f"<MsgType><![CDATA[{msg_type}]]></MsgType><PicUrl><![CDATA[http://example.invalid/a.jpg]]>"
                f"</PicUrl><MediaId><![CDATA[media1]]></MediaId><MsgId>{self.next_msg_id()}</MsgId></xml>")

    def query(self, forged: bool = False, timestamp: int | None = None) -> dict:
        """Signed like WeChat: `timestamp` defaults to now (the app refuses stale ones)."""
        timestamp, nonce = str(int(time.time()) if timestamp is None else timestamp), secrets.token_hex(5)
        signature = sign(self.token, timestamp, nonce)
        if forged:
            signature = sign("not-the-token", timestamp, nonce)
        return {"signature": signature, "timestamp": timestamp, "nonce": nonce}

    def post(self, xml: str | bytes, forged: bool = False, forge_msg_signature: bool = False,
             timestamp: int | None = None) -> httpx.Response:
        """POST like WeChat does: signed query; in safe mode the body is the <Encrypt> envelope."""
        q = self.query(forged, timestamp)
        body = xml.encode("utf-8") if isinstance(xml, str) else xml
        if self.crypto is not None:
            envelope = self.crypto.encrypt_message(body.decode("utf-8"), q["nonce"], q["timestamp"])
            root = ET.fromstring(envelope)
            encrypt = root.findtext("Encrypt")
            q.update(encrypt_type="aes", msg_signature=root.findtext("MsgSignature"))
            if forge_msg_signature:
                q["msg_signature"] = sign("not-the-token", q["timestamp"], q["nonce"], encrypt)
            body = (f"<xml><ToUserName><![CDATA[{self.account}]]></ToUserName>"
                    f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>").encode("utf-8")
        return self.http.post(self.url, params=q, content=body, headers={"Content-Type": "text/xml"})

    def reply_text(self, resp: httpx.Response) -> str | None:
        """The passive reply's Content; None for "success" (or an empty body)."""
        assert resp.status_code == 200, (resp.status_code, resp.text)
        if resp.text in ("", "success"):
            return None
        root = ET.fromstring(resp.text)
        if self.crypto is not None:
            encrypt = root.findtext("Encrypt")
            assert root.findtext("MsgSignature") == sign(self.token, root.findtext("TimeStamp"),
                                                          root.findtext("Nonce"), encrypt)
            root = ET.fromstring(self.crypto.decrypt_message(
                {"Encrypt": encrypt}, root.findtext("MsgSignature"), root.findtext("TimeStamp"),
                root.findtext("Nonce")))
        assert root.findtext("MsgType") == "text"
        assert root.findtext("ToUserName") and root.findtext("FromUserName") == self.account
        return root.findtext("Content")

    def close(self) -> None:
        self.http.close()


# ---------------------------------------------------------------- our side: the app under uvicorn, a fake bot

class FakeBot:
    """`.reply(user_id, text, channel) -> Answer` with a delay; answers from `script` or "答复：<text>"."""

    def __init__(self, delay: float = 0.0, script: dict | None = None):
        self.delay = delay
        self.script = script or {}
        self.calls: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()

    def reply(self, user_id: str, text: str, channel: str = "cli"):
        from jixiao.bot.answer import Answer

        with self._lock:
            self.calls.append((user_id, text, channel))
        time.sleep(self.delay)
        made = self.script.get(text)
        if isinstance(made, Answer):
            return made
        return Answer(text=made or f"答复：{text}", intent="policy", confidence=0.9)


class AppServer:
    """The FastAPI app under a real uvicorn server on a loopback port, in a thread."""

    def __init__(self, app):
        import socket

        import uvicorn

        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.url = "http://127.0.0.1:%d" % self._sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    def __enter__(self) -> "AppServer":
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self._thread.join(15)
        self._sock.close()
