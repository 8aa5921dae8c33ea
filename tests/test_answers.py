"""Natural answers (issue #17 item 1): every example in bot/assess/answer_forms.yaml is played here, through
the parser and through the engine's questions, so a new form in the data file is a new test."""
from __future__ import annotations

import pytest

from jixiao.bot.assess import AssessmentEngine
from jixiao.bot.assess import answers as natural
from jixiao.bot.assess.families import YESNO_OPTIONS
from jixiao.bot.assess.questions import Invalid, Question, parse

FORMS = natural.forms()
YESNO = [(text, want) for want, texts in FORMS["yesno"]["examples"].items() for text in texts]
STATUS = [(text, want) for want, texts in FORMS["status"]["examples"].items() for text in texts]
PERCENT = [(e["text"], e["value"], e.get("means")) for e in FORMS["percent"]["examples"]]
QUESTIONS = FORMS["question"]["examples"]


def test_every_list_has_examples():
    assert len(YESNO) >= 25 and len(STATUS) >= 10 and len(PERCENT) >= 10
    assert {"没有", "无", "不存在", "应该没有", "没有吧应该", "有的", "是的", "对"} <= {t for t, _ in YESNO}
    assert {"大概五成", "80%左右"} <= {t for t, _, _ in PERCENT}


@pytest.mark.parametrize("text,want", YESNO)
def test_yes_no_forms(text, want):
    assert natural.yesno(text) == want
    q = Question("bar_unapproved", "上一年度是否存在未批先建？", "yesno", YESNO_OPTIONS)
    assert parse(q, text) == want  # the engine's parser takes the same form


@pytest.mark.parametrize("text,want", STATUS)
def test_status_forms(text, want):
    from jixiao.bot.assess.families import STATUS_OPTIONS
    q = Question("fam:fugitive", "无组织排放管控目前情况如何？", "status", STATUS_OPTIONS)
    assert natural.status(text) == want and parse(q, text) == want


@pytest.mark.parametrize("text,value,means", PERCENT)
def test_percent_forms(text, value, means):
    q = Question("ind:ink_share:low_voc_ink_pct", "低VOCs含量油墨占油墨总用量的比例是多少（%）？", "percent")
    if means == "not_share":
        with pytest.raises(Invalid) as err:
            parse(q, text)
        assert "不是这里问的比例" in str(err.value)  # told what was understood, asked again
    else:
        assert natural.percent(text) == value and parse(q, text) == value


@pytest.mark.parametrize("text", QUESTIONS["question"])
def test_clear_questions_leave_the_flow(text):
    assert natural.is_question(text)


@pytest.mark.parametrize("text", QUESTIONS["answer"])
def test_answers_are_not_questions(text):
    assert not natural.is_question(text)


def test_no_is_not_read_from_a_longer_sentence_about_something_else():
    assert natural.yesno("无组织排放做得很好") is None  # 无 only as a short answer, not inside 无组织
    assert natural.yesno("有组织排放都达标了，无组织排放还在改") is None
    assert natural.percent("150") is None and natural.percent("很多") is None


def test_free_text_ink_description_stays_in_the_flow(tmp_path):
    """The issue's case: the VOCs content of the ink, typed at the share question, is explained and re-asked."""
    engine = AssessmentEngine(tmp_path / "a.db")
    engine.start("u")
    for a in ["包装印刷", "1", "A", "没有", "无", "不存在", "1", "1"]:
        turn = engine.handle("u", a)
    assert turn.question_id == "ind:ink_share:low_voc_ink_pct"
    turn = engine.handle("u", "我们用的水性油墨，VOCs含量大概5%")
    assert turn.question_id == "ind:ink_share:low_voc_ink_pct" and "5%看起来是含量" in turn.text
    assert "≤15%" in turn.text  # the variant's note says what counts as low-VOCs ink
    assert engine.handle("u", "全部").question_id != "ind:ink_share:low_voc_ink_pct"


@pytest.mark.parametrize("example", FORMS["families"]["examples"], ids=lambda e: e["text"])
def test_descriptions_name_their_family(example):
    assert example["family"] in natural.families_in(example["text"])


def test_description_of_another_indicator_is_kept_for_its_question(tmp_path):
    engine = AssessmentEngine(tmp_path / "a.db")
    engine.start("u")
    for a in ["铸造", "1", "A", "否", "否", "否", "已完成"]:
        turn = engine.handle("u", a)
    assert turn.question_id == "fam:raw_materials"
    turn = engine.handle("u", "我们门禁装了，车辆台账保存两年多")  # about 运输监管, asked at 原辅材料
    assert turn.question_id == "fam:raw_materials" and "已记下您关于运输监管/门禁的说明" in turn.text
    for a in ["已完成"] * 7:
        turn = engine.handle("u", a)
    # the kept description answers the 门禁 question when it comes; the next one is asked
    assert "已按您的说法记录" in turn.text and "我们门禁装了" in turn.text
    assert turn.question_id == "ind:common_retention:video_12m"
    assert engine.handle("u", "返回").question_id == "ind:common_gate:gate_system"  # and can be changed
