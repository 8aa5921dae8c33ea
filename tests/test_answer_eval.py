"""The answer judge (eval/answer_eval.py): each check can fail, and the CLI writes its report."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from jixiao.bot.answer import Answer
from jixiao.eval.answer_eval import (AnswerCase, Expect, canon, citation_ok, invented_facts, judge, load_cases,
                                     markers, run_eval, section_variants)

CITE = {"doc_id": "cq-cbza-2024", "title": "《创B争A通知》", "section": "五、",
        "quote": "整改期间企业按照最低级管理，整改期满后企业提交整改报告和复核申请。"}
POLICY = AnswerCase("p1", "policy", ("抽查不合格会怎样",),
                    Expect(("限期整改", "最低级"), "cq-cbza-2024", "五、三是", "整改期间企业按照最低级管理"))
OOS = AnswerCase("o1", "out_of_scope", ("评审费多少钱",), Expect((), escalate=True, forbidden=("万元",)))
TOOL = AnswerCase("t1", "tool", ("铸造厂能评几级",),
                  Expect(("A", "D"), "cq-cbza-2024-att3", "附件3 一、", "铸件（冲天炉） | A / B / C / D", "tier_scheme"))


def test_canon_reads_chinese_percent_as_digits():
    assert canon("减按百分之七十五征收") == canon("减按75%征收")
    assert canon("不少于百分之三十") == "不少于30%"


@pytest.mark.parametrize("section, want", [
    ("附件3 一、国家行业标准39个重点行业 第6项", ("一",)), ("四（二）", ("四", "（二）")),
    ("五、三是", ("五", "三是")), ("三（二）1", ("三", "（二）", "1")), ("导语", ()), ("47.实施差异化应急管控", ("47",))])
def test_markers(section, want):
    assert markers(section) == want


def test_policy_case_passes_with_right_facts_and_clause():
    a = Answer("抽查发现企业不满足绩效指标的，责令企业限期整改。" + CITE["quote"], [CITE])
    r = judge(POLICY, a, POLICY.turns[-1], 5.0)
    assert r.passed and r.checks["citation"]


def test_missing_fact_and_wrong_clause_fail():
    a = Answer("整改期间企业按照最低级管理。", [dict(CITE, section="三、（二）", quote="技术帮扶")])
    r = judge(POLICY, a, POLICY.turns[-1], 5.0)
    assert not r.passed and r.missing == ["限期整改"] and not r.checks["citation"]


def test_citation_of_coarser_clause_needs_the_quote():
    expect = POLICY.expect
    assert citation_ok(CITE, expect)  # 五、 is coarser than 五、三是 but its quoted sentence carries the fact
    assert not citation_ok(dict(CITE, quote="一是务必高度重视。"), expect)
    assert not citation_ok(dict(CITE, doc_id="liaocheng-2020"), expect)


def test_merged_chunk_section_range_counts_for_its_last_clause():
    expect = Expect((), "liaocheng-2020", "四（四）", "不得向企业收取评审费用")
    cite = {"doc_id": "liaocheng-2020", "section": "四、（三）—（四）", "quote": "x"}
    assert citation_ok(cite, expect)


@pytest.mark.parametrize("section, inside, outside", [
    ("一、—四、", ["一、", "三、", "四、"], ["五、"]),
    ("四、（三）—（五）", ["四（三）", "四（四）", "四（五）"], ["四（二）", "三（四）"]),
    ("九、—十二、", ["十、", "十一、"], ["八、", "十三、"]),
])
def test_merged_chunk_section_range_covers_every_clause_in_it(section, inside, outside):
    covered = {markers(v) for v in section_variants(section)}
    assert all(markers(s) in covered for s in inside)
    assert not any(markers(s) in covered for s in outside)


def test_tool_case_needs_the_tool_call():
    cite = {"doc_id": "cq-cbza-2024-att3", "title": "", "section": "附件3 一、", "quote": "铸件（冲天炉）"}
    with_tool = Answer("铸造：A/B/C/D", [cite], [{"name": "tier_scheme", "args": {}, "result": {}}])
    without = Answer("铸造：A/B/C/D", [cite])
    assert judge(TOOL, with_tool, "", 1.0).passed
    r = judge(TOOL, without, "", 1.0)
    assert not r.passed and r.checks == dict(r.checks, tool=False)


def test_out_of_scope_must_escalate_and_not_invent():
    good = Answer("文件没有规定评审费，请咨询所在区县生态环境局。", escalate=True)
    assert judge(OOS, good, OOS.turns[0], 1.0).passed
    assert not judge(OOS, Answer("评审费为2万元。", escalate=True), OOS.turns[0], 1.0).passed  # forbidden
    assert not judge(OOS, Answer("文件没有规定。"), OOS.turns[0], 1.0).passed  # did not escalate
    invented = judge(OOS, Answer("一般需要45个工作日。", escalate=True), OOS.turns[0], 1.0)
    assert not invented.passed and invented.invented


def test_invented_facts_ignore_citation_labels_and_sourced_numbers():
    cites = [{"doc_id": "cq-cbza-2024", "section": "五、", "title": "《创B争A通知》"}]
    text = "抽查比例不少于30%。（《创B争A通知》五、（2024-08-05））"
    assert invented_facts(text, "", cites) == []
    assert invented_facts("抽查比例为45%。", "", cites) == ["45%"]


def test_jurisdiction_must_be_named():
    case = AnswerCase("l1", "policy", ("聊城对贿赂专家怎么处理",), Expect(("最低等级",), jurisdiction="聊城"))
    assert judge(case, Answer("聊城文件：直接评定为最低等级。"), case.turns[0], 1.0).passed
    assert not judge(case, Answer("直接评定为最低等级。"), case.turns[0], 1.0).passed


def test_golden_file_loads():
    cases = load_cases()
    assert len(cases) >= 150 and {c.group for c in cases} >= {"tool", "policy", "followup", "out_of_scope"}
    assert sum(c.group == "out_of_scope" for c in cases) >= 40


def test_run_eval_with_fake_search_reports_groups(tmp_path):
    from jixiao.bot.turn import Assistant, FakeHit, FakePassageSearch

    hits = [FakeHit("cq-cbza-2024", "创B争A通知", "五、",
                    "抽查发现企业不满足绩效指标的，按照《技术指南》要求责令企业限期整改。" + CITE["quote"], 0.9)]
    bot = Assistant(FakePassageSearch(hits), tmp_path / "t.db")
    followup = AnswerCase("f1", "followup", ("汽修厂能评几级", "评上地方绩效引领的话谁审"),
                          Expect(("区县", "委托"), tool="review_route"))
    report = run_eval(bot, [POLICY, OOS, followup])
    s = report.summary()
    assert s["groups"]["policy"]["passed"] == 1 and s["groups"]["followup"]["passed"] == 1
    assert s["abstention_recall"] == 1.0 and s["latency_p95_ms"] >= 0


def test_cli_writes_markdown_and_json(tmp_path, monkeypatch):
    from jixiao.cli import _wire, app

    golden = tmp_path / "g.yaml"
    golden.write_text("- id: x1\n  group: tool\n  turns: [\"马桶厂能评A级吗？\"]\n"
                      "  expect: {facts: [\"卫生陶瓷\", \"绩效引领\"], tool: tier_scheme, escalate: false}\n",
                      encoding="utf-8")
    _wire()
    out = tmp_path / "answers.md"
    result = CliRunner().invoke(app, ["eval", "answers", "--golden", str(golden), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["summary"]["passed"] == 1 and data["cases"][0]["tools"][0] == "tier_scheme"
    assert "| tool | 1 | 1 | 100.0% |" in out.read_text(encoding="utf-8")


def test_percentages_written_out_in_the_source_are_not_invented():
    cites = [{"doc_id": "cq-cbza-2024-att1", "title": "《惠企10条措施》", "section": "二、", "quote": ""}]
    assert invented_facts("减按百分之七十五征收环境保护税。", "环保税能减多少", cites) == []
    assert invented_facts("减按75%征收环境保护税。", "环保税能减多少", cites) == []
    assert invented_facts("减按65%征收环境保护税。", "环保税能减多少", cites) == ["65%"]
