"""Crash safety of the WeChat channel with a real uvicorn process: kill -9 with turns in flight, SIGTERM drain.

WeChat's API is faked on loopback; the app runs `tests/fakes/wechat_app.py` (real services, slow fake bot).
Every accepted message must be answered exactly once, counting passive replies and customer-service messages.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from fakes.wechat_server import FakeWeChatAPI, WeChatPush
from jixiao.adapters.wechat_jobs import jobs_table
from jixiao.db import make_engine

pytestmark = pytest.mark.integration

TOKEN, APPID, SECRET = "crash-token", "wxfake0001", "fake-secret"
APP = Path(__file__).parent / "fakes" / "wechat_app.py"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, tmp_path: Path, api: FakeWeChatAPI, delay: float, name: str):
        self.port, self.log = _port(), tmp_path / f"{name}.log"
        env = os.environ | {"JIXIAO_DATA_DIR": str(tmp_path / "var"), "JIXIAO_WECHAT_TOKEN": TOKEN,
                            "JIXIAO_WECHAT_APPID": APPID, "JIXIAO_WECHAT_SECRET": SECRET,
                            "JIXIAO_WECHAT_API_BASE": api.url, "JIXIAO_WECHAT_ACCOUNT": "verified",
                            "JIXIAO_WECHAT_REPLY_BUDGET": "0.5", "FAKE_BOT_DELAY": str(delay)}
        self.proc = subprocess.Popen([sys.executable, str(APP), str(self.port)], env=env,
                                     stdout=self.log.open("wb"), stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while True:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def api():
    with FakeWeChatAPI(APPID, SECRET) as fake:
        yield fake


def _states(tmp_path: Path) -> Counter:
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'jixiao.db'}")
    with engine.connect() as conn:
        states = Counter(r.state for r in conn.execute(select(jobs_table.c.state)))
    engine.dispose()
    return states


def test_kill_9_with_messages_in_flight_every_message_answered_exactly_once(tmp_path, api):
    first = Server(tmp_path, api, delay=3.0, name="first")
    push = WeChatPush(first.url, TOKEN, APPID)
    questions = {f"user-{i}": f"第{i}个问题：铸造厂能评几级？" for i in range(7)}
    xmls = {u: push.text(u, q) for u, q in questions.items()}
    passive: dict[str, str | None] = {}

    def send(user):
        try:
            passive[user] = push.reply_text(push.post(xmls[user]))
        except httpx.HTTPError:
            passive[user] = "lost"  # the process died before replying: WeChat will retry

    threads = [threading.Thread(target=send, args=(u,)) for u in list(questions)[:6]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(passive[u] is None for u in list(questions)[:6])  # "success": the answers are due late
    in_flight = threading.Thread(target=send, args=("user-6",))
    in_flight.start()
    time.sleep(0.2)
    os.kill(first.proc.pid, signal.SIGKILL)  # turns running, one request unanswered
    first.proc.wait(10)
    in_flight.join()
    assert passive["user-6"] == "lost" and api.messages == []
    assert sum(_states(tmp_path).values()) == 7

    second = Server(tmp_path, api, delay=0.3, name="second")
    try:
        retry = WeChatPush(second.url, TOKEN, APPID)
        retried = retry.reply_text(retry.post(xmls["user-6"]))  # WeChat's retry of the unanswered push
        api.wait_for_messages(7 - (retried is not None), timeout=20)
        time.sleep(1.0)  # anything extra would arrive now
        got = Counter(openid for openid, _ in api.messages) + Counter({"user-6": retried is not None})
        assert got == Counter({u: 1 for u in questions}), (api.messages, retried)
        for openid, text in api.messages:
            assert text == "答复：" + questions[openid]
        if retried is not None:
            assert retried == "答复：" + questions["user-6"]
        states = _states(tmp_path)
        assert set(states) <= {"delivered", "replied"} and sum(states.values()) == 7, states
        assert "wechat jobs recovered" in second.log.read_text()
        retry.close()
    finally:
        second.stop()
        push.close()


def test_sigterm_drains_in_flight_turns_before_exit(tmp_path, api):
    server = Server(tmp_path, api, delay=1.5, name="drain")
    push = WeChatPush(server.url, TOKEN, APPID)
    try:
        assert push.reply_text(push.post(push.text("user-t", "铸造厂能评几级？"))) is None  # late
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(30) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal after a clean shutdown
        assert api.messages == [("user-t", "答复：铸造厂能评几级？")]  # delivered before the process left
        assert _states(tmp_path) == Counter({"delivered": 1})
        log = server.log.read_text()
        assert "wechat draining in-flight turns" in log and "Application shutdown complete" in log
        assert "access_token=" not in log  # the token is not written to the log
    finally:
        server.stop()
        push.close()


def test_kill_9_during_a_staff_answer_push_is_unknown_not_resent(tmp_path, api):
    from jixiao.adapters.helpdesk import Helpdesk
    from jixiao.adapters.services import Services
    from jixiao.db import KV
    from jixiao.settings import Settings
    from servers import add_user, login

    settings = Settings(data_dir=tmp_path / "var")
    add_user(settings, "staff1")
    first = Server(tmp_path, api, delay=0.0, name="push")
    push = WeChatPush(first.url, TOKEN, APPID)
    engine = make_engine(settings.db_url())
    try:
        assert push.reply_text(push.post(push.text("user-p", "你好"))) == "答复：你好"  # the 48 h window
        desk = Helpdesk(Services(settings=settings, engine=engine, kv=KV(engine), bot=None))
        tid = desk.open_ticket("wechat", "wechat:user-p", "审核进度怎么查？", None, history=[])
        api.hang = 30.0
        api.fail_next("timeout")  # WeChat takes the message and does not answer in time
        with httpx.Client(base_url=first.url, timeout=10) as staff:
            login(staff, "staff1")
            staff.post(f"/api/helpdesk/tickets/{tid}/claim").raise_for_status()
            t0 = time.monotonic()
            r = staff.post(f"/api/helpdesk/tickets/{tid}/answer", json={"text": "请登录应急管理系统查看。"})
            assert r.status_code == 200 and r.json()["delivery"] == "sending" and time.monotonic() - t0 < 2
        api.wait_for_messages(1, timeout=10)
        os.kill(first.proc.pid, signal.SIGKILL)  # mid-push: WeChat has it, we never heard back
        first.proc.wait(10)
    finally:
        first.stop()
    second = Server(tmp_path, api, delay=0.0, name="push-restart")
    try:
        with httpx.Client(base_url=second.url, timeout=10) as staff:
            login(staff, "staff1")
            ticket = staff.get(f"/api/helpdesk/tickets/{tid}").json()
        assert ticket["delivery"] == "unknown" and ticket["askers"][0]["delivery"] == "unknown"  # the true state
        again = WeChatPush(second.url, TOKEN, APPID)
        assert again.reply_text(again.post(again.text("user-p", "谢谢"))) == "答复：谢谢"  # not held, not resent
        again.close()
        time.sleep(0.5)
        assert [m for m in api.messages if "应急管理系统" in m[1]] == [("user-p", api.messages[0][1])]
        assert len(api.messages) == 1
        assert "recorded as unknown" in second.log.read_text()
    finally:
        second.stop()
        push.close()
        engine.dispose()
