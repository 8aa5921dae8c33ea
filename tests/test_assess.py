"""Scripted dialogues through the self-assessment engine (SQLite in tmp_path)."""
from __future__ import annotations

import pytest

from jixiao.bot.assess import AssessmentEngine
from jixiao.bot.assess.cli import run_script
from jixiao.bot.assess.pack import load_pack, load_packs
from jixiao.bot.assess.result import WECHAT_LIMIT
from jixiao.errors import DataError

NO_BARS = ["2", "2", "2"]


def printing(variant: str, pct: str, target: str = "A", bars=NO_BARS) -> list[str]:
    # industry, branch, target, 3 bars, 装备水平, ink variant, ink %, the remaining families, the common 门禁 checks
    return ["包装印刷", "1", target, *bars, "1", variant, pct, *["1"] * 9]  # 6 families + 3 common checks


def outcome(result: dict, family: str) -> dict:
    return next(o for o in result["indicators"] if o["family"] == family)


def test_printing_reaches_a_on_ink_row(tmp_path):
    out = run_script(printing("1", "65"), tmp_path / "a.db")
    r = out["result"]
    assert out["done"] and r["industry"] == "包装印刷" and r["branch"] == "纸制品包装印刷"
    ink = outcome(r, "raw_materials")
    assert ink["status"] == "graded" and ink["grade"] == "A"
    assert any("《技术指南》" in b and "许昌" in b for b in ink["basis"])
    assert any(c["doc_id"] == "mee-guide-2020" for c in r["citations"])
    assert r["ceiling"] == "A"
    assert r["estimate"] is None and "无组织排放" in r["not_estimable"]  # other families have no threshold
    assert "2.15无组织排放" in r["evidence"] and "2.4原辅材料（如涉及）" in r["evidence"]
    assert all(len(p.encode()) <= WECHAT_LIMIT for p in r["parts"])
    assert "应急管理系统" in r["how_to_apply"] and "一年" in r["how_to_apply"]


def test_flexo_absorbent_90_is_stuck_at_b(tmp_path):
    r = run_script(printing("3", "90%"), tmp_path / "a.db")["result"]
    ink = outcome(r, "raw_materials")
    assert ink["grade"] == "B" and r["ceiling"] == "B"
    assert r["short_boards"][0].startswith("原辅材料")  # the loaded threshold holding A down comes first


def test_below_loaded_threshold_gives_no_grade(tmp_path):
    r = run_script(printing("3", "50"), tmp_path / "a.db")["result"]
    ink = outcome(r, "raw_materials")
    assert ink["status"] == "below_loaded" and ink["failed"] == "B" and ink["grade"] is None
    # below B's loaded threshold: at most C, never a guessed C or D
    assert r["ceiling"] == "C" and r["estimate"] is None
    assert r["ceiling_reasons"][0].startswith("原辅材料") and "未达B级" in r["ceiling_reasons"][0]


def test_barred_enterprise_cannot_get_a_or_b(tmp_path):
    r = run_script(printing("1", "65", bars=["1", "2", "2"]), tmp_path / "a.db")["result"]
    assert r["barred"] and r["bar_findings"] == ["未批先建"]
    assert r["estimate"] not in ("A", "B")
    assert any("聊城" in n and "重庆" in n for n in r["notes"])


def test_ambiguous_industry_asks_with_numbered_candidates(tmp_path):
    engine = AssessmentEngine(tmp_path / "a.db")
    engine.start("u")
    turn = engine.handle("u", "喷漆")
    assert turn.question_id == "industry_pick" and "工业涂装" in turn.options and "1. " in turn.text
    turn = engine.handle("u", str(turn.options.index("工业涂装") + 1))
    assert turn.question_id == "branch"


