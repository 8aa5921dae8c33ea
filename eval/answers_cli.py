"""`jixiao eval answers`: the answer-level golden set through the real assistant (eval/answer_eval.py);
`jixiao eval calibrate`: fit and check the abstention decision (eval/calibrate.py); `jixiao eval confidence`: the
calibrated answer confidence per route class (eval/confidence.py)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer


def register(group: typer.Typer) -> None:
    """`eval answers`, `eval calibrate` (the abstention decision, eval/calibrate.py) and `eval confidence`
    (the answer confidence table, eval/confidence.py)."""
    register_calibrate(group)
    register_confidence(group)

    @group.command("answers")
    def answers_cmd(
        golden: Optional[Path] = typer.Option(None, "--golden", help="金标集 YAML（默认 eval/golden/answers.yaml）。"),
        out: Optional[Path] = typer.Option(None, "--out", help="Markdown 结果文件（默认 <data_dir>/eval/answers.md）。"),
        as_json: bool = typer.Option(False, "--json", help="标准输出打印 JSON（汇总与每条用例），Markdown 仍写入 --out。"),
        only: Optional[str] = typer.Option(None, "--only", help="只跑这些 id 或组（逗号分隔，如 a001,policy）。"),
        llm: bool = typer.Option(False, "--llm", help="启用大模型润色（需配置 JIXIAO_LLM_BASE_URL）；默认不用。"),
        today: Optional[str] = typer.Option(None, "--today", help="按这一天理解“今年/近期”（ISO 日期）；默认取 eval/golden/dates.yaml 中该题集的日期，否则为今天。"),
    ) -> None:
        """用答案金标集评测助手：分组通过率、引用正确率、拒答精确率/召回率、路由、回答长度、延迟。"""
        from jixiao.eval.answer_eval import (GOLDEN_PATH, build_eval_assistant, format_markdown, load_cases, run_eval,
                                             set_day)
        from jixiao.settings import Settings

        settings = Settings()
        path = Path(golden) if golden else GOLDEN_PATH
        if not path.is_file():
            typer.echo(f"错误：找不到金标集文件 {path}", err=True)
            raise typer.Exit(1)
        cases = load_cases(path)
        if only:
            wanted = {w.strip() for w in only.split(",") if w.strip()}
            cases = [c for c in cases if c.id in wanted or c.group in wanted]
        try:
            day = set_day(path, today)
        except ValueError:
            typer.echo(f"错误：--today 需要 ISO 日期（如 2024-09-01），收到 {today!r}", err=True)
            raise typer.Exit(2)
        assistant, note = build_eval_assistant(settings, llm=llm, today=day)
        if note:
            typer.echo(f"警告：{note}", err=True)
        report = run_eval(assistant, cases, note)
        table = format_markdown(report, path.resolve())
        out_path = Path(out) if out else Path(settings.data_dir) / "eval" / "answers.md"
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(table, encoding="utf-8")
        if as_json:
            typer.echo(json.dumps(report.to_json(), ensure_ascii=False, default=str))
        else:
            typer.echo(table)
            typer.echo(f"共 {len(report.cases)} 条，用时 {report.seconds:.1f}s；结果已写入 {out_path}")


def register_calibrate(group: typer.Typer) -> None:
    @group.command("calibrate")
    def calibrate_cmd(
        golden: Optional[Path] = typer.Option(None, "--golden", help="超范围问题集 YAML（默认 eval/golden/calibration.yaml）。"),
        max_false: float = typer.Option(0.06, "--max-false", help="拟合半区可回答问题允许被拒答的最大比例，决定回答阈值。"),
        write: bool = typer.Option(False, "--write", help="把系数写入 bot/abstain_model.json（助手默认读取它）。"),
        out: Optional[Path] = typer.Option(None, "--out", help="Markdown 结果文件（默认 <data_dir>/eval/calibrate.md）。"),
        as_json: bool = typer.Option(False, "--json", help="标准输出打印 JSON。"),
    ) -> None:
        """拟合拒答决策（逻辑回归）：拟合半区选阈值，检验半区报告拒答精确率/召回率。"""
        from jixiao.eval.calibrate import CALIBRATION_PATH, MODEL_PATH, format_report, run
        from jixiao.retrieval.search import open_retriever
        from jixiao.settings import Settings

        settings = Settings()
        path = Path(golden) if golden else CALIBRATION_PATH
        if not path.is_file():
            typer.echo(f"错误：找不到校准集文件 {path}", err=True)
            raise typer.Exit(1)
        try:
            search = open_retriever(settings)
        except FileNotFoundError as exc:
            typer.echo(f"错误：{exc}", err=True)
            raise typer.Exit(1)
        rep, _ = run(search, path, max_false, write=MODEL_PATH if write else None)
        table = format_report(rep)
        out_path = Path(out) if out else Path(settings.data_dir) / "eval" / "calibrate.md"
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(table, encoding="utf-8")
        if as_json:
            typer.echo(json.dumps(rep, ensure_ascii=False))
        else:
            typer.echo(table)
            if write:
                typer.echo(f"系数已写入 {MODEL_PATH}")
            typer.echo(f"结果已写入 {out_path}")


def register_confidence(group: typer.Typer) -> None:
    @group.command("confidence")
    def confidence_cmd(
        golden: Optional[list[Path]] = typer.Option(None, "--golden", help="开发答案集（可重复；默认全部开发集，见 eval/confidence.py）。"),
        write: bool = typer.Option(False, "--write", help="把计数写入 knowledge/tables/answer_confidence.yaml（助手读取它）。"),
        as_json: bool = typer.Option(False, "--json", help="标准输出打印 JSON。"),
    ) -> None:
        """按路由类别统计开发集上的答对率，作为回答置信度（校准概率）；报告 Brier 与 ECE（含留一题集交叉检验）。"""
        from jixiao.bot.answer_confidence import TABLE_PATH, load_calibrated
        from jixiao.eval.confidence import DEV_SETS, GOLDEN, collect, report, table_of, write as write_table
        from jixiao.settings import Settings

        paths = [Path(p) for p in golden] if golden else [GOLDEN / name for name in DEV_SETS]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            typer.echo(f"错误：找不到答案集文件 {', '.join(missing)}", err=True)
            raise typer.Exit(1)
        rows = collect(Settings(), paths)
        rep = report(rows)
        if write:
            write_table(table_of(rows, tuple(p.name for p in paths)))
            load_calibrated.cache_clear()
        if as_json:
            typer.echo(json.dumps(rep, ensure_ascii=False))
            return
        typer.echo("| 题集 | 用例 | 答对率 | 平均置信度 | Brier | ECE |\n|---|---:|---:|---:|---:|---:|")
        for name, s in rep["per_set"].items():
            typer.echo(f"| {name} | {s['cases']} | {s['right']:.1%} | {s['mean_confidence']:.1%} | {s['brier']} | {s['ece']} |")
        loo, ins = rep["leave_one_set_out"], rep["in_sample"]
        typer.echo(f"\n留一题集交叉检验：Brier {loo['brier']}，ECE {loo['ece']}；全部开发集（样本内）：Brier {ins['brier']}，ECE {ins['ece']}")
        if write:
            typer.echo(f"计数已写入 {TABLE_PATH}")
