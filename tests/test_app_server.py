"""Real servers: `create_app` with real services on uvicorn, and the `jixiao serve` command on a fresh data dir."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from jixiao.settings import Settings
from servers import add_user, app_server, free_socket, login

pytestmark = pytest.mark.integration


def test_real_services_answer_escalate_and_deliver(tmp_path):
    """Tools-only assistant (no index), real helpdesk: ask, escalate, answer the ticket, read the inbox."""
    settings = Settings(data_dir=tmp_path / "var", embedder="hash")
    add_user(settings, "alice")
    with app_server(settings) as url, httpx.Client(base_url=url, timeout=20) as client:
        assert client.get("/healthz").json() == {"status": "ok", "retrieval": False, "helpdesk": True}
        login(client, "alice")
        r = client.post("/api/chat", json={"message": "铸造厂能评几级？"}).json()
        assert r["intent"] == "tool_tiers" and r["citations"]
        assert all(c["doc_id"] == "cq-cbza-2024-att3" and c["label"].startswith("《") for c in r["citations"])
        esc = client.post("/api/chat", json={"message": "转人工"}).json()
        assert esc["escalate"] is True and isinstance(esc["ticket_id"], int)

        ticket = client.get(f"/api/helpdesk/tickets/{esc['ticket_id']}").json()
        assert ticket["user_id"] == "web:alice" and "铸造" in ticket["question"]
        assert client.post(f"/api/helpdesk/tickets/{esc['ticket_id']}/claim").status_code == 200
        done = client.post(f"/api/helpdesk/tickets/{esc['ticket_id']}/answer", json={"text": "铸造按附件3分A/B/C/D级。"})
        assert done.status_code == 200, done.text
        inbox = client.get("/api/inbox").json()
        (message,) = inbox["messages"]
        assert message.startswith(f"【人工服务答复·工单 {esc['ticket_id']}】") and message.endswith("：\n铸造按附件3分A/B/C/D级。")
        client.post("/api/inbox/read", json={"ids": [m["id"] for m in inbox["items"]]}).raise_for_status()
        assert client.get("/api/inbox").json()["messages"] == []
        assert client.get("/api/history").json()["staff"][0]["text"] == message


def test_jixiao_serve_on_a_fresh_data_dir(tmp_path):
    """`jixiao serve` starts without an index or users, says where it listens and how to add a user."""
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = dict(os.environ, JIXIAO_DATA_DIR=str(tmp_path / "fresh"), JIXIAO_EMBEDDER="hash")
    jixiao = Path(sys.executable).with_name("jixiao")
    proc = subprocess.Popen([str(jixiao), "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline, health = time.monotonic() + 25, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert health == {"status": "ok", "retrieval": False, "helpdesk": True}
        assert httpx.get(f"http://127.0.0.1:{port}/", follow_redirects=False).headers["location"] == "/login"
    finally:
        proc.terminate()
        output = proc.communicate(timeout=15)[0]
    assert f"http://127.0.0.1:{port}/" in output
    assert "jixiao users add" in output and "jixiao index" in output
    assert (tmp_path / "fresh" / "jixiao.db").is_file()
