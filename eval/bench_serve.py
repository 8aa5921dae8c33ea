"""`jixiao bench serve`: `jixiao serve` under load over HTTP, the way users reach it. One run reports:

1. throughput with 1 worker vs `--workers` N (closed loop on /api/chat: `--clients` users, each sending
   `--requests` messages one after another) and their ratio;
2. an open-loop rate (`--rate` WeChat messages per second for `--seconds`, whatever the latency): p50/p95,
   the share replied inside WeChat's 5 s and the share answered inside 5 s;
3. the same with a loopback fake LLM that takes `--llm-delay` seconds (tests/fakes/openai_server.py):
   half the messages are questions the LLM drafts, half come from other users whose turns need no LLM
   (greetings); those users' p95 shows whether a slow LLM delays anyone else.

The server runs as `jixiao serve --workers N` in a subprocess on a throw-away data dir (its own SQLite unless
`--database-url`, users, session secret); the retrieval index of the configured data dir is linked in unless
`--tools-only`. WeChat runs unverified with a bench token: late answers are held, nothing leaves the machine.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator, Optional

import typer

from jixiao.eval.bench_load import BENCH_TOKEN, closed_loop, open_loop, stats

QUESTIONS = ["铸造行业能评几级？", "汽修申报找谁审？", "评上B级有什么好处？", "包装印刷能评A级吗？", "水泥行业由谁审核？",
             "评上A级有哪些惠企措施？", "家具制造能评几级？", "C级企业由哪一级审核？", "砖瓦窑能评B级吗？", "首违不罚怎么适用？"]
GREETINGS = ["你好", "您好", "在吗", "谢谢"]
USERS = 100  # web sessions (one bench user each): one user's turns run in order, so load needs many users


def _prepare(bench_dir: Path, index_from: Path | None, password: str, secret: str, db_url: str | None) -> list:
    """The bench data dir; the web session cookies of USERS staff users (sessions live in the database)."""
    from jixiao.adapters import auth
    from jixiao.adapters.app import _import_tables
    from jixiao.db import create_all, make_engine
    from jixiao.settings import Settings

    if index_from is not None:
        (bench_dir / "retrieval").symlink_to(index_from.resolve(), target_is_directory=True)
    settings = Settings(data_dir=bench_dir, session_secret=secret, database_url=db_url)
    engine = make_engine(settings.db_url())
    _import_tables()
    create_all(engine)
    store = auth.UserStore(engine, secret)
    from jixiao.adapters import csrf

    cookies = []
    for i in range(USERS):
        store.add(f"bench{i}", password, role="staff")
        session = store.open_session(f"bench{i}")
        # the anti-forgery token a page reads from its cookie (adapters/csrf.py), sent as X-CSRF-Token
        cookies.append({auth.COOKIE: session, csrf.COOKIE: store.csrf(session)})
    engine.dispose()
    return cookies


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(proc: subprocess.Popen, base: str, timeout: float = 180.0) -> None:
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


@contextlib.contextmanager
def _server(bench_dir: Path, secret: str, workers: int, db_url: str | None, extra: dict) -> Iterator[str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JIXIAO_WECHAT_", "JIXIAO_LLM_")) and k != "JIXIAO_DATABASE_URL"}
    env |= {"JIXIAO_DATA_DIR": str(bench_dir), "JIXIAO_SESSION_SECRET": secret, "JIXIAO_WECHAT_TOKEN": BENCH_TOKEN,
            "JIXIAO_WECHAT_ACCOUNT": "unverified", **({"JIXIAO_DATABASE_URL": db_url} if db_url else {}), **extra}
    log = open(bench_dir / f"server-{workers}w-{port}.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "jixiao", "serve", "--port", str(port), "--workers", str(workers)],
                            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=bench_dir, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(proc, base)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _fake_llm(delay: float):
    """The loopback fake OpenAI server from the repository's tests (None when running from an installed wheel)."""
    fakes = Path(__file__).resolve().parents[1] / "tests"
    if not (fakes / "fakes" / "openai_server.py").is_file():
        return None
    sys.path.insert(0, str(fakes))
    from fakes.openai_server import FakeOpenAI

    return FakeOpenAI(default={"content": "依据文件规定办理。", "delay": delay})


