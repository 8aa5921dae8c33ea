"""The router (ordered routes as data), dates and places, the answerability check: mechanisms tested with their
lexicon examples and made-up questions, never with evaluation questions."""
from __future__ import annotations

import datetime as dt

import pytest

from jixiao.bot.answerability import Answerability, asked_slots, load_lexicon
from jixiao.bot.route import RouteTable, Router, load_routes, load_table
from jixiao.bot.timeplace import FixedClock, other_places, place_words, time_frame, time_words, uncovered_year
from jixiao.bot.understand import understand
from jixiao.knowledge.cards import load_cards
from jixiao.retrieval.cards import CardMatch
from jixiao.retrieval.keyword import Tokenizer
from jixiao.retrieval.pinyin import pinyin_tokens

TOK = Tokenizer()
LATE, EARLY = FixedClock(dt.date(2026, 12, 2)), FixedClock(dt.date(2024, 9, 1))


@pytest.fixture(scope="module")
def cards():
    return load_cards().by_id()


def router(cards, clock=LATE) -> Router:
    return Router(cards_by_id=cards, clock=clock, tagged=TOK.tagged)


def m(card_id: str, kind: str, score: float) -> CardMatch:
    return CardMatch(card_id, kind, "…", score, 0.9, 0.5)


# ---------------------------------------------------------------- the route table

def test_route_table_ends_with_the_fallback_and_ids_are_unique():
    routes = load_routes()
    assert routes[-1].when == "always" and len({r.id for r in routes}) == len(routes)
    with pytest.raises(ValueError):
        RouteTable.model_validate({"routes": [{"id": "x", "when": "sometimes", "kind": "tool"}]})


def test_a_strong_out_of_scope_card_beats_a_keyword_tool_intent(cards):
    oos = next(c for c in cards.values() if getattr(c, "reply", "") == "admin_procedure")
    u = understand("排污许可证延续有没有优惠")  # 优惠 is an incentives keyword
    assert u.intent == "tool_incentives"
    route = router(cards).decide(u, [m(oos.id, "out_of_scope", 0.9), m("tool.incentives", "tool", 0.6)])
    assert (route.kind, route.name) == ("out_of_scope", "admin_procedure") and route.id.startswith("oos-card:")
    weak = router(cards).decide(u, [m(oos.id, "out_of_scope", 0.61), m("tool.incentives", "tool", 0.6)])
    assert (weak.kind, weak.name, weak.id) == ("tool", "incentives", "tool-rule:tool_incentives")


def test_a_tool_card_reads_its_arguments_from_the_question(cards):
    u = understand("C级企业有没有甜头可拿")
    tool = next(c for c in cards.values() if getattr(c, "tool", "") == "incentives")
    route = router(cards).decide(u, [m(tool.id, "tool", 0.9), m("x", "clause", 0.5)])
    if route.id.startswith("tool-rule"):  # the keywords already name the lookup: same tool
        assert route.name == "incentives"
    else:
        assert route.kind == "tool" and route.name == "incentives" and route.args.get("grade") == "C"


def test_gated_cards_need_a_place_or_a_time_named(cards):
    place = next(c for c in cards.values() if getattr(c, "reply", "") == "other_place")
    later = next(c for c in cards.values() if getattr(c, "reply", "") == "future_year")
    plain = understand("铸造厂能评到哪一级")
    assert router(cards).decide(plain, [m(place.id, "out_of_scope", 0.95)]).name != "other_place"
    assert router(cards).decide(plain, [m(later.id, "out_of_scope", 0.95)]).name != "future_year"
    named = understand("巴中的铸造厂能评到哪一级")
    assert router(cards).decide(named, [m(place.id, "out_of_scope", 0.95)]).name == "other_place"


