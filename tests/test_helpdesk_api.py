"""Helpdesk API and console through FastAPI's TestClient (SQLite): auth, transitions as HTTP codes, the loop."""
from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from helpdesk_fixtures import CITATION, FakeDeliverer, make_services

from jixiao.adapters.app import create_app
from servers import login
from jixiao.adapters.auth import User, require_admin, require_staff, user_store
from jixiao.adapters.helpdesk import Helpdesk
from jixiao.adapters.outbox import Outbox
from jixiao.bot.answer import Answer

DRAFT = Answer("草稿：抽查比例不少于30%。", [dict(CITATION, title="《创B争A通知》")],
               chunks=[{"doc_id": "cq-cbza-2024", "section": "五、", "score": 0.7}], escalate=True, intent="policy")


class EscalatingBot:
    """Stands in for the assistant: every question goes to a human."""

    def reply(self, user_id: str, text: str, channel: str = "cli") -> Answer:
        return Answer("这个问题需要人工确认。", escalate=True, confidence=0.2, intent="policy")


@pytest.fixture
def services(request, tmp_path):
    s = make_services(request, "sqlite", tmp_path, {"wechat": FakeDeliverer(True)})
    s.bot = EscalatingBot()
    s.extras["helpdesk"] = Helpdesk(s)
    return s


@pytest.fixture
def as_user(services):
    """A client whose require_staff/require_admin return the given user (auth overridden)."""
    clients = []

    def make(user: User | None) -> TestClient:
        app = create_app(services=services)
        if user is not None:
            app.dependency_overrides[require_staff] = lambda: user
            if user.role == "admin":
                app.dependency_overrides[require_admin] = lambda: user
        client = TestClient(app)
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()


def test_queue_claim_answer_close_reopen(services, as_user):
    desk = services.extras["helpdesk"]
    tid = desk.open_ticket("wechat", "wechat:o1", "已评级的企业抽查比例定的多少？", DRAFT, history=[])
    alice = as_user(User("alice", "staff"))
    queue = alice.get("/api/helpdesk/tickets", params={"state": "new"}).json()
    assert [t["id"] for t in queue["tickets"]] == [tid] and queue["counts"]["new"] == 1
    assert queue["tickets"][0]["state_label"] == "待认领"
    detail = alice.get(f"/api/helpdesk/tickets/{tid}").json()
    assert detail["draft"] == DRAFT.text and detail["evidence"]["citations"][0]["quote"] == CITATION["quote"]
    assert detail["first_response_seconds"] is None and detail["age_seconds"] >= 0
    r = alice.post(f"/api/helpdesk/tickets/{tid}/answer", json={"text": "答复"})
    assert r.status_code == 409 and "请先认领" in r.json()["detail"]
    assert alice.post(f"/api/helpdesk/tickets/{tid}/claim").json()["assignee"] == "alice"
    bob = as_user(User("bob", "staff"))
    assert bob.post(f"/api/helpdesk/tickets/{tid}/claim").status_code == 409
    t0 = time.monotonic()
    r = alice.post(f"/api/helpdesk/tickets/{tid}/answer", json={"text": "不少于30%。", "citations": [CITATION]})
    assert r.status_code == 200 and r.json()["delivery"] == "sending" and time.monotonic() - t0 < 2
    assert _settled(alice, tid) == "pushed"  # pushed in the background; the ticket shows the true state
    (user, text), = services.deliverers["wechat"].calls
    assert user == "wechat:o1" and text.startswith(f"【人工服务答复·工单 {tid}】") and text.endswith("：\n不少于30%。")
    t = r.json()["ticket"]
    assert t["state"] == "answered" and t["first_response_seconds"] is not None
    assert alice.get("/api/helpdesk/tickets", params={"mine": True}).json()["tickets"][0]["id"] == tid
    assert bob.get("/api/helpdesk/tickets", params={"mine": True}).json()["tickets"] == []
    assert alice.post(f"/api/helpdesk/tickets/{tid}/close").json()["resolution_seconds"] is not None
    assert alice.post(f"/api/helpdesk/tickets/{tid}/close").status_code == 409
    assert alice.post(f"/api/helpdesk/tickets/{tid}/reopen", json={"note": ""}).status_code == 422
    t = alice.post(f"/api/helpdesk/tickets/{tid}/reopen", json={"note": "用户追问"}).json()
    assert t["state"] == "reopened" and [e["action"] for e in t["events"]][-1] == "reopen"
    assert alice.get("/api/helpdesk/tickets/999").status_code == 404


