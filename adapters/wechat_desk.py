"""Answering WeChat users inside WeChat's 5 s rule, once per message, and delivering what comes late.

- Every accepted push is a durable job (`wechat_jobs.JobStore`): its row is the dedup record, so WeChat's
  retries never run the work again. A retry waits (polling the row, so a retry on another worker works
  too) for the answer and gets it as its passive reply if nobody gave it yet, or the reply already given.
- The assistant runs in a worker thread; the reply is decided `wechat_reply_budget` seconds after the push
  arrived at the latest, by conditional state changes of the job (exactly one of passive reply or late
  delivery). Late answers: verified account → "success" now, the answer through the customer-service API
  (`wechat_delivery`: retries with backoff, 45015 → held, no resend when the outcome is unknown);
  unverified → a short "正在查询" reply now, the answer held and given with the user's next message.
- After a crash, `recover()` (at start-up and every RECOVER_INTERVAL) adopts the jobs a dead process left:
  unanswered ones are answered and delivered, a push cut off mid-way is recorded as "unknown".
  `close()` drains in-flight turns (up to DRAIN_TIMEOUT) before the process exits.
- Long texts: split at 2048 UTF-8 bytes on sentence ends. The passive reply carries part 1; verified →
  the other parts go through the customer-service API right after the reply, in order; unverified → they
  are held and part 1 ends with "回复“继续”查看后续内容": only "继续" pages on; a new question or menu click
  is answered on its own (an unread tail of an earlier answer is retired).
- Held late answers and helpdesk answers are given before the reply to the user's next message.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, wait

from jixiao.adapters import wechat_menu as texts
from jixiao.adapters.outbox import DeliveryUnknown, Outbox
from jixiao.adapters.services import Services
from jixiao.adapters.wechat_api import WeChatClient
from jixiao.adapters.wechat_delivery import CustomerService, seen_key
from jixiao.adapters.wechat_inbound import Inbound
from jixiao.adapters.wechat_jobs import JobStore
from jixiao.adapters.wechat_reply import MORE, REST, Reply, compose, escalate
from jixiao.bot.answer import split_for_wechat

log = logging.getLogger(__name__)

CHANNEL = "wechat"
WINDOW = 48 * 3600.0 - 60  # customer-service messages only within 48 h of the user's last message
POLL = 0.1  # seconds between job reads while a request waits
HISTORY_TURNS = 6
DRAIN_TIMEOUT = 20.0  # seconds close() waits for in-flight turns
RECOVER_INTERVAL = 60.0
JOB_RETENTION = 7 * 24 * 3600.0  # finished jobs are kept this long (WeChat's retries come within seconds)


def user_id(openid: str) -> str:
    """The id the bot, the helpdesk and the outbox see for a WeChat user."""
    return f"{CHANNEL}:{openid}"


class WeChatDesk:
    def __init__(self, services: Services, client: WeChatClient | None = None, gate=None, workers: int = 4):
        self.services = services
        self.settings = services.settings
        self.kv = services.kv
        self.outbox = Outbox(services.engine)
        self.jobs = JobStore(services.engine)
        self.client = client
        self.cs = CustomerService(client, services.kv) if client is not None else None
        self.gate = gate  # wechat_inbound.Gate, None when JIXIAO_WECHAT_TOKEN is unset
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wechat-bot")
        self._futures: set = set()
        self._waiting: dict[int, tuple[threading.Event, int]] = {}  # job → (wake-up, requests here waiting)
        self._waiting_lock = threading.Lock()
        self._stop = threading.Event()

    @property
    def verified(self) -> bool:
        return self.settings.wechat_account == "verified" and self.client is not None

    # ---------------------------------------------------------------- one push from WeChat

    def handle(self, msg: Inbound, deadline: float | None = None) -> Reply:
        """The passive reply for `msg` by `deadline` (time.monotonic(); default: now + the reply budget)."""
        deadline = deadline or time.monotonic() + self.settings.wechat_reply_budget
        try:
            question, fixed = self._route(msg)
        except Exception:  # e.g. the outbox unreadable: the apology, not a 500 (WeChat would retry forever)
            log.exception("wechat routing failed openid=%s key=%s", msg.openid, msg.dedup_key)
            question, fixed = None, texts.ERROR
        job_id, new = self.jobs.accept(msg.dedup_key, msg.openid, question)
        if not new:
            log.info("wechat retry key=%s job=%s", msg.dedup_key, job_id)
            self._enter(job_id)
            try:
                return self._await(job_id, msg.openid, deadline, decide=False)
            finally:
                self._leave(job_id, msg.openid)
        if msg.event is None or msg.event.lower() != "unsubscribe":
            self._mark_seen(msg.openid)
        try:
            return self._first(msg.openid, question, fixed, deadline, job_id)
        except Exception:  # the user gets a short apology; the operator the traceback
            log.exception("wechat handling failed openid=%s key=%s", msg.openid, msg.dedup_key)
            self.jobs.move(job_id, ("accepted", "answered"), "replied", reply=texts.ERROR)
            return Reply(texts.ERROR)

    def _first(self, openid: str, question: str | None, fixed: str | None, deadline: float, job_id: int) -> Reply:
        if question is None:
            reply = Reply(None) if fixed is None else self._compose(openid, fixed or None, page=fixed == "")
            self.jobs.move(job_id, "accepted", "replied", reply=reply.text)
            return reply
        self._enter(job_id)
        try:
            self._submit(self._work, job_id, openid, question)
            return self._await(job_id, openid, deadline)
        finally:
            self._leave(job_id, openid)

    def _enter(self, job_id: int) -> None:
        with self._waiting_lock:
            event, count = self._waiting.get(job_id, (threading.Event(), 0))
            self._waiting[job_id] = (event, count + 1)

    def _leave(self, job_id: int, openid: str) -> None:
        """The last request here stops waiting; an answer that arrived meanwhile is delivered, not stranded."""
        with self._waiting_lock:
            event, count = self._waiting[job_id]
            if count > 1:
                self._waiting[job_id] = (event, count - 1)
                return
            del self._waiting[job_id]
        job = self.jobs.get(job_id)
        if job and job["state"] == "answered" and self.jobs.move(job_id, "answered", "delivering"):
            self._submit(self._deliver_late, job_id, openid, job["answer"])

    def _route(self, msg: Inbound) -> tuple[str | None, str | None]:
        """(question for the assistant, None) or (None, fixed text; "" for "继续", None for "success")."""
        if msg.msg_type == "event":
            event = (msg.event or "").lower()
            if event == "subscribe":
                return None, texts.WELCOME
            if event == "click":
                click = texts.CLICKS.get(msg.event_key or "")
                if click is None:
                    return None, texts.UNKNOWN_CLICK
                return (click.ask, None) if click.ask else (None, click.guide)
            return None, None
        if msg.content is None:  # image, video, location, voice without recognition …
            return None, texts.UNSUPPORTED
        text = msg.content.strip()
        if len(text) > self.settings.max_message_chars:
            return None, texts.TOO_LONG.format(limit=self.settings.max_message_chars)
        if text.lower() in texts.CONTINUE and self.outbox.pending(CHANNEL, user_id(msg.openid), source=MORE):
            return None, ""
        return text, None

    def _await(self, job_id: int, openid: str, deadline: float, decide: bool = True) -> Reply:
        """Wait for the job's answer until `deadline`; give it passively if this caller wins it.

        Only the first arrival (`decide`) turns an unanswered job `late`; a retry that times out answers
        "success" and leaves the job to its worker (or, if that process died, to recovery)."""
        while True:
            job = self.jobs.get(job_id) or {"state": "replied", "reply": None}
            state = job["state"]
            if state == "answered" and self.jobs.move(job_id, "answered", "replied", reply=job["answer"]):
                reply = self._compose(openid, job["answer"])
                if reply.text != job["answer"]:  # held texts in front, or split: keep what was given
                    self.jobs.set_reply(job_id, reply.text)
                return reply
            if state in ("replied", "delivering", "delivered", "held", "unknown"):
                return Reply(job["reply"])
            if state == "late":
                return Reply(job["reply"] if job["reply"] is not None else self._late_text())
            if time.monotonic() >= deadline:
                if not decide:
                    return Reply(None)
                if self.jobs.move(job_id, "accepted", "late"):
                    log.info("wechat answer late openid=%s verified=%s", openid, self.verified)
                    reply = self._compose(openid, None) if self.verified else Reply(texts.PENDING)
                    self.jobs.set_reply(job_id, reply.text)
                    return reply
                continue  # the answer came in meanwhile
            wait = min(POLL, max(0.0, deadline - time.monotonic()))
            entry = self._waiting.get(job_id)
            entry[0].wait(wait) if entry is not None else time.sleep(wait)  # polling covers other workers

    def _late_text(self) -> str | None:
        return None if self.verified else texts.PENDING

    # ---------------------------------------------------------------- the assistant

    def _submit(self, fn, *args) -> None:
        future = self.pool.submit(fn, *args)
        self._futures.add(future)
        future.add_done_callback(self._futures.discard)

    def _work(self, job_id: int, openid: str, question: str) -> None:
        text = self._answer(openid, question)
        if self.jobs.move(job_id, "accepted", "answered", answer=text):
            entry = self._waiting.get(job_id)
            if entry is not None:
                entry[0].set()
            if entry is not None or not self.jobs.move(job_id, "answered", "delivering"):
                return  # a request here gives it passively (or one elsewhere already did)
        elif not self.jobs.move(job_id, "late", "delivering", answer=text):
            return
        self._deliver_late(job_id, openid, text)

    def _answer(self, openid: str, question: str) -> str:
        try:
            answer = self.services.bot.reply(user_id(openid), question, channel=CHANNEL)
        except Exception:
            log.exception("wechat bot failed openid=%s", openid)
            return texts.ERROR
        text = answer.text
        history = self._history(openid)
        if answer.escalate:
            ticket = escalate(self.services, openid, question, answer, history)
            if ticket is not None:
                text += "\n" + texts.ESCALATED.format(ticket=ticket)
        turns = history + [{"question": question, "intent": answer.intent or ""}]  # for 转人工's question
        self.kv.set(self._history_key(openid), json.dumps(turns[-HISTORY_TURNS:], ensure_ascii=False),
                    ttl=7 * 24 * 3600)
        return text

    def _deliver_late(self, job_id: int, openid: str, text: str) -> None:
        """A `delivering` job: customer-service message (verified, in the window), else held."""
        parts = split_for_wechat(text)
        sent = self.cs.send(openid, parts) if self.verified and self.cs.in_window(openid) else None
        if sent is not None and sent.outcome == "sent":
            self.jobs.move(job_id, "delivering", "delivered")
            return
        if sent is not None and sent.outcome == "unknown":
            self.jobs.move(job_id, "delivering", "unknown")
            rest = parts[sent.parts_sent + 1:]
        else:
            rest = parts[sent.parts_sent:] if sent is not None else parts
        if rest:
            prefix = texts.HELD_PREFIX if (sent is None or sent.parts_sent == 0) else ""
            with self.services.engine.begin() as conn:
                self.outbox.hold(CHANNEL, user_id(openid), prefix + "".join(rest), source="wechat:late", conn=conn)
                self.jobs.move(job_id, "delivering", "held", conn=conn)
        log.info("wechat late answer job=%s openid=%s outcome=%s", job_id, openid,
                 sent.outcome if sent else "held")

    # ---------------------------------------------------------------- recovery and shutdown

    def recover(self) -> Counter:
        """Adopt the open jobs of processes that are gone; answer and deliver them. Logs what it found."""
        found: Counter = Counter()
        for job in self.jobs.recoverable():
            if not self.jobs.adopt(job):
                continue
            state, job_id = job["state"], job["id"]
            if state == "delivering":  # cut off mid-push: WeChat may have it; never resend
                self.jobs.move(job_id, "delivering", "unknown")
                log.warning("wechat job delivery interrupted job=%s openid=%s: outcome unknown", job_id,
                            job["openid"])
            elif job["question"] is None:
                self.jobs.move(job_id, "accepted", "replied")
            elif state == "answered":
                if self.jobs.move(job_id, "answered", "delivering"):
                    self._submit(self._deliver_late, job_id, job["openid"], job["answer"])
            else:  # accepted or late: answer it now
                self._submit(self._work, job_id, job["openid"], job["question"])
            found[state] += 1
        if found:
            log.info("wechat jobs recovered %s", " ".join(f"{k}={v}" for k, v in sorted(found.items())))
        return found

    def start(self) -> None:
        """Recover now and every RECOVER_INTERVAL seconds (jobs of other hosts whose lease ran out)."""
        self.recover()

        def loop():
            while not self._stop.wait(RECOVER_INTERVAL):
                try:
                    self.recover()
                    self.jobs.purge(time.time() - JOB_RETENTION)
                except Exception:
                    log.warning("wechat job recovery failed; retrying later", exc_info=True)
        threading.Thread(target=loop, name="wechat-recover", daemon=True).start()

    def close(self) -> None:
        """Drain in-flight turns (up to DRAIN_TIMEOUT s; what is left is recovered at the next start)."""
        self._stop.set()
        pending = set(self._futures)
        if pending:
            log.info("wechat draining in-flight turns count=%d", len(pending))
            done, left = wait(pending, timeout=DRAIN_TIMEOUT)
            if left:
                log.warning("wechat shutdown with turns still running count=%d (recovered at next start)", len(left))
        self.pool.shutdown(wait=False, cancel_futures=True)
        if self.client is not None:
            self.client.close()

    # ---------------------------------------------------------------- composing and delivering

    def _compose(self, openid: str, body: str | None, page: bool = False) -> Reply:
        return compose(self.outbox, user_id(openid), body, self.verified, page)

    def hold_followups(self, openid: str, parts: list[str]) -> int:
        """Before the passive reply goes out: the further parts, durable in the outbox (given with the user's
        next message if the push below never happens, e.g. the process dies)."""
        return self.outbox.hold(CHANNEL, user_id(openid), "".join(parts), source=REST)

    def push_followups(self, message_id: int) -> None:
        """After the passive reply: the held parts through the customer-service API, in order (`deliver`);
        refused → they stay held; no answer from WeChat → recorded unknown, never resent."""
        self.outbox.push(self.services, message_id)

    def deliver(self, user: str, text: str) -> bool:
        """`services.deliverers["wechat"]`: True when sent now through the customer-service API.

        `user` is `wechat:<openid>` (a bare openid works too). False (the caller holds the text) for
        unverified accounts, outside the 48 h window, or when WeChat refuses the first part (after retries);
        DeliveryUnknown when the first part went out without an answer. When a later part fails, the rest
        is held here and True is returned.
        """
        openid = user.removeprefix(f"{CHANNEL}:")
        if not self.verified or not self.cs.in_window(openid):
            return False
        parts = split_for_wechat(text)
        sent = self.cs.send(openid, parts)
        if sent.parts_sent == 0:
            if sent.outcome == "unknown":
                raise DeliveryUnknown(f"wechat customer-service send to {openid} has no answer")
            return sent.outcome == "sent"
        done = sent.parts_sent + (sent.outcome == "unknown")
        if parts[done:]:  # given before the reply to the user's next message
            self.outbox.hold(CHANNEL, user_id(openid), "".join(parts[done:]), source=REST)
        return True

    def _mark_seen(self, openid: str) -> None:
        """Start of the 48 h customer-service window; rewritten at most every 10 minutes (fewer writes)."""
        seen = self.kv.get(seen_key(openid))
        if seen is None or time.time() - float(seen) > 600:
            self.kv.set(seen_key(openid), str(time.time()), ttl=WINDOW)

    def _history(self, openid: str) -> list[dict]:
        raw = self.kv.get(self._history_key(openid))
        return json.loads(raw) if raw else []

    @staticmethod
    def _history_key(openid: str) -> str:
        return f"wechat:history:{openid}"