def test_every_decision_is_recorded_with_its_rule_and_scores(cards):
    route = router(cards).decide(understand("抽查发现问题怎么整改"), [m("x", "clause", 0.7), m("y", "tool", 0.4)])
    data = route.to_json()
    assert set(data) == {"kind", "name", "args", "id", "reason", "scores"}
    assert data["kind"] == "clause" and data["scores"] == {"clause": 0.7, "tool": 0.4}


# ---------------------------------------------------------------- dates

@pytest.mark.parametrize("example", time_words().examples)
def test_time_words_examples(example):
    today = LATE.today()
    assert uncovered_year(time_frame(example.positive, today), 2024, today) is not None
    assert uncovered_year(time_frame(example.negative, today), 2024, today) is None


def test_this_years_schedule_depends_on_the_clock(cards):
    u = understand("今年评级哪天开始报名")
    late = router(cards, LATE).decide(u, [])
    assert late.kind == "out_of_scope" and late.name == "future_year" and late.id == "time-rule:2026"
    assert "今年" in late.args["topic"]
    assert not router(cards, EARLY).decide(u, []).id.startswith("time-rule")


# ---------------------------------------------------------------- places

@pytest.mark.parametrize("example", place_words().examples)
def test_place_examples(example):
    assert other_places(TOK.tagged, example.positive)
    assert not other_places(TOK.tagged, example.negative)


def test_a_place_whose_documents_are_not_loaded_is_out_of_scope(cards):
    route = router(cards).decide(understand("达州的企业评B级找哪个部门"), [])
    assert route.kind == "out_of_scope" and route.name == "other_place" and route.args["region"] == "达州"


# ---------------------------------------------------------------- answerability

def answerability() -> Answerability:
    return Answerability(TOK.tagged, pinyin_tokens, lambda w: 8.0, lambda t: [], is_word=TOK.is_word)


@pytest.mark.parametrize("name", sorted(load_lexicon().slots))
def test_slot_examples(name):
    for ex in load_lexicon().slots[name].examples:
        assert name in asked_slots(ex.positive)
        assert name not in asked_slots(ex.negative)


def test_plain_examples_are_read_plainly_and_their_slots_follow():
    from jixiao.bot.answerability import plain
    lex = load_lexicon()
    for ex in lex.plain.examples:
        assert plain(ex.positive) != ex.positive and plain(ex.negative) == ex.negative
    assert "meaning" in asked_slots("这个说法是啥子意思")  # only once 啥子 reads as 啥
    assert "meaning" in asked_slots("超低改造要达到啥子标准")


def test_background_examples_and_what_they_do_to_the_focus_check():
    from jixiao.bot.answerability import asked_text, is_background
    for ex in load_lexicon().background.examples:
        assert is_background(ex.positive) and not is_background(ex.negative)
    assert asked_text("我们是搞地砖的，免费监测找哪个申请") == "免费监测找哪个申请"
    assert asked_text("同行说评级很难") == "同行说评级很难"  # nothing else asks: the whole question stands
    a = answerability()
    clause = "对重点企业实施项目优先安排免费加密监测。"
    assert a.check("我们是搞地砖的，免费监测找哪个申请", [clause]).ok  # 地砖 only sets the scene
    assert not a.check("搞地砖的免费监测找哪个申请", [clause]).ok


def test_stopword_examples():
    a = answerability()
    for ex in load_lexicon().stopwords.examples:
        assert a.focus(ex.positive) == []
        assert [w for w, _ in a.focus(ex.negative)] == [ex.negative]


def test_evidence_about_something_else_does_not_cover_the_focus():
    a = answerability()
    clause = "对评为B级及以上的企业，减按百分之七十五征收环境保护税。"
    miss = a.check("环保税按季度缴还是按年缴", [clause])
    assert not miss.ok and miss.check == "focus" and "季度" in miss.missing
    assert a.check("环保税按季度缴还是按年缴", [clause], vocabulary=["环保税是按季度申报的吗"]).ok


