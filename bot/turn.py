"""One assistant turn: understand → lookup tool or passage search → answer (or abstain) → store.

`Assistant.reply(user_id, text, channel)` is the single entry point for the CLI `ask` command and
the channel adapters. Nothing is invented: tool answers come from the rule tables, policy answers
are sentences quoted from retrieved passages, everything else abstains and offers 转人工.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

from jixiao.bot import incentive_answer, tool_answers
from jixiao.bot.abstention import HELP, NOT_ANSWERED, REASONS, abstain
from jixiao.bot.answer import Answer, Citation, cite_line
from jixiao.bot.confidence import AbstainModel, Evidence
from jixiao.bot.conversation import ConversationStore
from jixiao.bot.incentive_answer import INCENTIVES_DOC
from jixiao.bot.passage_search import FakeHit, FakePassageSearch, Hit, PassageSearch
from jixiao.bot.policy_answer import MIN_SCORE, PolicyAnswers
from jixiao.bot.review import is_chongqing
from jixiao.bot.scope import known_rule
from jixiao.bot.tool_answers import NOTICE_DOC
from jixiao.bot.understand import DEFAULT_REGION, Understanding, asks_threshold, understand

__all__ = ["DOC_REGIONS", "HELP", "INCENTIVES_DOC", "LONG_NOTE", "MIN_SCORE", "NOTICE_DOC", "NOT_ANSWERED", "Assistant",
           "FakeHit", "FakePassageSearch", "Hit", "PassageSearch"]

log = logging.getLogger(__name__)

DOC_REGIONS = ("聊城", "开封")  # other jurisdictions with loaded documents
LONG_NOTE = "您的消息较长，我只根据开头部分作答；如有多个问题，请分开提问。\n"
_DEFAULT_MODEL = object()  # sentinel: load bot/abstain_model.json


class Assistant:
    def __init__(self, search: PassageSearch | None, store_path: str | Path, min_score: float = MIN_SCORE,
                 llm=None, abstain_model: AbstainModel | None | object = _DEFAULT_MODEL):
        """`abstain_model`: the calibrated "is this passage an answer" decision (jixiao.bot.confidence);
        default the packaged coefficients, None to answer from every passage found (calibration runs)."""
        self.llm = llm
        self.store = ConversationStore(store_path)
        self.passages = PolicyAnswers(search, min_score,
                                      AbstainModel.load() if abstain_model is _DEFAULT_MODEL else abstain_model)
        self._context: dict[str, Understanding] = {}

    @property
    def search(self) -> PassageSearch | None:
        return self.passages.search

    @property
    def min_score(self) -> float:
        return self.passages.min_score

    @property
    def abstain_model(self) -> AbstainModel | None:
        return self.passages.abstain_model

    @property
    def last_evidence(self) -> Evidence | None:
        """Features of the last passage decision (calibration)."""
        return self.passages.last_evidence

    def reply(self, user_id: str, text: str, channel: str = "cli") -> Answer:
        start = time.perf_counter()
        self.passages.last_evidence = None
        try:
            u = understand(text, self._context.get(user_id))
            answer = self.answer(u)
            if self.llm is not None and not answer.escalate and (answer.citations or answer.tools):
                answer = self._draft(u, answer)
            if u.truncated and u.intent != "empty":
                answer.text = LONG_NOTE + answer.text
        except Exception:  # users never see a traceback; operators find it in the log
            log.exception("turn failed user_id=%s", user_id)
            u = Understanding(str(text or "")[:400], "policy")
            answer = Answer("抱歉，处理您的问题时出现错误。" + HELP, escalate=True, intent="error")
        if u.intent not in ("empty", "smalltalk", "human"):
            self._context[user_id] = u
        latency = int((time.perf_counter() - start) * 1000)
        question = text.encode("utf-8", "replace").decode("utf-8") if isinstance(text, str) else u.text
        try:
            self.store.record(str(user_id), str(channel), question, answer.intent or u.intent,
                              [{"name": t["name"], "args": t["args"], "found": t["result"].get("found")}
                               for t in answer.tools], answer.chunks, answer.text, latency, answer.escalate)
        except Exception:  # the user still gets the answer; the operator finds the failure in the log
            log.exception("storing the turn failed user_id=%s", user_id)
        return answer

    def _draft(self, u: Understanding, answer: Answer) -> Answer:
        """LLM wording restricted to this turn's evidence; the deterministic answer when it fails."""
        evidence = [answer.text] + answer.evidence + [c.get("quote", "") for c in answer.citations]
        draft = self.llm.draft(u.text, [e for e in evidence if e])
        if not draft:
            return answer
        cites = [Citation(**{k: c[k] for k in ("doc_id", "title", "section", "quote")}) for c in answer.citations]
        text = draft + ("\n" + cite_line(cites) if cites else "")
        return dataclasses.replace(answer, text=text, drafted=True)

    def answer(self, u: Understanding) -> Answer:
        """Route the understood turn: canned replies, abstentions, a rule-table lookup or the passages."""
        if u.intent == "empty":
            return Answer("您好，请直接输入您的问题，例如：“铸造厂能评几级？”“评上B级有什么好处？”“汽修申报找谁审？”",
                          confidence=1.0, intent="empty")
        if u.intent == "human":
            return Answer("好的，已为您记录转人工请求，工作人员会尽快联系您。也可直接咨询所在区县生态环境局。",
                          escalate=True, confidence=1.0, intent="human")
        if u.intent == "smalltalk":
            if u.off_topic:
                return abstain(u, "不属于重污染天气绩效分级（“创B争A”）政策范围")
            return Answer("您好，我可以解答重庆重污染天气重点行业绩效分级（“创B争A”）的政策问题：行业能评哪些等级、"
                          "申报由谁审核、评级后的惠企措施等。", confidence=1.0, intent="smalltalk")
        if u.personal == ("not_loaded",) and asks_threshold(u.text) and self.search is not None:
            # a loaded clause that states the very value (氨逃逸浓度 8毫克/立方米)
            loaded = self.passages.loaded_value(u)
            if loaded is not None:
                return loaded
        if u.personal:
            known, cites = known_rule(u) if "specific_amount" in u.personal else ("", [])
            return abstain(u, "；".join(REASONS[p] for p in u.personal), known, cites)
        if u.region != DEFAULT_REGION and not is_chongqing(u.region):
            if u.region in DOC_REGIONS:
                return self.passages.policy(u, jurisdiction=u.region)
            return abstain(u, f"涉及{u.region}的规定，本助手只收录了重庆（及聊城、开封）的文件")
        if u.intent == "assess":
            return tool_answers.assess(u)
        handler = {"tool_tiers": self._tiers, "tool_review": tool_answers.review,
                   "tool_incentives": incentive_answer.incentives_answer, "tool_industry": tool_answers.which_industry}
        return handler.get(u.intent, self.passages.policy)(u)

    def _tiers(self, u: Understanding) -> Answer:
        if not u.industry and self.search is not None:  # no industry named: the passages may still answer
            return self.passages.policy(u)
        return tool_answers.tiers(u)
