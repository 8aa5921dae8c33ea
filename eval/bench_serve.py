"""`jixiao bench serve`: the app under uvicorn, measured over HTTP like users reach it.

The server runs as `jixiao serve` in a subprocess on a throw-away data dir (its own SQLite, users, session
secret and conversation log), so benchmark turns never land in the real stores; the retrieval index of
the configured data dir is linked in unless `--tools-only`. WeChat runs unverified with a bench token:
late answers are held, so nothing leaves the machine. Measured per endpoint (`/api/chat` with a staff
session, signed `/wechat` text pushes): sequential latency p50/p95, then `--clients` concurrent clients
sending `--requests` each: latency, sustained requests/s, and for WeChat the share of pushes replied inside
WeChat's 5 s (any reply) and answered inside 5 s (the answer itself, not the "正在查询" placeholder).
"""
from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import typer

QUESTIONS = ["铸造行业能评几级？", "汽修申报找谁审？", "评上B级有什么好处？", "包装印刷能评A级吗？", "水泥行业由谁审核？",
             "评上A级有哪些惠企措施？", "家具制造能评几级？", "C级企业由哪一级审核？", "砖瓦窑能评B级吗？", "首违不罚怎么适用？"]
WECHAT_LIMIT_S = 5.0
BENCH_TOKEN = "jixiao-bench-token"


@dataclass
class Sample:
    seconds: float
    ok: bool
    answered: bool  # WeChat: the reply carries the answer (not "success" or the placeholder)


@dataclass
class Row:
    endpoint: str
    mode: str
    samples: list[Sample]
    wall: float

    def cells(self) -> list[str]:
        lat = sorted(s.seconds for s in self.samples)
        n, ok = len(self.samples), sum(s.ok for s in self.samples)
        within = sum(s.ok and s.seconds <= WECHAT_LIMIT_S for s in self.samples)
        answered = sum(s.answered and s.seconds <= WECHAT_LIMIT_S for s in self.samples)
        wechat = self.endpoint == "/wechat"
        return [self.endpoint, self.mode, str(n), str(ok), f"{_pct(lat, 50) * 1000:.0f}", f"{_pct(lat, 95) * 1000:.0f}",
                f"{n / self.wall:.1f}", f"{within / n:.0%}" if wechat else "–", f"{answered / n:.0%}" if wechat else "–"]


