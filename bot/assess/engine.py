"""Guided, resumable plain-text self-assessment; state per user in SQLite.

`AssessmentEngine(db_path).handle(user_id, text)` returns one `Turn`. Commands: 返回 / 跳过 /
重新开始 / 退出. Input that is not an answer (a question such as “评上B级有什么好处？”) comes back with
`not_an_answer=True` and the pending question repeated, so the caller can answer it first.
Every call opens its own SQLite connection (WAL), so one engine serves concurrent users; the caller
serialises turns of one user (see `jixiao.bot.dialogue`).
"""
from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from jixiao.bot.assess.pack import Packs, default_packs
from jixiao.bot.assess.questions import SKIPPED, Invalid, Question, looks_like_question, next_question, parse
from jixiao.bot.assess.result import AssessmentResult, build_result

COMMANDS = {"返回": "back", "上一步": "back", "跳过": "skip", "重新开始": "restart", "重来": "restart", "退出": "quit"}
HINT = "（可回复：返回 / 跳过 / 重新开始 / 退出）"
INTRO = "开始企业绩效分级自评。每次回答一个问题，可随时中断，下次继续。\n"


def command_of(text: str) -> str | None:
    """back / skip / restart / quit for a command word (punctuation around it ignored), else None."""
    return COMMANDS.get((text or "").strip().strip("。.！!？? "))


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
        self.packs = packs or default_packs()  # validated at load: a broken pack fails here
        with self._db() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS sessions (user_id TEXT PRIMARY KEY, state TEXT NOT NULL, "
                       "updated_at REAL NOT NULL)")
            db.execute("CREATE TABLE IF NOT EXISTS turns (user_id TEXT, at REAL, input TEXT, question_id TEXT, "
                       "not_an_answer INTEGER, done INTEGER)")

    # ------------------------------------------------------------ storage
    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.db_path, timeout=30)
        try:
            with conn:  # commit on success, roll back on error
                yield conn
        finally:
            conn.close()

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
    def start(self, user_id: str, industry: dict | None = None, target: str | None = None) -> Turn:
        """Begin a new assessment (any saved one is discarded).

        `industry` pre-answers the industry question (the value `parse` would store: {text, industry,
        branch} or {text, candidates}); `target` is a grade the user named, taken as the target when
        it is one of the industry's grades.
        """
        state: dict = {"answers": {}, "order": [], "hints": {}}
        prefix = INTRO
        if industry and (industry.get("industry") or industry.get("candidates")):
            state["answers"]["industry"] = industry
            state["order"].append("industry")
            if industry.get("industry"):
                prefix += f"已识别行业：{industry['industry']}。\n"
        if target:
            state["hints"]["target"] = target
        self._save(user_id, state)
        return self._ask(user_id, state, prefix=prefix)

    def resume(self, user_id: str) -> Turn:
        """Repeat the pending question of a saved assessment; start a new one when none is pending."""
        state = self._load(user_id)
        if state is None:
            return self.start(user_id)
        if next_question(state["answers"], self.packs) is None:
            turn = self.start(user_id)
            return Turn("上次的自评已完成，现在开始新的自评。\n" + turn.text, turn.options, question_id=turn.question_id)
        if state.pop("paused", False):
            self._save(user_id, state)
        return self._ask(user_id, state, prefix="继续上次的自评。\n")

    def status(self, user_id: str) -> str:
        """none (never started) / active / paused (left with 退出) / done (result given)."""
        state = self._load(user_id)
        if state is None:
            return "none"
        if next_question(state["answers"], self.packs) is None:
            return "done"
        return "paused" if state.get("paused") else "active"

    def pending(self, user_id: str) -> Question | None:
        state = self._load(user_id)
        return next_question(state["answers"], self.packs) if state else None

    def accepts(self, user_id: str, text: str) -> bool:
        """True when `text` is a command or a valid answer to the pending question (nothing is stored)."""
        if command_of(text):
            return True
        q = self.pending(user_id)
        if q is None:
            return False
        try:
            parse(q, (text or "").strip())
        except Invalid:
            return False
        return True

    def result(self, user_id: str) -> AssessmentResult | None:
        """The result of a finished assessment, else None."""
        state = self._load(user_id)
        if state is None or next_question(state["answers"], self.packs) is not None:
            return None
        return build_result(state["answers"], self.packs)

    def handle(self, user_id: str, text: str) -> Turn:
        turn = self._handle(user_id, (text or "").strip())
        self._log(user_id, text, turn)
        return turn

    def _handle(self, user_id: str, text: str) -> Turn:
        state = self._load(user_id)
        if state is None:
            return self.start(user_id)
        command = command_of(text)
        if command == "restart":
            return self.start(user_id)
        q = next_question(state["answers"], self.packs)
        if command == "quit":
            if q is not None:
                state["paused"] = True
                self._save(user_id, state)
            return Turn("已保存自评进度。下次回复“继续”即可从当前问题接着做。", question_id=q.id if q else None)
        if q is None:
            return self._finish(state)
        state.pop("paused", None)
        if command == "back":
            if state["order"]:
                state["answers"].pop(state["order"].pop(), None)
                self._save(user_id, state)
            return self._ask(user_id, state)
        if command == "skip":
            if not q.skippable:
                return self._ask(user_id, state, prefix="这个问题不能跳过。\n")
            return self._record(user_id, state, q, SKIPPED)
        try:
            value = parse(q, text)
        except Invalid as exc:
            if looks_like_question(text) or q.kind == "industry" and not text:
                return self._ask(user_id, state, not_an_answer=True,
                                 prefix="（这看起来是一个问题，不是对当前问题的回答。政策问题可在对话中直接提问，"
                                        "自评进度会保留。）\n")
            return self._ask(user_id, state, prefix=f"没能识别“{text}”。{exc}\n")
        return self._record(user_id, state, q, value)

    # ------------------------------------------------------------ helpers
    def _record(self, user_id: str, state: dict, q: Question, value) -> Turn:
        state["answers"][q.id] = value
        state["order"].append(q.id)
        self._save(user_id, state)
        return self._ask(user_id, state)

    def _apply_hints(self, user_id: str, state: dict) -> str:
        """Answer pending questions the user already answered in the opening message (used once)."""
        note = ""
        hints = state.get("hints") or {}
        q = next_question(state["answers"], self.packs)
        while q is not None and q.id in hints:
            hint = hints.pop(q.id)
            try:
                value = parse(q, hint)
            except Invalid:
                self._save(user_id, state)
                break
            state["answers"][q.id] = value
            state["order"].append(q.id)
            self._save(user_id, state)
            what = "目标等级" if q.id == "target" else f"“{q.text.rstrip('？?')}”的回答"
            note += f"已按您的说法记录{what}：{hint}（回复“返回”可修改）。\n"
            q = next_question(state["answers"], self.packs)
        return note

    def _ask(self, user_id: str, state: dict, prefix: str = "", not_an_answer: bool = False) -> Turn:
        prefix += self._apply_hints(user_id, state)
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
        return Turn("".join(result.parts), (), True, result, False, None)
