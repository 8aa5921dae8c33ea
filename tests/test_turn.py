"""The assistant turn: understanding, follow-ups, tools, extractive policy answers, abstention, storage."""
from __future__ import annotations

import re
import sqlite3

import pytest

from jixiao.bot.answer import TRUNCATION_NOTE, split_for_wechat
from jixiao.bot.conversation import ConversationStore
from jixiao.bot.turn import Assistant, FakeHit, FakePassageSearch, PassageSearch
from jixiao.bot.understand import understand

HITS = [
    FakeHit("cq-cbza-2024", "创B争A通知", "三、（一）", "企业每年只能申报一次。申报材料弄虚作假的，直接评为最低等级。", 0.82),
    FakeHit("liaocheng-2020", "聊城绩效分级方案", "三（一）", "聊城：申报材料弄虚作假的企业，直接评为D级。", 0.75),
]


@pytest.fixture
def search() -> FakePassageSearch:
    return FakePassageSearch(HITS)


@pytest.fixture
def bot(tmp_path, search) -> Assistant:
    return Assistant(search, tmp_path / "turns.db")


# ---------------------------------------------------------------- understanding

@pytest.mark.parametrize("text, intent, industry, grade", [
    ("我们是做铸件的，能评几级？", "tool_tiers", "铸造", None),
    ("马桶厂能评A级吗？", "tool_tiers", "陶瓷", "A"),
    ("评上B级有什么好处？", "tool_incentives", None, "B"),
    ("申报找谁审？", "tool_review", None, None),
    ("汽修绩效引领谁审", "tool_review", "汽修行业", "绩效引领"),
    ("电子厂评地方A谁审", "tool_review", "电子工业", "地方A"),
    ("VOCs治理有什么要求", "policy", None, None),
    ("转人工", "human", None, None),
])
def test_intents_and_entities(text, intent, industry, grade):
    u = understand(text)
    assert (u.intent, u.industry, u.grade) == (intent, industry, grade)
    assert u.region == "重庆"


@pytest.mark.parametrize("text, flag", [
    ("我们公司的申报审到哪了", "case_status"),
    ("今天重庆是不是黄色预警", "live_data"),
    ("专项补助资金具体能给多少钱？", "specific_amount"),
    ("铸造行业颗粒物排放限值多少mg/m³才能评A", "not_loaded"),
])
def test_personal_and_live_questions_escalate(text, flag):
    u = understand(text)
    assert flag in u.personal and u.escalate


@pytest.mark.parametrize("text, region", [("聊城那边也是这样吗？", "聊城"), ("四川的企业绩效评级是在哪个系统上申报", "四川"),
                                          ("北京的重污染天气绩效分级有什么不同", "北京"), ("成渝联建联治方案说了什么", "重庆")])
def test_region(text, region):
    assert understand(text).region == region


def test_followup_replaces_grade_then_industry():
    first = understand("汽修B级由谁审？")
    second = understand("那C级的呢？", first)
    assert second.followup and second.intent == "tool_review"
    assert (second.industry, second.grade) == ("汽修行业", "C")
    third = understand("那铸造呢？", second)
    assert (third.intent, third.industry, third.grade) == ("tool_review", "铸造", "C")


def test_followup_keeps_previous_question_for_search():
    first = understand("申报材料造假会怎么样")
    second = understand("聊城那边也是这样吗？", first)
    assert second.intent == "policy" and second.region == "聊城"
    assert "造假" in second.query


# ---------------------------------------------------------------- turns

def test_tiers_tool_with_citation(bot):
    a = bot.reply("u1", "我们是做铸件的，能评几级？")
    assert [t["name"] for t in a.tools] == ["tier_scheme", "resolve_industry"]  # 铸件 was read as 铸造: on record
    assert a.tools[0]["args"]["industry"] == "铸造" and a.tools[0]["result"]["found"]
    assert not a.escalate
    assert {c["doc_id"] for c in a.citations} >= {"cq-cbza-2024-att3"}
    assert "《行业清单审核要求》" in a.text and "（2024-08-05）" in a.text


def test_incentives_and_review_tools(bot):
    a = bot.reply("u1", "评上B级有什么好处？")
    assert a.tools[0]["name"] == "incentives" and a.tools[0]["args"]["grade"] == "B"
    assert any(c["doc_id"].startswith("cq-cbza-2024") for c in a.citations)
    b = bot.reply("u2", "汽修绩效引领谁审")
    assert b.tools[0]["name"] == "review_route" and b.tools[0]["result"]["found"]
    assert b.tools[0]["args"]["industry"] == "汽修行业"


