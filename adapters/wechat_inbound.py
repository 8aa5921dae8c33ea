"""What WeChat pushes to /wechat, checked before anything is stored: signature, size, XML, fields.

Order of checks (each failure is a `Rejected` with its HTTP status; nothing is written before all pass):
URL signature (403) → signed `timestamp` within MAX_CLOCK_SKEW of our clock (403, replay protection)
→ body size (413) → XML parsed by defusedxml with DTDs forbidden, so entity
expansion and external entities are refused (400) → in safe mode, `msg_signature` over the `Encrypt`
field (403) and AES decryption with our app id (403 for a foreign app id, 400 for garbage) → required
fields for the message type (400). wechatpy is used only for its AES crypto and reply rendering; its own
parser (xmltodict) never sees unchecked input.
"""
from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from typing import Mapping
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import WeChatSigner

from jixiao.errors import ConfigError

MAX_BODY = 64 * 1024  # bytes; WeChat's own messages are a few KiB at most
# seconds a push's signed `timestamp` may differ from our clock (either way). WeChat signs each delivery
# when it sends it and retries within ~15 s with the same timestamp, so genuine pushes pass; a captured
# push replayed later is refused (the MsgId dedup key only lasts an hour). Keep the server on NTP.
MAX_CLOCK_SKEW = 300


class Rejected(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Inbound:
    """One message or event from a user, as WeChat pushed it."""
    account: str  # ToUserName: our official account
    openid: str  # FromUserName
    create_time: int
    msg_type: str  # text, image, voice, event …
    msg_id: str | None = None
    content: str | None = None  # text; voice: WeChat's speech recognition when enabled
    event: str | None = None  # subscribe, CLICK … (as sent; compare case-insensitively)
    event_key: str | None = None

    @property
    def dedup_key(self) -> str:
        """WeChat retries with the same MsgId; events have none: FromUserName + CreateTime (WeChat's advice),
        plus the event and key, so two different events in the same second stay apart."""
        if self.msg_id:
            return f"wechat:msg:{self.msg_id}"
        return f"wechat:evt:{self.openid}:{self.create_time}:{(self.event or '').lower()}:{self.event_key or ''}"[:255]


def signature_of(token: str, *parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(token, *parts)
    return signer.signature


class Gate:
    """Checks and opens WeChat's pushes, and seals passive replies (encrypted in safe mode)."""

    def __init__(self, token: str | None, aes_key: str | None = None, appid: str | None = None):
        if not token:
            raise ConfigError("JIXIAO_WECHAT_TOKEN is not set; copy the token from the official account's "
                              "server configuration (开发 → 基本配置)")
        self.token = token
        self.crypto = None
        if aes_key:
            if not appid:
                raise ConfigError("JIXIAO_WECHAT_AES_KEY is set (safe mode) but JIXIAO_WECHAT_APPID is empty; set it")
            try:
                self.crypto = WeChatCrypto(token, aes_key, appid)
            except (AssertionError, ValueError) as exc:
                raise ConfigError("JIXIAO_WECHAT_AES_KEY must be the 43-character EncodingAESKey") from exc

    @classmethod
    def from_settings(cls, settings) -> "Gate":
        return cls(settings.wechat_token, settings.wechat_aes_key, settings.wechat_appid)

    def check_url(self, query: Mapping[str, str]) -> None:
        """The `signature` over (token, timestamp, nonce) that WeChat puts on every request."""
        given = query.get("signature", "")
        expected = signature_of(self.token, query.get("timestamp", ""), query.get("nonce", ""))
        if not given or not hmac.compare_digest(given, expected):
            raise Rejected(403, "bad signature")

    @staticmethod
    def check_fresh(query: Mapping[str, str], now: float | None = None) -> None:
        """The signed `timestamp` is within MAX_CLOCK_SKEW seconds of `now` (call after the signature check)."""
        stamp = query.get("timestamp", "")
        if not (stamp.isascii() and stamp.isdigit()):
            raise Rejected(403, "bad timestamp")
        skew = int(stamp) - (time.time() if now is None else now)
        if abs(skew) > MAX_CLOCK_SKEW:
            raise Rejected(403, f"stale timestamp (skew {skew:+.0f} s, limit {MAX_CLOCK_SKEW} s)")

    def open(self, body: bytes, query: Mapping[str, str]) -> tuple[Inbound, bool]:
        """The message in `body` and whether it came encrypted (then the reply must be sealed)."""
        self.check_url(query)
        self.check_fresh(query)
        if len(body) > MAX_BODY:
            raise Rejected(413, "body too large")
        fields = _parse(body)
        encrypted = "Encrypt" in fields
        if self.crypto is not None:
            if not encrypted:
                raise Rejected(400, "safe mode: Encrypt missing")
            fields = _parse(self._decrypt(fields["Encrypt"], query).encode("utf-8"))
        elif encrypted and "MsgType" not in fields:
            raise Rejected(400, "encrypted message but JIXIAO_WECHAT_AES_KEY is not set")
        return _inbound(fields), self.crypto is not None

    def _decrypt(self, encrypt: str, query: Mapping[str, str]) -> str:
        try:
            return self.crypto.decrypt_message({"Encrypt": encrypt}, query.get("msg_signature", ""),
                                               query.get("timestamp", ""), query.get("nonce", ""))
        except (InvalidSignatureException, InvalidAppIdException) as exc:
            raise Rejected(403, f"safe mode: {type(exc).__name__}") from exc
        except Exception as exc:  # base64/padding/length garbage
            raise Rejected(400, f"safe mode: cannot decrypt ({type(exc).__name__})") from exc

    def seal(self, msg: Inbound, text: str, nonce: str, encrypted: bool) -> str:
        """The passive text reply as XML, encrypted when the request was."""
        xml = TextReply(source=_cdata_safe(msg.account), target=_cdata_safe(msg.openid), content=_cdata_safe(text),
                        time=int(time.time())).render()
        return self.crypto.encrypt_message(xml, nonce) if encrypted and self.crypto else xml


def _cdata_safe(text: str) -> str:
    return text.replace("]]>", "]]]]><![CDATA[>")


def _parse(body: bytes) -> dict[str, str]:
    """Top-level children of <xml> as text; DTDs (entity bombs, external entities) refused."""
    try:
        root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, ParseError, ValueError, UnicodeDecodeError) as exc:
        raise Rejected(400, f"bad XML ({type(exc).__name__})") from exc
    if root.tag != "xml":
        raise Rejected(400, "bad XML (root is not <xml>)")
    return {child.tag: (child.text or "").strip() for child in root}


_REQUIRED = ("ToUserName", "FromUserName", "CreateTime", "MsgType")


def _inbound(f: dict[str, str]) -> Inbound:
    missing = [k for k in _REQUIRED if not f.get(k)]
    msg_type = f.get("MsgType", "").lower()
    if msg_type == "event":
        missing += [] if f.get("Event") else ["Event"]
    else:
        missing += [] if f.get("MsgId") else ["MsgId"]
        if msg_type == "text" and not f.get("Content"):
            missing.append("Content")
    if missing:
        raise Rejected(400, f"missing fields: {', '.join(missing)}")
    if not f["CreateTime"].isdigit():
        raise Rejected(400, "CreateTime is not a number")
    content = f.get("Content") if msg_type == "text" else f.get("Recognition") if msg_type == "voice" else None
    return Inbound(account=f["ToUserName"], openid=f["FromUserName"], create_time=int(f["CreateTime"]),
                   msg_type=msg_type, msg_id=f.get("MsgId") or None, content=content or None,
                   event=f.get("Event") or None, event_key=f.get("EventKey") or None)
