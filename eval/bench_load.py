"""Load for `jixiao bench serve`: requests like users send them, closed-loop (N clients, each waits for its
answer) and open-loop (a fixed arrival rate, whatever the server's latency), over /api/chat and /wechat."""
from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from typing import Callable

WECHAT_LIMIT_S = 5.0
BENCH_TOKEN = "jixiao-bench-token"


@dataclass
class Sample:
    seconds: float
    ok: bool
    answered: bool   # the reply carries the answer (WeChat: not "success" or the "正在查询" placeholder)
    group: str = ""


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    k = (len(values) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def stats(samples: list[Sample]) -> dict:
    lat = [s.seconds for s in samples]
    n = len(samples) or 1
    return {"n": len(samples), "ok": sum(s.ok for s in samples), "p50_ms": pct(lat, 50) * 1000,
            "p95_ms": pct(lat, 95) * 1000, "max_ms": max(lat, default=0) * 1000,
            "within_5s": sum(s.ok and s.seconds <= WECHAT_LIMIT_S for s in samples) / n,
            "answered_5s": sum(s.answered and s.seconds <= WECHAT_LIMIT_S for s in samples) / n}


def wechat_push(text: str, openid: str) -> tuple[dict, bytes]:
    from jixiao.adapters.wechat_inbound import signature_of

    timestamp, nonce = str(int(time.time())), secrets.token_hex(4)
    msg_id = f"{int(time.time() * 1000)}{secrets.randbelow(10**6):06d}"
    xml = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
           f"<CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
           f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>")
    return {"signature": signature_of(BENCH_TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}, \
        xml.encode("utf-8")


async def one(client, endpoint: str, text: str, who: int, cookies: list, group: str = "") -> Sample:
    """One message from user number `who` (a web session of its own, or its own WeChat openid)."""
    from jixiao.adapters.wechat_menu import PENDING

    t0 = time.perf_counter()
    try:
        if endpoint == "/api/chat":
            jar = cookies[who % len(cookies)]
            token = {"X-CSRF-Token": jar.get("jixiao_csrf") or ""}  # the session's anti-forgery token (adapters/csrf.py)
            r = await client.post("/api/chat", json={"message": text}, cookies=jar, headers=token)
            ok = r.status_code == 200
            return Sample(time.perf_counter() - t0, ok, ok, group)
        params, body = wechat_push(text, f"bench-openid-{who}")
        r = await client.post("/wechat", params=params, content=body, headers={"Content-Type": "text/xml"})
        ok = r.status_code == 200
        return Sample(time.perf_counter() - t0, ok, ok and "<Content>" in r.text and PENDING not in r.text, group)
    except Exception:  # a refused or timed-out request counts as a failure, the run goes on
        return Sample(time.perf_counter() - t0, False, False, group)


def _client(base: str, connections: int):
    import httpx

    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(base_url=base, timeout=60, limits=limits)


async def closed_loop(base: str, endpoint: str, cookies: list, questions: list[str], clients: int,
                      per_client: int) -> tuple[list[Sample], float]:
    """`clients` users each send `per_client` messages one after another; (samples, wall seconds)."""
    async with _client(base, clients) as client:
        async def user(i: int) -> list[Sample]:
            return [await one(client, endpoint, questions[(i + j) % len(questions)], i, cookies)
                    for j in range(per_client)]

        t0 = time.perf_counter()
        results = await asyncio.gather(*(user(i) for i in range(clients)))
        return [s for r in results for s in r], time.perf_counter() - t0


async def open_loop(base: str, endpoint: str, cookies: list, rate: float, seconds: float,
                    message: Callable[[int], tuple[str, str, int]]) -> list[Sample]:
    """Message i leaves at i / rate seconds whether or not earlier ones were answered;
    `message(i)` = (text, group, user number)."""
    count = int(rate * seconds)
    async with _client(base, 400) as client:
        t0 = time.perf_counter()
        tasks = []
        for i in range(count):
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            text, group, who = message(i)
            tasks.append(asyncio.create_task(one(client, endpoint, text, who, cookies, group)))
        return list(await asyncio.gather(*tasks))
