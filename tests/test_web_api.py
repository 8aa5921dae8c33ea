"""The web chat API with a fake bot: validation, size limits, escalation → ticket, inbox, clause text, pages."""
from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from jixiao.adapters.app import create_app
from jixiao.adapters.clause import find_clause, parse_section
from jixiao.knowledge.basis import SOURCES_DIR, normalize
from servers import CITE, FakeHelpdesk, add_user, login, make_services


@pytest.fixture
def env(tmp_path):
    helpdesk = FakeHelpdesk()
    services = make_services(tmp_path, helpdesk=helpdesk, max_message_chars=200)
    add_user(services, "alice")
    client = TestClient(create_app(services=services))
    return client, services, helpdesk


def _chat(client, message):
    return client.post("/api/chat", json={"message": message})


def test_chat_needs_a_session(env):
    client, services, _ = env
    r = _chat(client, "铸造厂能评几级？")
    assert r.status_code == 401 and r.json()["detail"] == "请先登录"
    assert services.bot.calls == []


@pytest.mark.parametrize("body, status, needle", [
    ({"message": "   "}, 422, "请输入问题内容"),
    ({"message": "长" * 201}, 413, "最多 200 个字"),
    ({}, 422, "缺少字段 'message'"),
    ({"message": "x", "user": "bob"}, 422, "不支持的字段 'user'"),
    ({"message": 5}, 422, "类型不正确"),
])
def test_chat_validation_in_chinese(env, body, status, needle):
    client, services, _ = env
    login(client, "alice")
    r = client.post("/api/chat", json=body)
    assert r.status_code == status and needle in r.json()["detail"]
    assert services.bot.calls == []


