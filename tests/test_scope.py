"""What the loaded documents cannot answer: thresholds, fees and own amounts, named enterprises, other provinces,
near-domain administration; and what they can (campaign period, one 惠企 measure described in everyday words)."""
from __future__ import annotations

import pytest

from jixiao.bot.scope import admin_topic, topic_covered
from jixiao.bot.turn import Assistant, FakeHit, FakePassageSearch
from jixiao.bot.understand import expand, understand

HITS = [
    FakeHit("cq-cbza-2024", "创B争A通知", "一、", "《创B争A通知》 一、工作时段\n2024年8月1日—12月31日（根据工作需要，可适当延长）。", 0.9),
    FakeHit("cq-cbza-2024-att1", "惠企10条措施", "三、",
            "《惠企10条措施》 三、\n监测结果可作为项目绩效评估、环保税征减、环境执法、排污许可、总量减排等环境管理工作依据。", 0.8),
    FakeHit("cq-autumn-winter-2024", "秋冬季治气攻坚方案", "三、（六）",
            "《秋冬季治气攻坚方案》 三、（六）\n禁止过度喷氨,废气排放口氨逃逸浓度控制在8毫克/立方米以下。", 0.85),
    FakeHit("kaifeng-2020", "开封2020攻坚方案", "三、（六）",
            "《开封2020攻坚方案》 三、（六）\n焚烧炉烟气颗粒物排放浓度不高于10毫克/立方米。", 0.95),
]


@pytest.fixture
def bot(tmp_path) -> Assistant:
    return Assistant(FakePassageSearch(HITS), tmp_path / "turns.db", abstain_model=None)


# ---------------------------------------------------------------- 1. numeric thresholds

@pytest.mark.parametrize("text", [
    "铸造厂想评B级，粉尘排放浓度得低于多少？",
    "包装印刷的VOCs排放标准是多少",
    "氮氧化物要达到多少才能评A",
    "锅炉烟尘排放是多少毫克才算达标",
    "家具厂的治理设施去除效率要达到多少",
])
def test_threshold_questions_are_not_loaded(text, bot):
    assert "not_loaded" in understand(text).personal
    a = bot.reply("u", text)
    assert a.escalate and "技术指南" in a.text and not a.citations  # no unrelated clause with 浓度 quoted


@pytest.mark.parametrize("text", [
    "排放浓度比标准低一半，环保税怎么收",  # 附件1 第二条 answers it
    "秋冬季方案要求12月底前B级企业达到多少家",
    "秋冬季攻坚方案对氨逃逸浓度提了什么控制要求",
])
def test_tax_counts_and_requirements_are_not_thresholds(text):
    assert "not_loaded" not in understand(text).personal


def test_a_loaded_clause_that_states_the_value_answers(bot):
    a = bot.reply("u", "脱硝的氨逃逸浓度得控制在多少？")
    assert not a.escalate and a.citations[0]["doc_id"] == "cq-autumn-winter-2024" and "8毫克" in a.text


def test_another_jurisdictions_value_does_not_answer_a_chongqing_question(bot):
    a = bot.reply("u", "颗粒物排放浓度要低于多少毫克？")
    assert a.escalate and "kaifeng-2020" not in {c["doc_id"] for c in a.citations}


# ---------------------------------------------------------------- 2. fees and own amounts

@pytest.mark.parametrize("text", [
    "在重庆申请绩效评级，专家评审收不收费？要收多少",
    "评级要交钱吗",
    "申报绩效分级需要什么费用",
    "现场审核要不要企业出钱",
])
def test_rating_fees_abstain_and_label_the_liaocheng_rule(text, bot):
    assert "specific_amount" in understand(text).personal
    a = bot.reply("u", text)
    assert a.escalate and [c["doc_id"] for c in a.citations] == ["liaocheng-2020"]
    assert "不适用于重庆" in a.text


def test_chongqing_haoduo_asks_how_much(bot):
    u = understand("评上A级政府能奖励好多钱")
    assert u.text == "评上A级政府能奖励多少钱" and "specific_amount" in u.personal
    assert bot.reply("u", "评上A级政府能奖励好多钱").escalate
    # "a lot", not a question: left alone
    assert understand("去年罚了好多钱").text == "去年罚了好多钱"
    assert understand("好多企业都评上B级了").text == "好多企业都评上B级了"