def test_a_duration_asked_must_be_in_what_is_quoted():
    a = answerability()
    clause = "企业应当按要求完成整改。整改期限为30个工作日。"
    assert a.check("整改要多久", [clause], said="整改期限为30个工作日。").ok
    missing = a.check("整改要多久", [clause], said="企业应当按要求完成整改。")
    assert not missing.ok and missing.check == "slot" and missing.missing == ("duration",)


def test_gates_are_known_reply_kinds():
    from jixiao.knowledge.cards import REPLY_KINDS

    assert set(load_table().gates) <= set(REPLY_KINDS)


def test_one_registry_serves_the_cli_and_the_llm():
    from typer.testing import CliRunner

    from jixiao.bot.llm import LLM_TOOLS, lookup_tools
    from jixiao.bot.tools import TOOLS
    from jixiao.cli import _wire, app

    assert {t.name for t in lookup_tools()} == set(LLM_TOOLS) <= set(TOOLS)
    _wire()
    out = CliRunner().invoke(app, ["tools", "run", "tier_scheme", "industry=铸造"]).output
    assert '"found": true' in out and "A" in out
    bad = CliRunner().invoke(app, ["tools", "run", "天气"])
    assert bad.exit_code == 2


# ---------------------------------------------------------------- a keyword intent yields to better cards

def _clause_card(cards, doc_prefix: str):
    return next(c for c in cards.values() if getattr(c, "doc_id", "").startswith(doc_prefix))


def test_a_keyword_intent_yields_to_a_better_clause_card_outside_its_table(cards):
    u = understand("叉车这类机械的编码登记去哪里办")  # 叉车 reads as an industry: the tier keyword route
    if u.intent != "tool_tiers":
        pytest.skip("the industry matcher no longer reads 叉车 as an industry")
    mobile = _clause_card(cards, "cq-mobile-source-2024")
    route = router(cards).decide(u, [m(mobile.id, "clause", 0.75), m("tool.tier_scheme", "tool", 0.55)])
    assert route.kind == "clause" and route.scores["yielded"]["to"] == mobile.id
    close = router(cards).decide(u, [m(mobile.id, "clause", 0.75), m("tool.tier_scheme", "tool", 0.72)])
    assert close.id == "tool-rule:tool_tiers"  # within the margin the keyword decides


def test_a_card_on_the_table_the_lookup_is_built_from_backs_the_keyword(cards):
    u = understand("凹版彩印厂分几档")
    table = _clause_card(cards, "cq-cbza-2024-att3")
    route = router(cards).decide(u, [m(table.id, "clause", 0.95), m("tool.tier_scheme", "tool", 0.6)])
    assert route.id == "tool-rule:tool_tiers" and "yielded" not in route.scores


def test_another_jurisdictions_clause_card_competes_only_when_its_place_is_named(cards):
    kaifeng = _clause_card(cards, "kaifeng-2020")
    plain = understand("C级企业由哪一级负责审核")
    route = router(cards).decide(plain, [m(kaifeng.id, "clause", 0.8), m("tool.review_route", "tool", 0.6)])
    assert route.id == "tool-rule:tool_review"
    named = understand("开封C级企业由哪一级负责审核")
    if named.intent == "tool_review":
        other = router(cards).decide(named, [m(kaifeng.id, "clause", 0.8), m("tool.review_route", "tool", 0.6)])
        assert other.kind != "tool" or not other.id.startswith("tool-rule")


def test_statements_drop_citation_labels_so_a_slot_is_not_read_from_them():
    from jixiao.bot.answerability import slot_in, statements

    text = "B级企业可适用第5条。（《惠企10条措施》附件1 五、（2024-08-05））\n依据：《通知》第38项\n回复“详细”看全部。"
    said = statements(text)
    assert "2024" not in said and "10条" not in said and "依据" not in said
    assert not slot_in("count", said) and not slot_in("date", said)
    assert slot_in("count", statements("抽查比例不少于30%（《通知》五、）"))



