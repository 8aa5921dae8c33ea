"""`jixiao ask` and `jixiao chat`: the chat entry point (`jixiao.bot.dialogue`) from the command line."""
from __future__ import annotations

import json
import logging
import sys

import typer

from jixiao.bot.turn import Assistant
from jixiao.settings import Settings

log = logging.getLogger(__name__)
END_WORDS = {"退出", "结束", "exit", "quit"}


def build_assistant(settings: Settings, engine=None) -> Assistant:
    """The assistant with passage search when an index exists, tools only otherwise; turns and follow-up context
    go to `engine` (default: the one database of `settings`)."""
    search = None
    try:
        from jixiao.retrieval.search import open_retriever

        search = open_retriever(settings)
    except FileNotFoundError as exc:
        log.warning("%s; answering with lookup tools only", exc)
    except ImportError as exc:  # retrieval extras not installed
        log.warning("retrieval unavailable (%s); answering with tools only", exc)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    from jixiao.bot.llm import make_drafter

    llm = make_drafter(settings)  # None unless JIXIAO_LLM_BASE_URL is set
    if llm is not None:
        log.info("LLM drafting on: %s model=%s (falls back to the cited extractive answer)",
                 settings.llm_base_url, settings.llm_model)
    if engine is None:
        from jixiao.db import make_engine

        engine = make_engine(settings.db_url())
    return Assistant(search=search, store_path=engine, llm=llm)


def _as_json(question: str, answer) -> str:
    return json.dumps({"question": question, "answer": answer.text, "citations": answer.citations,
                       "tools": answer.tools, "intent": answer.intent, "route": answer.route,
                       "escalate": answer.escalate, "confidence": answer.confidence},
                      ensure_ascii=False, default=str)


def _prompted():
    """Lines typed at a terminal until Ctrl-D."""
    while True:
        try:
            yield input("> ")
        except EOFError:
            return


def register(app: typer.Typer) -> None:
    @app.command("ask")
    def ask(
        question: str = typer.Argument(None, help="问题；与 --json 合用且省略时，从标准输入逐行读取"),
        as_json: bool = typer.Option(False, "--json", help="输出 JSON（每个问题一行）"),
        user: str = typer.Option("cli", "--user", help="用户 ID（追问上下文按用户保存）"),
    ) -> None:
        """提一个问题，得到带出处的回答（与各渠道同一入口，自评进度按用户保存）。"""
        from jixiao.bot.dialogue import build_dialogue

        bot = build_dialogue(Settings())
        if question is None:
            if not as_json:
                typer.echo("请提供问题，或使用 --json 从标准输入逐行读取问题。", err=True)
                raise typer.Exit(2)
            for line in sys.stdin:
                line = line.rstrip("\n")
                if line.strip():
                    typer.echo(_as_json(line, bot.reply(user, line)))
            return
        answer = bot.reply(user, question)
        typer.echo(_as_json(question, answer) if as_json else answer.text)

    @app.command("chat")
    def chat(user: str = typer.Option("cli", "--user", help="用户 ID")) -> None:
        """交互式对话，保留上下文（如“那C级呢？”），可在对话中自评（发送“自评”）。输入“退出”结束。"""
        from jixiao.bot.dialogue import build_dialogue

        bot = build_dialogue(Settings())
        typer.echo("您好，我是绩效评级政策助手。请提问，或发送“自评”开始企业绩效分级自评；输入“退出”结束。")
        for line in sys.stdin if not sys.stdin.isatty() else _prompted():
            text = line.strip()
            if text in END_WORDS:
                if bot.engine.status(user) == "active":  # leaving mid-assessment: save progress first
                    typer.echo(bot.reply(user, "退出").text)
                break
            if text:
                typer.echo(bot.reply(user, text).text)
