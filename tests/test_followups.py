"""Multi-turn conversations as WeChat users have them: grade and industry switches, a tool switch that keeps
the industry, a standalone question that must not inherit, elliptical and deictic follow-ups, and the line
between "can a grade jump" (a question) and "can we make it" (a self-assessment)."""
from __future__ import annotations

import pytest

from jixiao.bot.assess import AssessmentEngine
from jixiao.bot.dialogue import Dialogue
from jixiao.bot.turn import Assistant, FakeHit, FakePassageSearch
from jixiao.bot.understand import understand

HITS = [
    FakeHit("cq-cbza-2024", "创B争A通知", "五、三是",
            "各区县生态环境局组织对全年本辖区已评级企业进行抽查，抽查比例不少于30%。抽查发现企业不满足绩效指标的，"
            "责令企业限期整改。整改期间企业按照最低级管理，整改期满后企业提交整改报告和复核申请。", 0.8),
    FakeHit("cq-cbza-2024", "创B争A通知", "五、二是", "存在隐瞒或提供虚假材料行为的，直接评定为最低等级。", 0.7),
    FakeHit("cq-cbza-2024-att4", "应急管理系统操作说明", "附件4 二、",
            "企业只能在规定时间内申报，且一年只能申报一次。审核不通过可以退回重新提交申报材料。", 0.7),
]


@pytest.fixture
def search() -> FakePassageSearch:
    return FakePassageSearch(HITS)


@pytest.fixture
def bot(tmp_path, search) -> Assistant:
    return Assistant(search, tmp_path / "turns.db")


def talk(bot: Assistant, *turns: str, user: str = "wx:1"):
    return [bot.reply(user, t) for t in turns]


def tool(answer, name: str) -> dict:
    calls = [t for t in answer.tools if t["name"] == name]
    assert calls, f"{name} not called; tools: {[t['name'] for t in answer.tools]}, intent {answer.intent}"
    return calls[-1]


def route_ids(call: dict) -> set[str]:
    return {r["route_id"] for r in call["result"]["routes"]}


# ---------------------------------------------------------------- grade switches

@pytest.mark.parametrize("second, grade", [("换成A级呢？", "A"), ("C级呢", "C"), ("如果是B-呢", "B-")])
def test_grade_switch_after_incentives(bot, second, grade):
    _, answer = talk(bot, "评上B级有什么好处？", second)
    assert tool(answer, "incentives")["args"]["grade"] == grade


def test_grade_switch_after_review_keeps_industry_and_changes_authority(bot):
    first, second = talk(bot, "铸造C级找谁审", "那A级的呢")
    assert route_ids(tool(first, "review_route")) == {"national-other"}  # 区县审核
    call = tool(second, "review_route")
    assert call["args"]["industry"] == "铸造" and call["args"]["grade"] == "A"
    assert route_ids(call) == {"national-high"} and "市级集中审查" in second.text


def test_local_delegated_b_then_a_goes_to_city_meeting(bot):
    first, second = talk(bot, "通用行业地方B级由谁审", "那地方A呢")
    assert route_ids(tool(first, "review_route")) == {"local-delegated"}
    call = tool(second, "review_route")
    assert call["args"]["industry"] == "通用行业" and route_ids(call) == {"local-other"}


def test_letter_grade_switch_for_an_industry_without_letters(bot):
    _, answer = talk(bot, "汽修厂能评几级", "那C级谁审")
    call = tool(answer, "review_route")
    assert call["args"]["industry"] == "汽修行业" and call["args"]["grade"] == "地方非绩效引领"


# ---------------------------------------------------------------- industry switches

@pytest.mark.parametrize("second, industry", [("那汽修呢", "汽修行业"), ("印刷厂呢", "包装印刷"),
                                              ("如果是电镀厂呢", "金属表面处理及热处理加工")])
def test_industry_switch_after_tiers(bot, second, industry):
    _, answer = talk(bot, "铸造能评几级", second)
    assert tool(answer, "tier_scheme")["args"]["industry"] == industry


def test_industry_switch_after_review_keeps_the_grade(bot):
    _, answer = talk(bot, "印刷厂B级由谁审", "那汽修呢")
    call = tool(answer, "review_route")
    assert call["args"]["industry"] == "汽修行业" and call["args"]["grade"] == "地方绩效引领"


# ---------------------------------------------------------------- tool switches keeping the industry

@pytest.mark.parametrize("second", ["那审核在市里还是区县？", "申报找谁", "那谁审"])
def test_tool_switch_to_review_keeps_the_industry(bot, second):
    _, answer = talk(bot, "我们是做铸件的能评几级", second)
    assert tool(answer, "review_route")["args"]["industry"] == "铸造"


def test_benefits_after_tiers_take_the_grade_asked_about(bot):
    _, answer = talk(bot, "铸造能评A吗", "评上了能有啥好处")
    assert tool(answer, "incentives")["args"]["grade"] == "A"


def test_benefits_after_tiers_without_grade_use_b_as_example(bot):
    _, answer = talk(bot, "我们是做铸件的能评几级", "评上了能有啥好处")
    assert tool(answer, "incentives")["args"]["grade"] == "B" and "以B级为例" in answer.text