def test_a_year_is_no_duration_a_period_no_length_and_a_term_must_be_the_one_asked():
    from jixiao.bot.answerability import slot_in

    assert not slot_in("duration", "要加快开展2024年申报企业的初审")
    assert slot_in("duration", "整改期限为3个月")
    assert "frequency" in asked_slots("多久抽查一次") and "duration" not in asked_slots("多久抽查一次")
    assert not slot_in("duration", "市生态环境局每年对B级企业进行抽查") and slot_in("frequency", "每年抽查一次")
    asked = "检查表上要写哪些内容"
    assert not slot_in("contents", "自动生成检查表并提交", question=asked)
    assert slot_in("contents", "检查表内容包括企业名称、等级", question=asked)
    assert slot_in("member", "通用行业（含工业锅炉/炉窑）", question="窑炉到底算不算通用行业")
    assert not slot_in("member", "通用行业（含工业锅炉/炉窑）", question="通用行业包不包括喷漆")


def test_value_pattern_examples():
    import re

    value = re.compile(load_lexicon().value.pattern)
    for ex in load_lexicon().value.examples:
        assert value.search(ex.positive) and not value.search(ex.negative)


def test_listing_examples():
    """"哪些县", "包括什么": the kind of item asked is read; a question asking no list has none."""
    from jixiao.bot.answerability import asked_kind, listing_pattern

    for ex in load_lexicon().listing.examples:
        assert asked_kind(ex.positive) and listing_pattern(ex.positive) is not None
        assert asked_kind(ex.negative) is None and listing_pattern(ex.negative) is None
    assert asked_kind("申报要准备的资料分哪几项") != "项"  # a bare counter is not the kind asked
    pattern = listing_pattern("试点园区有哪些")
    assert pattern.search("对甲园区、乙园区和丙园区开展试点")
    assert not pattern.search("重点摸清园区情况")  # names the kind but enumerates nothing


def test_an_incentives_question_goes_to_the_measure_its_best_card_names(cards):
    """The whole list (tool.incentives), one measure's tool card or an 附件1 clause card decide the measure when they
    score at least measure_card; below it the words of the question do."""
    floor = load_table().measure_card
    u = understand("拿到B级以后能得啥子好处")
    assert u.intent == "tool_incentives"
    whole = router(cards).decide(u, [m("tool.incentives", "tool", floor + 0.05)])
    assert whole.args.get("measure") == 0
    measure = next(c for c in cards.values() if getattr(c, "tool", "") == "incentive_measure")
    one = router(cards).decide(u, [m(measure.id, "tool", floor + 0.05), m("tool.incentives", "tool", floor)])
    assert one.args.get("measure") == measure.args["measure"]
    clause = next(c for c in cards.values() if getattr(c, "doc_id", "") == "cq-cbza-2024-att1"
                  and getattr(c, "section", "").startswith("九"))
    assert router(cards).decide(u, [m(clause.id, "clause", floor + 0.05)]).args.get("measure") == 9
    assert "measure" not in router(cards).decide(u, [m("tool.incentives", "tool", floor - 0.05)]).args


def test_a_count_is_answered_only_in_the_unit_asked():
    from jixiao.bot.answerability import slot_in

    for ex in load_lexicon().count_units.examples:
        assert slot_in("count", ex["positive"], question=ex["question"])
        assert not slot_in("count", ex["negative"], question=ex["question"])
    assert slot_in("count", "共39个重点行业", question="国家标准的重点行业总共有好多个")  # 个 alone: any count


