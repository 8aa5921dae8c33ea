"""Guided, resumable plain-text self-assessment; state per user in SQLite.

`AssessmentEngine(db_path).handle(user_id, text)` returns one `Turn`. Commands: 返回 / 跳过 /
重新开始 / 退出. Input that is not an answer (a question such as “评上B级有什么好处？”) comes back with
`not_an_answer=True` and the pending question repeated, so the caller can answer it first.
"""
from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from jixiao.bot.assess.pack import Packs, default_packs
from jixiao.bot.assess.questions import SKIPPED, Invalid, Question, looks_like_question, next_question, parse
from jixiao.bot.assess.result import AssessmentResult, build_result

COMMANDS = {"返回": "back", "上一步": "back", "跳过": "skip", "重新开始": "restart", "重来": "restart", "退出": "quit"}
HINT = "（可回复：返回 / 跳过 / 重新开始 / 退出）"


@dataclass(frozen=True)
class Turn:
    text: str
    options: tuple[str, ...] = ()
    done: bool = False
    result: AssessmentResult | None = None
    not_an_answer: bool = False
    question_id: str | None = None


class AssessmentEngine:
    def __init__(self, db_path: Path | str, packs: Packs | None = None) -> None:
        self.db_path = Path(db_path)
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self.packs = packs or default_packs()
        with self._db() as db:
            db.execute("CREATE TABLE IF NOT EXISTS sessions (user_id TEXT PRIMARY KEY, state TEXT NOT NULL, "
                       "updated_at REAL NOT NULL)")
            db.execute("CREATE TABLE IF NOT EXISTS turns (user_id TEXT, at REAL, input TEXT, question_id TEXT, "
                       "not_an_answer INTEGER, done INTEGER)")

    # ------------------------------------------------------------ storage
    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.db_path)

    def _load(self, user_id: str) -> dict | None:
        with self._db() as db:
            row = db.execute("SELECT state FROM sessions WHERE user_id = ?", (user_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def _save(self, user_id: str, state: dict) -> None:
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO sessions VALUES (?, ?, ?)",
                       (user_id, json.dumps(state, ensure_ascii=False), time.time()))

    def _log(self, user_id: str, text: str, turn: Turn) -> None:
        with self._db() as db:
            db.execute("INSERT INTO turns VALUES (?, ?, ?, ?, ?, ?)",
                       (user_id, time.time(), text, turn.question_id, int(turn.not_an_answer), int(turn.done)))

    # ------------------------------------------------------------ API
    def start(self, user_id: str) -> Turn:
        """Begin a new assessment (any saved one is discarded)."""
        state = {"answers": {}, "order": []}
        self._save(user_id, state)
        return self._ask(state, prefix="开始企业绩效分级自评。每次回答一个问题，可随时中断，下次继续。\n")

    def resume(self, user_id: str) -> Turn:
        """Repeat the pending question of a saved assessment, or start a new one."""
        state = self._load(user_id)
        return self._ask(state, prefix="继续上次的自评。\n") if state else self.start(user_id)

    def pending(self, user_id: str) -> Question | None:
        state = self._load(user_id)
        return next_question(state["answers"], self.packs) if state else None

    def handle(self, user_id: str, text: str) -> Turn:
        turn = self._handle(user_id, (text or "").strip())
        self._log(user_id, text, turn)
        return turn

    def _handle(self, user_id: str, text: str) -> Turn:
        state = self._load(user_id)
        if state is None:
            return self.start(user_id)
        command = COMMANDS.get(text)
        if command == "restart":
            return self.start(user_id)
        if command == "quit":
            q = next_question(state["answers"], self.packs)
            return Turn("已保存进度。下次发送任意内容即可从当前问题继续。", question_id=q.id if q else None)
        q = next_question(state["answers"], self.packs)
        if q is None:
            return self._finish(state)
        if command == "back":
            if state["order"]:
                state["answers"].pop(state["order"].pop(), None)
                self._save(user_id, state)
            return self._ask(state)
        if command == "skip":
            if not q.skippable:
                return self._ask(state, prefix="这个问题不能跳过。\n")
            return self._record(user_id, state, q, SKIPPED)
        try:
            value = parse(q, text)
        except Invalid as exc:
            if looks_like_question(text) or q.kind == "industry" and not text:
                return self._ask(state, not_an_answer=True, prefix="（这不是对当前问题的回答，回答您的问题后继续自评。）\n")
            return self._ask(state, prefix=f"没能识别“{text}”。{exc}\n")
        return self._record(user_id, state, q, value)

    # ------------------------------------------------------------ helpers
    def _record(self, user_id: str, state: dict, q: Question, value) -> Turn:
        state["answers"][q.id] = value
        state["order"].append(q.id)
        self._save(user_id, state)
        return self._ask(state)

    def _ask(self, state: dict, prefix: str = "", not_an_answer: bool = False) -> Turn:
        q = next_question(state["answers"], self.packs)
        if q is None:
            return self._finish(state)
        labels = tuple(label for _, label in q.options)
        body = q.text + "".join(f"\n{i}. {label}" for i, label in enumerate(labels, 1))
        if q.help:
            body += f"\n{q.help}"
        return Turn(f"{prefix}{body}\n{HINT}", labels, False, None, not_an_answer, q.id)

    def _finish(self, state: dict) -> Turn:
        result = build_result(state["answers"], self.packs)
        return Turn("\n".join(result.parts), (), True, result, False, None)
