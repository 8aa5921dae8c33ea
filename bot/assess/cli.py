"""`jixiao assess`: scripted (`--answers FILE`) or interactive self-assessment."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from jixiao.bot.assess.engine import AssessmentEngine


def run_script(answers: list[str], db_path, user_id: str = "script", packs=None) -> dict:
    """Play `answers` one by one from a fresh start; the transcript and the result as a dict.

    `db_path`: a SQLite file, a database URL or an Engine; `packs`: a `Packs`/`PackSource` (default: the package's)."""
    engine = AssessmentEngine(db_path, packs=packs)
    turn = engine.start(user_id)
    transcript = [{"question_id": turn.question_id, "text": turn.text}]
    for answer in answers:
        if turn.done:
            break
        turn = engine.handle(user_id, answer)
        transcript.append({"input": answer, "question_id": turn.question_id, "not_an_answer": turn.not_an_answer,
                           "done": turn.done, "text": turn.text})
    from jixiao.bot.assess.render import render
    return {"done": turn.done, "pending": None if turn.done else turn.question_id,
            "result": json.loads(turn.result.to_json()) if turn.result else None,
            "report": render(turn.result) if turn.result else None, "transcript": transcript}


def register(app: typer.Typer) -> None:
    app.add_typer(criteria_app, name="criteria")

    @app.command("assess")
    def assess_cmd(answers: Path | None = typer.Option(None, "--answers", help="每行一个回答的文本文件（脚本模式）"),
                   as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
                   user: str | None = typer.Option(None, "--user",
                                                   help="用户 ID（进度按用户保存）；默认交互为 cli（与 jixiao chat 共用），脚本为 script"),
                   db: str | None = typer.Option(None, "--db",
                                                 help="SQLite 文件或数据库 URL，默认与服务相同（JIXIAO_DATABASE_URL 或 数据目录/jixiao.db）")
                   ) -> None:
        """企业绩效分级自评：逐题问答，可中断续答（指标包含 数据目录/criteria/ 中启用的指标包）。"""
        db_path = db or _default_db()
        packs = _packs()
        if answers is not None:
            lines = [ln.strip() for ln in answers.read_text(encoding="utf-8").splitlines() if ln.strip()]
            out = run_script(lines, db_path, user or "script", packs)  # a fresh start: never the chat user's session
            if as_json:
                typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
            else:
                last = out["transcript"][-1]["text"]
                typer.echo(last + ("\n\n" + out["report"] if out["report"] else ""))
            return
        engine = AssessmentEngine(db_path, packs=packs)
        user = user or "cli"
        turn = engine.resume(user)
        while True:
            typer.echo(_with_report(turn.text, turn.result) if turn.done else turn.text)
            if turn.done:
                if as_json and turn.result:
                    typer.echo(turn.result.to_json())
                return
            try:
                text = input("> ")
            except EOFError:
                return
            turn = engine.handle(user, text)
            if text.strip() == "退出":
                typer.echo(turn.text)
                return


def _with_report(short: str, result) -> str:
    """The short result, then the full report (a terminal has room for both)."""
    from jixiao.bot.assess.render import render
    return short + "\n\n" + render(result) if result is not None else short


def _default_db() -> str:
    from jixiao.settings import Settings
    return Settings().db_url()


def _packs():
    from jixiao.bot.assess.pack import PackSource
    from jixiao.settings import Settings
    return PackSource(Path(Settings().data_dir) / "criteria")


criteria_app = typer.Typer(help="评级指标包：校验、启用（数据目录/criteria/）。", no_args_is_help=True)


@criteria_app.command("check")
def criteria_check(file: Path = typer.Argument(..., help="指标包 YAML 文件")) -> None:
    """校验指标包：每处问题写明行号和修改方法；通过时退出码为 0。"""
    from jixiao.bot.assess.packcheck import check_file
    result = check_file(file)
    typer.echo(f"{file}: {result.summary()}")
    raise typer.Exit(0 if result.ok else 1)


@criteria_app.command("activate")
def criteria_activate(file: Path = typer.Argument(..., help="指标包 YAML 文件")) -> None:
    """校验并启用指标包：复制到 数据目录/criteria/，各进程下一轮自评即生效。"""
    from jixiao.bot.assess.packcheck import activate, check_file
    from jixiao.settings import Settings
    result = check_file(file)
    if result.ok:
        result = activate(file.read_text(encoding="utf-8"), file.name, Path(Settings().data_dir) / "criteria")
    typer.echo(f"{file}: {result.summary()}" + ("（已启用）" if result.ok else ""))
    raise typer.Exit(0 if result.ok else 1)
