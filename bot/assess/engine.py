"""Guided, resumable plain-text self-assessment; state per user in the one database.

`AssessmentEngine(db_path).handle(user_id, text)` returns one `Turn`. Commands: 返回 / 跳过 /
重新开始 / 退出. Input that is not an answer (a question such as “评上B级有什么好处？”) comes back with
`not_an_answer=True` and the pending question repeated, so the caller can answer it first.
State lives in `assess_sessions` of `jixiao.db` (SQLite or PostgreSQL, see `store.py`); every call is its own
transaction, so one engine serves concurrent users and several processes; the caller serialises turns of one
user (see `jixiao.bot.dialogue`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from jixiao.bot.assess.pack import Packs, PackSource
from jixiao.bot.assess.store import SessionStore
from jixiao.bot.assess import answers as natural
from jixiao.bot.assess.families import BY_ID
from jixiao.bot.assess.questions import (SKIPPED, Invalid, Question, later_question, looks_like_question,
                                         next_question, parse)
from jixiao.bot.assess.result import AssessmentResult, build_result
from jixiao.bot.assess.render import DETAIL_WORD, render

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
    def __init__(self, db: Engine | Path | str, packs: Packs | PackSource | None = None) -> None:
        """`db`: the shared SQLAlchemy engine (`jixiao.db.make_engine(settings.db_url())`), or a SQLite path."""
        self.store = SessionStore(db)
        self._packs = packs if packs is not None else PackSource()  # validated at load: a broken pack fails here
        self.packs  # noqa: B018  (load now, not on the first turn)

    @property
    def packs(self) -> Packs:
        """The packs in force; a `PackSource` reloads when staff activate a pack in the data directory."""
        return self._packs.current() if isinstance(self._packs, PackSource) else self._packs

    def _load(self, user_id: str) -> dict | None:
        return self.store.load(user_id)

    def _save(self, user_id: str, state: dict) -> None:
        self.store.save(user_id, state)

    def _log(self, user_id: str, text: str, turn: Turn) -> None:
        self.store.log(user_id, text, turn.question_id, turn.not_an_answer, turn.done)

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
            return self._finish(state, full=text.strip("。.！! ") == DETAIL_WORD)
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
        if (kept := self._keep_for_later(user_id, state, q, text)) is not None:
            return kept
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
    def _keep_for_later(self, user_id: str, state: dict, q: Question, text: str) -> Turn | None:
        """A description of another indicator (门禁 at the 原辅材料 question) is kept for that indicator's
        question, used when it comes, instead of being taken as this answer; None when it is not one."""
        if q.family is None or len(text) < 4 or looks_like_question(text):
            return None
        named = natural.families_in(text)
        if not named or q.family in named:
            return None
        later = later_question(state["answers"], self.packs, named, q)
        if later is None:
            return None
        state.setdefault("hints", {})[later.id] = text
        self._save(user_id, state)
        names = "、".join(BY_ID[f].name for f in sorted(named) if f in BY_ID)
        return self._ask(user_id, state, prefix=f"已记下您关于{names}的说明，问到该项时会用上。先回答当前问题：\n")

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

    def _finish(self, state: dict, full: bool = False) -> Turn:
        """The short result (one WeChat message); the full report when `full` (on 详细)."""
        result = build_result(state["answers"], self.packs)
        return Turn(render(result) if full else result.short, (), True, result, False, None)

    def report(self, user_id: str) -> str | None:
        """The full report of a finished assessment (sent on 详细), else None."""
        result = self.result(user_id)
        return render(result) if result else None