def test_an_item_stated_of_another_level_of_government_is_not_the_one_asked():
    """A share asked of the city bureau is not answered by the districts' share; asked of no level, it is."""
    from jixiao.bot.answerability import levels_named, of_other_level

    for ex in load_lexicon().levels.examples:
        assert levels_named(ex.positive) and not levels_named(ex.negative)
    lines = "市生态环境局每年对全市B级及以上企业进行抽查。\n各区县生态环境局组织对本辖区已评级企业进行抽查，抽查比例不少于30%。"
    assert of_other_level("ratio", "市局每年抽查企业的比例是多少", lines)
    assert not of_other_level("ratio", "区县抽查企业的比例是多少", lines)
    assert not of_other_level("ratio", "对企业的抽查比例定的多少", lines)
    check = answerability().check("市局每年抽查企业的比例是多少", [lines], focus=False)
    assert not check.ok and check.missing == ("ratio",)


def test_a_value_asked_in_a_unit_is_answered_only_in_that_unit():
    from jixiao.bot.answerability import slot_in

    assert "measure" in asked_slots("颗粒物要降到多少毫克")
    assert slot_in("measure", "颗粒物排放浓度不高于10毫克/立方米", question="颗粒物要降到多少毫克")
    assert not slot_in("measure", "推动65蒸吨/小时以上燃煤锅炉超低排放改造", question="颗粒物要降到多少毫克")


def test_what_a_term_comprises_is_answered_only_by_a_list_of_that_term():
    from jixiao.bot.answerability import slot_in

    q = "文件里说的绿色工厂，具体包括哪些工厂"
    assert "definition" in asked_slots(q)
    assert slot_in("definition", "绿色工厂包括甲工厂、乙工厂和丙工厂", question=q)
    assert not slot_in("definition", "对绿色工厂、智能工厂、数字工厂等企业给予支持", question=q)  # one item of a list
    assert slot_in("definition", "落实甲工厂、乙工厂、丙工厂等绿色工厂建设", question=q)  # the items, then the term


def test_a_measure_named_by_its_number_goes_to_that_measure(cards):
    previous = understand("惠企10条都有哪些")
    u = understand("那第七条呢", previous)
    route = router(cards).decide(u, [])
    assert (route.kind, route.name, route.args.get("measure")) == ("tool", "incentive_measure", 7)
    other = understand("申报材料大纲第七条是啥")  # not about the measures: no measure route
    assert router(cards).decide(other, []).name != "incentive_measure"


def test_a_number_the_question_gives_does_not_answer_it():
    from jixiao.bot.answerability import slot_in

    said = "各区县抽查比例不少于30%。市局每年对B级及以上企业进行抽查。"
    assert slot_in("ratio", said, question="市局抽查比例是多少")
    assert not slot_in("ratio", said, question="区县抽查比例不少于30%，那市局的抽查比例是多少")


def test_a_meaning_is_answered_only_by_a_definition_of_the_term_asked():
    from jixiao.bot.answerability import slot_in
    q = "无组织排放到底是啥子意思嘛"
    assert "meaning" in asked_slots(q)
    assert not slot_in("meaning", "对照《技术指南》（以下简称《技术指南》），重点做好无组织排放管控。", question=q)
    assert slot_in("meaning", "无组织排放是指大气污染物不经过排气筒的无规则排放。", question=q)
    assert slot_in("meaning", "重污染天气重点行业应急减排措施制定技术指南（以下简称技术指南）", question="技术指南是啥子意思")


def test_a_remark_after_the_question_does_not_decide_the_focus_check():
    from jixiao.bot.answerability import asked_text
    assert asked_text("审核结果在哪里公示？我们想拿给合作方看") == "审核结果在哪里公示？"
    assert asked_text("我们想办个环评，要多久") == "我们想办个环评，要多久"  # a first-person clause before the ask asks


def test_a_word_is_covered_through_the_everyday_phrase_it_is_part_of():
    bridges = {"扫大街": ["清扫"]}
    a = Answerability(TOK.tagged, pinyin_tokens, lambda w: 8.0,
                      lambda t: [m for s, ms in bridges.items() if s in t for m in ms], is_word=TOK.is_word)
    assert a._bridged("大街", "用机器扫大街的比例") == {"清扫"}
    assert a._bridged("机器", "用机器扫大街的比例") == set()  # the phrase does not need 机器