# ---------------------------------------------------------------- three turns

def test_three_turns_tiers_review_then_grade(bot):
    _, second, third = talk(bot, "铸造能评几级", "那A级由谁审", "那C级的呢")
    assert tool(second, "review_route")["args"]["grade"] == "A"
    call = tool(third, "review_route")
    assert (call["args"]["industry"], call["args"]["grade"]) == ("铸造", "C")


def test_three_turns_industry_switch_then_review(bot):
    _, _, third = talk(bot, "铸造能评几级", "那汽修呢", "谁审")
    assert tool(third, "review_route")["args"]["industry"] == "汽修行业"


def test_three_turns_new_industry_question_replaces_the_grade_context(bot):
    _, _, third = talk(bot, "评上B级有什么好处", "那A级的呢", "砖厂能评A吗")
    assert tool(third, "tier_scheme")["args"]["industry"] == "砖瓦窑" and not any(
        t["name"] == "incentives" for t in third.tools)


def test_three_turns_branch_named_then_review(bot):
    _, second, third = talk(bot, "砖厂能评A吗", "我们厂做的是免烧砖", "那谁审")
    assert tool(second, "tier_scheme")["args"]["branch"] == "非烧结砖瓦制品"
    call = tool(third, "review_route")
    assert call["args"]["industry"] == "砖瓦窑" and call["args"]["branch"] == "非烧结砖瓦制品"


# ---------------------------------------------------------------- standalone questions do not inherit

@pytest.mark.parametrize("second", ["抽查发现不达标怎么处理", "那抽查发现不达标怎么处理", "那没通过怎么办"])
def test_new_policy_question_after_a_lookup_stands_alone(bot, search, second):
    _, answer = talk(bot, "铸造B级找谁审", second)
    u = understand(second, understand("铸造B级找谁审"))
    assert u.intent == "policy" and u.industry is None and u.grade is None and not u.followup
    assert answer.tools == [] and answer.intent == "policy"
    assert "铸造" not in search.calls[-1][0]


def test_elliptical_question_after_a_lookup_is_not_a_table_lookup(bot, search):
    _, answer = talk(bot, "铸造能评几级", "那要多久？")
    assert answer.tools == [] and answer.intent == "policy"
    assert "几级" not in search.calls[-1][0]  # a lookup question is no search topic


# ---------------------------------------------------------------- elliptical and deictic policy follow-ups

@pytest.mark.parametrize("first, second, topic", [
    ("已评级的企业抽查比例定的多少", "那要多久？", "抽查"),
    ("每年可以报几次", "需要哪些材料？", "报几次"),
    ("抽查发现不达标怎么处理", "上面说的整改期满后要交什么", "抽查"),
    ("申报材料造假会怎么样", "刚才那个是哪个文件规定的", "造假"),
    ("申报材料造假会怎么样", "这个适用于所有等级吗", "造假"),
])
def test_elliptical_and_deictic_followups_search_the_previous_topic(bot, search, first, second, topic):
    _, answer = talk(bot, first, second)
    assert answer.tools == [] and answer.intent == "policy"
    assert topic in search.calls[-1][0] and second.rstrip("？?") in search.calls[-1][0]


def test_who_decides_after_livelihood_question_is_a_review_lookup(bot):
    _, answer = talk(bot, "重点行业企业报民生保障要什么等级", "那谁来定？")
    assert tool(answer, "review_route")["args"]["industry"] == "民生保障类"


def test_users_do_not_share_context(bot):
    bot.reply("wx:a", "铸造B级由谁审")
    answer = bot.reply("wx:b", "那A级的呢")
    assert not any(t["args"].get("industry") == "铸造" for t in answer.tools)


# ---------------------------------------------------------------- grade jumps vs self-assessment

@pytest.mark.parametrize("text", ["C级能直接升A吗？", "B级能不能跳级直接评A", "D级企业可以越级升到B级吗"])
def test_grade_jump_question_is_not_an_assessment(text):
    assert understand(text).intent != "assess"


@pytest.mark.parametrize("text", ["我们能评上B吗？还差什么？", "我们厂够不够B级", "帮我评估一下能评几级",
                                  "我们厂去年是C级，今年能不能直接升B？你帮我评估一下"])
def test_attainability_questions_start_the_assessment(text):
    assert understand(text).intent == "assess"


def test_dialogue_answers_a_grade_jump_and_starts_assessment_when_asked(tmp_path):
    d = Dialogue(Assistant(search=None, store_path=tmp_path / "c.db"), AssessmentEngine(tmp_path / "a.db"))
    jump = d.reply("u", "C级能直接升A吗？")
    assert jump.intent != "assess" and not any(t["name"] == "self_assessment" for t in jump.tools)
    start = d.reply("u", "我们能评上B吗？还差什么？")
    assert start.intent == "assess" and start.tools[0]["name"] == "self_assessment"


def test_benefits_question_naming_a_grade_is_not_an_assessment():
    assert understand("评上B级有什么好处？").intent == "tool_incentives"
    assert understand("评上了能有啥好处", understand("铸造能评A吗")).intent == "tool_incentives"
