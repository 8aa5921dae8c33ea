"""The WeChat channel end to end: the app under uvicorn, WeChat faked on loopback (both directions)."""
from __future__ import annotations

import base64
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from fakes.wechat_server import AppServer, FakeBot, FakeWeChatAPI, WeChatPush
from jixiao.adapters import helpdesk as _helpdesk_tables  # noqa: F401  (declares the ticket tables)
from jixiao.adapters import wechat_jobs as _job_tables  # noqa: F401  (declares the job table)
from jixiao.adapters import wechat_menu as texts
from jixiao.adapters.app import create_app
from jixiao.db import KV, create_all, kv_table, make_engine
from jixiao.adapters.outbox import Outbox, outbox_table
from jixiao.adapters.services import Services
from jixiao.adapters.wechat_inbound import MAX_CLOCK_SKEW, Gate, Rejected
from jixiao.bot.answer import Answer
from jixiao.settings import Settings

pytestmark = pytest.mark.integration

TOKEN, APPID, SECRET = "test-token", "wxfake0001", "fake-secret"
OPENID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"


class Channel:
    """One running app with its fake bot, the fake WeChat API and a pusher."""

    def __init__(self, services: Services, api: FakeWeChatAPI, server: AppServer, push: WeChatPush):
        self.services, self.api, self.server, self.push = services, api, server, push
        self.bot: FakeBot = services.bot

    def say(self, text: str, openid: str = OPENID, msg_id: str | None = None) -> str | None:
        return self.push.reply_text(self.push.post(self.push.text(openid, text, msg_id)))

    def rows(self) -> dict[str, int]:
        with self.services.engine.connect() as conn:
            return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                    for t in (kv_table, outbox_table)}


@pytest.fixture
def channel(tmp_path):
    """Factory: `channel(bot=FakeBot(...), **settings)`; everything is stopped after the test."""
    stack = []

    def start(bot=None, aes_key: str | None = None, **overrides) -> Channel:
        api = FakeWeChatAPI(APPID, SECRET).__enter__()
        stack.append(api)
        values = dict(data_dir=tmp_path / "var", wechat_token=TOKEN, wechat_appid=APPID, wechat_secret=SECRET,
                      wechat_api_base=api.url, wechat_reply_budget=0.5, wechat_aes_key=aes_key)
        settings = Settings(**(values | overrides))
        engine = make_engine(settings.db_url())
        create_all(engine)
        services = Services(settings=settings, engine=engine, kv=KV(engine), bot=bot or FakeBot())
        server = AppServer(create_app(services=services)).__enter__()
        stack.append(server)
        push = WeChatPush(server.url, TOKEN, APPID, aes_key)
        stack.append(push)
        return Channel(services, api, server, push)

    yield start
    for thing in reversed(stack):
        thing.close() if isinstance(thing, WeChatPush) else thing.__exit__(None, None, None)


def utf8(s: str) -> int:
    return len(s.encode("utf-8"))


# ---------------------------------------------------------------- URL check, messages, events

def test_get_returns_echostr_only_for_a_valid_signature(channel):
    ch = channel()
    q = ch.push.query() | {"echostr": "4375120948345356"}
    assert httpx.get(ch.push.url, params=q).text == "4375120948345356"
    forged = ch.push.query(forged=True) | {"echostr": "4375120948345356"}
    resp = httpx.get(ch.push.url, params=forged)
    assert resp.status_code == 403 and "4375120948345356" not in resp.text
    assert ch.rows() == {"kv": 0, "outbox": 0}


def test_text_message_gets_the_assistants_answer_as_passive_reply(channel):
    ch = channel()
    assert ch.say("铸造行业能评几级？") == "答复：铸造行业能评几级？"
    assert ch.bot.calls == [(f"wechat:{OPENID}", "铸造行业能评几级？", "wechat")]
    assert ch.api.messages == []  # nothing through the customer-service API


def test_safe_mode_decrypts_and_encrypts_with_the_app_id(channel):
    aes_key = base64.b64encode(os.urandom(32)).decode()[:-1]
    ch = channel(aes_key=aes_key)
    assert ch.say("汽修申报找谁审？") == "答复：汽修申报找谁审？"
    # forged msg_signature and a message sealed for another app: refused, nothing stored
    before = ch.rows()
    resp = ch.push.post(ch.push.text(OPENID, "伪造"), forge_msg_signature=True)
    assert resp.status_code == 403
    other = WeChatPush(ch.server.url, TOKEN, "wxsomeoneelse", aes_key)
    try:
        assert other.post(other.text(OPENID, "别的公众号")).status_code == 403
    finally:
        other.close()
    assert ch.rows() == before and len(ch.bot.calls) == 1


