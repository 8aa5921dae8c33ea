"""Review routes: who reviews which application in 重庆, each step with its clause."""
import json

import pytest
import typer
from typer.testing import CliRunner

from jixiao.bot.cli import register
from jixiao.bot.review import review_route
from jixiao.knowledge.industries import load_industries, load_review_routes

DELEGATED = {"金属表面处理及热处理加工", "矿石采选与石材加工", "塑料制品", "纸浆制造与造纸", "沥青混合料搅拌站",
             "汽修行业", "通用行业"}


def _actors(result):
    return [s.actor for s in result.steps]


def test_routes_reference_real_industries_and_grades():
    names = {i.name for i in load_industries().industries}
    routes = load_review_routes().routes
    for route in routes:
        assert set(route.applies_to.industries) <= names, route.id
        assert route.steps and route.basis
    delegated = next(r for r in routes if r.delegated)
    assert set(delegated.applies_to.industries) == DELEGATED
    assert [r.id for r in routes if r.delegated] == ["local-delegated"]


def test_every_industry_and_grade_has_a_route():
    for ind in load_industries().industries:
        grades = {g for b in ind.branches for g in (b.grades or ("其他",))} or {None}
        for g in grades:
            r = review_route(ind.name, branch=None, grade=g)
            assert r.found and len(r.routes) == 1, (ind.name, g, r.message)


def test_casting_b_goes_to_city_with_expert_review():
    r = review_route("铸造", grade="B")
    assert r.found and r.grade == "B" and r.delegated is False
    assert r.routes[0].route_id == "national-high"
    assert _actors(r)[0] == "区县生态环境局" and any("专家" in a for a in _actors(r))
    assert r.steps[-1].actor == "市生态环境局"
    assert all(s.basis for s in r.steps) and [s.order for s in r.steps] == list(range(1, len(r.steps) + 1))
    assert r.system == "重庆市重污染天气应急管理系统" and r.once_a_year and r.resubmission
    assert {b.doc_id for b in r.basis} >= {"cq-cbza-2024", "cq-cbza-2024-att3", "cq-cbza-2024-att4"}


def test_casting_c_is_district_review_without_experts():
    r = review_route("铸造", grade="C")
    assert r.found and r.routes[0].route_id == "national-other" and r.delegated is False
    assert not any("专家" in a for a in _actors(r))
    assert _actors(r)[:2] == ["区县生态环境局", "区县生态环境局"] and _actors(r)[-1] == "市生态环境局"


def test_auto_repair_leading_is_delegated_and_b_is_refused():
    r = review_route("汽修", grade="绩效引领")
    assert r.found and r.delegated is True and r.grade == "地方绩效引领"
    assert r.routes[0].route_id == "local-delegated" and r.note
    assert "委托" in _actors(r)[0] and not any("专家" in a for a in _actors(r))
    cited = {b.doc_id for b in r.basis}
    assert {"cq-cbza-2024", "cq-cbza-2024-att3"} <= cited
    b = review_route("汽修", grade="B")
    assert not b.found and b.valid_grades == ("地方绩效引领", "地方非绩效引领")
    assert "绩效引领" in b.message


def test_electronics_a_is_expert_route():
    r = review_route("电子工业", grade="A")
    assert r.found and r.grade == "地方A" and r.routes[0].route_id == "local-key3-high"
    assert any("专家" in a for a in _actors(r)) and r.delegated is False
    assert review_route("电子工业", grade="C").routes[0].route_id == "local-other"


def test_grade_validation_and_routes_without_grade():
    assert not review_route("陶瓷", branch="卫生陶瓷", grade="B").found
    assert review_route("长流程钢铁", grade="B-").found
    assert not review_route("铸造", grade="B-").found
    assert not review_route("独立轧钢", grade="A").found
    assert not review_route("铸造", grade="Z").found
    r = review_route("铸造")
    assert r.found and r.steps == () and {o.route_id for o in r.routes} == {"national-high", "national-other"}
    assert review_route("民生保障").routes[0].route_id == "livelihood"


@pytest.mark.parametrize("region,ok", [("重庆", True), ("重庆市渝北区", True), ("万州", True), ("四川", False),
                                       ("聊城", False)])
def test_region(region, ok):
    r = review_route("铸造", grade="B", region=region)
    assert r.found is ok
    if not ok:
        assert "重庆" in r.message and r.routes == ()


def test_unknown_industry_is_not_an_exception():
    r = review_route("火星采矿", grade="B")
    assert not r.found and r.suggestions


def test_cli_commands():
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    out = runner.invoke(app, ["review", "汽修", "--grade", "绩效引领", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["delegated"] is True and data["steps"]
    out = runner.invoke(app, ["review", "铸造", "--grade", "B"])
    assert out.exit_code == 0 and "依据" in out.output and "cq-cbza-2024" in out.output
    out = runner.invoke(app, ["tiers", "我们是做铸件的", "--json"])
    assert json.loads(out.output)["industry"] == "铸造"
    out = runner.invoke(app, ["tiers", "陶瓷", "--branch", "卫生陶瓷"])
    assert out.exit_code == 0 and "绩效引领" in out.output
    out = runner.invoke(app, ["tiers", "火星采矿"])
    assert out.exit_code == 0 and "可选" in out.output
