"""Shared helpers for channel tests: a fake bot, Services on a temp SQLite, a real uvicorn server.

Import as `from servers import ...` (tests/ is on sys.path; tests/e2e/conftest.py adds it there); fixtures here are
plain functions / context managers so tests/conftest.py stays untouched.
"""
from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import httpx
import uvicorn

from jixiao.adapters.app import _import_tables, create_app
from jixiao.adapters.auth import UserStore, session_secret
from jixiao.db import KV, create_all, make_engine
from jixiao.adapters.services import Services
from jixiao.bot.answer import Answer
from jixiao.settings import Settings

PASSWORD = "correct-horse-9"
CITE = {"doc_id": "cq-cbza-2024", "title": "《创B争A通知》", "section": "四（二）",
        "quote": "各区县生态环境局组织对C级及以下企业开展评级审核"}


@dataclass
class FakeBot:
    """Deterministic replies: 转人工 escalates, 自评 asks a numbered question, anything else cites 四（二）."""

    calls: list[tuple[str, str, str]] = field(default_factory=list)

    def reply(self, user_id: str, text: str, channel: str = "cli") -> Answer:
        self.calls.append((user_id, text, channel))
        if text == "转人工":
            return Answer("好的，已为您记录转人工请求。", escalate=True, confidence=1.0, intent="human")
        if text == "自评":
            return Answer("企业属于哪个行业？\n1. 铸造\n2. 汽修\n（可回复：返回 / 跳过 / 重新开始 / 退出）",
                          confidence=1.0, intent="assess")
        if text == "不知道":
            return Answer("现有文件中没有可以直接回答的内容。", escalate=True, confidence=0.2, intent="policy")
        return Answer("C级及以下由区县审核。", [dict(CITE)], confidence=0.9, intent="tool_review")


@dataclass
class FakeHelpdesk:
    """Records `open_ticket` calls; one ticket per question (like the real store), ids count up from 1."""

    opened: list[dict] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)

    def open_ticket(self, channel, user_id, question, answer, history=None) -> int:
        self.opened.append(dict(channel=channel, user_id=user_id, question=question, answer=answer,
                                history=history))
        return self.ids.setdefault(question, len(self.ids) + 1)


def make_services(tmp_path: Path, bot=None, helpdesk=None, **settings) -> Services:
    """Services on a fresh SQLite under `tmp_path` with a fake (or given) bot."""
    s = Settings(data_dir=tmp_path / "var", **settings)
    s.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(s.db_url())
    _import_tables()
    create_all(engine)
    services = Services(settings=s, engine=engine, kv=KV(engine), bot=bot or FakeBot())
    if helpdesk is not None:
        services.extras["helpdesk"] = helpdesk
    return services


def add_user(services_or_settings, username: str, role: str = "staff", password: str = PASSWORD) -> None:
    if isinstance(services_or_settings, Services):
        engine, settings = services_or_settings.engine, services_or_settings.settings
    else:
        settings = services_or_settings
        engine = make_engine(settings.db_url())
        _import_tables()
        create_all(engine)
    UserStore(engine, session_secret(settings)).add(username, password, role)


def free_socket() -> socket.socket:
    """A listening-ready socket bound to a free loopback port (handed to uvicorn: no port race)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.contextmanager
def live_server(app, timeout: float = 30.0) -> Iterator[str]:
    """Run `app` on a real uvicorn server in a thread; yields the base URL; stops it afterwards."""
    sock = free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def login(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    r = client.post("/api/login", json={"username": username, "password": password})
    r.raise_for_status()
    client.headers["X-CSRF-Token"] = r.json()["csrf_token"]  # what the pages send from the jixiao_csrf cookie
    return r


@contextlib.contextmanager
def app_server(settings: Settings | None = None, services: Services | None = None) -> Iterator[str]:
    """`create_app` on a live server: the lifespan builds real services unless `services` is given."""
    with live_server(create_app(settings, services)) as url:
        yield url
