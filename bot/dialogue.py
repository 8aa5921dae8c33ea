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

Assessment sessions, turns and follow-up context live in the one database (`jixiao.db`; SQLite or PostgreSQL,
shared by every process); turns of one user are serialised by an exact per-user lock; turns of different users
run concurrently (no shared lock: the assistant, its retriever and the conversation store are safe for concurrent
turns). A finished assessment answers first with a short result (one WeChat message, ≤ 600 bytes); "详细"
sends the full report; on the web the full report follows the short result in the same answer.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import Engine

from jixiao.bot.answer import WECHAT_LIMIT, Answer, split_for_wechat
from jixiao.bot.assess.engine import AssessmentEngine, Turn, command_of
from jixiao.bot.assess.families import lv
from jixiao.bot.assess.pack import PackSource
from jixiao.bot.assess.store import import_legacy
from jixiao.bot.conversation import Turn as StoredTurn
from jixiao.bot.assess.questions import looks_like_question
from jixiao.bot.assess.render import DETAIL_WORD, render
from jixiao.bot.short_answer import is_detail_request, nothing_more, trim_repeats
from jixiao.bot.understand import TOOL_INTENTS, Understanding, understand
from jixiao.bot.user_locks import UserLocks
from jixiao.knowledge.lexicon import words
from jixiao.settings import Settings

log = logging.getLogger(__name__)

CONTINUE_WORDS = words("dialogue", "CONTINUE_WORDS")  # knowledge/lexicon/dialogue.yaml
RESTART_WORDS = words("dialogue", "RESTART_WORDS")
START_WORDS = words("dialogue", "START_WORDS")  # whole message
START_PHRASES = words("dialogue", "START_PHRASES")  # inside a message
CONTINUE_LINE = "（您的自评还在进行中，回复“继续”接着做。）"
PAUSED_LINE = "（您有未完成的自评，回复“继续”可接着做。）"
_STRIPPED = " 。.！!？?，,~～"
_CHANNEL_ROOM = 200  # bytes the WeChat desk may add to an answer (the ticket number line on escalation)


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
    """A clear question (question marks, 吗, 什么意思 …: answer_forms.yaml), not a description of the enterprise;
    only such a message leaves the assessment flow."""
    return looks_like_question(text) and (u.intent in TOOL_INTENTS or u.intent == "policy" or bool(u.personal))


def _summary(result) -> dict:
    """What the helpdesk gets with 转人工: the answers, the ceiling with its reasons, the short boards."""
    return {"found": True, "industry": result.industry, "branch": result.branch, "target": result.target,
            "estimate": result.estimate, "estimate_text": result.estimate_text, "ceiling": result.ceiling,
            "ceiling_reasons": list(result.ceiling_reasons), "barred": result.barred,
            "bar_findings": list(result.bar_findings), "short_boards": list(result.short_boards),
            "evidence": list(result.evidence), "answers": list(result.answers), "short": result.short}


def _handover_line(result) -> str:
    """One line for the 转人工 reply (and so the ticket's draft): the ceiling and the top short boards."""
    grade = f"可能等级{result.estimate}" if result.estimate else f"最高可能{lv(result.ceiling)}" if result.ceiling \
        else "暂无法估计等级"
    boards = "；".join(f"{i}. {b.split('（')[0][:30]}" for i, b in enumerate(result.short_boards[:3], 1))
    return f"已附上您本次的自评结果供帮办人员参考：{result.industry}，{grade}" + (f"；短板：{boards}" if boards else "") + "。"