def test_liaocheng_fee_question_is_a_policy_question():
    assert "specific_amount" not in understand("聊城绩效评级收评审费吗").personal


def test_free_monitoring_is_not_a_fee_question():
    assert "specific_amount" not in understand("B级企业免费监测怎么申请").personal


@pytest.mark.parametrize("text", [
    "我司前年缴了30万环保税，评上A级能退多少",
    "我司评上A级，环保税能少交多少钱",
    "交了5万元环境保护税，评B级后能减免多少",
])
def test_own_tax_amount_states_the_rule_not_a_refund(text, bot):
    u = understand(text)
    assert "specific_amount" in u.personal
    a = bot.reply("u", text)
    assert a.escalate and a.citations[0]["doc_id"] == "cq-cbza-2024-att1"
    assert a.citations[0]["section"] == "附件1 二、" and "不是退税金额" in a.text


@pytest.mark.parametrize("text", ["评上B级环保税能减多少", "我厂排放浓度只有标准的一半，环保税可以减多少",
                                  "我司评上A级，环保税能少交多少"])
def test_tax_rate_question_without_a_money_figure_stays_a_lookup(text):
    u = understand(text)
    assert not u.personal and u.intent == "tool_incentives"


# ---------------------------------------------------------------- 3. named enterprises and lists

@pytest.mark.parametrize("text, flag", [
    ("前年的民生保障豁免名单里有没有我们公司（重庆某某建材有限公司）", "live_data"),
    ("A级企业名单里有我们公司吗", "live_data"),
    ("重庆某某铸造有限公司是几级", "case_status"),
    ("重庆长安汽车股份公司评上A级了吗", "case_status"),
])
def test_named_enterprises_abstain(text, flag, bot):
    assert flag in understand(text).personal
    assert bot.reply("u", text).escalate


@pytest.mark.parametrize("text", ["我们厂的申报审到哪一步了，自己去哪里查看", "怎么知道我们的审核进度走到哪了"])
def test_where_to_look_up_ones_own_progress_is_answered_by_the_system_rule(text, bot):
    a = bot.reply("u", text)
    assert not a.escalate and "审核进展" in a.text
    assert a.citations[0]["doc_id"] == "cq-cbza-2024-att4"


def test_asking_the_assistant_to_look_up_ones_progress_stays_refused(bot):
    a = bot.reply("u", "帮我查一下我们厂审到哪一步了")
    assert a.escalate


@pytest.mark.parametrize("text", ["B级企业名单会公开吗？", "我们是供暖的，想进民生保障豁免名单，谁来审？"])
def test_questions_about_lists_in_general_are_not_named(text):
    assert not {"live_data", "case_status"} & set(understand(text).personal)


# ---------------------------------------------------------------- 4. regions

@pytest.mark.parametrize("text", [
    "这10个地方行业参照的是四川哪份指南，文号多少",
    "重庆参照四川的哪个文件评地方行业",
    "四川的地方指南是哪一年修订的",
])
def test_sichuan_as_the_referenced_guide_is_chongqing(text):
    assert understand(text).region == "重庆"


@pytest.mark.parametrize("text", ["四川的企业绩效评级是在哪个系统上申报", "四川评A级有什么好处", "成都的企业找谁审核"])
def test_sichuans_own_rules_are_another_province(text):
    assert understand(text).region in ("四川", "成都")


# ---------------------------------------------------------------- 5. campaign period

@pytest.mark.parametrize("text", ["今年创B争A要搞到几号，过了期限还能弄不", "创B争A什么时候结束", "错过了还能报吗，会延期吗"])
def test_campaign_timing_searches_the_period_clause(text, bot):
    assert "工作时段" in expand(understand(text).text) or "适当延长" in expand(understand(text).text)