def test_subscribe_welcomes_with_what_it_can_do(channel):
    ch = channel()
    welcome = ch.push.reply_text(ch.push.post(ch.push.event(OPENID, "subscribe")))
    for topic in ("能评几级", "找谁审", "好处", "自评", "转人工"):
        assert topic in welcome
    assert ch.bot.calls == []
    assert ch.push.reply_text(ch.push.post(ch.push.event(OPENID, "unsubscribe"))) is None


def test_menu_clicks_ask_the_assistant_or_show_a_guide(channel):
    ch = channel()
    for i, (key, click) in enumerate(texts.CLICKS.items()):
        reply = ch.push.reply_text(ch.push.post(ch.push.event(OPENID, "CLICK", key, create_time=1700000000 + i)))
        if click.ask:
            assert reply == f"答复：{click.ask}" and ch.bot.calls[-1][1] == click.ask
        else:
            assert reply == click.guide
    assert len(ch.bot.calls) == sum(1 for c in texts.CLICKS.values() if c.ask)
    assert {b.get("key") for b in texts.MENU["button"]} | {s["key"] for b in texts.MENU["button"]
                                                          for s in b.get("sub_button", [])} >= set(texts.CLICKS)
    assert ch.push.reply_text(ch.push.post(ch.push.event(OPENID, "CLICK", "NO_SUCH_KEY"))) == texts.UNKNOWN_CLICK


def test_other_message_types_get_a_clear_reply(channel):
    ch = channel()
    assert ch.push.reply_text(ch.push.post(ch.push.media(OPENID, "image"))) == texts.UNSUPPORTED
    voice = (f"<xml><ToUserName>{ch.push.account}</ToUserName><FromUserName>{OPENID}</FromUserName><CreateTime>1700000000"
             f"</CreateTime><MsgType>voice</MsgType><MediaId>m</MediaId><Format>amr</Format>"
             f"<Recognition>评上B级有什么好处</Recognition><MsgId>{ch.push.next_msg_id()}</MsgId></xml>")
    assert ch.push.reply_text(ch.push.post(voice)) == "答复：评上B级有什么好处"
    assert [c[1] for c in ch.bot.calls] == ["评上B级有什么好处"]


def test_overlong_text_is_refused_politely_without_the_assistant(channel):
    ch = channel(max_message_chars=20)
    assert ch.say("很长" * 20) == texts.TOO_LONG.format(limit=20)
    assert ch.bot.calls == []


# ---------------------------------------------------------------- rejections write nothing

BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
                  + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
                  + ']><xml><ToUserName>gh</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime>'
                  '<MsgType>text</MsgType><Content>&i;</Content><MsgId>1</MsgId></xml>')
EXTERNAL_ENTITY = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml>'
                   '<ToUserName>gh</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime>'
                   '<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>2</MsgId></xml>')


def _without(xml: str, tag: str) -> str:
    start, end = xml.index(f"<{tag}>"), xml.index(f"</{tag}>") + len(tag) + 3
    return xml[:start] + xml[end:]


@pytest.mark.parametrize("case,status", [
    ("forged", 403), ("stale", 403), ("future", 403), ("stale_safe_mode", 403), ("billion_laughs", 400), ("external_entity", 400), ("not_xml", 400), ("oversized", 413),
    ("no_msgid", 400), ("no_sender", 400), ("no_content", 400), ("encrypted_bomb", 400)])
def test_rejections_touch_no_state(channel, case, status):
    safe = case in ("encrypted_bomb", "stale_safe_mode")
    aes_key = base64.b64encode(os.urandom(32)).decode()[:-1] if safe else None
    ch = channel(aes_key=aes_key)
    good = ch.push.text(OPENID, "铸造行业能评几级？")
    skew = {"stale": -(MAX_CLOCK_SKEW + 30), "stale_safe_mode": -(MAX_CLOCK_SKEW + 30), "future": MAX_CLOCK_SKEW + 30}
    body = {"forged": good, "stale": good, "future": good, "stale_safe_mode": good, "billion_laughs": BILLION_LAUGHS, "external_entity": EXTERNAL_ENTITY,
            "not_xml": "{\"MsgType\": \"text\"}", "oversized": good.replace("铸造", "铸" * 70000),
            "no_msgid": _without(good, "MsgId"), "no_sender": _without(good, "FromUserName"),
            "no_content": _without(good, "Content"), "encrypted_bomb": BILLION_LAUGHS}[case]
    timestamp = int(time.time()) + skew[case] if case in skew else None
    resp = ch.push.post(body, forged=case == "forged", timestamp=timestamp)  # correctly signed unless forged
    assert resp.status_code == status, resp.text
    assert ch.bot.calls == []
    assert ch.rows() == {"kv": 0, "outbox": 0}  # no dedup key, no 48 h window mark, nothing held