def test_chat_bad_json_and_oversized_body(env):
    client, services, _ = env
    login(client, "alice")
    r = client.post("/api/chat", content='{"message": "铸造'.encode(), headers={"content-type": "application/json"})
    assert r.status_code == 422 and "JSON" in r.json()["detail"]
    big = json.dumps({"message": "长" * 200, "pad": "x" * 70_000}).encode()   # over 200*6 + 64 KiB
    r = client.post("/api/chat", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "请求内容过大" in r.json()["detail"]

    def chunks():  # no Content-Length: the limit applies to the streamed body too
        for _ in range(20):
            yield b"x" * 8192

    r = client.post("/api/chat", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert services.bot.calls == []


def test_chat_answer_with_citations(env):
    client, services, helpdesk = env
    login(client, "alice")
    r = _chat(client, "  C级谁审？ ")
    assert r.status_code == 200
    data = r.json()
    assert services.bot.calls == [("web:alice", "C级谁审？", "web")]
    assert data["intent"] == "tool_review" and data["escalate"] is False and data["ticket_id"] is None
    [c] = data["citations"]
    assert c["doc_id"] == CITE["doc_id"] and c["section"] == "四（二）" and c["quote"] == CITE["quote"]
    assert c["label"] == "《创B争A通知》四（二）（2024-08-05）" and c["date"] == "2024-08-05"
    assert helpdesk.opened == []
    turns = client.get("/api/history").json()["turns"]
    assert [t["question"] for t in turns] == ["C级谁审？"] and turns[0]["reply"]["citations"][0]["section"] == "四（二）"


def test_escalation_opens_one_ticket_about_the_last_question(env):
    client, _, helpdesk = env
    login(client, "alice")
    _chat(client, "C级谁审？")
    r = _chat(client, "转人工").json()
    assert r["escalate"] is True and r["ticket_id"] == 1
    [t] = helpdesk.opened
    assert (t["channel"], t["user_id"], t["question"]) == ("web", "web:alice", "C级谁审？")
    assert t["answer"].intent == "human"
    assert _chat(client, "转人工").json()["ticket_id"] == 1          # same question: same ticket (the store joins)
    assert [t["question"] for t in helpdesk.opened] == ["C级谁审？", "C级谁审？"]
    r = _chat(client, "不知道").json()                               # the bot abstains: a ticket of its own
    assert r["escalate"] is True and r["ticket_id"] == 2 and helpdesk.opened[2]["question"] == "不知道"


def test_escalation_without_helpdesk_still_answers(tmp_path):
    services = make_services(tmp_path)
    add_user(services, "alice")
    client = TestClient(create_app(services=services))
    login(client, "alice")
    r = _chat(client, "转人工").json()
    assert r["escalate"] is True and r["ticket_id"] is None


def test_inbox_lists_unread_answers_and_history_keeps_them(env):
    from jixiao.adapters.outbox import Outbox

    client, services, _ = env
    login(client, "alice")
    assert client.get("/api/inbox").json()["messages"] == []
    mine = Outbox(services.engine).hold("web", "web:alice", "服务台：C级由区县审核。", "helpdesk:1")
    Outbox(services.engine).hold("web", "web:bob", "不是给 alice 的", "helpdesk:2")
    Outbox(services.engine).hold("wechat", "wechat:alice", "不是网页渠道的", "helpdesk:3")
    for _ in range(2):  # a GET changes nothing
        assert client.get("/api/inbox").json()["messages"] == ["服务台：C级由区县审核。"]
    assert client.post("/api/inbox/read", json={"ids": [mine, mine + 1]}).status_code == 204  # bob's is not hers
    assert client.get("/api/inbox").json()["messages"] == []
    assert Outbox(services.engine).pending("web", "web:bob") == 1
    staff = client.get("/api/history").json()["staff"]  # kept with the conversation, read
    assert [(m["id"], m["text"], m["read"]) for m in staff] == [(mine, "服务台：C级由区县审核。", True)]


def test_clause_endpoint(env):
    client, _, _ = env
    assert client.get("/api/clause", params={"doc_id": "cq-cbza-2024", "section": "四（二）"}).status_code == 401
    login(client, "alice")
    r = client.get("/api/clause", params={"doc_id": CITE["doc_id"], "section": CITE["section"], "quote": CITE["quote"]})
    assert r.status_code == 200
    data = r.json()
    assert data["heading"] == "（二）绩效评级程序" and data["short_title"] == "《创B争A通知》"
    assert normalize(CITE["quote"]) in normalize(data["text"])
    r = client.get("/api/clause", params={"doc_id": "no-such-doc", "section": "一"})
    assert r.status_code == 404 and "找不到" in r.json()["detail"]
    assert client.get("/api/clause", params={"doc_id": "../../etc/passwd", "section": "一"}).status_code == 404


@pytest.mark.parametrize("doc_id, section, quote, heading_starts", [
    ("cq-cbza-2024", "四、（二）", "", "（二）绩效评级程序"),
    ("cq-cbza-2024", "四（一）3.", "非重点行业保障类企业", "3.保障类企业范围"),
    ("cq-cbza-2024-att1", "九", "", "九、减污降碳激励"),
    ("cq-cbza-2024-att3", "附件3 二、审核要求", "其他类型由区县预审核", "二、地方行业标准10个行业"),
    ("kaifeng-2020", "47.实施差异化应急管控", "", "47.实施差异化应急管控"),
])
def test_find_clause_reads_loose_section_names(doc_id, section, quote, heading_starts):
    clause = find_clause(doc_id, section, SOURCES_DIR, quote)
    assert clause is not None and clause.heading.startswith(heading_starts)
    if quote:
        assert normalize(quote) in normalize(clause.text)


def test_find_clause_keeps_only_the_cited_table_rows():
    clause = find_clause("cq-cbza-2024-att3", "附件3 一、国家行业标准39个重点行业 第6项", SOURCES_DIR, "铸件（冲天炉）")
    rows = [line for line in clause.text.splitlines() if line.startswith("|")]
    assert rows[0].startswith("| 序号") and len(rows) == 5       # header, separator, item 6 and its two branches
    assert all("铸造" in r for r in rows[2:])
    assert parse_section("四（一）2") == (["四、", "（一）", "2."], "")
    assert find_clause("cq-cbza-2024", "no such heading", SOURCES_DIR) is None


def test_pages_and_docs(env):
    client, _, _ = env
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    page = client.get("/login")
    assert page.status_code == 200 and "登录" in page.text and "default-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/static/chat.js").status_code == 200
    login(client, "alice")
    chat = client.get("/")
    assert chat.status_code == 200 and 'id="escalate"' in chat.text and "/static/chat.js" in chat.text
    assert "http" not in chat.text.replace("http-equiv", "")          # no CDN or external resource
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["helpdesk"] is True
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/api/chat"]["post"]
    assert "转人工" in op["description"] and {"401", "413", "422"} <= set(op["responses"])
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/static/docs.js" in docs.text
    assert "http" not in docs.text.replace("http-equiv", "")  # no CDN: works on an intranet
    assert client.get("/static/docs.js").status_code == 200
    client.post("/api/logout")
    assert client.get("/openapi.json").status_code == 401
    r = client.get("/docs", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/docs"
    assert client.get("/redoc").status_code == 404


def test_docs_can_be_switched_off(tmp_path):
    services = make_services(tmp_path, api_docs=False)
    add_user(services, "alice")
    client = TestClient(create_app(services=services))
    login(client, "alice")
    assert client.get("/docs").status_code == 404 and client.get("/openapi.json").status_code == 404


def test_every_table_citation_opens_to_text_holding_its_quote():
    """Each loaded basis row of knowledge/tables resolves to a clause whose text contains the quote."""
    import yaml

    from jixiao.settings import Settings

    rows: set[tuple[str, str, str]] = set()

    def walk(x):
        if isinstance(x, dict):
            if "doc_id" in x and "quote" in x and x.get("loaded", True) is not False:
                rows.add((x["doc_id"], str(x.get("section") or ""), x["quote"]))
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    for path in sorted(Settings().tables_dir.glob("*.yaml")):
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert len(rows) > 100
    bad = [(d, s, q) for d, s, q in sorted(rows)
           if not (c := find_clause(d, s, SOURCES_DIR, q)) or normalize(q) not in normalize(c.text)]
    assert bad == []
