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
    # industry, branch, target, 3 bars, 装备水平, ink variant, ink %, then the remaining families
    return ["包装印刷", "1", target, *bars, "1", variant, pct, *["1"] * 7]


def outcome(result: dict, family: str) -> dict:
    return next(o for o in result["indicators"] if o["family"] == family)


def test_printing_reaches_a_on_ink_row(tmp_path):
    out = run_script(printing("1", "65"), tmp_path / "a.db")
    r = out["result"]
    assert out["done"] and r["industry"] == "包装印刷" and r["branch"] == "纸制品包装印刷"
    ink = outcome(r, "raw_materials")
    assert ink["status"] == "graded" and ink["grade"] == "A"
    assert any("mee-guide-2020" in b and "许昌" in b for b in ink["basis"])
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
    assert outcome(r, "raw_materials")["status"] == "below_loaded"
    assert r["ceiling"] is None and r["estimate"] is None


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
    answers = ["铸造", "1", "A", *NO_BARS, *["1"] * 9]
    r = run_script(answers, tmp_path / "a.db")["result"]
    assert r["industry"] == "铸造"
    assert r["estimate"] is None and r["ceiling"] is None
    assert all(o["grade"] is None for o in r["indicators"])
    assert all("技术指南" in o["requirement"] for o in r["indicators"] if o["status"] == "no_threshold")


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