def _row(label: str, s: dict, extra: str = "–") -> str:
    return (f"| {label} | {s['n']} | {s['ok']} | {s['p50_ms']:.0f} | {s['p95_ms']:.0f} | {s['max_ms']:.0f} | "
            f"{s['within_5s']:.0%} | {s['answered_5s']:.0%} | {extra} |")


HEADER = ("| 场景 | 请求数 | 成功 | p50 ms | p95 ms | 最大 ms | 5 s 内回复 | 5 s 内给出答案 | 吞吐 req/s |\n"
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|")


def _measure(bench_dir: Path, secret: str, cookies: list, opts: dict) -> list[str]:
    rows: list[str] = []
    throughput = {}
    for workers in (1, opts["workers"]):
        with _server(bench_dir, secret, workers, opts["db_url"], {}) as base:
            asyncio.run(closed_loop(base, "/api/chat", cookies, QUESTIONS, 10, 3))  # warm-up (every process)
            samples, wall = asyncio.run(closed_loop(base, "/api/chat", cookies, QUESTIONS, opts["clients"],
                                                    opts["requests"]))
            throughput[workers] = len(samples) / wall
            rows.append(_row(f"/api/chat 闭环 {opts['clients']} 用户，{workers} 进程", stats(samples),
                             f"{throughput[workers]:.1f}"))
            if workers == opts["workers"]:
                asyncio.run(open_loop(base, "/wechat", cookies, 5, 1, lambda i: (QUESTIONS[i % 10], "", -1 - i)))
                samples = asyncio.run(open_loop(base, "/wechat", cookies, opts["rate"], opts["seconds"],
                                                lambda i: (QUESTIONS[i % len(QUESTIONS)], "", i)))
                rows.append(_row(f"/wechat 开环 {opts['rate']:g} 条/秒 × {opts['seconds']:g} s，{workers} 进程",
                                 stats(samples)))
    rows.append(f"| **{opts['workers']} 进程 / 1 进程 吞吐比** | | | | | | | | **{throughput[opts['workers']] / throughput[1]:.2f}** |")
    rows += _measure_llm(bench_dir, secret, cookies, opts)
    return rows


def _measure_llm(bench_dir: Path, secret: str, cookies: list, opts: dict) -> list[str]:
    if opts["llm_delay"] <= 0:
        return ["| 慢速大模型场景未运行（--llm-delay 0） | | | | | | | | |"]
    fake = _fake_llm(opts["llm_delay"])
    if fake is None:
        return ["| 慢速大模型场景未运行（需要仓库中的 tests/fakes/openai_server.py） | | | | | | | | |"]
    rows = []
    with fake:
        env = {"JIXIAO_LLM_BASE_URL": fake.base_url, "JIXIAO_LLM_API_KEY": "bench", "JIXIAO_LLM_MODEL": "fake",
               "JIXIAO_LLM_DEADLINE": str(opts["llm_deadline"])}
        with _server(bench_dir, secret, opts["workers"], opts["db_url"], env) as base:
            def mixed(i: int) -> tuple[str, str, int]:
                """Even: a question the LLM drafts (users 0, 2, 4 …); odd: another user's greeting (1, 3, 5 …)."""
                if i % 2 == 0:
                    return QUESTIONS[(i // 2) % len(QUESTIONS)], "llm", i
                return GREETINGS[i % 4], "other", i

            for endpoint in ("/wechat", "/api/chat"):  # warm-up: both processes load what a first turn loads
                asyncio.run(open_loop(base, endpoint, cookies, 5, 2, mixed))
            for endpoint in ("/wechat", "/api/chat"):
                samples = asyncio.run(open_loop(base, endpoint, cookies, opts["rate"], opts["seconds"], mixed))
                label = f"{endpoint} 开环 {opts['rate']:g} 条/秒，大模型每次 {opts['llm_delay']:g} s"
                rows.append(_row(f"{label}：大模型起草的问题", stats([s for s in samples if s.group == "llm"])))
                rows.append(_row(f"{label}：**其他用户**（问候，不用大模型）",
                                 stats([s for s in samples if s.group == "other"])))
            drafts = len(fake.requests)
    rows.append(f"| 假大模型收到的起草请求 | {drafts} | | | | | | | |")
    return rows


def register(group: typer.Typer) -> None:
    @group.command("serve")
    def bench_serve(
        workers: int = typer.Option(2, "--workers", min=2, help="与 1 进程对比的进程数。"),
        clients: int = typer.Option(20, "--clients", min=1, help="闭环阶段的并发用户数。"),
        requests: int = typer.Option(10, "--requests", min=1, help="闭环阶段每个用户的请求数。"),
        rate: float = typer.Option(20.0, "--rate", min=0.1, help="开环阶段每秒发出的微信消息数。"),
        seconds: float = typer.Option(15.0, "--seconds", min=1, help="开环阶段持续秒数。"),
        llm_delay: float = typer.Option(3.0, "--llm-delay", min=0, help="假大模型每次回复的耗时（秒，0 为不测）。"),
        tools_only: bool = typer.Option(False, "--tools-only", help="不使用检索索引，仅用查询工具作答。"),
        database_url: Optional[str] = typer.Option(None, "--database-url", help="服务使用的数据库（默认临时 SQLite）。"),
        out: Optional[Path] = typer.Option(None, "--out", help="Markdown 结果文件（默认 <data_dir>/eval/bench-serve.md）。"),
    ) -> None:
        """1 进程与 N 进程的吞吐比、每秒 20 条微信消息的开环延迟，以及大模型变慢时其他用户的延迟。"""
        from jixiao.settings import Settings

        settings = Settings()
        index = Path(settings.data_dir) / "retrieval"
        use_index = not tools_only and (index / "bm25.json").is_file()
        bench_dir = Path(tempfile.mkdtemp(prefix="jixiao-bench-serve-"))
        password, secret = secrets.token_urlsafe(12), secrets.token_hex(32)
        opts = dict(workers=workers, clients=clients, requests=requests, rate=rate, seconds=seconds,
                    llm_delay=llm_delay, db_url=database_url, llm_deadline=settings.llm_deadline)
        try:
            cookies = _prepare(bench_dir, index if use_index else None, password, secret, database_url)
            rows = _measure(bench_dir, secret, cookies, opts)
        except Exception as exc:
            logs = sorted(bench_dir.glob("server-*.log"))
            tail = logs[-1].read_text(encoding="utf-8", errors="replace")[-2000:] if logs else ""
            typer.echo(f"错误：基准测试失败：{exc}\n服务日志末尾：\n{tail}", err=True)
            raise typer.Exit(1)
        finally:
            shutil.rmtree(bench_dir, ignore_errors=True)
        mode = "检索索引 + 查询工具" if use_index else "仅查询工具（无检索索引）"
        note = (f"`jixiao bench serve`：{mode}；数据库 {'PostgreSQL' if database_url else 'SQLite'}；微信按未认证号运行"
                f"（超出回复预算的回答暂存）；回复预算 {settings.wechat_reply_budget:g} s，大模型起草期限 "
                f"JIXIAO_LLM_DEADLINE={settings.llm_deadline:g} s；CPU 核数 {os.cpu_count()}。")
        table = HEADER + "\n" + "\n".join(rows)
        out_path = Path(out) if out else Path(settings.data_dir) / "eval" / "bench-serve.md"
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(f"# 服务基准\n\n{note}\n\n{table}\n", encoding="utf-8")
        typer.echo(table)
        typer.echo(f"{note}\n结果已写入 {out_path}")