def test_timestamp_window_is_checked_both_ways():
    gate, now = Gate("t"), 1_700_000_000
    for stamp in (now, now - MAX_CLOCK_SKEW, now + MAX_CLOCK_SKEW):
        gate.check_fresh({"timestamp": str(stamp)}, now=now)
    for stamp in (str(now - MAX_CLOCK_SKEW - 1), str(now + MAX_CLOCK_SKEW + 1), "", "abc", "-5", "1e9"):
        with pytest.raises(Rejected) as info:
            gate.check_fresh({"timestamp": stamp}, now=now)
        assert info.value.status == 403


def test_retry_with_the_original_timestamp_inside_the_window_is_answered(channel):
    ch = channel()
    sent_at = int(time.time()) - (MAX_CLOCK_SKEW - 60)  # WeChat's retries keep the first try's timestamp
    xml = ch.push.text(OPENID, "评上A级有什么好处？")
    first = ch.push.reply_text(ch.push.post(xml, timestamp=sent_at))
    again = ch.push.reply_text(ch.push.post(xml, timestamp=sent_at))
    assert first == again == "答复：评上A级有什么好处？"
    assert len(ch.bot.calls) == 1


# ---------------------------------------------------------------- WeChat's 5 s rule and retries

def test_retries_run_the_work_once_and_get_the_same_reply(channel):
    ch = channel(bot=FakeBot(delay=0.3), wechat_reply_budget=2.0)
    xml = ch.push.text(OPENID, "评上A级有什么好处？")
    with ThreadPoolExecutor(3) as pool:  # WeChat's three tries, overlapping
        replies = list(pool.map(lambda _: ch.push.reply_text(ch.push.post(xml)), range(3)))
    assert replies == ["答复：评上A级有什么好处？"] * 3
    assert ch.push.reply_text(ch.push.post(xml)) == "答复：评上A级有什么好处？"  # a late duplicate
    assert len(ch.bot.calls) == 1


def test_verified_slow_answer_goes_out_through_customer_service(channel):
    ch = channel(bot=FakeBot(delay=1.2), wechat_account="verified")
    xml = ch.push.text(OPENID, "铸造厂申报找谁审？")
    t0 = time.monotonic()
    assert ch.push.reply_text(ch.push.post(xml)) is None  # "success" inside the budget
    assert time.monotonic() - t0 < 5.0  # inside WeChat's limit; None above: before the answer existed
    assert ch.push.reply_text(ch.push.post(xml)) is None  # WeChat's retry while computing: no second run
    assert ch.api.wait_for_messages(1) == [(OPENID, "答复：铸造厂申报找谁审？")]
    time.sleep(0.2)
    assert len(ch.bot.calls) == 1 and len(ch.api.messages) == 1 and ch.api.token_fetches == 1