def test_followup_turn_uses_previous_industry(bot):
    bot.reply("u1", "汽修B级由谁审？")
    a = bot.reply("u1", "那C级的呢？")
    assert a.tools[0]["name"] == "review_route"
    # 汽修 has no C: the letter is mapped to the tier it stands for, and the answer says so (ANSWERS.md a193)
    assert a.tools[0]["args"]["industry"] == "汽修行业" and a.tools[0]["args"]["grade"] == "地方非绩效引领"
    assert a.tools[0]["result"]["found"] and "C级对应" in a.text


def test_case_status_abstains(bot, search):
    a = bot.reply("u1", "我们公司的申报审到哪了")
    assert a.escalate and "转人工" in a.text and not a.tools
    assert search.calls == []  # never answered from passages


def test_other_region_abstains_for_chongqing_tools(bot):
    a = bot.reply("u1", "北京的重污染天气绩效分级有什么不同")
    assert a.escalate and not a.tools


def test_policy_answer_is_extractive_and_cited(bot):
    a = bot.reply("u1", "每年可以申报几回？")
    assert not a.escalate and a.citations
    for c in a.citations:
        assert c["quote"] in HITS[0].text + HITS[1].text  # every sentence is a quote
    assert "《创B争A通知》" in a.text and a.chunks


def test_liaocheng_followup_searches_liaocheng_only(bot, search):
    bot.reply("u1", "申报材料造假会怎么样")
    a = bot.reply("u1", "聊城那边也是这样吗？")
    assert search.calls[-1][2] == {"jurisdiction": "聊城"}
    assert "聊城" in a.text and {c["doc_id"] for c in a.citations} == {"liaocheng-2020"}


def test_low_score_or_no_hits_abstains(tmp_path):
    weak = Assistant(FakePassageSearch([FakeHit("cq-cbza-2024", "通知", "一、", "申报一次。", 0.05)]), tmp_path / "a.db")
    assert weak.reply("u", "每年可以申报几回？").escalate
    empty = Assistant(FakePassageSearch([]), tmp_path / "b.db")
    assert empty.reply("u", "抽查比例是多少").escalate
    none = Assistant(None, tmp_path / "c.db")
    assert none.reply("u", "抽查比例是多少").escalate


@pytest.mark.parametrize("text", ["", "   ", "🙂🙂🙂", "铸造" * 5000, "ＡＢＣ级？？" + "字" * 9990])
def test_odd_inputs_reply_without_exception(bot, text):
    a = bot.reply("u1", text)
    assert isinstance(a.text, str) and a.text


def test_empty_input_asks_for_a_question(bot):
    a = bot.reply("u1", "")
    assert a.intent == "empty" and not a.escalate and "问题" in a.text


def test_fake_satisfies_protocol(search):
    s: PassageSearch = search
    assert s.search("申报", 3, None)


# ---------------------------------------------------------------- storage

def test_every_turn_is_stored(tmp_path, search):
    path = tmp_path / "turns.db"
    bot = Assistant(search, path)
    bot.reply("u1", "铸造厂能评几级", channel="wechat")
    bot.reply("u1", "我们公司的申报审到哪了")
    rows = bot.store.recent("u1")
    assert [r.intent for r in rows] == ["policy", "tool_tiers"]
    assert rows[1].channel == "wechat" and rows[1].tools[0]["name"] == "tier_scheme"
    assert rows[0].escalate and rows[0].latency_ms >= 0
    with sqlite3.connect(path) as conn:  # committed: visible to another connection
        assert conn.execute("SELECT count(*) FROM turns").fetchone()[0] == 2
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_failed_write_leaves_committed_rows(tmp_path):
    store = ConversationStore(tmp_path / "s.db")
    store.record("u", "cli", "q1", "policy", [], [], "a1", 1, False)
    with pytest.raises(Exception):
        store.record("u", "cli", "q2", "policy", [], [], None, 1, False)  # NOT NULL answer fails
    assert [t.question for t in store.recent("u")] == ["q1"]


# ---------------------------------------------------------------- WeChat