def test_input_validation(services, as_user):
    desk = services.extras["helpdesk"]
    tid = desk.open_ticket("web", "web:li", "问题", DRAFT, history=[])
    c = as_user(User("alice", "staff"))
    c.post(f"/api/helpdesk/tickets/{tid}/claim")
    url = f"/api/helpdesk/tickets/{tid}/answer"
    assert c.post(url, json={"text": ""}).status_code == 422
    assert c.post(url, json={"text": "长" * 5001}).status_code == 422
    assert c.post(url, json={"text": "答复", "extra": 1}).status_code == 422
    assert c.post(url, json={"text": "答复", "citations": [{"doc_id": "x", "quote": "y"}]}).status_code == 400
    assert c.get("/api/helpdesk/tickets", params={"state": "bogus"}).status_code == 422
    assert c.get("/api/helpdesk/tickets", params={"limit": 1000}).status_code == 422
    assert desk.get(tid)["state"] == "assigned"


def test_curated_needs_admin(services, as_user):
    desk = services.extras["helpdesk"]
    tid = desk.open_ticket("wechat", "wechat:o1", "已评级的企业抽查比例定的多少？", DRAFT, history=[])
    staff = as_user(User("alice", "staff"))
    staff.post(f"/api/helpdesk/tickets/{tid}/claim")
    staff.post(f"/api/helpdesk/tickets/{tid}/answer", json={"text": "不少于30%。", "citations": [CITATION]})
    r = staff.post(f"/api/helpdesk/tickets/{tid}/curated", json={"question": "已评级企业的抽查比例是多少"})
    assert r.status_code == 201
    cid = r.json()["curated"]["id"]
    assert staff.post(f"/api/helpdesk/tickets/{tid}/curated").status_code == 409
    listed = staff.get("/api/helpdesk/curated", params={"state": "proposed"}).json()
    assert [c["id"] for c in listed["curated"]] == [cid] and listed["can_approve"] is False
    assert desk.curated.lookup("已评级的企业抽查比例定的多少？") is None
    admin = as_user(User("root", "admin"))
    assert admin.post(f"/api/helpdesk/curated/{cid}/approve").json()["curated"]["state"] == "approved"
    assert admin.post(f"/api/helpdesk/curated/{cid}/approve").status_code == 409
    assert desk.curated.lookup("已评级的企业抽查比例定的多少？").intent == "curated"


