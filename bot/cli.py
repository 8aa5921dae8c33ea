"""CLI commands `tiers` and `review` (registered on the root app by jixiao.cli)."""
from __future__ import annotations

import dataclasses
import json

import typer

from jixiao.bot.industry import TierSchemeResult, tier_scheme
from jixiao.bot.review import ReviewRouteResult, review_route

DOC_NAMES = {
    "cq-cbza-2024": "《创B争A通知》",
    "cq-cbza-2024-att3": "《创B争A通知》附件3 行业清单审核要求",
    "cq-cbza-2024-att4": "《创B争A通知》附件4 应急管理系统操作说明",
}


def to_json(result) -> str:
    data = dataclasses.asdict(result)
    data.pop("resolution", None)
    return json.dumps(data, ensure_ascii=False, indent=2)


def _cite(basis) -> str:
    return f"  - {DOC_NAMES.get(basis.doc_id, basis.doc_id)}（{basis.doc_id}）{basis.section}：“{basis.quote}”"


def _print_basis(items) -> None:
    seen, lines = set(), []
    for b in items:
        if (b.doc_id, b.quote) not in seen:
            seen.add((b.doc_id, b.quote))
            lines.append(_cite(b))
    if lines:
        typer.echo("依据：")
        typer.echo("\n".join(lines))


def render_tiers(r: TierSchemeResult) -> None:
    typer.echo(r.message)
    if not r.found:
        if r.suggestions:
            typer.echo("可选：" + "、".join(r.suggestions))
        return
    typer.echo(f"行业：{r.industry}（{r.category_label} 第{r.seq}项，适用地区：{r.jurisdiction}）")
    for b in r.branches:
        typer.echo(f"  · {b.name}：{b.scheme_label}，等级 {'、'.join(b.tiers)}")
    if r.other_branches:
        typer.echo("同行业其他分支：" + "、".join(r.other_branches))
    if r.review_requirement:
        typer.echo(f"审核要求：{r.review_requirement}")
    _print_basis(list(r.basis) + [b.basis for b in r.branches])


def render_review(r: ReviewRouteResult) -> None:
    typer.echo(r.message)
    if not r.found:
        if r.valid_grades:
            typer.echo("可申报等级：" + "、".join(r.valid_grades))
        if r.suggestions:
            typer.echo("可选：" + "、".join(r.suggestions))
        return
    for option in r.routes:
        typer.echo(f"【{option.title}】" + (f" 适用等级：{'、'.join(option.grades)}" if option.grades else "")
                   + ("（委托区县审核）" if option.delegated else ""))
        for s in option.steps:
            typer.echo(f"  {s.order}. {s.actor}：{s.action}")
        if option.note:
            typer.echo(f"  说明：{option.note}")
    typer.echo(f"申报系统：{r.system}（适用地区：{r.jurisdiction}）")
    typer.echo(f"申报次数：{r.once_a_year}")
    typer.echo(f"退回重报：{r.resubmission}")
    typer.echo(f"专家审核：{r.expert_review}")
    _print_basis(list(r.basis) + [b for o in r.routes for s in o.steps for b in s.basis])


def register(app: typer.Typer) -> None:
    @app.command("tiers")
    def tiers_cmd(text: str = typer.Argument(..., help="行业名称、产品或一句话，如“铸件”“马桶”"),
                  branch: str | None = typer.Option(None, "--branch", help="行业分支，如“卫生陶瓷”"),
                  as_json: bool = typer.Option(False, "--json", help="输出 JSON")) -> None:
        """查询行业的绩效分级管控类型（附件3，重庆）。"""
        result = tier_scheme(text, branch)
        typer.echo(to_json(result)) if as_json else render_tiers(result)

    @app.command("review")
    def review_cmd(text: str = typer.Argument(..., help="行业名称、产品或一句话"),
                   grade: str | None = typer.Option(None, "--grade", help="申报等级：A、B、B-、C、D、绩效引领…"),
                   branch: str | None = typer.Option(None, "--branch", help="行业分支"),
                   region: str = typer.Option("重庆", "--region", help="地区（表格只覆盖重庆）"),
                   as_json: bool = typer.Option(False, "--json", help="输出 JSON")) -> None:
        """查询评级申报的审核路径：谁审、按什么顺序（重庆）。"""
        result = review_route(text, branch=branch, grade=grade, region=region)
        typer.echo(to_json(result)) if as_json else render_review(result)


def register_tools(app: typer.Typer) -> None:
    """`jixiao tools list|run`: every tool of the registry (jixiao.bot.tools) with its arguments, run by name."""
    tools_app = typer.Typer(help="查询工具（与路由、大模型使用的是同一个工具登记表）。", no_args_is_help=True)
    app.add_typer(tools_app, name="tools")

    @tools_app.command("list")
    def list_cmd() -> None:
        """列出全部工具及其参数。"""
        from jixiao.bot.tools import TOOLS

        for tool in TOOLS.values():
            params = "，".join(f"{k}{'' if f.is_required() else '?'}" for k, f in tool.args.model_fields.items())
            typer.echo(f"{tool.name}（{params or '无参数'}）：{tool.description}")

    @tools_app.command("run")
    def run_cmd(name: str = typer.Argument(..., help="工具名，见 `jixiao tools list`"),
                args: list[str] = typer.Argument(None, help="参数，写成 键=值，如 industry=铸造 grade=B")) -> None:
        """按名称运行一个工具，输出 JSON 结果。"""
        from pydantic import ValidationError

        from jixiao.bot.tools import TOOLS, result_json

        tool = TOOLS.get(name)
        if tool is None:
            typer.echo(f"没有工具“{name}”。可选：{'、'.join(TOOLS)}", err=True)
            raise typer.Exit(2)
        pairs = [a.split("=", 1) for a in args or []]
        if any(len(p) != 2 for p in pairs):
            typer.echo("参数要写成 键=值，如 industry=铸造", err=True)
            raise typer.Exit(2)
        try:
            parsed = tool.args(**dict(pairs))
        except ValidationError as exc:
            typer.echo(f"参数不对：{exc.errors()[0]['loc']} {exc.errors()[0]['msg']}", err=True)
            raise typer.Exit(2)
        typer.echo(json.dumps(result_json(tool.run(parsed)), ensure_ascii=False, indent=2, default=str))