def test_split_for_wechat_short_text_is_one_part():
    assert split_for_wechat("铸造分A、B、C、D四级。") == ["铸造分A、B、C、D四级。"]


def test_split_for_wechat_breaks_on_sentence_ends():
    text = "".join(f"第{i}句，说明绩效分级的一项规定。" for i in range(120))
    parts = split_for_wechat(text)
    assert 1 < len(parts) <= 3
    assert all(len(p.encode("utf-8")) <= 2048 for p in parts)
    assert all(p.endswith("。") for p in parts)
    assert "".join(parts) == text


def test_split_for_wechat_truncates_to_three_parts_with_note():
    text = "这是一句很长的政策说明。" * 1000 + "\n一句没有标点的超长文本" * 200
    parts = split_for_wechat(text)
    assert len(parts) == 3
    assert all(len(p.encode("utf-8")) <= 2048 for p in parts)
    assert parts[-1].endswith(TRUNCATION_NOTE)


def test_split_for_wechat_cuts_unpunctuated_text():
    parts = split_for_wechat("字" * 1500)
    assert all(len(p.encode("utf-8")) <= 2048 for p in parts) and len(parts) == 3


def test_policy_prefers_chongqing_and_labels_other_jurisdictions(tmp_path):
    from jixiao.bot.turn import Assistant, FakeHit, FakePassageSearch

    liaocheng = FakeHit("liaocheng-2020", "聊城绩效分级方案", "三（一）", "聊城：申报材料弄虚作假的企业，直接评为D级。", 0.75)
    chongqing = FakeHit("cq-cbza-2024", "创B争A通知", "五、", "申报材料弄虚作假的，直接评定为最低等级。", 0.7)
    both = Assistant(FakePassageSearch([liaocheng, chongqing]), tmp_path / "c.db").reply("u", "申报材料弄虚作假会怎样")
    assert [c["doc_id"] for c in both.citations] == ["cq-cbza-2024"]
    only_other = Assistant(FakePassageSearch([liaocheng]), tmp_path / "d.db").reply("u", "申报材料弄虚作假会怎样")
    assert [c["doc_id"] for c in only_other.citations] == ["liaocheng-2020"]
    assert "不适用于重庆" in only_other.text and not only_other.escalate


# ---------------------------------------------------------------- robustness

NOISE = "铸造厂能评几级？@#$%^&*()АБВГД αβγ 😀😀 ｆｕｌｌｗｉｄｔｈ"


@pytest.mark.parametrize("text", [
    None, b"\xe9\x93\xb8\xe9\x80\xa0\xe5\x8e\x82\xff", 12345, "\x00\x01\x02\x1b[31m", "\u200b\u200b\u200b",
    "？？？！！！", "a" * 10000, "请问" + "每年可以申报几回？" * 1250, "\ud800坏的代理字符", "\n\n\t",
])
def test_bad_input_gives_a_chinese_reply_never_a_traceback(bot, text):
    a = bot.reply("u1", text)
    assert isinstance(a.text, str) and a.text.strip()
    assert re.search(r"[\u4e00-\u9fff]", a.text) and "Traceback" not in a.text
    assert a.intent != "error"


def test_control_characters_and_noise_do_not_hide_the_question(bot):
    a = bot.reply("u1", "铸造\x00厂能\x1b评几级\u200b？")
    assert a.tools and a.tools[0]["name"] == "tier_scheme" and a.tools[0]["args"]["industry"] == "铸造"
    b = bot.reply("u2", NOISE)
    assert b.tools and b.tools[0]["args"]["industry"] == "铸造"


def test_long_message_is_answered_from_its_start_and_says_so(bot):
    a = bot.reply("u1", "马桶厂能评A级吗？" + "补充说明" * 2500)
    assert len("马桶厂能评A级吗？" + "补充说明" * 2500) == 10009
    assert a.text.startswith("您的消息较长") and a.tools[0]["name"] == "tier_scheme"


def test_stored_question_for_non_text_input(tmp_path, search):
    bot = Assistant(search, tmp_path / "s.db")
    bot.reply("u", b"\xe9\x93\xb8\xe9\x80\xa0\xe5\x8e\x82\xe8\x83\xbd\xe8\xaf\x84\xe5\x87\xa0\xe7\xba\xa7")
    assert bot.store.recent("u")[0].question == "铸造厂能评几级"
