"""Helpdesk store on SQLite and a real PostgreSQL: state machine, clocks, merge, delivery, crash safety."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from helpdesk_fixtures import CITATION, FakeDeliverer, make_services
from pg import BACKENDS

from jixiao.adapters.auth import User
from jixiao.adapters.helpdesk import Helpdesk, HelpdeskError, NotAllowed, TicketNotFound, TransitionError
from jixiao.adapters.helpdesk_store import TRANSITIONS, clocks, user_message
from jixiao.adapters.outbox import Outbox
from jixiao.bot.answer import Answer
from jixiao.bot.conversation import ConversationStore

ALICE, BOB = User("alice", "staff"), User("bob", "staff")
ADMIN = User("root", "admin")
DRAFT = Answer("按《创B争A通知》，抽查比例不少于30%。", [dict(CITATION, title="《创B争A通知》")],
               chunks=[{"doc_id": "cq-cbza-2024", "section": "五、", "score": 0.8}], escalate=True,
               confidence=0.3, intent="policy")


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def wechat():
    return FakeDeliverer(True)


@pytest.fixture
def desk(request, backend, tmp_path, wechat):
    return Helpdesk(make_services(request, backend, tmp_path, {"wechat": wechat}))


def state(desk, tid):
    return desk.get(tid)["state"]


def ticket_in(desk, target: str, user: str = "wechat:u1") -> int:
    """A fresh ticket walked into `target` through legal transitions."""
    tid = desk.store.open("wechat", user, f"问题{user}", "草稿", "policy", 0.3, [], [], [], now=0.0)
    steps = {"new": [], "assigned": ["claim"], "answered": ["claim", "answer"],
             "closed": ["claim", "answer", "close"], "reopened": ["claim", "answer", "reopen"]}[target]
    for step in steps:
        {"claim": lambda: desk.claim(tid, ALICE), "answer": lambda: desk.answer(tid, ALICE, "答复"),
         "close": lambda: desk.close(tid, ALICE), "reopen": lambda: desk.reopen(tid, ALICE, "用户追问")}[step]()
    assert state(desk, tid) == target
    return tid


def act(desk, tid, action, staff=ALICE):
    return {"claim": lambda: desk.claim(tid, staff), "answer": lambda: desk.answer(tid, staff, "再次答复"),
            "close": lambda: desk.close(tid, staff), "reopen": lambda: desk.reopen(tid, staff, "原因")}[action]()


def test_every_transition_legal_or_refused(desk):
    legal = {(s, a) for a, (froms, _) in TRANSITIONS.items() for s in froms}
    assert len(legal) == 8
    for n, start in enumerate(("new", "assigned", "answered", "closed", "reopened")):
        for action, (froms, target) in TRANSITIONS.items():
            tid = ticket_in(desk, start, user=f"wechat:{start}-{action}")
            events = len(desk.store.events(tid))
            if (start, action) in legal:
                act(desk, tid, action)
                assert state(desk, tid) == target, (start, action)
                assert desk.store.events(tid)[-1]["action"] == action
            else:
                with pytest.raises(TransitionError) as err:
                    act(desk, tid, action)
                assert state(desk, tid) == start, (start, action)
                assert len(desk.store.events(tid)) == events
                assert str(err.value).startswith(f"工单 {tid}"), str(err.value)


def test_full_path_and_rules(desk, wechat):
    tid = desk.open_ticket("wechat", "wechat:u1", "抽查比例是多少？", DRAFT, history=[])
    with pytest.raises(TransitionError, match="请先认领"):
        desk.answer(tid, ALICE, "答复")
    desk.claim(tid, ALICE)
    with pytest.raises(TransitionError, match="已由 alice 认领"):
        desk.claim(tid, BOB)
    with pytest.raises(TransitionError, match="只有认领人"):
        desk.answer(tid, BOB, "答复")
    assert desk.answer(tid, ALICE, "不少于30%。", [CITATION]) == "pushed"
    assert wechat.calls == [("wechat:u1", user_message(tid, desk.get(tid)["question"], "不少于30%。"))]
    row = desk.get(tid)
    assert (row["state"], row["assignee"], row["delivery"]) == ("answered", "alice", "pushed")
    assert row["answer_citations"][0]["title"] == "《创B争A通知》"
    with pytest.raises(HelpdeskError, match="原因"):
        desk.reopen(tid, BOB, "  ")
    desk.reopen(tid, BOB, "用户说没看懂")
    assert desk.answer(tid, BOB, "补充说明。") == "pushed"  # a reopened ticket can be answered directly
    assert desk.get(tid)["assignee"] == "bob"
    desk.close(tid, BOB)
    assert [e["action"] for e in desk.store.events(tid)] == ["open", "claim", "answer", "reopen", "answer", "close"]
    with pytest.raises(TicketNotFound):
        desk.claim(9999, ALICE)


def test_concurrent_claims_have_one_winner(desk):
    tid = ticket_in(desk, "new")
    wins, errors = [], []
    barrier = threading.Barrier(4)

    def claim(staff):
        barrier.wait()
        try:
            desk.claim(tid, staff)
            wins.append(staff.username)
        except TransitionError:
            errors.append(staff.username)

    threads = [threading.Thread(target=claim, args=(User(f"s{i}", "staff"),)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1 and len(errors) == 3
    assert desk.get(tid)["assignee"] == wins[0]


def test_clocks(desk):
    s = desk.store
    tid = s.open("web", "web:zhang", "问题", "", "", 0.0, [], [], [], now=1000.0)
    s.claim(tid, "alice", now=1060.0)
    assert clocks(s.get(tid), now=1100.0).first_response is None
    assert clocks(s.get(tid), now=1100.0).age == 100.0
    s.answer(tid, "alice", "答复", [], now=1300.0)
    s.close(tid, "alice", now=1900.0)
    c = clocks(s.get(tid))
    assert (c.first_response, c.resolution, c.age) == (300.0, 900.0, 900.0)
    s.reopen(tid, "alice", "追问", now=2000.0)
    assert clocks(s.get(tid), now=2100.0).resolution is None  # the resolution clock runs again
    s.answer(tid, "alice", "再答", [], now=2500.0)
    s.close(tid, "alice", now=3000.0)
    row = s.get(tid)
    assert clocks(row).first_response == 300.0 and clocks(row).resolution == 2000.0
    assert (row["claimed_at"], row["answered_at"], row["reopen_count"]) == (1060.0, 2500.0, 1)


def test_one_open_ticket_per_question_joined_by_every_asker(desk, tmp_path):
    a = desk.open_ticket("wechat", "wechat:u1", "抽查比例是多少？", DRAFT, history=[{"question": "q1", "at": 1}])
    other = Answer("另一个草稿", [{"doc_id": "cq-cbza-2024", "title": "t", "section": "二、", "quote": "100家左右"}],
                   chunks=[{"doc_id": "cq-cbza-2024", "section": "五、", "score": 0.5}])
    # the same question (punctuation and spaces aside) from another user and channel joins the ticket
    assert desk.open_ticket("web", "web:zhang", "抽查比例 是多少?", other, history=[{"question": "q2", "at": 2}]) == a
    row = desk.get(a)
    assert row["question"] == "抽查比例是多少？" and row["draft"] == "另一个草稿"
    assert len(row["evidence"]["citations"]) == 2 and len(row["evidence"]["chunks"]) == 1
    assert [h["question"] for h in row["history"]] == ["q1", "q2"]
    assert [e["action"] for e in desk.store.events(a)] == ["open", "message"]
    desk.claim(a, ALICE)
    assert desk.open_ticket("wechat", "wechat:u1", "抽查比例是多少？", None, history=[]) == a  # asked again
    assert desk.get(a)["draft"] == "另一个草稿"  # no bot answer: the draft stays
    assert desk.open_ticket("wechat", "wechat:u1", "另一个问题", None, history=[]) != a  # a distinct question
    with desk.services.engine.connect() as conn:
        from jixiao.adapters.helpdesk_askers import askers
        assert [(x["channel"], x["user_id"]) for x in askers(conn, a)] == [("wechat", "wechat:u1"), ("web", "web:zhang")]
    assert desk.answer(a, ALICE, "不少于30%。") == "held"  # wechat pushed, web waits in the inbox
    assert len(desk.services.deliverers["wechat"].calls) == 1
    assert Outbox(desk.services.engine).take("web", "web:zhang") == [
        user_message(a, "抽查比例 是多少?", "不少于30%。")]  # every asker gets it, with their own wording
    # after the answer: the same user asking again reopens it; someone else asking gets the reopened one too
    assert desk.open_ticket("wechat", "wechat:u1", "抽查比例是多少？", None, history=[]) == a
    assert state(desk, a) == "reopened"
    assert desk.open_ticket("wechat", "wechat:u9", "抽查比例是多少？", None, history=[]) == a
    desk.answer(a, ALICE, "补充答复")
    desk.close(a, ALICE)
    b = desk.open_ticket("wechat", "wechat:u7", "抽查比例是多少？", None, history=[])  # a newcomer: a new ticket
    assert b != a and state(desk, b) == "new"


def test_simultaneous_escalations_of_one_question_open_one_ticket(desk):
    n = 6
    barrier = threading.Barrier(n, timeout=10)

    def escalate(i):
        barrier.wait()
        return desk.open_ticket("wechat", f"wechat:p{i}", "重污染天气应急减排措施怎么落实？", None, history=[])

    with ThreadPoolExecutor(n) as pool:
        ids = list(pool.map(escalate, range(n)))
    assert len(set(ids)) == 1
    with desk.services.engine.connect() as conn:
        from jixiao.adapters.helpdesk_askers import askers
        assert len(askers(conn, ids[0])) == n


def test_bare_requests_and_assessments_are_not_shared(desk):
    a = desk.open_ticket("wechat", "wechat:u1", "", None, history=[])
    b = desk.open_ticket("wechat", "wechat:u2", "", None, history=[])
    assert a != b
    done = Answer("好的，已转人工。", tools=[{"name": "self_assessment", "args": {}, "result": {
        "found": True, "industry": "铸造", "estimate": "B", "estimate_text": "B级", "short_boards": ["运输"]}}],
        escalate=True, intent="human")
    c = desk.open_ticket("wechat", "wechat:u3", "1", done, history=[])
    row = desk.get(c)
    assert row["question"] == "企业自评结果人工复核：铸造，自评预估 B级"
    assert row["evidence"]["assessment"]["estimate_text"] == "B级"


def test_history_read_from_conversation_store(desk):
    store = ConversationStore(desk.services.engine)  # the one database: no conversations.db of its own
    store.record("web:li", "web", "铸造能评几级？", "tool_tiers", [], [], "A/B/C/D", 5, False)
    store.record("web:li", "web", "找谁审？", "policy", [], [], "不确定", 5, True)
    store.record("web:other", "web", "别人", "policy", [], [], "x", 5, False)
    store.close()
    tid = desk.open_ticket("web", "web:li", "找谁审？", DRAFT)
    assert [h["question"] for h in desk.get(tid)["history"]] == ["铸造能评几级？", "找谁审？"]


@pytest.mark.parametrize("mode,expected", [(True, "pushed"), (False, "held"), ("raise", "held")])
def test_answer_delivery(desk, wechat, mode, expected, caplog):
    wechat.mode = mode
    tid = ticket_in(desk, "assigned")
    assert desk.answer(tid, ALICE, "您好，答复如下。") == expected
    assert len(wechat.calls) == 1
    assert desk.get(tid)["delivery"] == expected
    box = Outbox(desk.services.engine)
    assert box.pending("wechat", "wechat:u1") == (0 if expected == "pushed" else 1)
    if mode == "raise":
        assert "outbox push failed" in caplog.text
    sent = user_message(tid, desk.get(tid)["question"], "您好，答复如下。")
    assert box.take("wechat", "wechat:u1") == ([] if expected == "pushed" else [sent])
    assert box.take("wechat", "wechat:u1") == []


def test_web_answers_go_to_the_inbox(desk):
    tid = desk.open_ticket("web", "web:zhang", "问题", DRAFT, history=[])
    desk.claim(tid, ALICE)
    assert desk.answer(tid, ALICE, "网页答复") == "held"  # no web deliverer: the inbox is the outbox
    assert Outbox(desk.services.engine).take("web", "web:zhang") == ["【人工服务答复·工单 %d】您的问题“问题”：\n网页答复" % tid]


def test_failure_mid_answer_changes_nothing_and_retry_delivers_once(desk, wechat, monkeypatch):
    tid = ticket_in(desk, "assigned")
    before = desk.get(tid)

    def broken_hold(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(desk.outbox, "hold", broken_hold)
    with pytest.raises(RuntimeError):
        desk.answer(tid, ALICE, "答复")
    assert desk.get(tid) == before  # the ticket UPDATE and its event were rolled back
    assert [e["action"] for e in desk.store.events(tid)] == ["open", "claim"]
    assert wechat.calls == [] and Outbox(desk.services.engine).pending("wechat", "wechat:u1") == 0
    monkeypatch.undo()
    assert desk.answer(tid, ALICE, "答复") == "pushed"
    with pytest.raises(TransitionError):
        desk.answer(tid, ALICE, "答复")
    assert wechat.calls == [("wechat:u1", user_message(tid, desk.get(tid)["question"], "答复"))]
    assert Outbox(desk.services.engine).take("wechat", "wechat:u1") == []


def test_citations_are_checked(desk):
    tid = ticket_in(desk, "assigned")
    with pytest.raises(HelpdeskError, match="不在资料库"):
        desk.answer(tid, ALICE, "答复", [{"doc_id": "nope", "section": "", "quote": "x"}])
    with pytest.raises(HelpdeskError, match="未在"):
        desk.answer(tid, ALICE, "答复", [dict(CITATION, quote="抽查比例不少于50%")])
    with pytest.raises(HelpdeskError, match="不能为空"):
        desk.answer(tid, ALICE, "   ")
    with pytest.raises(HelpdeskError, match="过长"):
        desk.answer(tid, ALICE, "长" * 5001)
    assert state(desk, tid) == "assigned"


def test_curated_propose_approve_lookup(desk):
    tid = desk.open_ticket("wechat", "wechat:u1", "已评级的企业抽查比例定的多少？", DRAFT, history=[])
    with pytest.raises(TransitionError, match="还没有人工答复"):
        desk.propose_curated(tid, ALICE)
    desk.claim(tid, ALICE)
    desk.answer(tid, ALICE, "区县对本辖区已评级企业的抽查比例不少于30%。", [CITATION])
    cid = desk.propose_curated(tid, ALICE)
    with pytest.raises(TransitionError, match="已提议"):
        desk.propose_curated(tid, ALICE)
    assert desk.curated.lookup("已评级企业的抽查比例是多少") is None  # proposed only
    with pytest.raises(NotAllowed):
        desk.approve_curated(cid, ALICE)
    desk.approve_curated(cid, ADMIN)
    with pytest.raises(TransitionError):
        desk.approve_curated(cid, ADMIN)
    with pytest.raises(TicketNotFound):
        desk.approve_curated(cid + 100, ADMIN)
    hit = desk.curated.lookup("请问，已评级企业的抽查比例是多少呢")
    assert hit is not None and (hit.intent, hit.confidence, hit.escalate) == ("curated", 1.0, False)
    assert hit.text.startswith("区县对本辖区已评级企业的抽查比例不少于30%。")
    assert hit.citations[0]["quote"] == "抽查比例不少于30%" and hit.citations[0]["section"] == "五、"
    assert desk.curated.lookup("B级企业抽查比例是多少？") is None  # names a grade the approved one does not
    assert desk.curated.lookup("已评级企业整改期间按什么管理？") is None
    entry = desk.curated.get(cid)
    assert (entry["state"], entry["approved_by"], entry["proposed_by"]) == ("approved", "root", "alice")


def test_evidence_citations_are_accepted_as_the_assistant_gave_them(desk):
    outline = {"doc_id": "cq-cbza-2024-att5", "title": "《申报材料大纲》", "section": "", "quote": "一、…；二、…"}
    tid = desk.open_ticket("web", "web:li", "材料大纲有哪些部分？", Answer("草稿", [outline]), history=[])
    desk.claim(tid, ALICE)
    with pytest.raises(HelpdeskError, match="未在"):  # the same quote typed by staff for another section
        desk.answer(tid, ALICE, "答复", [dict(outline, section="一、")])
    desk.answer(tid, ALICE, "答复", [outline])
    assert desk.get(tid)["answer_citations"] == [outline]
