"""The single chat entry point for every channel: routes each message to the self-assessment or the
assistant, and keeps the assessment resumable across turns, days and processes.

`build_dialogue(settings, curated=None).reply(user_id, text, channel)` returns a
`jixiao.bot.answer.Answer`. Routing, in order:

- an assessment in progress: 继续, commands (返回/跳过/重新开始/退出) and valid answers go to the
  engine; a message that is clearly a policy or tool question (not a valid answer, and a question by
  `understand`) is answered by the assistant, followed by one line offering 继续; anything else is
  re-asked by the engine with help;
- otherwise a request to assess (intent "assess", or 自评) starts the engine with the industry and
  grade the message named; helpdesk-approved answers (`curated.lookup`) come next; then the assistant.

State lives in SQLite under `settings.data_dir` (engine sessions in `assess.db`); turns of one user
are serialised by an exact per-user lock; turns of different users run concurrently (no shared lock:
the assistant, its retriever and the conversation store are safe for concurrent turns).
"""
from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Protocol

from jixiao.bot.answer import Answer
from jixiao.bot.assess.engine import AssessmentEngine, Turn, command_of
from jixiao.bot.assess.questions import looks_like_question
from jixiao.bot.understand import TOOL_INTENTS, Understanding, understand
from jixiao.bot.user_locks import UserLocks
from jixiao.settings import Settings

log = logging.getLogger(__name__)

CONTINUE_WORDS = ("继续", "继续自评", "继续评估", "接着做", "接着评")
START_WORDS = ("自评", "开始自评", "我要自评", "企业自评", "自我评估", "开始评估", "绩效自评")  # whole message
START_PHRASES = ("还差什么", "差哪些", "能评上吗", "能不能评上", "评得上吗")  # inside a message
CONTINUE_LINE = "（您的自评还在进行中，回复“继续”接着做。）"
PAUSED_LINE = "（您有未完成的自评，回复“继续”可接着做。）"
_STRIPPED = " 。.！!？?，,~～"


class Curated(Protocol):
    """The helpdesk's approved answers."""

    def lookup(self, text: str) -> Answer | None: ...


class Responder(Protocol):
    """Satisfied by `jixiao.bot.turn.Assistant`."""

    def reply(self, user_id: str, text: str, channel: str = "cli") -> Answer: ...


def wants_assessment(text: str, u: Understanding) -> bool:
    bare = text.strip(_STRIPPED)
    return u.intent == "assess" or bare in START_WORDS or any(p in text for p in START_PHRASES)


def _is_question(text: str, u: Understanding) -> bool:
    """A policy or tool question (as opposed to an attempt at answering the pending question)."""
    return u.intent in TOOL_INTENTS or (u.intent == "policy" and looks_like_question(text)) or bool(u.personal)


def _summary(result) -> dict:
    return {"found": True, "industry": result.industry, "branch": result.branch, "target": result.target,
            "estimate": result.estimate, "estimate_text": result.estimate_text, "ceiling": result.ceiling,
            "barred": result.barred, "bar_findings": list(result.bar_findings),
            "short_boards": list(result.short_boards), "evidence": list(result.evidence)}


