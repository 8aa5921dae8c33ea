"""Customer-service messages with an honest outcome: sent, refused (held for the user's next message) or unknown.

- Retryable failures (WeChat busy −1, not sent −2, HTTP 5xx, 45047 too many messages) are retried after
  `delays` seconds each (backoff); then the message counts as refused.
- 45015 (the user has not written in 48 h) drops the window mark and is refused at once; other errcodes too.
- A request that went out without an answer (read timeout, dropped connection: OUTCOME_UNKNOWN) is never
  resent: WeChat may have delivered it. The caller records "unknown" and an operator can see it.
- Parts go in order; the first part not sent ends the sequence (the caller holds what is left).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Literal

from jixiao.adapters.wechat_api import OUT_OF_WINDOW, OUTCOME_UNKNOWN, RETRYABLE, WeChatAPIError, WeChatClient
from jixiao.db import KV

log = logging.getLogger(__name__)

Outcome = Literal["sent", "refused", "unknown"]
RETRY_DELAYS = (1.0, 3.0, 9.0)  # seconds before each retry of a retryable failure


@dataclass
class Sent:
    outcome: Outcome
    parts_sent: int  # parts confirmed sent, in order


def seen_key(openid: str) -> str:
    """KV mark of the user's last push (start of WeChat's 48 h customer-service window)."""
    return f"wechat:seen:{openid}"


class CustomerService:
    def __init__(self, client: WeChatClient, kv: KV, delays: tuple[float, ...] = RETRY_DELAYS):
        self.client = client
        self.kv = kv
        self.delays = delays

    def in_window(self, openid: str) -> bool:
        return self.kv.get(seen_key(openid)) is not None

    def send(self, openid: str, parts: list[str]) -> Sent:
        for i, part in enumerate(parts):
            outcome = self._one(openid, part)
            if outcome != "sent":
                return Sent(outcome, i)
        return Sent("sent", len(parts))

    def _one(self, openid: str, part: str) -> Outcome:
        for attempt in range(len(self.delays) + 1):
            try:
                self.client.send_text(openid, part)
                return "sent"
            except WeChatAPIError as exc:
                if exc.errcode == OUTCOME_UNKNOWN:
                    log.warning("wechat customer-service outcome unknown openid=%s error=%s; not resent",
                                openid, exc.errmsg)
                    return "unknown"
                if exc.errcode == OUT_OF_WINDOW:
                    self.kv.delete(seen_key(openid))
                retry = exc.errcode in RETRYABLE and attempt < len(self.delays)
                log.warning("wechat customer-service send refused openid=%s errcode=%s errmsg=%s attempt=%d%s",
                            openid, exc.errcode, exc.errmsg, attempt + 1,
                            f" retry_in={self.delays[attempt]}" if retry else "")
                if not retry:
                    return "refused"
                time.sleep(self.delays[attempt])
        return "refused"
