"""Scripted self-assessments through the real /wechat endpoint (issue #17 done-when): the app under
uvicorn with the real Dialogue on the one database, WeChat faked on loopback."""
from __future__ import annotations

import os
import re

import pytest

from fakes.wechat_server import AppServer, FakeWeChatAPI, WeChatPush
from jixiao.adapters import wechat_menu as texts
from jixiao.adapters.app import _import_tables, create_app
from jixiao.adapters.services import OrderedReplier, Services
from jixiao.adapters.turn_order import TurnOrder
from jixiao.bot.dialogue import CONTINUE_LINE, build_dialogue
from jixiao.db import KV, create_all, make_engine
from jixiao.settings import Settings

pytestmark = pytest.mark.integration

TOKEN, APPID, SECRET = "test-token", "wxfake0001", "fake-secret"
SHORT = 600


def utf8(s: str) -> int:
    return len(s.encode("utf-8"))


class Chat:
    def __init__(self, services, push: WeChatPush, openid: str):
        self.services, self.push, self.openid = services, push, openid

    def say(self, text: str) -> str:
        return self.push.reply_text(self.push.post(self.push.text(self.openid, text)))

    def play(self, lines: list[str]) -> list[str]:
        return [self.say(line) for line in lines]

    def say_all(self, text: str) -> str:
        """The whole answer of an unverified account: part 1, then 继续 for each held part."""
        parts = [self.say(text)]
        while parts[-1].endswith(texts.MORE_HINT):
            parts[-1] = parts[-1].removesuffix("\n" + texts.MORE_HINT)
            parts.append(self.say("继续"))
        return "".join(parts)


@pytest.fixture
def wechat(tmp_path):
    """Factory: `wechat(openid)` → Chat on one running app with the real Dialogue (tools-only assistant)."""
    api = FakeWeChatAPI(APPID, SECRET).__enter__()
    settings = Settings(data_dir=os.environ["JIXIAO_DATA_DIR"], wechat_token=TOKEN, wechat_appid=APPID,
                        wechat_secret=SECRET, wechat_api_base=api.url, wechat_reply_budget=10.0)
    engine = make_engine(settings.db_url())
    _import_tables()
    create_all(engine)
    bot = OrderedReplier(build_dialogue(settings, engine=engine), TurnOrder(engine))
    bot.reply("warm-up", "汽修能评几级？")  # the first turn loads the tables, as a server's start-up would
    services = Services(settings=settings, engine=engine, kv=KV(engine), bot=bot)
    from jixiao.adapters.helpdesk import Helpdesk
    services.extras["helpdesk"] = Helpdesk(services)
    server = AppServer(create_app(services=services)).__enter__()
    pushes = []

    def make(openid: str) -> Chat:
        push = WeChatPush(server.url, TOKEN, APPID)
        pushes.append(push)
        return Chat(services, push, openid)

    yield make
    for p in pushes:
        p.close()
    server.__exit__(None, None, None)
    api.__exit__(None, None, None)


NO_BARS = ["否", "没有", "不存在"]
PRINTING = ["自评", "包装印刷", "1", "A", *NO_BARS, "已完成", "3", "大概八成五",
            "都做了", "正在改造", "已完成", "部分完成", "已完成", "不清楚", "有的", "是的", "对"]
FOUNDRY_NO_GATE = ["自评", "铸造", "2", "B", *NO_BARS, "1", "1", "已完成", "是", "是", "1", "是",
                   "已完成", "已完成", "已完成", "已完成", "已完成", "没有吧应该", "没有", "没有"]
NO_PACK = ["自评", "汽修", "1", *NO_BARS, *["已完成"] * 9]


def _result(replies: list[str]) -> str:
    final = replies[-1]
    assert final.startswith("【自评结果】"), final
    return final


def test_printing_short_result_then_detail_then_handover(wechat):
    chat = wechat("o_printing")
    final = _result(chat.play(PRINTING))
    assert utf8(final) <= SHORT and "最高可能：B级" in final and "原辅材料" in final  # 85% flexo: B, not A
    assert "详细" in final and "转人工" in final
    detail = chat.say_all("详细")
    assert detail.startswith("【自评结果·完整报告】") and "审核路径" in detail and "需准备的证明材料" in detail
    assert "其余部分" not in detail and detail.rstrip().endswith("转给帮办人员。")  # nothing cut
    human = chat.say("转人工")
    ticket = int(re.search(r"工单号 (\d+)", human).group(1))
    assert "已附上您本次的自评结果" in human and "最高可能B级" in human
    draft = chat.services.extras["helpdesk"].get(ticket)["draft"]
    assert "最高可能B级" in draft and "短板" in draft


def test_foundry_without_gate_control_is_below_b_with_its_source(wechat):
    chat = wechat("o_foundry")
    final = _result(chat.play(FOUNDRY_NO_GATE))
    assert utf8(final) <= SHORT
    assert "最高可能：C级" in final and "门禁" in final and "未达B级要求" in final
    assert "《移动源应急管理技术指南》" in final and "二手资料" in final  # the reason carries its source
    assert final.index("最高可能") < final.index("短板")
    detail = chat.say_all("详细")  # the full report: every row with what it rests on, nothing cut
    assert "其余部分" not in detail and "HJ 1321-2023" in detail and "许昌市生态环境局" in detail


def test_industry_without_pack_says_thresholds_are_not_loaded(wechat):
    chat = wechat("o_local")
    final = _result(chat.play(NO_PACK))
    assert utf8(final) <= SHORT and "暂无法估计" in final and "《地方指南》，本助手未载入" in final
    detail = chat.say_all("详细")
    assert "地方指南" in detail and "不估计等级" in detail


def test_bar_comes_first_and_question_mid_flow_resumes_in_one_step(wechat):
    chat = wechat("o_barred")
    replies = chat.play(["自评", "包装印刷", "1", "A", "否", "没有"])
    assert "自动监测设备" in replies[-1]
    side = chat.say("评上A级有什么好处？")  # a clear question leaves the flow
    assert "惠企" in side and CONTINUE_LINE in side and utf8(side) <= 2048
    back = chat.say("继续")  # one step back into the assessment
    assert "继续上次的自评" in back and "自动监测设备" in back
    rest = chat.play(["有的", "已完成", "3", "我们用的水性油墨，VOCs含量大概5%"])
    assert "看起来是含量" in rest[-1] and "比例" in rest[-1]  # described, understood, asked again: not a new question
    final = _result(chat.play(["全部", *["已完成"] * 6, "有", "有", "有"]))
    assert utf8(final) <= SHORT
    assert final.index("自动监测设备") < final.index("最高可能")  # the bar that blocks applying is first