class Dialogue:
    def __init__(self, assistant: Responder, engine: AssessmentEngine, curated: Curated | None = None) -> None:
        self.assistant = assistant
        self.engine = engine
        self.curated = curated
        self._store = getattr(assistant, "store", None)  # ConversationStore: assessment turns are stored too
        self._users = UserLocks()  # exact per-user locks: one user's slow turn never delays another user

    def reply(self, user_id: str, text: str, channel: str = "cli") -> Answer:
        start = time.perf_counter()
        with self._users.hold(user_id):
            try:
                answer, own = self._route(user_id, (text or "").strip(), channel)
            except Exception:  # users never see a traceback; operators find it in the log
                log.exception("dialogue turn failed user_id=%s", user_id)
                answer, own = Answer("抱歉，处理您的消息时出现错误。如需帮助，可回复“转人工”。", escalate=True,
                                     intent="error"), True
            if own:
                self._record(user_id, channel, text or "", answer, start)
        return answer

    # ------------------------------------------------------------ routing

    def _route(self, user_id: str, text: str, channel: str) -> tuple[Answer, bool]:
        """The answer and whether this module produced it (True) or the assistant did (recorded there)."""
        status = self.engine.status(user_id)
        bare = text.strip(_STRIPPED)
        if status == "active":
            return self._in_flow(user_id, text, channel)
        u = understand(text)
        if bare in CONTINUE_WORDS or bare == "重新开始":
            if status == "paused" and bare != "重新开始":
                return self._assess(self.engine.resume(user_id)), True
            if status in ("paused", "done"):
                return self._assess(self.engine.start(user_id)), True
            if bare in CONTINUE_WORDS:
                return Answer("您目前没有进行中的自评。回复“自评”即可开始企业绩效分级自评。", confidence=1.0,
                              intent="assess"), True
        if wants_assessment(text, u):
            if status == "paused":
                turn = self.engine.resume(user_id)
                return self._assess(turn, "您有一份未完成的自评，接着上次的问题继续（回复“重新开始”可从头做）。\n"), True
            return self._assess(self._start(user_id, text, u)), True
        answer, own = self._answer(user_id, text, channel)
        if status == "paused" and u.intent != "human":
            answer = dataclasses.replace(answer, text=f"{answer.text}\n{PAUSED_LINE}")
        if status == "done" and (u.intent == "human" or answer.escalate):
            result = self.engine.result(user_id)
            if result is not None:  # hand the helpdesk the assessment the user just made
                answer = dataclasses.replace(answer, text=f"{answer.text}\n已附上您本次的自评结果，供帮办人员参考。",
                                             tools=[*answer.tools, {
                    "name": "self_assessment", "args": {"user_id": user_id}, "result": _summary(result)}])
        return answer, own

    def _in_flow(self, user_id: str, text: str, channel: str) -> tuple[Answer, bool]:
        bare = text.strip(_STRIPPED)
        if bare in CONTINUE_WORDS:
            return self._assess(self.engine.resume(user_id)), True
        if command_of(text):
            return self._assess(self.engine.handle(user_id, text)), True
        u = understand(text)
        if u.intent == "human":
            answer, own = self._answer(user_id, text, channel, curated=False)
            return dataclasses.replace(answer, text=f"{answer.text}\n自评进度已保存，回复“继续”可接着做。"), own
        pending = self.engine.pending(user_id)
        if self.engine.accepts(user_id, text):
            industry_reply = pending is not None and pending.kind == "industry" and u.intent not in (
                "tool_review", "tool_incentives")
            if not looks_like_question(text) or industry_reply:
                return self._assess(self.engine.handle(user_id, text)), True
        if _is_question(text, u):
            answer, own = self._answer(user_id, text, channel)
            return dataclasses.replace(answer, text=f"{answer.text}\n{CONTINUE_LINE}"), own
        if wants_assessment(text, u):
            turn = self.engine.resume(user_id)
            return self._assess(turn, "您的自评正在进行中（回复“重新开始”可从头做）。\n"), True
        if not bare or u.intent in ("empty", "smalltalk"):
            return self._assess(self.engine.resume(user_id)), True
        return self._assess(self.engine.handle(user_id, text)), True  # re-asked with help

    def _start(self, user_id: str, text: str, u: Understanding) -> Turn:
        industry = None
        if u.industry:
            industry = {"text": text, "industry": u.industry, "branch": u.branch}
        elif u.industry_candidates:
            industry = {"text": text, "candidates": list(u.industry_candidates)}
        return self.engine.start(user_id, industry=industry, target=u.grade)

    def _answer(self, user_id: str, text: str, channel: str, curated: bool = True) -> tuple[Answer, bool]:
        if curated and self.curated is not None:
            try:
                approved = self.curated.lookup(text)
            except Exception:
                log.exception("curated lookup failed user_id=%s", user_id)
                approved = None
            if approved is not None:
                return approved, True
        return self.assistant.reply(user_id, text, channel), False

    # ------------------------------------------------------------ answers and storage

    @staticmethod
    def _assess(turn: Turn, prefix: str = "") -> Answer:
        if turn.result is not None:
            r = turn.result
            return Answer(prefix + turn.text, list(r.citations),
                          [{"name": "self_assessment", "args": {}, "result": _summary(r)}],
                          escalate=False, confidence=1.0, intent="assess")
        tool = {"name": "self_assessment", "args": {},
                "result": {"found": True, "question_id": turn.question_id, "options": list(turn.options),
                           "done": False, "not_an_answer": turn.not_an_answer}}
        return Answer(prefix + turn.text, [], [tool], escalate=False, confidence=1.0, intent="assess")

    def _record(self, user_id: str, channel: str, text: str, answer: Answer, start: float) -> None:
        if self._store is None:
            return
        tools = [{"name": t.get("name"), "args": t.get("args"), "found": (t.get("result") or {}).get("found")}
                 for t in answer.tools]
        latency = int((time.perf_counter() - start) * 1000)
        try:
            self._store.record(user_id, channel, text, answer.intent or "curated", tools, answer.chunks,
                               answer.text, latency, answer.escalate)
        except Exception:  # storing a turn must not lose the answer
            log.exception("storing the turn failed user_id=%s", user_id)


def build_dialogue(settings: Settings, curated: Curated | None = None) -> Dialogue:
    """The assistant (`cli_ask.build_assistant`) plus the assessment engine on `<data_dir>/assess.db`."""
    from jixiao.bot.cli_ask import build_assistant

    assistant = build_assistant(settings)
    engine = AssessmentEngine(Path(settings.data_dir) / "assess.db")
    return Dialogue(assistant, engine, curated)
