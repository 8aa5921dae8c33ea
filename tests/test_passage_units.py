"""Quotable units of a chunk: table rows named by their columns, and the asked kind of item (a date, a count)
completed from the best sentence's own clause — made-up chunks, no evaluation questions."""
from __future__ import annotations

import re

from jixiao.bot.answerability import load_lexicon
from jixiao.bot.passages import best_sentences, table_rows
from jixiao.bot.turn import FakeHit

TABLE = """《某方案》 附件1
各区县目标
| 序号 | 区县 | 优良天数目标 | 序号 | 区县 | 优良天数目标 |
| --- | --- | --- | --- | --- | --- |
| 1 | 甲 坡区 | 101 | 2 | 乙县 | 102 |
"""


def test_table_rows_name_each_cell_by_its_column_and_split_side_by_side_halves():
    rows = table_rows("some-plan", TABLE)
    assert rows == ["区县 甲坡区，优良天数目标 101", "区县 乙县，优良天数目标 102"]


def test_the_industry_table_is_left_to_the_lookup_tools():
    assert table_rows("cq-cbza-2024-att3", TABLE) == []


def test_a_row_named_in_the_question_is_quoted():
    hit = FakeHit("some-plan", "某方案", "附件1", TABLE, 0.9)
    picked = [s for s, _ in best_sentences([hit], "乙县的优良天数目标是多少")]
    assert any("102" in s for s in picked)


CLAUSE = ("《某方案》 二、\n加快某应用建设。按照统一构架推进某应用建设,建立数据底座,形成支撑体系。"
          "组织相关领域的专家对某应用的建设方案开展论证并逐项完善。汇集整合各类数据,支撑实现全过程监管闭环。"
          "分批次开展区县业务人员的应用操作培训并建立培训台账。统筹落实某应用建设所需经费并按规定管理使用。"
          "(牵头单位:某处。完成时限:2025年6月)")


def test_the_asked_date_is_completed_from_the_same_clause_when_it_shares_a_word():
    date = (re.compile(load_lexicon().slots["date"].evidence),)
    hit = FakeHit("some-plan", "某方案", "二、", CLAUSE, 0.9)
    picked = [s for s, _ in best_sentences([hit], "某应用建设啥时候完成", prefer=date)]
    assert "完成时限" in picked[0] and "2025年6月" in picked[0]  # the asked item first
    plain = [s for s, _ in best_sentences([hit], "某应用建设啥时候完成")]
    assert not any("2025年6月" in s for s in plain)  # without the asked slot, the line is not quoted
    unrelated = [s for s, _ in best_sentences([hit], "某应用数据底座哪一天验收", prefer=date)]
    assert not any("2025年6月" in s for s in unrelated)  # 完成时限 shares no word with it: not added


def test_a_labelled_deadline_answers_a_when_question_sharing_no_word_with_it():
    """"啥时候建好" shares no word with "完成时限:2025年6月"; the label says the date is the clause's deadline."""
    from jixiao.bot.passages import Labelled

    spec = load_lexicon().slots["date"]
    prefer = (re.compile(spec.evidence), Labelled(rf"(?:{spec.label})[:：\s]{{0,3}}(?:{spec.evidence})"))
    hit = FakeHit("some-plan", "某方案", "二、", CLAUSE, 0.9)
    picked = [s for s, _ in best_sentences([hit], "某应用啥时候建好", prefer=prefer)]
    assert "2025年6月" in picked[0]
    unlabelled = [s for s, _ in best_sentences([hit], "某应用啥时候建好", prefer=prefer[:1])]
    assert not any("2025年6月" in s for s in unlabelled)


def test_an_outline_is_a_document_of_headings_only():
    from jixiao.bot.passages import outline_of

    assert outline_of("cq-cbza-2024-att5")          # the materials outline: headings only
    assert outline_of("cq-cbza-2024") is None       # a notice whose clauses have short titles holds sentences


def test_the_asked_kind_of_item_is_preferred_when_the_best_sentences_enumerate_nothing():
    from jixiao.bot.answerability import listing_pattern

    text = ("《某方案》 三、\n推进园区改革。组织专家调研全市园区并形成调研报告。"
            "对甲园区、乙园区和丙园区开展改革试点。园区改革由某处牵头。")
    hit = FakeHit("some-plan", "某方案", "三、", text, 0.9)
    question = "园区改革试点是哪些园区"
    picked = [s for s, _ in best_sentences([hit], question, prefer=(listing_pattern(question),))]
    assert picked[0].startswith("对甲园区、乙园区")


def test_words_naming_the_document_count_less_when_picking_its_sentences():
    from jixiao.bot.passages import TITLE_WEIGHT, _title_weights, terms

    hit = FakeHit("cq-autumn-winter-2024", "秋冬季治气攻坚方案", "二、", "", 0.9)
    named = _title_weights(terms("秋冬季治气方案覆盖哪些区县"), [hit])
    assert named and set(named.values()) == {TITLE_WEIGHT} and "覆盖" not in named
    assert _title_weights(terms("哪些区县要攻坚"), [hit]) == {}  # one shared word does not name the document


def test_a_clause_a_question_card_matches_leads_the_answer():
    other = FakeHit("some-plan", "某方案", "一、", "企业申报材料由区县审核后报市里。", 0.95, chunk_id="c1")
    anchored = FakeHit("some-plan", "某方案", "二、", "逾期未交的按最低等级管理。", 0.8, chunk_id="c2")
    question = "企业申报晚了咋整"
    plain = [s for s, _ in best_sentences([other, anchored], question)]
    assert plain[0].startswith("企业申报材料")  # shares 企业申报; the other clause shares no word
    led = [s for s, _ in best_sentences([other, anchored], question, anchor=frozenset({"c2"}))]
    assert led[0] == "逾期未交的按最低等级管理。"