def test_real_login_console_and_roles(services):
    users = user_store(services)
    users.add("alice", "alice-password", "staff")
    users.add("root", "root-password", "admin")
    desk = services.extras["helpdesk"]
    tid = desk.open_ticket("wechat", "wechat:o1", "已评级的企业抽查比例定的多少？", DRAFT, history=[])
    with TestClient(create_app(services=services)) as client:
        assert client.get("/api/helpdesk/tickets").status_code == 401
        r = client.get("/console", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
        assert login(client, "alice", "alice-password").status_code == 200
        page = client.get("/console")
        assert page.status_code == 200 and "人工服务台" in page.text and "/static/console.js" in page.text
        assert "script-src" not in page.headers["content-security-policy"]  # no inline scripts needed
        assert client.get("/static/console.js").status_code == 200
        assert client.get("/api/helpdesk/me").json() == {"username": "alice", "role": "staff"}
        client.post(f"/api/helpdesk/tickets/{tid}/claim")
        client.post(f"/api/helpdesk/tickets/{tid}/answer", json={"text": "不少于30%。", "citations": [CITATION]})
        cid = client.post(f"/api/helpdesk/tickets/{tid}/curated").json()["curated"]["id"]
        assert client.post(f"/api/helpdesk/curated/{cid}/approve").status_code == 403
        client.post("/api/logout")
        login(client, "root", "root-password")
        assert client.post(f"/api/helpdesk/curated/{cid}/approve").status_code == 200


def test_web_escalation_reaches_the_console_and_the_answer_the_inbox(services):
    """The whole loop: web chat escalates → ticket in the queue → staff answers → the user's inbox."""
    user_store(services).add("zhang", "zhang-password", "staff")
    user_store(services).add("alice", "alice-password", "staff")
    with TestClient(create_app(services=services)) as user, TestClient(create_app(services=services)) as staff:
        login(user, "zhang", "zhang-password")
        chat = user.post("/api/chat", json={"message": "我们厂的申报材料审到哪一步了？"}).json()
        assert chat["escalate"] is True and chat["ticket_id"]
        tid = chat["ticket_id"]
        login(staff, "alice", "alice-password")
        queue = staff.get("/api/helpdesk/tickets", params={"state": "new"}).json()["tickets"]
        assert [(t["id"], t["channel"], t["user_id"]) for t in queue] == [(tid, "web", "web:zhang")]
        staff.post(f"/api/helpdesk/tickets/{tid}/claim")
        r = staff.post(f"/api/helpdesk/tickets/{tid}/answer", json={"text": "已转区县生态环境局核实，请留意回复。"})
        assert r.json()["delivery"] == "sending"
        assert _settled(staff, tid) == "held"  # browsers are not pushed to: the inbox has it
        assert Outbox(services.engine).pending("web", "web:zhang") == 1
        inbox = user.get("/api/inbox")
        assert inbox.status_code == 200 and "已转区县生态环境局核实" in inbox.text
        user.post("/api/inbox/read", json={"ids": [m["id"] for m in inbox.json()["items"]]})
        assert Outbox(services.engine).pending("web", "web:zhang") == 0
        assert _settled(staff, tid) == "delivered"  # read by the user: the label follows
        assert "已转区县生态环境局核实" in user.get("/api/history").json()["staff"][0]["text"]


def _settled(client, tid: int, timeout: float = 10.0) -> str:
    """The ticket's delivery once the background push has finished."""
    deadline = time.monotonic() + timeout
    while True:
        delivery = client.get(f"/api/helpdesk/tickets/{tid}").json()["delivery"]
        if delivery != "sending" or time.monotonic() > deadline:
            return delivery
        time.sleep(0.05)


def test_a_ticket_shows_why_the_bot_answered_or_gave_up(services, as_user):
    """The router's decision of the escalated turn is kept on the ticket, and the turns before it carry theirs."""
    import dataclasses

    from jixiao.bot.conversation import ConversationStore

    route = {"kind": "out_of_scope", "name": "admin_procedure", "id": "oos-card:oos.permit.procedure",
             "reason": "文件外问题卡片“排污许可证到期了怎么延续”", "scores": {"out_of_scope": 0.9}}
    ConversationStore(services.engine).record("wechat:o9", "wechat", "先问一句", "policy", [], [], "答", 5, False,
                                              {"kind": "clause", "id": "clause"})
    desk = services.extras["helpdesk"]
    tid = desk.open_ticket("wechat", "wechat:o9", "排污许可证变更要多久", dataclasses.replace(DRAFT, route=route))
    detail = as_user(User("alice", "staff")).get(f"/api/helpdesk/tickets/{tid}").json()
    assert detail["evidence"]["route"]["id"] == "oos-card:oos.permit.procedure"
    assert detail["history"][-1]["route"]["id"] == "clause"  # from the one database, not a file of its own
