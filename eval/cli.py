"""`jixiao eval retrieval`: wired into the root app by `register(app)`."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

import typer

eval_app = typer.Typer(help="评测：检索金标集等。", no_args_is_help=True, add_completion=False)


@eval_app.callback()
def _eval_group() -> None:
    """评测：检索金标集等。"""


@eval_app.command("retrieval")
def retrieval_cmd(
    golden: Optional[Path] = typer.Option(None, "--golden", help="金标集 YAML（默认 eval/golden/retrieval.yaml）。"),
    out: Optional[Path] = typer.Option(None, "--out", help="Markdown 结果文件（默认 <data_dir>/eval/retrieval.md）。"),
    as_json: bool = typer.Option(False, "--json", help="标准输出打印 JSON（含每题名次），Markdown 仍写入 --out。"),
    k: int = typer.Option(10, "-k", help="评测截断名次。"),
) -> None:
    """用金标集评测检索：hybrid（min-max 融合）/ rrf / bm25 / dense / langchain 并列，输出 R@1/5/10、MRR、nDCG@10。"""
    from jixiao.errors import ConfigError
    from jixiao.eval.retrieval_eval import GOLDEN_PATH, format_table, load_golden, run_eval
    from jixiao.retrieval.search import RetrievalConfig, Retriever
    from jixiao.settings import Settings

    settings = Settings()
    golden_path = Path(golden) if golden else GOLDEN_PATH
    if not golden_path.is_file():
        typer.echo(f"错误：找不到金标集文件 {golden_path}", err=True)
        raise typer.Exit(1)
    retriever = Retriever(RetrievalConfig.from_settings(settings))
    if not retriever.bm25_path.is_file():
        typer.echo(f"错误：未找到检索索引（{retriever.bm25_path}）。请先运行 `jixiao index` 建立索引，"
                   f"再运行 `jixiao eval retrieval`。", err=True)
        raise typer.Exit(1)
    try:
        retriever.warm_up()
    except ConfigError as exc:
        typer.echo(f"错误：检索索引无法使用：{exc}\n请运行 `jixiao index --rebuild` 重建索引。", err=True)
        raise typer.Exit(1)

    t0 = time.perf_counter()
    report = run_eval(retriever, load_golden(golden_path), k=k)
    table = format_table(report)
    out_path = Path(out) if out else Path(settings.data_dir) / "eval" / "retrieval.md"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(table, encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        typer.echo(table)
        typer.echo(f"共 {len(report.cases)} 题，用时 {time.perf_counter() - t0:.1f}s；结果已写入 {out_path}")


bench_app = typer.Typer(help="基准测试：速度与内存。", no_args_is_help=True, add_completion=False)


@bench_app.callback()
def _bench_group() -> None:
    """基准测试：速度与内存。"""


def register(app: typer.Typer) -> None:
    from jixiao.eval import answers_cli, bench_ask, bench_retrieval, bench_serve

    answers_cli.register(eval_app)  # jixiao eval answers
    bench_retrieval.register(bench_app)  # jixiao bench retrieval
    bench_ask.register(bench_app)  # jixiao bench ask
    bench_serve.register(bench_app)  # jixiao bench serve
    app.add_typer(eval_app, name="eval", help="评测：检索金标集、回答金标集。")
    app.add_typer(bench_app, name="bench", help="基准测试：速度与内存。")
