"""`jixiao assess`: scripted (`--answers FILE`) or interactive self-assessment."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from jixiao.bot.assess.engine import AssessmentEngine


def run_script(answers: list[str], db_path: Path | str, user_id: str = "script") -> dict:
    """Play `answers` one by one from a fresh start; the transcript and the result as a dict."""
    engine = AssessmentEngine(db_path)
    turn = engine.start(user_id)
    transcript = [{"question_id": turn.question_id, "text": turn.text}]
    for answer in answers:
        if turn.done:
            break
        turn = engine.handle(user_id, answer)
        transcript.append({"input": answer, "question_id": turn.question_id, "not_an_answer": turn.not_an_answer,
                           "done": turn.done, "text": turn.text})
    return {"done": turn.done, "pending": None if turn.done else turn.question_id,
            "result": json.loads(turn.result.to_json()) if turn.result else None, "transcript": transcript}


def register(app: typer.Typer) -> None:
    @app.command("assess")
    def assess_cmd(answers: Path | None = typer.Option(None, "--answers", help="每行一个回答的文本文件（脚本模式）"),
                   as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
                   user: str | None = typer.Option(None, "--user",
                                                   help="用户 ID（进度按用户保存）；默认交互为 cli（与 jixiao chat 共用），脚本为 script"),
                   db: Path | None = typer.Option(None, "--db", help="SQLite 文件，默认 数据目录/assess.db")) -> None:
        """企业绩效分级自评：逐题问答，可中断续答。"""
        db_path = db or _default_db()
        if answers is not None:
            lines = [ln.strip() for ln in answers.read_text(encoding="utf-8").splitlines() if ln.strip()]
            out = run_script(lines, db_path, user or "script")  # a fresh start: never the chat user's session
            if as_json:
                typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
            else:
                typer.echo(out["transcript"][-1]["text"])
            return
        engine = AssessmentEngine(db_path)
        user = user or "cli"
        turn = engine.resume(user)
        while True:
            typer.echo(turn.text)
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


def _default_db() -> Path:
    from jixiao.settings import Settings
    return Path(Settings().data_dir) / "assess.db"
