"""CLI commands over the rule tables: `incentives` and `policy`."""
from __future__ import annotations

import json
from dataclasses import asdict
from typing import Optional

import typer

from jixiao.errors import DataError


def _emit_json(data) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _fail_data(exc: DataError) -> None:
    typer.echo(f"规则表有误，请联系维护人员：{exc}", err=True)
    raise typer.Exit(2)


def render_incentives(res) -> str:
    lines = [res.message]
    for title, group in (("适用措施", res.measures), ("提档升级可争取的帮扶", res.upgrade_support),
                         ("不直接惠及企业", res.not_for_enterprises)):
        if not group:
            continue
        lines.append(f"\n【{title}】")
        for m in group:
            lines.append(f"{m.seq}. {m.name}（{m.certainty}）：{m.grade_note or m.summary}")
            for n in m.numbers:
                lines.append(f"   - {n.label}：{n.value:g}{n.unit}")
            if m.condition:
                lines.append(f"   条件：{m.condition}")
            b = m.basis[0]
            lines.append(f"   依据：{b.doc_id} {b.section}“{b.quote}”")
    if res.caveats:
        lines.append("\n【注意】")
        lines += [f"- {c}" for c in res.caveats]
    if res.documents:
        lines.append("\n【依据文件】")
        lines += [f"- {d.title}（{d.number or '无文号'}，{d.date or '日期未见'}）" for d in res.documents]
    for d in res.newer_rules:
        lines.append(f"【新规提示】{d.number} {d.title}（{d.date}，{d.note}）")
    if res.suggestions and not res.found:
        lines.append("可选：" + "、".join(res.suggestions))
    return "\n".join(lines)


_STATUS = {"loaded": "已收录", "cited-not-loaded": "被引用未收录", "secondary": "二手资料"}


def render_register(docs) -> str:
    lines = []
    for d in docs:
        head = f"[{_STATUS[d.status]}] {d.id}  {d.title}"
        meta = "，".join(x for x in (d.number, d.date, d.issuer, d.jurisdiction) if x)
        lines.append(f"{head}\n    {meta}\n    {d.changes}")
        if d.seen_at:
            lines.append(f"    来源：{d.seen_at}")
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    """Add the rule-table commands to the root `jixiao` app."""

    @app.command("incentives", help="重庆“创B争A”惠企10条措施：按绩效等级查询适用措施、数字与依据。")
    def incentives_cmd(
        grade: str = typer.Option("B", "--grade", "-g", help="绩效等级：A、B、B-、绩效引领、C、D（可写“B级”“引领性”）"),
        region: str = typer.Option("重庆", "--region", help="地区；惠企10条措施只适用于重庆"),
        as_json: bool = typer.Option(False, "--json", help="输出JSON"),
    ) -> None:
        from jixiao.bot.incentives import incentives

        try:
            res = incentives(grade, region)
        except DataError as exc:
            _fail_data(exc)
        if as_json:
            _emit_json(asdict(res))
        else:
            typer.echo(render_incentives(res))
        if not res.found:
            raise typer.Exit(1)

    @app.command("policy", help="政策文件登记：已收录、被引用未收录、二手资料，含文号、日期、发文机关。")
    def policy_cmd(
        status: Optional[str] = typer.Option(None, "--status", help="loaded / cited-not-loaded / secondary"),
        as_json: bool = typer.Option(False, "--json", help="输出JSON"),
    ) -> None:
        from jixiao.bot.incentives import policy_register

        if status and status not in _STATUS:
            typer.echo(f"未知状态“{status}”。可选：{'、'.join(_STATUS)}", err=True)
            raise typer.Exit(1)
        try:
            docs = policy_register(status)
        except DataError as exc:
            _fail_data(exc)
        if as_json:
            _emit_json([d.model_dump(mode="json") for d in docs])
        else:
            typer.echo(render_register(docs))
