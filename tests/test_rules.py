"""Rule tables (incentives, procedures, policy register) and the lookup tools over them."""
import dataclasses
import json
import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from jixiao.bot.cli_rules import register
from jixiao.bot.incentives import (VALID_GRADES, IncentivesResult, incentives, normalize_grade, policy_register,
                                   procedure_facts)
from jixiao.errors import DataError
from jixiao.knowledge.rules import TABLES_DIR, load_incentives, load_procedures, load_register, load_rules

SHORT_NAMES = ["争取专项补助资金", "减交环保税", "免费监测", "分级管控", "正面宣传", "首违不罚", "减少检查频次",
               "重污染不限产", "减污降碳激励", "考核激励"]


def _numbers(res: IncentivesResult, measure_id: str) -> dict:
    m = next(m for m in res.measures if m.id == measure_id)
    return {(n.key, n.grade): n.value for n in m.numbers}


# ---------------------------------------------------------------- tables

def test_all_ten_measures_present_with_basis():
    table = load_incentives()
    assert [m.seq for m in table.measures] == list(range(1, 11))
    assert [m.name for m in table.measures] == SHORT_NAMES
    for m in table.measures:
        assert m.basis and all(b.doc_id == "cq-cbza-2024-att1" and b.loaded for b in m.basis)
    assert table.region == "重庆"


def test_tax_measure_is_a_concentration_condition_not_a_grade():
    m = next(m for m in load_incentives().measures if m.seq == 2)
    assert m.scope == "pursuit" and not m.grades
    assert {(n.below_standard_pct, n.value) for n in m.numbers} == {(30, 75), (50, 50)}


def test_measure_ten_is_for_districts():
    assert next(m for m in load_incentives().measures if m.seq == 10).scope == "district"


def test_register_entries_well_formed():
    docs = load_register()
    ids = [d.id for d in docs]
    assert len(ids) == len(set(ids))
    loaded = {"cq-cbza-2024", "cq-cbza-2024-att1", "cq-cbza-2024-att2", "cq-cbza-2024-att3", "cq-cbza-2024-att4",
              "cq-cbza-2024-att5", "cq-106-2024", "cq-digital-2024", "cq-chengyu-2024", "cq-autumn-winter-2024",
              "cq-eia-service-2024", "cq-mobile-source-2024", "kaifeng-2020", "liaocheng-2020"}
    assert {d.id for d in docs if d.status == "loaded"} == loaded
    numbers = {d.number for d in docs}
    for n in ("环办大气函〔2020〕340号", "川环办函〔2024〕337号", "渝府办发〔2024〕15号", "渝府办发〔2022〕115号",
              "渝环〔2023〕27号", "环办大气〔2026〕2号", "环大气〔2024〕6号", "聊重指办〔2020〕6号"):
        assert n in numbers
    for d in docs:
        assert d.title and d.changes and d.basis
        if d.status == "secondary":
            assert d.secondary and d.seen_at and all(not b.loaded for b in d.basis)
        else:
            assert all(b.loaded for b in d.basis)
    newer = next(d for d in docs if d.number == "环办大气〔2026〕2号")
    assert newer.date == "2026-01-13" and newer.status == "secondary" and "A+" in newer.changes


def test_every_basis_names_a_registered_document():
    load_rules.cache_clear()
    load_rules()  # raises DataError on a dangling or mis-flagged doc_id


def test_procedure_rows_have_jurisdiction_and_basis():
    facts = load_procedures()
    assert {f.jurisdiction for f in facts} >= {"重庆", "聊城", "开封", "全国"}
    for f in facts:
        assert f.statement and f.basis
        if f.jurisdiction == "全国":
            assert f.secondary and not f.loaded and f.seen_at


# ---------------------------------------------------------------- incentives tool

@pytest.mark.parametrize("text, grade", [("B级", "B"), ("b", "B"), ("绩效引领", "绩效引领"), ("引领性", "绩效引领"),
                                         ("A级企业", "A"), ("B-", "B-"), ("B－级", "B-"), ("c级", "C"),
                                         ("非引领性", "非绩效引领"), ("环保绩效A级", "A")])
def test_grade_normalisation(text, grade):
    assert normalize_grade(text)[0] == grade


def test_local_grade_is_flagged():
    assert normalize_grade("地方B级") == ("B", True)


def test_b_gets_point_three_percent_and_a_gets_point_five():
    b, a = incentives("B级"), incentives("A")
    assert b.found and a.found
    assert _numbers(b, "m09-carbon-quota") == {("extra_quota_pct", "B"): 0.3}
    assert _numbers(a, "m09-carbon-quota") == {("extra_quota_pct", "A"): 0.5}
    assert all(m.basis for m in b.measures)
    assert {m.seq for m in b.measures} == set(range(1, 10))
    assert [m.seq for m in b.not_for_enterprises] == [10]


def test_measure_eight_differs_by_grade():
    note = {g: next(m for m in incentives(g).measures if m.seq == 8).grade_note for g in ("A", "B", "绩效引领")}
    assert "自主" in note["A"] and "少限产" in note["B"] and "少限产" in note["绩效引领"]


