"""Packs by staff (issue #17 item 4): the README's example pack validates and changes a result; the CLI
names the line and the fix; an admin uploads, validates and activates a pack in the console."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from servers import PASSWORD, add_user, live_server, login, make_services
from jixiao.adapters.app import create_app
from jixiao.adapters.services import OrderedReplier
from jixiao.adapters.turn_order import TurnOrder
from jixiao.bot.assess import AssessmentEngine
from jixiao.bot.assess.pack import PackSource
from jixiao.bot.assess.packcheck import activate, check_text
from jixiao.bot.dialogue import build_dialogue

README = Path(__file__).parents[1] / "knowledge" / "criteria" / "README.md"
# 铸造·天然气炉/电炉, target B, no bars, clay sand on a mechanised line, the other families done, 门禁 yes
FOUNDRY = ["铸造", "2", "B", "否", "否", "否", "1", "2", "已完成", "是", "是", "4"]
REST = ["已完成"] * 5 + ["有", "有", "有"]


def readme_pack() -> str:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- example-pack:begin -->\s*```yaml\n(.*?)```\s*<!-- example-pack:end -->", text, re.S)
    assert block, "the README's example pack is marked with example-pack:begin/end"
    return block.group(1)


def play(engine: AssessmentEngine, answers: list[str]):
    engine.start("u")
    turn = None
    for a in answers:
        turn = engine.handle("u", a)
    return turn


def test_readme_example_validates_and_changes_a_result(tmp_path):
    pack = readme_pack()
    assert check_text(pack, "zhuzao-paifang.yaml").ok
    data = tmp_path / "var" / "criteria"
    before = play(AssessmentEngine(tmp_path / "a.db", packs=PackSource(data)), FOUNDRY + REST)
    assert before.done and before.result.ceiling == "B"  # mechanised moulding: B
    emission = next(o for o in before.result.indicators if o.family == "emission_limits")
    assert emission.status == "no_threshold" and "未载入" in emission.requirement

    assert activate(pack, "zhuzao-paifang.yaml", data).ok and (data / "zhuzao-paifang.yaml").is_file()
    engine = AssessmentEngine(tmp_path / "b.db", packs=PackSource(data))
    asked = play(engine, FOUNDRY)  # the pack's question replaces the 排放限值 status question
    assert asked.question_id == "ind:foundry_emission_pm:pm_level" and "哪一级限值" in asked.text
    turn = play(engine, FOUNDRY + ["3"] + REST[1:])  # 未达B级限值
    r = turn.result
    emission = next(o for o in r.indicators if o.family == "emission_limits")
    assert emission.status == "below_loaded" and emission.failed == "B" and emission.pack == "zhuzao-paifang.yaml"
    assert r.ceiling == "C" and r.ceiling_reasons[0].startswith("排放限值·颗粒物：未达B级限值，未达B级要求")
    assert "最高可能：C级" in r.short and len(r.short.encode()) <= 600


def test_cli_check_names_the_line_and_the_fix(tmp_path):
    good = tmp_path / "zhuzao-paifang.yaml"
    good.write_text(readme_pack(), encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "jixiao", "criteria", "check", str(good)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "校验通过：铸造，1个指标、1道判断题。" in out.stdout  # as the README shows
    bad = tmp_path / "bad.yaml"
    bad.write_text(readme_pack().replace("industry: 铸造", "industry: 铸造厂")
                   .replace("one_of: [a]}", "must: true}").replace("    evidence: 2.14排放限值\n", ""),
                   encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "jixiao", "criteria", "check", str(bad)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("- ")]
    assert len(lines) == 3 and all("修改方法：" in ln for ln in lines)
    assert lines[0].startswith("- 第2行（industry）") and "附件3" in lines[0]
    assert any(ln.startswith("- 第7行（indicators.0.evidence）") and "补上" in ln for ln in lines)
    assert any("one_of" in ln and "第" in ln for ln in lines)
    syntax = tmp_path / "syntax.yaml"
    syntax.write_text("industry: 铸造\ngrades: [A, B\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "jixiao", "criteria", "check", str(syntax)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "第" in out.stdout and "缩进" in out.stdout


@pytest.mark.integration
def test_admin_uploads_validates_and_activates_in_the_console(tmp_path):
    services = make_services(tmp_path)
    services.bot = OrderedReplier(build_dialogue(services.settings, engine=services.engine),
                                  TurnOrder(services.engine))
    add_user(services, "root", role="admin")
    add_user(services, "alice", role="staff")
    pack = readme_pack()
    with live_server(create_app(services=services)) as url:
        with httpx.Client(base_url=url) as staff:
            login(staff, "alice")
            assert staff.get("/console/criteria").status_code == 403
            assert staff.get("/api/criteria/packs").status_code == 403
        with httpx.Client(base_url=url, follow_redirects=False) as anon:
            assert anon.get("/console/criteria").status_code == 303
        with httpx.Client(base_url=url, headers={"Origin": url}) as admin:
            login(admin, "root", PASSWORD)
            page = admin.get("/console/criteria")
            assert page.status_code == 200 and "criteria.js" in page.text
            assert "/console/criteria" in admin.get("/console").text  # linked from the console
            listed = admin.get("/api/criteria/packs").json()["packs"]
            assert {"common-transport.yaml", "zhuzao.yaml"} <= {p["name"] for p in listed}
            body = {"name": "zhuzao-paifang.yaml", "text": pack}
            foreign = admin.post("/api/criteria/activate", json=body, headers={"Origin": "https://evil.example"})
            assert foreign.status_code == 403
            bad = admin.post("/api/criteria/check", json={"name": "x.yaml", "text": pack.replace("kind: choice",
                                                                                               "kind: pick")}).json()
            assert not bad["ok"] and bad["problems"][0]["line"] and "percent、yesno 或 choice" in bad["problems"][0]["fix"]
            refused = admin.post("/api/criteria/activate", json={"name": "x.yaml", "text": "industry: [\n"})
            assert refused.status_code == 422 and not refused.json()["detail"]["ok"]
            assert admin.post("/api/criteria/check", json=body).json()["ok"]
            done = admin.post("/api/criteria/activate", json=body)
            assert done.status_code == 200 and done.json()["activated"] == "zhuzao-paifang.yaml"
            listed = admin.get("/api/criteria/packs").json()["packs"]
            assert {"name": "zhuzao-paifang.yaml", "origin": "staff"}.items() <= next(
                p for p in listed if p["name"] == "zhuzao-paifang.yaml").items()
            assert "zhuzao-paifang.yaml" in services.bot.engine.packs.names  # the running bot uses it now
            assert admin.post("/api/criteria/deactivate", json={"name": "zhuzao-paifang.yaml"}).status_code == 200
            assert admin.post("/api/criteria/deactivate", json={"name": "zhuzao.yaml"}).status_code == 404
            assert "zhuzao-paifang.yaml" not in services.bot.engine.packs.names