def test_industry_without_pack_guesses_no_grade(tmp_path):
    # 铸件（冲天炉）: no 铸造 row is loaded for this branch; only the common 门禁 pack grades anything
    answers = ["铸造", "1", "A", *NO_BARS, "1", "1", "车间已全部密闭并配套布袋除尘", "2", "3", "1", "1", "1",
               "有的", "是的", "对"]
    r = run_script(answers, tmp_path / "a.db")["result"]
    assert r["industry"] == "铸造"
    assert r["estimate"] is None and r["ceiling"] == "A"  # the common rows allow A; nothing else is judged
    assert r["estimate_text"].startswith("暂无法估计：") and "无组织排放" in r["estimate_text"]
    assert all(o["grade"] is None for o in r["indicators"] if o["pack"] != "common-transport.yaml")
    assert [o["grade"] for o in r["indicators"] if o["pack"] == "common-transport.yaml"] == ["A", "A"]
    assert all("技术指南" in o["requirement"] for o in r["indicators"] if o["status"] == "no_threshold")
    # the answer is recorded as given, the evidence comes from attachment 5, the threshold's home is named
    treatment = outcome(r, "treatment")
    assert treatment["status"] == "no_threshold" and treatment["answer"] == "车间已全部密闭并配套布袋除尘"
    assert "2.13污染治理技术" in treatment["evidence"] and "2.14排放限值" in r["evidence"]
    assert "技术指南" in r["threshold_home"] and "未载入" in r["threshold_home"]
    assert {"cq-cbza-2024-att5", "cq-cbza-2024"} <= {c["doc_id"] for c in r["citations"]}
    # short boards: the families the notice names (无组织排放) before the others, worst status first
    assert r["short_boards"][0].startswith("无组织排放（尚未开展") and "三（二）" in r["short_boards"][0]
    assert r["short_boards"][1] == "排放限值（部分完成/正在改造）"


def test_local_industry_uses_local_leading_scheme(tmp_path):
    engine = AssessmentEngine(tmp_path / "a.db")
    engine.start("u")
    turn = engine.handle("u", "汽修")
    assert turn.question_id == "target" and "地方绩效引领" in turn.options
    out = run_script(["汽修", "1", *NO_BARS, *["1"] * 9], tmp_path / "b.db")
    r = out["result"]
    assert r["scheme_grades"] == ["地方绩效引领", "地方非绩效引领"] and r["target"] == "地方绩效引领"
    assert r["estimate"] is None
    assert any("地方指南" in o["requirement"] for o in r["indicators"])
    assert r["review_grade"] == "地方绩效引领" and "委托" in r["review"]  # delegated to the district
    assert "地方绩效引领" in r["incentives"]


def test_interrupted_and_resumed_on_a_new_engine(tmp_path):
    db = tmp_path / "a.db"
    engine = AssessmentEngine(db)
    engine.start("wx-1")
    engine.handle("wx-1", "包装印刷")
    before = engine.handle("wx-1", "1")
    assert before.question_id == "target"
    turn = engine.handle("wx-1", "评上B级有什么好处？")
    assert turn.not_an_answer and turn.question_id == "target" and not turn.done
    assert engine.handle("wx-1", "退出").question_id == "target"
    later = AssessmentEngine(db)  # days later, another process
    assert later.pending("wx-1").id == "target"
    assert later.resume("wx-1").question_id == "target"
    assert later.handle("wx-1", "2").question_id == "bar_unapproved"


def test_invalid_answers_are_re_asked(tmp_path):
    engine = AssessmentEngine(tmp_path / "a.db")
    engine.start("u")
    turn = engine.handle("u", "xyzxyz")
    assert turn.question_id == "industry" and not turn.not_an_answer
    for a in ["包装印刷", "1", "1", "2", "2", "2", "1", "3"]:
        turn = engine.handle("u", a)
    assert turn.question_id == "ind:ink_share:low_voc_ink_pct"
    turn = engine.handle("u", "150")
    assert turn.question_id == "ind:ink_share:low_voc_ink_pct" and "0到100" in turn.text
    turn = engine.handle("u", "9")  # valid percent
    assert turn.question_id == "fam:treatment"


