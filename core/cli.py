"""The `jixiao` console command: noun-verb groups wired from each package."""
from __future__ import annotations

import typer

app = typer.Typer(help="jixiao 绩效评级政策助手：政策文件、规则表与查询工具。", no_args_is_help=True,
                  add_completion=False)


def _wire() -> None:
    from jixiao.bot import cli as tool_cli
    from jixiao.bot.assess import cli as assess_cli
    from jixiao.bot import cli_ask
    from jixiao.eval import cli as eval_cli
    from jixiao.retrieval import cli as retrieval_cli
    from jixiao.bot import cli_rules
    from jixiao.knowledge.ingest.cli import docs_app
    from jixiao.adapters import cli as serve_cli
    from jixiao.adapters import wechat_cli

    app.add_typer(docs_app, name="docs", help="政策文件：导入、列表。")
    tool_cli.register(app)
    tool_cli.register_tools(app)
    cli_rules.register(app)
    assess_cli.register(app)
    retrieval_cli.register(app)
    retrieval_cli.register_cards(app)
    cli_ask.register(app)
    eval_cli.register(app)
    serve_cli.register(app)
    wechat_cli.register(app)


def main() -> None:
    _wire()
    app()
