"""WeChat delivery under faults: customer-service timeouts, 45015/45047/500/40001, paging on request only.

The app runs under uvicorn with WeChat's API faked on loopback (`FakeWeChatAPI.fail_next`). Every test checks
both sides: what WeChat received (never twice) and what our database says (the true state).
"""
from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy import select

from fakes.wechat_server import FakeBot
from jixiao.adapters import wechat_menu as texts
from jixiao.adapters.outbox import Outbox
from jixiao.adapters.wechat_jobs import jobs_table
from test_wechat import LONG, OPENID, channel, utf8  # noqa: F401  (fixture)

pytestmark = pytest.mark.integration


def _fast(ch):
    """Short retry delays and client timeout so the slow paths take a second, not a minute."""
    desk = ch.services.extras["wechat"]
    desk.cs.delays = (0.05, 0.1, 0.2)
    desk.client.http.timeout = httpx.Timeout(0.5)
    ch.api.hang = 1.5
    return desk


def _job_states(ch) -> list[str]:
    with ch.services.engine.connect() as conn:
        return [r.state for r in conn.execute(select(jobs_table.c.state).order_by(jobs_table.c.id))]


def _wait(cond, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _late_question(ch, text="铸造厂申报找谁审？"):
    """Ask with a slow bot: the answer is due by customer-service message."""
    ch.say("你好")  # the window mark; answered passively
    _fast(ch)
    ch.bot.delay = 0.8
    assert ch.say(text) is None


@pytest.mark.parametrize("faults", [("http500", "http500"), (-1,), (45047,), (40001,)])
def test_retryable_errors_are_retried_and_delivered_once(channel, faults):  # noqa: F811
    ch = channel(bot=FakeBot(), wechat_account="verified")
    ch.api.fail_next(*faults)
    _late_question(ch)
    msgs = ch.api.wait_for_messages(1)
    _wait(lambda: _job_states(ch)[-1] == "delivered")
    time.sleep(0.3)
    assert ch.api.messages == msgs == [(OPENID, "答复：铸造厂申报找谁审？")]
    assert ch.api.send_attempts == len(faults) + 1


def test_persistent_45047_is_held_after_the_retries_not_lost(channel):  # noqa: F811
    ch = channel(bot=FakeBot(), wechat_account="verified")
    ch.api.fail_next(*[45047] * 10)
    _late_question(ch)
    _wait(lambda: _job_states(ch)[-1] == "held")
    assert ch.api.messages == [] and ch.api.send_attempts == 4  # first try + 3 retries
    ch.api.faults.clear()
    ch.bot.delay = 0
    reply = ch.say("问题二")
    assert reply.startswith(texts.HELD_PREFIX + "答复：铸造厂申报找谁审？") and reply.endswith("答复：问题二")


def test_45015_is_held_at_once_without_retries(channel):  # noqa: F811
    ch = channel(bot=FakeBot(), wechat_account="verified")
    ch.api.fail_next(45015)
    _late_question(ch)
    _wait(lambda: _job_states(ch)[-1] == "held")
    assert ch.api.send_attempts == 1 and ch.services.kv.get(f"wechat:seen:{OPENID}") is None


def test_timeout_is_recorded_as_unknown_and_never_resent(channel):  # noqa: F811
    ch = channel(bot=FakeBot(), wechat_account="verified")
    ch.api.fail_next("timeout")
    _late_question(ch)
    _wait(lambda: _job_states(ch)[-1] == "unknown")
    time.sleep(1.5)  # the fake's late answer came; nothing retried
    assert ch.api.messages == [(OPENID, "答复：铸造厂申报找谁审？")] and ch.api.send_attempts == 1
    assert Outbox(ch.services.engine).pending("wechat", f"wechat:{OPENID}") == 0  # not held either: no duplicate


def test_a_retry_of_an_answered_job_gets_the_answer(channel):  # noqa: F811
    """The first arrival's reply was lost (e.g. the process died after answering): WeChat's retry gets it."""
    ch = channel(bot=FakeBot())
    xml = ch.push.text(OPENID, "问题甲")
    import re

    from jixiao.adapters.wechat_jobs import JobStore

    jobs = JobStore(ch.services.engine)
    job_id, _ = jobs.accept("wechat:msg:" + re.search(r"<MsgId>(\d+)</MsgId>", xml).group(1), OPENID, "问题甲")
    assert jobs.move(job_id, "accepted", "answered", answer="答复：问题甲")
    assert ch.push.reply_text(ch.push.post(xml)) == "答复：问题甲"
    assert ch.push.reply_text(ch.push.post(xml)) == "答复：问题甲"  # the same again, never re-run
    assert ch.bot.calls == [] and _job_states(ch) == ["replied"]


def test_long_answer_tail_waits_for_continue_and_a_new_question_stands_alone(channel):  # noqa: F811
    ch = channel(bot=FakeBot(script={"长问题": LONG}))
    first = ch.say("长问题")
    assert first.endswith(texts.MORE_HINT)
    assert ch.say("排污许可证怎么注销") == "答复：排污许可证怎么注销"  # answered on its own
    assert ch.say("继续") == "答复：继续"  # the old tail is gone: 继续 goes to the assistant
    ch.say("长问题")
    second = ch.say("继续")
    assert second and not second.startswith(texts.HELD_PREFIX) and LONG.find(second[:20]) > 0


def test_menu_click_after_a_long_answer_is_answered_on_its_own(channel):  # noqa: F811
    ch = channel(bot=FakeBot(script={"长问题": LONG}))
    assert ch.say("长问题").endswith(texts.MORE_HINT)
    reply = ch.push.reply_text(ch.push.post(ch.push.event(OPENID, "CLICK", texts.KEY_RATING)))
    assert reply == texts.CLICKS[texts.KEY_RATING].guide


def test_verified_long_answer_parts_arrive_in_order_after_a_500(channel):  # noqa: F811
    ch = channel(bot=FakeBot(script={"长问题": LONG}), wechat_account="verified")
    ch.say("你好")
    _fast(ch)
    ch.api.fail_next("http500")
    first = ch.say("长问题")
    rest = ch.api.wait_for_messages(2)
    assert first + "".join(t for _, t in rest) == LONG and all(utf8(t) <= 2048 for _, t in rest)


def _ticket_for(ch, question="我们厂的审核进度怎么查？"):
    from jixiao.adapters.helpdesk import Helpdesk

    helpdesk = ch.services.extras.setdefault("helpdesk", Helpdesk(ch.services))
    ch.say("你好")  # inside the 48 h window
    tid = helpdesk.open_ticket("wechat", f"wechat:{OPENID}", question, None, history=[])
    helpdesk.claim(tid, "staff1")
    return helpdesk, tid


def test_staff_answer_timeout_is_unknown_not_resent_and_the_console_says_so(channel):  # noqa: F811
    from jixiao.adapters.helpdesk_api import _detail

    ch = channel(bot=FakeBot(), wechat_account="verified")
    helpdesk, tid = _ticket_for(ch)
    _fast(ch)
    ch.api.fail_next("timeout")
    assert helpdesk.answer(tid, "staff1", "请登录应急管理系统查看。") == "unknown"
    detail = _detail(helpdesk, tid)
    assert detail["delivery"] == "unknown" and detail["askers"][0]["delivery"] == "unknown"
    assert "未重发" in detail["delivery_label"]
    time.sleep(1.5)
    assert len(ch.api.messages) == 1  # WeChat got it once; we did not send it again …
    assert "请登录应急管理系统" not in (ch.say("谢谢") or "")  # … nor hold it for the next message


@pytest.mark.parametrize("faults,expected,attempts", [(("http500", 45047), "pushed", 3), ((45015,), "held", 1),
                                                      ((40001,), "pushed", 2)])
def test_staff_answer_faults_end_in_the_true_state(channel, faults, expected, attempts):  # noqa: F811
    ch = channel(bot=FakeBot(), wechat_account="verified")
    helpdesk, tid = _ticket_for(ch)
    _fast(ch)
    ch.api.fail_next(*faults)
    assert helpdesk.answer(tid, "staff1", "答复内容。") == expected
    assert ch.api.send_attempts == attempts and len(ch.api.messages) == (expected == "pushed")
    if expected == "held":  # given with the user's next message, once
        assert ch.say("谢谢").startswith(f"【人工服务答复·工单 {tid}】")
        assert "答复内容" not in ch.say("再问一句")


def test_finished_jobs_are_purged_open_ones_kept(channel):  # noqa: F811
    ch = channel(bot=FakeBot())
    ch.say("问题")
    jobs = ch.services.extras["wechat"].jobs
    job_id, _ = jobs.accept("wechat:msg:open-one", OPENID)
    assert jobs.purge(time.time() + 1) == 1  # the replied one
    assert jobs.get(job_id)["state"] == "accepted"


def test_verified_parts_refused_are_held_for_the_next_message_not_lost(channel):  # noqa: F811
    ch = channel(bot=FakeBot(script={"长问题": LONG}), wechat_account="verified")
    ch.say("你好")
    _fast(ch)
    ch.api.fail_next(45015)
    first = ch.say("长问题")
    box = Outbox(ch.services.engine)
    _wait(lambda: ch.api.send_attempts >= 1 and box.pending("wechat", f"wechat:{OPENID}") == 1)
    nxt = ch.say("下一个问题")  # no "继续" needed: a verified user was never told to send it
    def got():  # the rest, in order, once
        return (first + nxt + "".join(t for _, t in ch.api.messages)).replace("\n\n", "")
    _wait(lambda: len(got()) >= len(LONG + "答复：下一个问题"))
    time.sleep(0.3)
    assert got() == LONG + "答复：下一个问题"