def test_this_year_without_a_number_is_not_a_year_mismatch(tmp_path):
    # read in 2024, "今年" is the year of the loaded notice (in 2026 it is a year no document covers: test_route.py)
    import datetime as dt

    from jixiao.bot.timeplace import FixedClock

    bot = Assistant(FakePassageSearch(HITS), tmp_path / "turns.db", abstain_model=None,
                    clock=FixedClock(dt.date(2024, 9, 1)))
    a = bot.reply("u", "今年创B争A要搞到几号，过了期限还能弄不")
    assert not a.escalate and a.citations[0]["section"] == "一、" and "可适当延长" in a.text


def test_this_year_read_in_2026_says_the_documents_are_from_2024(tmp_path):
    import datetime as dt

    from jixiao.bot.timeplace import FixedClock

    bot = Assistant(FakePassageSearch(HITS), tmp_path / "turns.db", abstain_model=None,
                    clock=FixedClock(dt.date(2026, 12, 2)))
    a = bot.reply("u", "今年创B争A要搞到几号，过了期限还能弄不")
    assert a.escalate and a.route["id"] == "time-rule:2026" and "2024" in a.text and "转人工" in a.text


@pytest.mark.parametrize("today, stated", [((2024, 10, 1), True), ((2026, 12, 2), False)])
def test_this_years_value_is_the_loaded_plans_only_in_its_year(tmp_path, today, stated):
    import datetime as dt

    from jixiao.bot.timeplace import FixedClock

    bot = Assistant(FakePassageSearch(HITS), tmp_path / "turns.db", abstain_model=None,
                    clock=FixedClock(dt.date(*today)))
    a = bot.reply("u", "今年秋冬季氨逃逸浓度的控制目标是多少")
    assert ("8毫克" in a.text) is stated and a.escalate is not stated
    if not stated:
        assert "今年" in a.text and "2024" in a.text and "2026" not in a.text


# ---------------------------------------------------------------- 6. one measure in everyday words

@pytest.mark.parametrize("text, seq", [
    ("我厂是B级，头一回被查到点小问题会不会罚款", 6),
    ("评上A级以后首次违法会不会处罚", 6),
    ("B级企业有小问题也要罚吗", 6),
    ("C级企业被检查次数能减少吗", 7),
])
def test_measure_described_in_everyday_words_quotes_that_clause(text, seq, bot):
    a = bot.reply("u", text)
    assert a.tools and a.tools[0]["name"] == "incentives"
    assert a.citations[0]["section"] == f"附件1 {'一二三四五六七八九十'[seq - 1]}、"


# ---------------------------------------------------------------- 7. near-domain administration

@pytest.mark.parametrize("text", [
    "排污许可证下个月到期，办延续需要哪些材料",
    "排污许可证变更要多长时间",
    "环评审批一般要多久",
    "危废转移联单怎么办理",
])
def test_administration_topic_not_covered_by_a_passing_mention(text, bot):
    assert admin_topic(understand(text).text)
    a = bot.reply("u", text)
    assert a.escalate and not a.tools


def test_topic_covered_by_a_clause_about_it():
    hit = FakeHit("x", "t", "一、", "《t》 一、\n排污许可证有效期届满需要延续的，应当在届满前提出申请。", 0.9)
    assert topic_covered(admin_topic("排污许可证到期了怎么延续"), [hit.text])
    assert not topic_covered(admin_topic("排污许可证到期了怎么延续"), [h.text for h in HITS])


@pytest.mark.parametrize("text", ["聊城超许可排放浓度的企业还能报B级吗", "评A级对排污许可有什么要求",
                                  "除了排污许可证复印件，申报还要准备哪些材料"])
def test_rating_questions_naming_a_permit_are_no_administration_topic(text):
    assert admin_topic(understand(text).text) is None


@pytest.mark.parametrize("text", ["由C级升到B级以后，碳排放配额可以多拿多少", "评上A级以后碳配额增发多少"])
def test_carbon_quota_is_an_incentive_not_an_emission_value(text):
    u = understand(text)
    assert "not_loaded" not in u.personal and u.intent == "tool_incentives"


@pytest.mark.parametrize("text", ["PVC人造革厂评级分哪些", "电镀厂有哪些等级", "陶瓷厂有几个级别"])
def test_which_grades_wordings_go_to_the_tier_table(text):
    assert understand(text).intent == "tool_tiers"
