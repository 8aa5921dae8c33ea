"""Concurrent turns: no process-wide lock, per-user order (also across workers: two TurnOrders on one
database stand for two processes), an LLM draft that misses its deadline leaves the deterministic answer."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from pg import database_url

from jixiao.adapters.services import OrderedReplier
from jixiao.adapters.turn_order import TurnOrder
from jixiao.bot.answer import Answer
from jixiao.bot.llm import DeadlineDrafter
from jixiao.db import create_all, make_engine


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    import jixiao.adapters.turn_order  # noqa: F401  (declares turn_leases)

    eng = make_engine(database_url(request, request.param, tmp_path))
    create_all(eng)
    yield eng
    eng.dispose()


class SlowBot:
    """Each turn takes `seconds`; records (user, text, start, end) and the most turns running at once per user."""

    def __init__(self, seconds: float):
        self.seconds, self.log, self.lock = seconds, [], threading.Lock()
        self.running: dict[str, int] = {}
        self.overlap = 0

    def reply(self, user_id: str, text: str, channel: str = "cli") -> Answer:
        with self.lock:
            self.running[user_id] = self.running.get(user_id, 0) + 1
            self.overlap = max(self.overlap, self.running[user_id])
        start = time.monotonic()
        time.sleep(self.seconds)
        with self.lock:
            self.running[user_id] -= 1
            self.log.append((user_id, text, start, time.monotonic()))
        return Answer(text)


def test_different_users_run_at_once_and_one_user_in_order(engine):
    bot = SlowBot(0.3)
    replier = OrderedReplier(bot, TurnOrder(engine))
    t0 = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: replier.reply(f"u{i}", "q"), range(8)))
    assert time.monotonic() - t0 < 1.5  # 8 × 0.3 s serially would be 2.4 s

    bot2 = SlowBot(0.1)
    replier2 = OrderedReplier(bot2, TurnOrder(engine))
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda i: replier2.reply("same", str(i)), range(6)))
    assert bot2.overlap == 1 and len(bot2.log) == 6


def test_two_workers_keep_one_users_turns_apart(engine):
    """Two TurnOrders (as two processes would have) on one database never run one user's turns together."""
    bot = SlowBot(0.15)
    workers = [OrderedReplier(bot, TurnOrder(engine)), OrderedReplier(bot, TurnOrder(engine))]
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda i: workers[i % 2].reply("shared-user", str(i)), range(6)))
    spans = sorted((s, e) for _, _, s, e in bot.log)
    assert bot.overlap == 1 and all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))


def test_a_dead_workers_lease_expires(engine):
    order = TurnOrder(engine, ttl=0.5)
    order._acquire("crashed")  # taken and never released (the process died)
    t0 = time.monotonic()
    with order.turn("crashed"):
        pass
    assert 0.3 < time.monotonic() - t0 < 3


def test_the_before_turn_hook_runs_and_its_failure_does_not_lose_the_turn(engine):
    calls = []

    def hook():
        calls.append(1)
        raise RuntimeError("database away")

    assert OrderedReplier(SlowBot(0), TurnOrder(engine), before_turn=hook).reply("u", "hi").text == "hi"
    assert calls == [1]


class SlowDrafter:
    def __init__(self, seconds: float):
        self.seconds = seconds

    def draft(self, question, evidence):
        time.sleep(self.seconds)
        return "草稿"


def test_a_draft_that_misses_its_deadline_leaves_the_deterministic_answer():
    fast = DeadlineDrafter(SlowDrafter(0.01), deadline=1.0)
    assert fast.draft("q", ["e"]) == "草稿"
    slow = DeadlineDrafter(SlowDrafter(2.0), deadline=0.2, workers=2)
    t0 = time.monotonic()
    with ThreadPoolExecutor(6) as pool:  # more turns than draft workers: queued drafts miss their deadline too
        results = list(pool.map(lambda _: slow.draft("q", ["e"]), range(6)))
    assert results == [None] * 6 and time.monotonic() - t0 < 1.0
    slow.close()
    fast.close()