def test_verified_answer_outside_48h_window_is_held_for_the_next_message(channel):
    ch = channel(bot=FakeBot(delay=1.0), wechat_account="verified")
    ch.api.out_of_window.add(OPENID)
    assert ch.say("问题一") is None
    deadline = time.monotonic() + 10
    while not Outbox(ch.services.engine).pending("wechat", f"wechat:{OPENID}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ch.api.refused == [(OPENID, 45015)]
    ch.bot.delay = 0.0
    reply = ch.say("问题二")
    assert reply.startswith(texts.HELD_PREFIX + "答复：问题一") and reply.endswith("答复：问题二")


def test_unverified_slow_answer_is_held_and_prepended_to_the_next_reply(channel):
    ch = channel(bot=FakeBot(delay=1.0))
    assert ch.say("问题一") == texts.PENDING
    box = Outbox(ch.services.engine)
    deadline = time.monotonic() + 10
    while not box.pending("wechat", f"wechat:{OPENID}") and time.monotonic() < deadline:
        time.sleep(0.05)
    ch.bot.delay = 0.0
    reply = ch.say("问题二")
    assert reply.startswith(texts.HELD_PREFIX + "答复：问题一") and reply.endswith("答复：问题二")
    assert ch.api.messages == [] and box.pending("wechat", f"wechat:{OPENID}") == 0


# ---------------------------------------------------------------- long answers

LONG = "".join(f"第{i}句：重污染天气重点行业绩效分级的政策说明，按附件3审核要求执行。" for i in range(50))


def test_long_answer_verified_sends_later_parts_through_customer_service(channel):
    ch = channel(bot=FakeBot(script={"长问题": LONG}), wechat_account="verified")
    first = ch.say("长问题")
    assert utf8(first) <= 2048 and LONG.startswith(first)
    rest = ch.api.wait_for_messages(2)
    assert all(openid == OPENID and utf8(text) <= 2048 for openid, text in rest)
    assert first + "".join(text for _, text in rest) == LONG


def test_long_answer_unverified_continues_on_request(channel):
    ch = channel(bot=FakeBot(script={"长问题": LONG}))
    parts = [ch.say("长问题")]
    while parts[-1].endswith(texts.MORE_HINT):
        assert utf8(parts[-1]) <= 2048
        parts.append(ch.say("继续"))
    assert len(parts) == 3
    assert "".join(p.removesuffix("\n" + texts.MORE_HINT) for p in parts) == LONG
    assert [c[1] for c in ch.bot.calls] == ["长问题"]  # "继续" is served from the outbox
    assert ch.api.messages == []


# ---------------------------------------------------------------- escalation

class RecordingHelpdesk:
    def __init__(self):
        self.tickets = []

    def open_ticket(self, channel, user_id, question, answer, history=None) -> int:
        """One ticket per question, like the real store."""
        self.tickets.append((channel, user_id, question, answer.text))
        return 100 + [t[2] for t in self.tickets].index(question) + 1


def test_escalated_answer_opens_one_ticket_and_says_so(channel):
    ch = channel(bot=FakeBot(script={"转人工": Answer("好的，已为您记录转人工请求。", escalate=True, intent="human")}))
    desk = ch.services.extras["helpdesk"] = RecordingHelpdesk()
    assert ch.say("我们厂在万州，审核进度怎么查？") == "答复：我们厂在万州，审核进度怎么查？"
    reply = ch.say("转人工")
    assert reply.endswith(texts.ESCALATED.format(ticket=101))
    assert desk.tickets == [("wechat", f"wechat:{OPENID}", "我们厂在万州，审核进度怎么查？", "好的，已为您记录转人工请求。")]
    assert ch.say("转人工").endswith(texts.ESCALATED.format(ticket=101))
    assert [t[2] for t in desk.tickets] == ["我们厂在万州，审核进度怎么查？"] * 2


ESCALATING = {"转人工": Answer("好的，已为您记录转人工请求。", escalate=True, confidence=1.0, intent="human")}


def _escalate(ch: Channel):
    from jixiao.adapters.helpdesk import Helpdesk

    helpdesk = ch.services.extras["helpdesk"] = Helpdesk(ch.services)
    ch.say("我们厂的审核进度怎么查？")
    reply = ch.say("转人工")
    ticket = int(re.search(r"工单号 (\d+)", reply).group(1))
    assert helpdesk.get(ticket)["question"] == "我们厂的审核进度怎么查？"
    helpdesk.claim(ticket, "staff1")
    return helpdesk, ticket


def test_verified_user_gets_the_staff_answer_through_customer_service(channel):
    ch = channel(bot=FakeBot(script=ESCALATING), wechat_account="verified")
    helpdesk, ticket = _escalate(ch)
    assert helpdesk.answer(ticket, "staff1", "请登录应急管理系统，在“审核进展”中查看。") == "pushed"
    assert ch.api.wait_for_messages(1) == [(OPENID, f"【人工服务答复·工单 {ticket}】您的问题“我们厂的审核进度怎么查？”：\n"
                                                    "请登录应急管理系统，在“审核进展”中查看。")]


def test_unverified_user_gets_the_staff_answer_with_the_next_reply(channel):
    ch = channel(bot=FakeBot(script=ESCALATING))
    helpdesk, ticket = _escalate(ch)
    assert helpdesk.answer(ticket, "staff1", "请登录应急管理系统，在“审核进展”中查看。") == "held"
    reply = ch.say("谢谢")
    assert reply.startswith(f"【人工服务答复·工单 {ticket}】您的问题“我们厂的审核进度怎么查？”：\n请登录应急管理系统")
    assert reply.endswith("答复：谢谢")
    assert ch.api.messages == []


def test_real_assistant_tools_only_answers_with_a_citation(channel):
    from jixiao.bot.cli_ask import build_assistant

    settings = Settings(data_dir=os.environ["JIXIAO_DATA_DIR"])
    bot = build_assistant(settings)
    bot.reply("warm-up", "汽修能评几级？")  # the first turn loads the tables, as a server's start-up would
    ch = channel(bot=bot, wechat_reply_budget=10.0)  # generous: CPU is shared; the fast path is what is tested
    reply = ch.say("铸造行业能评几级？")
    assert "铸造" in reply and "《" in reply and utf8(reply) <= 2048
