"""Answering WeChat users inside WeChat's 5 s rule, once per message, and delivering what comes late.

- Dedup: the first arrival of a message adds `wechat:msg:<MsgId>` (events: `wechat:evt:<openid>:<CreateTime>`)
  to the shared KV; WeChat's retries find the key and never run the work again. They wait (polling the KV,
  so a retry landing on another worker works too) for the first arrival's passive reply and return the same
  text, or "success" when it is not decided within the budget.
- The assistant runs in a worker thread; the reply is decided `wechat_reply_budget` seconds after the push
  arrived at the latest. Late answers:
  verified account → "success" now, the answer through the customer-service API when ready (inside the
  48 h window; otherwise, or on 45015/45047, held in the outbox); unverified → a short "正在查询" reply now,
  the answer held and prepended to the reply to the user's next message.
- Long texts: split at 2048 UTF-8 bytes on sentence ends. The passive reply carries part 1; verified →
  the other parts go through the customer-service API right after the reply; unverified → they are held
  and part 1 ends with "回复“继续”查看后续内容".
- Held texts (late answers, further parts, helpdesk answers) are taken at the user's next message and
  put before that message's reply.
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from jixiao.adapters import wechat_menu as texts
from jixiao.adapters.outbox import Outbox
from jixiao.adapters.services import Services
from jixiao.adapters.wechat_api import OUT_OF_WINDOW, WeChatAPIError, WeChatClient
from jixiao.adapters.wechat_inbound import Inbound
from jixiao.bot.answer import WECHAT_LIMIT, split_for_wechat

log = logging.getLogger(__name__)

CHANNEL = "wechat"
DEDUP_TTL = 3600.0  # WeChat retries within ~15 s; an hour also covers slow duplicate pushes
WINDOW = 48 * 3600.0 - 60  # customer-service messages only within 48 h of the user's last message
POLL = 0.1  # seconds between KV reads while a retry waits
HISTORY_TURNS = 6
_PENDING = json.dumps({"state": "pending"})


@dataclass
class Reply:
    """The passive reply (None → "success") and, for verified accounts, parts to send right after it."""
    text: str | None
    followups: list[str] = field(default_factory=list)


class _Job:
    """One assistant call; `late` is set when the request stopped waiting, then the job delivers itself."""

    def __init__(self):
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.text: str | None = None
        self.late = False


def user_id(openid: str) -> str:
    """The id the bot, the helpdesk and the outbox see for a WeChat user."""
    return f"{CHANNEL}:{openid}"


def _utf8(s: str) -> int:
    return len(s.encode("utf-8"))


class WeChatDesk:
    def __init__(self, services: Services, client: WeChatClient | None = None, gate=None, workers: int = 4):
        self.services = services
        self.settings = services.settings
        self.kv = services.kv
        self.outbox = Outbox(services.engine)
        self.client = client
        self.gate = gate  # wechat_inbound.Gate, None when JIXIAO_WECHAT_TOKEN is unset
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wechat-bot")

    @property
    def verified(self) -> bool:
        return self.settings.wechat_account == "verified" and self.client is not None

    # ---------------------------------------------------------------- one push from WeChat

    def handle(self, msg: Inbound, deadline: float | None = None) -> Reply:
        """The passive reply for `msg` by `deadline` (time.monotonic(); default: now + the reply budget)."""
        deadline = deadline or time.monotonic() + self.settings.wechat_reply_budget
        key = msg.dedup_key
        if not self.kv.add(key, _PENDING, ttl=DEDUP_TTL):
            log.info("wechat retry key=%s", key)
            return self._repeat(key, deadline)
        if msg.event is None or msg.event.lower() != "unsubscribe":
            self._mark_seen(msg.openid)
        try:
            reply = self._first(msg, deadline)
        except Exception:  # the user gets a short apology; the operator the traceback
            log.exception("wechat handling failed openid=%s key=%s", msg.openid, key)
            reply = Reply(texts.ERROR)
        self.kv.set(key, json.dumps({"state": "done", "reply": reply.text}, ensure_ascii=False), ttl=DEDUP_TTL)
        return reply

    def _first(self, msg: Inbound, deadline: float) -> Reply:
        if msg.msg_type == "event":
            event = (msg.event or "").lower()
            if event == "subscribe":
                return self._compose(msg.openid, texts.WELCOME)
            if event == "click":
                click = texts.CLICKS.get(msg.event_key or "")
                if click is None:
                    return self._compose(msg.openid, texts.UNKNOWN_CLICK)
                return self._ask(msg.openid, click.ask, deadline) if click.ask else self._compose(msg.openid, click.guide)
            return Reply(None)  # unsubscribe, VIEW, LOCATION …: nothing to say
        if msg.content is None:  # image, video, location, voice without recognition …
            return self._compose(msg.openid, texts.UNSUPPORTED)
        text = msg.content.strip()
        limit = self.settings.max_message_chars
        if len(text) > limit:
            return self._compose(msg.openid, texts.TOO_LONG.format(limit=limit))
        if text.lower() in texts.CONTINUE and self.outbox.pending(CHANNEL, user_id(msg.openid)):
            return self._compose(msg.openid, None)
        return self._ask(msg.openid, text, deadline)

    def _repeat(self, key: str, deadline: float) -> Reply:
        while True:
            raw = self.kv.get(key)
            record = json.loads(raw) if raw else {"state": "done", "reply": None}
            if record.get("state") == "done":
                return Reply(record.get("reply"))
            if time.monotonic() >= deadline:
                return Reply(None)
            time.sleep(POLL)

    # ---------------------------------------------------------------- the assistant

    def _ask(self, openid: str, question: str, deadline: float) -> Reply:
        job = _Job()
        self.pool.submit(self._work, job, openid, question)
        job.done.wait(max(0.0, deadline - time.monotonic()))
        with job.lock:
            answer = job.text
            job.late = answer is None
        if answer is not None:
            return self._compose(openid, answer)
        log.info("wechat answer late openid=%s verified=%s", openid, self.verified)
        if self.verified:
            return self._compose(openid, None)  # held texts, if any; else "success"
        return self._compose(openid, texts.PENDING)

    def _work(self, job: _Job, openid: str, question: str) -> None:
        text = self._answer(openid, question)
        with job.lock:
            job.text = text
            late = job.late
            job.done.set()
        if late:
            self._deliver_late(openid, text)

    def _answer(self, openid: str, question: str) -> str:
        try:
            answer = self.services.bot.reply(user_id(openid), question, channel=CHANNEL)
        except Exception:
            log.exception("wechat bot failed openid=%s", openid)
            return texts.ERROR
        text = answer.text
        history = self._history(openid)
        if answer.escalate:
            ticket = self._open_ticket(openid, question, answer, history)
            if ticket is not None:
                text += "\n" + texts.ESCALATED.format(ticket=ticket)
        turns = history + [{"question": question, "intent": answer.intent or ""}]  # for 转人工's question
        self.kv.set(self._history_key(openid), json.dumps(turns[-HISTORY_TURNS:], ensure_ascii=False),
                    ttl=7 * 24 * 3600)
        return text

    def _deliver_late(self, openid: str, text: str) -> None:
        if self.verified and self.deliver(openid, text):
            return
        self.outbox.hold(CHANNEL, user_id(openid), texts.HELD_PREFIX + text, source="wechat:late")
        log.info("wechat answer held openid=%s", openid)

    # ---------------------------------------------------------------- helpdesk

    def _open_ticket(self, openid: str, question: str, answer, history: list[dict]) -> int | None:
        """One ticket per user and question; "转人工" is about the user's last real question."""
        helpdesk = self.services.extras.get("helpdesk")
        if helpdesk is None:
            log.warning("escalation without a helpdesk channel=wechat openid=%s", openid)
            return None
        if answer.intent == "human":
            asked = [t["question"] for t in history if t.get("intent") != "human"]
            question = asked[-1] if asked else question
        key = f"wechat:ticket:{openid}:{hashlib.sha256(question.encode('utf-8')).hexdigest()[:32]}"
        if existing := self.kv.get(key):
            return int(existing)
        try:
            ticket = int(helpdesk.open_ticket(CHANNEL, user_id(openid), question, answer, history=None))
        except Exception:
            log.exception("open_ticket failed channel=wechat openid=%s", openid)
            return None
        self.kv.set(key, str(ticket), ttl=24 * 3600)
        log.info("ticket opened ticket_id=%s channel=wechat openid=%s", ticket, openid)
        return ticket

    def _history(self, openid: str) -> list[dict]:
        raw = self.kv.get(self._history_key(openid))
        return json.loads(raw) if raw else []

    # ---------------------------------------------------------------- composing and delivering

    def _compose(self, openid: str, body: str | None) -> Reply:
        """Held texts, then `body`, split for WeChat: part 1 now, the rest sent (verified) or held."""
        uid = user_id(openid)
        held = self.outbox.take(CHANNEL, uid) if self.outbox.pending(CHANNEL, uid) else []  # read before write
        if body:
            body = "".join(split_for_wechat(body))  # an answer keeps at most 3 parts
        whole = "\n\n".join(held + ([body] if body else []))
        if not whole:
            return Reply(None)
        hint = "" if self.verified else "\n" + texts.MORE_HINT
        parts = split_for_wechat(whole, WECHAT_LIMIT - _utf8(hint), max_parts=10_000)
        if len(parts) == 1:
            return Reply(parts[0])
        if self.verified:
            return Reply(parts[0], followups=parts[1:])
        self.outbox.hold(CHANNEL, user_id(openid), "".join(parts[1:]), source="wechat:more")  # re-split on "继续"
        return Reply(parts[0] + hint)

    def send_followups(self, openid: str, parts: list[str]) -> None:
        """After the passive reply: the further parts through the customer-service API, else held."""
        if not self._send_parts(openid, parts):
            self.outbox.hold(CHANNEL, user_id(openid), "".join(parts), source="wechat:more")

    def deliver(self, user: str, text: str) -> bool:
        """`services.deliverers["wechat"]`: True when sent now through the customer-service API.

        `user` is `wechat:<openid>` (a bare openid works too).
        False (the caller holds the text) for unverified accounts, outside the 48 h window, or when WeChat
        refuses the first part. When a later part is refused, the rest is held here and True is returned.
        """
        openid = user.removeprefix(f"{CHANNEL}:")
        return self._send_parts(openid, split_for_wechat(text))

    def _send_parts(self, openid: str, parts: list[str]) -> bool:
        if not self.verified or self.kv.get(self._seen_key(openid)) is None:
            return False
        for i, part in enumerate(parts):
            try:
                self.client.send_text(openid, part)
            except WeChatAPIError as exc:
                log.warning("wechat customer-service send refused openid=%s errcode=%s errmsg=%s",
                            openid, exc.errcode, exc.errmsg)
                if exc.errcode == OUT_OF_WINDOW:
                    self.kv.delete(self._seen_key(openid))
                if i == 0:
                    return False
                self.outbox.hold(CHANNEL, user_id(openid), "".join(parts[i:]), source="wechat:more")
                return True
        return True

    def _mark_seen(self, openid: str) -> None:
        """Start of the 48 h customer-service window; rewritten at most every 10 minutes (fewer writes)."""
        seen = self.kv.get(self._seen_key(openid))
        if seen is None or time.time() - float(seen) > 600:
            self.kv.set(self._seen_key(openid), str(time.time()), ttl=WINDOW)

    @staticmethod
    def _seen_key(openid: str) -> str:
        return f"wechat:seen:{openid}"

    @staticmethod
    def _history_key(openid: str) -> str:
        return f"wechat:history:{openid}"

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        if self.client is not None:
            self.client.close()