def _one_message(text: str, tail: str) -> str:
    """`text` cut to one WeChat message with `tail`, so the next 继续 reaches the assessment, not a held part."""
    budget = WECHAT_LIMIT - len(("\n" + tail).encode("utf-8")) - _CHANNEL_ROOM
    if len(text.encode("utf-8")) <= budget:
        return f"{text}\n{tail}"
    more = "……（答复较长，已截取开头；自评结束后可再问一次查看全文）"
    first = split_for_wechat(text, budget - len(more.encode("utf-8")))[0]
    return f"{first}{more}\n{tail}"


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
        if is_detail_request(text):  # 详细 / 展开 / 全文: the rest of the previous answer, on every channel
            detail = self._previous(user_id).detail
            if detail:
                return Answer(detail, confidence=1.0, intent="detail"), True
            if status not in ("active", "done"):  # done: the assessment's full report below
                return Answer(nothing_more(), confidence=1.0, intent="detail"), True
        if status == "active":
            return self._in_flow(user_id, text, channel)
        u = understand(text)
        if status == "done" and (bare == DETAIL_WORD or is_detail_request(text)):
            report = self.engine.report(user_id)
            if report:
                return Answer(report, [], [], confidence=1.0, intent="assess"), True
        if bare in CONTINUE_WORDS or bare in RESTART_WORDS:
            if status == "paused" and bare not in RESTART_WORDS:
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
                answer = dataclasses.replace(answer, text=f"{answer.text}\n{_handover_line(result)}",
                                             tools=[*answer.tools, {
                    "name": "self_assessment", "args": {"user_id": user_id}, "result": _summary(result)}])
        return answer, own

    def _in_flow(self, user_id: str, text: str, channel: str) -> tuple[Answer, bool]:
        bare = text.strip(_STRIPPED)
        if bare in CONTINUE_WORDS:
            return self._assess(self.engine.resume(user_id)), True
        if command_of(text):
            return self._assess(self.engine.handle(user_id, text), channel=channel), True
        u = understand(text)
        if u.intent == "human":
            answer, own = self._answer(user_id, text, channel, curated=False)
            return dataclasses.replace(answer, text=f"{answer.text}\n自评进度已保存，回复“继续”可接着做。"), own
        pending = self.engine.pending(user_id)
        if self.engine.accepts(user_id, text):
            industry_reply = pending is not None and pending.kind == "industry" and u.intent not in (
                "tool_review", "tool_incentives")
            if not looks_like_question(text) or industry_reply:
                return self._assess(self.engine.handle(user_id, text), channel=channel), True
        if _is_question(text, u):
            answer, own = self._answer(user_id, text, channel)
            tail = CONTINUE_LINE
            body = _one_message(answer.text, tail) if channel == "wechat" else f"{answer.text}\n{tail}"
            return dataclasses.replace(answer, text=body), own
        if wants_assessment(text, u):
            turn = self.engine.resume(user_id)
            return self._assess(turn, "您的自评正在进行中（回复“重新开始”可从头做）。\n"), True
        if not bare or u.intent in ("empty", "smalltalk"):
            return self._assess(self.engine.resume(user_id)), True
        return self._assess(self.engine.handle(user_id, text), channel=channel), True  # re-asked with help

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
        previous = self._previous(user_id).answer
        answer = self.assistant.reply(user_id, text, channel)
        trimmed = trim_repeats(answer, previous)
        if trimmed is not answer and self._store is not None:  # store what is sent
            try:
                self._store.revise(self._store.recent(user_id, 1)[0].id, trimmed.text)
            except Exception:
                log.exception("revising the stored turn failed user_id=%s", user_id)
        return trimmed, False

    def _previous(self, user_id: str) -> StoredTurn:
        """The user's previous turn as stored (answer as sent, and its detail), or an empty one (turns of one user
        run in order: the per-user lock in `reply`)."""
        empty = StoredTurn(0, user_id, "", "", "", [], [], "", 0, False, 0.0)
        if self._store is None:
            return empty
        try:
            turns = self._store.recent(user_id, 1)
        except Exception:  # an unreadable store only loses 详细 and the follow-up trimming, never the turn
            log.exception("reading the previous turn failed user_id=%s", user_id)
            return empty
        return turns[0] if turns else empty

    # ------------------------------------------------------------ answers and storage

    @staticmethod
    def _assess(turn: Turn, prefix: str = "", channel: str = "wechat") -> Answer:
        if turn.result is not None:
            r = turn.result
            text = prefix + turn.text
            if channel != "wechat" and turn.text == r.short:  # the web page shows the full report too
                text += "\n\n" + render(r)
            return Answer(text, list(r.citations),
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
                               answer.text, latency, answer.escalate, answer.route, answer.detail)
        except Exception:  # storing a turn must not lose the answer
            log.exception("storing the turn failed user_id=%s", user_id)


def build_dialogue(settings: Settings, curated: Curated | None = None, engine: Engine | None = None) -> Dialogue:
    """The assistant (`cli_ask.build_assistant`) and the assessment engine, both on the one database (`engine`,
    the app's `services.engine`; else `make_engine(settings.db_url())`), with the packs of the package and of
    `<data_dir>/criteria/` (staff packs, reloaded when one is activated)."""
    from jixiao.bot.cli_ask import build_assistant
    from jixiao.db import make_engine

    engine = engine if engine is not None else make_engine(settings.db_url())
    assistant = build_assistant(settings, engine)
    packs = PackSource(Path(settings.data_dir) / "criteria")
    assess = AssessmentEngine(engine, packs=packs)
    legacy = Path(settings.data_dir) / "assess.db"
    if legacy.is_file():  # sessions of the former separate file (before issue #15): moved in once
        log.info("assessment sessions imported from %s count=%d", legacy, import_legacy(assess.store, legacy))
    return Dialogue(assistant, assess, curated)