@pytest.mark.parametrize("grade", ["C", "D级", "非绩效引领"])
def test_c_and_d_get_none_of_the_measures(grade):
    res = incentives(grade)
    assert res.found and res.measures == ()
    assert "B级及以上" in res.message and res.basis
    assert {m.seq for m in res.upgrade_support} == {1, 2, 3, 4}


def test_leading_grade_gets_measure_eight_but_not_the_quota():
    res = incentives("引领性")
    seqs = {m.seq: m.certainty for m in res.measures}
    assert seqs[8] == "明确" and 9 not in seqs and seqs[5].startswith("推定")


def test_unknown_grade_lists_valid_values():
    res = incentives("火星级")
    assert not res.found and res.measures == ()
    assert set(VALID_GRADES) <= set(res.suggestions)
    assert all(g in res.message for g in ("A", "B", "绩效引领"))


def test_other_region_is_refused():
    res = incentives("B", region="聊城")
    assert not res.found and res.measures == () and "重庆" in res.message


def test_result_carries_documents_and_newer_rule():
    res = incentives("B")
    assert {d.doc_id for d in res.documents} == {"cq-cbza-2024", "cq-cbza-2024-att1"}
    assert all(d.date == "2024-08-05" for d in res.documents)
    assert [d.number for d in res.newer_rules] == ["环办大气〔2026〕2号"]
    assert res.newer_rules[0].status == "secondary"


def test_result_is_frozen_and_json_serialisable():
    res = incentives("A")
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.found = False  # type: ignore[misc]
    assert json.loads(json.dumps(dataclasses.asdict(res), ensure_ascii=False))["grade"] == "A"


# ---------------------------------------------------------------- procedures and register tools

def test_jurisdictions_are_not_mixed():
    cq = procedure_facts(jurisdiction="重庆")
    assert cq.found and cq.facts
    assert {f.jurisdiction for f in cq.facts} == {"重庆"}
    assert not any(b.doc_id == "liaocheng-2020" for f in cq.facts for b in f.basis)
    lc = procedure_facts(jurisdiction="聊城市")
    assert {f.jurisdiction for f in lc.facts} == {"聊城"} and "只适用于聊城" in lc.message


def test_procedure_topic_lookup():
    res = procedure_facts("抽查")
    assert res.found and any(f.numbers.get("district_min_pct") == 30 for f in res.facts)
    materials = procedure_facts("申报材料").facts[0]
    assert len(materials.items) == 6
    gate = procedure_facts("门禁")
    assert all(f.secondary for f in gate.national_secondary) and gate.national_secondary


def test_unknown_jurisdiction_and_topic():
    assert not procedure_facts(jurisdiction="上海").found
    res = procedure_facts("火星采矿")
    assert not res.found and res.suggestions


def test_policy_register_filter():
    assert {d.status for d in policy_register("secondary")} == {"secondary"}
    assert len(policy_register()) >= 25


# ---------------------------------------------------------------- broken tables

def _copy_tables(tmp_path: Path) -> Path:
    target = tmp_path / "tables"
    shutil.copytree(TABLES_DIR, target)
    return target


def test_broken_row_names_file_and_row(tmp_path):
    tables = _copy_tables(tmp_path)
    path = tables / "incentives.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("scope: district", "scope: everyone"), encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_incentives(path)
    msg = str(err.value)
    assert "incentives.yaml" in msg and "m10-district-assessment" in msg and "scope" in msg and "line" in msg


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    tables = _copy_tables(tmp_path)
    path = tables / "procedures.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n  - id: [unclosed\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"procedures\.yaml line \d+"):
        load_procedures(path)


def test_unknown_field_is_rejected(tmp_path):
    tables = _copy_tables(tmp_path)
    path = tables / "policy_register.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("  - id: mee-2024-6\n", "  - id: mee-2024-6\n    colour: red\n"),
                    encoding="utf-8")
    with pytest.raises(DataError, match=r"policy_register\.yaml documents\[\d+\] \(id='mee-2024-6'.*colour"):
        load_register(path)


def test_dangling_doc_id_is_rejected(tmp_path):
    tables = _copy_tables(tmp_path)
    path = tables / "procedures.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("doc_id: kaifeng-2020", "doc_id: kaifeng-2099"),
                    encoding="utf-8")
    with pytest.raises(DataError, match="kaifeng-2099"):
        load_rules(tables)


# ---------------------------------------------------------------- CLI

@pytest.fixture()
def cli():
    app = typer.Typer()
    register(app)
    return lambda *args: CliRunner().invoke(app, list(args))


def test_cli_incentives_json(cli):
    out = cli("incentives", "--grade", "B级", "--json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["grade"] == "B" and len(data["measures"]) == 9


def test_cli_incentives_text_and_unknown_grade(cli):
    assert "0.5%" in cli("incentives", "--grade", "A").output
    out = cli("incentives", "--grade", "Z")
    assert out.exit_code == 1 and "无法识别" in out.output
    assert out.exception is None or isinstance(out.exception, SystemExit)  # a clear reply, not a traceback


def test_cli_policy(cli):
    out = cli("policy", "--json")
    assert out.exit_code == 0
    assert "环办大气〔2026〕2号" in out.output and "liaocheng-2020" in out.output
    assert "二手资料" in cli("policy", "--status", "secondary").output