HEADER = ["接口", "场景", "请求数", "成功", "p50 ms", "p95 ms", "吞吐 req/s", "5 s 内回复", "5 s 内给出答案"]


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    k = (len(values) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


# ---------------------------------------------------------------- the server

def _prepare(bench_dir: Path, index_from: Path | None, password: str, secret: str) -> None:
    from jixiao.adapters import auth
    from jixiao.db import create_all, make_engine
    from jixiao.settings import Settings

    if index_from is not None:
        (bench_dir / "retrieval").symlink_to(index_from.resolve(), target_is_directory=True)
    settings = Settings(data_dir=bench_dir, session_secret=secret, database_url=None)
    engine = make_engine(settings.db_url())
    create_all(engine)
    auth.UserStore(engine, secret).add("bench", password, role="staff")
    engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(bench_dir: Path, secret: str, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIXIAO_WECHAT_") and k != "JIXIAO_DATABASE_URL"}
    env |= {"JIXIAO_DATA_DIR": str(bench_dir), "JIXIAO_SESSION_SECRET": secret, "JIXIAO_WECHAT_TOKEN": BENCH_TOKEN,
            "JIXIAO_WECHAT_ACCOUNT": "unverified"}
    log = open(bench_dir / "server.log", "wb")
    return subprocess.Popen([sys.executable, "-m", "jixiao", "serve", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT, cwd=bench_dir)


def _wait_ready(proc: subprocess.Popen, base: str, timeout: float = 120.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jixiao serve exited with {proc.returncode}")
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"jixiao serve not ready after {timeout:.0f} s")


# ---------------------------------------------------------------- clients

def _wechat_push(n: int, openid: str) -> tuple[dict, bytes]:
    from jixiao.adapters.wechat_inbound import signature_of

    timestamp, nonce = str(int(time.time())), secrets.token_hex(4)
    msg_id = f"{int(time.time() * 1000)}{secrets.randbelow(10**6):06d}"
    xml = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
           f"<CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
           f"<Content><![CDATA[{QUESTIONS[n % len(QUESTIONS)]}]]></Content><MsgId>{msg_id}</MsgId></xml>")
    return {"signature": signature_of(BENCH_TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}, \
        xml.encode("utf-8")


async def _one(client, endpoint: str, n: int, who: str) -> Sample:
    from jixiao.adapters.wechat_menu import PENDING

    t0 = time.perf_counter()
    try:
        if endpoint == "/api/chat":
            r = await client.post("/api/chat", json={"message": QUESTIONS[n % len(QUESTIONS)]})
            ok = r.status_code == 200
            return Sample(time.perf_counter() - t0, ok, ok)
        params, body = _wechat_push(n, who)
        r = await client.post("/wechat", params=params, content=body, headers={"Content-Type": "text/xml"})
        ok = r.status_code == 200
        answered = ok and "<Content>" in r.text and PENDING not in r.text
        return Sample(time.perf_counter() - t0, ok, answered)
    except Exception:  # a refused or timed-out request counts as a failure, the run goes on
        return Sample(time.perf_counter() - t0, False, False)


async def _run(base: str, cookies, endpoint: str, clients: int, per_client: int) -> Row:
    import httpx

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    csrf = {"X-CSRF-Token": cookies.get("jixiao_csrf") or ""}  # the session's anti-forgery token (adapters/csrf.py)
    async with httpx.AsyncClient(base_url=base, cookies=cookies, headers=csrf, timeout=60, limits=limits) as client:
        async def worker(i: int) -> list[Sample]:
            return [await _one(client, endpoint, i * per_client + j, f"bench-user-{i}") for j in range(per_client)]

        t0 = time.perf_counter()
        results = await asyncio.gather(*(worker(i) for i in range(clients)))
        wall = time.perf_counter() - t0
    mode = "顺序 1 客户端" if clients == 1 else f"并发 {clients} 客户端"
    return Row(endpoint, mode, [s for r in results for s in r], wall)


def _table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    return "\n".join(lines + ["| " + " | ".join(r.cells()) + " |" for r in rows])


# ---------------------------------------------------------------- command

def register(group: typer.Typer) -> None:
    @group.command("serve")
    def bench_serve(
        clients: int = typer.Option(50, "--clients", min=1, help="并发客户端数。"),
        requests: int = typer.Option(4, "--requests", min=1, help="并发阶段每个客户端的请求数。"),
        sequential: int = typer.Option(20, "--sequential", min=1, help="顺序阶段的请求数（测 p50/p95）。"),
        tools_only: bool = typer.Option(False, "--tools-only", help="不使用检索索引，仅用查询工具作答。"),
        out: Optional[Path] = typer.Option(None, "--out", help="Markdown 结果文件（默认 <data_dir>/eval/bench-serve.md）。"),
    ) -> None:
        """启动服务（uvicorn），测 /api/chat 与 /wechat 的延迟 p50/p95、吞吐，以及并发下 5 秒内回复微信消息的比例。"""
        import httpx

        from jixiao.settings import Settings

        settings = Settings()
        index = Path(settings.data_dir) / "retrieval"
        use_index = not tools_only and (index / "bm25.json").is_file()
        bench_dir = Path(tempfile.mkdtemp(prefix="jixiao-bench-serve-"))
        password, secret, port = secrets.token_urlsafe(12), secrets.token_hex(32), _free_port()
        base = f"http://127.0.0.1:{port}"
        _prepare(bench_dir, index if use_index else None, password, secret)
        proc = _start(bench_dir, secret, port)
        try:
            _wait_ready(proc, base)
            login = httpx.post(base + "/api/login", json={"username": "bench", "password": password}, timeout=30)
            login.raise_for_status()
            cookies = login.cookies
            rows = []
            for endpoint in ("/api/chat", "/wechat"):
                asyncio.run(_run(base, cookies, endpoint, 1, 3))  # warm-up
                rows.append(asyncio.run(_run(base, cookies, endpoint, 1, sequential)))
                rows.append(asyncio.run(_run(base, cookies, endpoint, clients, requests)))
        except Exception as exc:
            log_tail = (bench_dir / "server.log").read_text(encoding="utf-8", errors="replace")[-2000:]
            typer.echo(f"错误：基准测试失败：{exc}\n服务日志末尾：\n{log_tail}", err=True)
            raise typer.Exit(1)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
            shutil.rmtree(bench_dir, ignore_errors=True)
        mode = "检索索引 + 查询工具" if use_index else "仅查询工具（无检索索引）"
        note = (f"`jixiao bench serve`：{mode}；微信按未认证号运行（超出回复预算的回答暂存，回复“正在查询”）；"
                f"回复预算 JIXIAO_WECHAT_REPLY_BUDGET={settings.wechat_reply_budget:g} s；CPU 核数 {os.cpu_count()}。")
        table = _table(rows)
        out_path = Path(out) if out else Path(settings.data_dir) / "eval" / "bench-serve.md"
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(f"# 服务基准\n\n{note}\n\n{table}\n", encoding="utf-8")
        typer.echo(table)
        typer.echo(f"{note}\n结果已写入 {out_path}")