def test_commands_back_skip_restart(tmp_path):
    engine = AssessmentEngine(tmp_path / "a.db")
    engine.start("u")
    assert engine.handle("u", "跳过").question_id == "industry"  # not skippable
    engine.handle("u", "包装印刷")
    assert engine.handle("u", "返回").question_id == "industry"
    engine.handle("u", "包装印刷")
    engine.handle("u", "1")
    assert engine.handle("u", "跳过").question_id == "bar_unapproved"
    assert engine.handle("u", "重新开始").question_id == "industry"


def test_shipped_packs_load():
    packs = load_packs()
    pack = packs.find("包装印刷", "纸制品包装印刷")
    assert pack is not None and pack.indicators[0].family == "raw_materials"
    assert all(b.secondary and b.seen_at for i in pack.indicators for v in i.variants for b in v.basis)


def test_broken_pack_names_file_and_line(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("industry: 包装印刷\ngrades: [A, B]\nsource: x\nindicators:\n"
                   "  - id: ink\n    family: nonsense\n    name: n\n    evidence: e\n"
                   "    variant_question: q\n    not_found: n\n    variants: []\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_pack(bad)
    assert "broken.yaml" in str(err.value) and "line 11" in str(err.value) and "variants" in str(err.value)
    syntax = tmp_path / "syntax.yaml"
    syntax.write_text("industry: [\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_pack(syntax)
    assert "syntax.yaml" in str(err.value) and "line" in str(err.value)


def test_result_facts_cite_documents_and_fit_wechat(tmp_path):
    # the longest result: barred, every family a gap, offset variant with two checks
    answers = ["包装印刷", "1", "A", "1", "1", "3", "3", "5", "90", "2", *["3"] * 6, "没有", "没有", "没有"]
    r = run_script(answers, tmp_path / "a.db")["result"]
    assert len(r["short"].encode()) <= 600 and r["short"].index("未批先建") < r["short"].index("最高可能")
    assert r["bar_findings"] == ["未批先建", "超许可排放"] and r["estimate"] is None
    assert r["estimate_text"].startswith("暂无法估计：前置条件（未批先建、超许可排放）")
    assert r["short_boards"][:2] == ["前置条件：上一年度存在未批先建", "前置条件：上一年度存在超许可排放"]
    assert r["short_boards"][2].startswith("原辅材料")  # the loaded threshold it misses comes next
    assert [b.split("：")[0] for b in r["short_boards"][3:5]] == ["运输监管·门禁视频系统", "运输监管·视频与台账保存期限"]
    assert [b.split("（")[0] for b in r["short_boards"][5:7]] == ["无组织排放", "监测监控水平"]
    assert "三（二）点名" in r["short_boards"][5] and r["short_boards"][7] == "装备水平/能源类型（尚未开展）"
    assert len(r["parts"]) <= 3 and all(len(p.encode()) <= WECHAT_LIMIT for p in r["parts"])
    assert "其余部分" not in r["parts"][-1] and r["parts"][-1].rstrip().endswith("转人工”，我们把本次自评结果转给帮办人员。")
    docs = {c["doc_id"] for c in r["citations"]}
    assert {"cq-cbza-2024", "cq-cbza-2024-att1", "cq-cbza-2024-att3", "cq-cbza-2024-att4", "cq-cbza-2024-att5",
            "liaocheng-2020", "mee-guide-2020"} <= docs
    for field in ("review", "incentives", "how_to_apply", "apply_when"):
        assert "《" in r[field] and "）" in r[field], field  # an inline (《document》clause)
    assert "一年只能申报一次" in r["how_to_apply"] and "2024年8月1日" in r["apply_when"]
    assert all(n.rstrip("。").endswith("）") for n in r["notes"])


FULL_PACK = """industry: 包装印刷
grades: [A, B]
source: test pack covering every family
indicators:
""" + "".join(f"""  - id: {fam}
    family: {fam}
    name: {fam}
    evidence: e
    variant_question: q?
    not_found: n
    variants:
      - id: v
        label: v
        checks:
          - id: pct
            question: pct?
            kind: percent
            grades:
              A: {{text: a, min: 60}}
              B: {{text: b, min: 40}}
        basis:
          - {{doc_id: cq-cbza-2024, section: test, quote: test}}
""" for fam in ("equipment", "raw_materials", "treatment", "emission_limits", "fugitive", "monitoring",
                "management", "transport", "transport_control"))


def test_weakest_link_estimate_when_every_family_has_a_threshold(tmp_path):
    from jixiao.bot.assess.pack import Packs
    (tmp_path / "full.yaml").write_text(FULL_PACK, encoding="utf-8")
    packs = Packs((load_pack(tmp_path / "full.yaml"),))
    engine = AssessmentEngine(tmp_path / "a.db", packs=packs)
    engine.start("u")
    values = ["70"] * 9
    values[4] = "45"  # 无组织排放 only reaches B
    turn = None
    for a in ["包装印刷", "1", "A", *NO_BARS, *values]:  # one variant each: no variant question
        turn = engine.handle("u", a)
    assert turn.done
    r = turn.result
    assert r.estimate == "B" and r.ceiling == "B" and r.not_estimable == ()
    assert r.estimate_text.startswith("B（按短板原则")
    assert r.short_boards == ("fugitive：45%，未达A级要求",)


def test_start_with_industry_and_target_named_in_the_opening_message(tmp_path):
    engine = AssessmentEngine(tmp_path / "a.db")
    turn = engine.start("u", industry={"text": "印刷厂", "industry": "包装印刷", "branch": "纸制品包装印刷"}, target="B")
    assert turn.question_id == "bar_unapproved" and "目标等级：B" in turn.text
    assert engine.handle("u", "返回").question_id == "target"  # the hint is used once: now it is asked
    local = engine.start("v", industry={"text": "汽修", "industry": "汽修行业", "branch": None}, target="B")
    assert local.question_id == "target"  # B is not a grade of 汽修 (地方绩效引领 only): asked, not guessed


def test_quit_pauses_and_resume_continues(tmp_path):
    engine = AssessmentEngine(tmp_path / "a.db")
    engine.start("u")
    engine.handle("u", "包装印刷")
    assert engine.status("u") == "active"
    assert "继续" in engine.handle("u", "退出").text and engine.status("u") == "paused"
    assert engine.resume("u").question_id == "branch" and engine.status("u") == "active"
    assert engine.status("nobody") == "none" and engine.result("u") is None


def test_broken_pack_names_the_field_line(tmp_path):
    from pathlib import Path
    shipped = Path(__file__).parents[1] / "knowledge" / "criteria" / "baozhuang-yinshua.yaml"
    text = shipped.read_text(encoding="utf-8")
    cases = [("industry: 包装印刷", "industry: 火星采矿", "line 3"), ("branches: []", "branches: [纸箱]", "line 4"),
             ("must: true", "yes: true", "line 96")]
    for old, new, line in cases:
        bad = tmp_path / "bad.yaml"
        bad.write_text(text.replace(old, new), encoding="utf-8")
        with pytest.raises(DataError) as err:
            load_pack(bad)
        assert "bad.yaml" in str(err.value) and line in str(err.value), str(err.value)


def test_assess_interactive_on_stdin(tmp_path):
    import subprocess
    import sys
    script = "\n".join(["汽修", "评上地方绩效引领有什么好处？", "1", "退出"]) + "\n"
    out = subprocess.run([sys.executable, "-m", "jixiao", "assess", "--db", str(tmp_path / "a.db"), "--user", "t"],
                         input=script, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "贵企业希望申报哪个等级" in out.stdout and "不是对当前问题的回答" in out.stdout
    assert "已保存自评进度" in out.stdout
    assert AssessmentEngine(tmp_path / "a.db").pending("t").id == "bar_unapproved"


FOUNDRY = ["铸造", "2", "B", *NO_BARS, "1", "1", "1", "1", "1", "4", *["1"] * 5]


def test_foundry_without_gate_control_is_held_below_b_with_reason_and_source(tmp_path):
    r = run_script([*FOUNDRY, "没有", "有", "有"], tmp_path / "a.db")["result"]
    assert r["ceiling"] == "C" and r["estimate"] is None  # automated line allows A; no 门禁 holds it below B
    gate = next(o for o in r["indicators"] if o["name"] == "运输监管·门禁视频系统")
    assert gate["status"] == "below_loaded" and gate["failed"] == "B" and gate["pack"] == "common-transport.yaml"
    assert any("二手资料" in b and "HJ 1321" in b for b in gate["basis"])
    reason = r["ceiling_reasons"][0]
    assert reason.startswith("运输监管·门禁视频系统：否，未达B级要求") and "《移动源应急管理技术指南》" in reason
    assert "mee-mobile-source-guide" in {c["doc_id"] for c in r["citations"]}
    with_gate = run_script([*FOUNDRY, "有", "有", "有"], tmp_path / "b.db")["result"]
    assert with_gate["ceiling"] == "A"
    equipment = next(o for o in with_gate["indicators"] if o["family"] == "equipment")
    assert equipment["grade"] == "A" and "许昌" in equipment["basis"][0]


def test_foundry_treatment_rows_are_known_requirements_without_a_grade(tmp_path):
    answers = ["铸造", "2", "B", *NO_BARS, "1", "2", "1", "否", "是", "2", "否", *["1"] * 5, "有", "有", "有"]
    r = run_script(answers, tmp_path / "a.db")["result"]
    dust = next(o for o in r["indicators"] if o["name"] == "污染治理技术·颗粒物")
    assert dust["status"] == "reference" and dust["grade"] is None and "等级归属待核实" in dust["requirement"]
    assert any(b.startswith("污染治理技术·颗粒物：未满足已知要求") for b in r["short_boards"])
    assert any(b.startswith("污染治理技术·VOCs") for b in r["short_boards"])
    assert r["ceiling"] == "B" and "污染治理技术·颗粒物" in r["not_estimable"]  # not graded, so no estimate


def test_cement_result_says_what_the_grade_means_in_a_warning(tmp_path):
    r = run_script(["水泥", "1", "B", *NO_BARS, *["1"] * 9, "有", "有", "有"], tmp_path / "a.db")["result"]
    assert r["ceiling"] == "A" and r["warning"].startswith("A级企业在重污染天气预警期间：")
    assert "二手资料" in r["warning"] and "预警期间" in r["short"]
    no_gate = run_script(["水泥", "1", "B", *NO_BARS, *["1"] * 9, "没有", "有", "有"], tmp_path / "b.db")["result"]
    assert no_gate["ceiling"] == "C" and "以生产线计停产50%" in no_gate["warning"]
    printing_r = run_script(printing("1", "65"), tmp_path / "c.db")["result"]
    assert printing_r["warning"] is None  # no document found says it for 包装印刷: nothing invented


def test_common_pack_is_national_only():
    from jixiao.bot.assess.pack import load_packs
    packs = load_packs()
    assert [p.industry for p in packs.applicable("铸造", "铸件（冲天炉）", ("A", "B", "C", "D"))] == ["*"]
    assert packs.applicable("汽修行业", None, ("地方绩效引领", "地方非绩效引领")) == []
    assert packs.applicable("长流程联合钢铁", "独立烧结、球团", ()) == []  # 管控类型“其他”: no A/B to apply for
    assert [p.industry for p in packs.applicable("铁合金", "电解锰", ("绩效引领", "非绩效引领"))] == ["*"]


def test_unclear_gate_answer_is_not_judged_a_failure(tmp_path):
    r = run_script([*FOUNDRY, "不清楚", "有", "有"], tmp_path / "a.db")["result"]
    gate = next(o for o in r["indicators"] if o["name"] == "运输监管·门禁视频系统")
    assert gate["status"] == "unanswered" and gate["grade"] is None
    assert r["ceiling"] == "A" and "运输监管·门禁视频系统" in r["not_estimable"]
    assert any(b.startswith("运输监管·门禁视频系统（不清楚") for b in r["short_boards"])
