"""Optional LLM wording over the deterministic answer (LangChain ChatOpenAI, any OpenAI-compatible endpoint).

The model sees only the retrieved clauses and tool results of the turn, may call the lookup tools, and
writes a short draft. Every draft sentence must be supported by that evidence (normalised containment or
character-bigram overlap, and every number present verbatim); unsupported sentences are dropped. Any
error, timeout or an empty supported draft returns None, and the caller keeps the deterministic answer.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import re
from typing import Any, Protocol

from jixiao.knowledge.basis import normalize

log = logging.getLogger(__name__)

SUPPORT_OVERLAP = 0.8  # share of a sentence's character bigrams that must occur in one evidence text
MAX_TOOL_ROUNDS = 2
SYSTEM_PROMPT = (
    "你是重庆重污染天气绩效分级（“创B争A”）政策助手。只能依据下面提供的条款原文和查询工具结果回答，"
    "不得补充任何其他事实、数字、日期或金额；条款没有写的，直接说“文件未规定”。用简体中文，三到五句，"
    "尽量沿用条款原文措辞。需要查行业等级、审核路径、惠企措施时可调用工具。"
)


class Drafter(Protocol):
    def draft(self, question: str, evidence: list[str]) -> str | None: ...


_SPLIT = re.compile(r"(?<=[。！？；\n])")
_NUM = re.compile(r"\d+(?:\.\d+)?")


def _plain(text: str) -> str:
    return re.sub(r"[\W_]+", "", normalize(text))


def supported(sentence: str, evidence: list[str]) -> bool:
    """Is the sentence carried by one evidence text (containment or ≥ SUPPORT_OVERLAP of its bigrams)?"""
    s = _plain(sentence)
    if len(s) < 2:
        return True
    plains = [_plain(e) for e in evidence]
    if any(n not in "".join(plains) for n in _NUM.findall(s)):
        return False  # a number must be quoted, never computed or guessed
    if any(s in p for p in plains):
        return True
    grams = {s[i:i + 2] for i in range(len(s) - 1)}
    return any(sum(g in p for g in grams) / len(grams) >= SUPPORT_OVERLAP for p in plains)


def keep_supported(draft: str, evidence: list[str]) -> tuple[str, list[str]]:
    """(the supported sentences joined, the dropped sentences)."""
    kept, dropped = [], []
    for sentence in (x.strip() for x in _SPLIT.split(draft or "")):
        if not sentence:
            continue
        (kept if supported(sentence, evidence) else dropped).append(sentence)
    return "".join(kept), dropped


LLM_TOOLS = ("tier_scheme", "review_route", "incentives", "incentive_measure", "resolve_industry", "procedure_fact",
             "delegated_industries", "policy_register")  # lookups; start_assessment and handoff are the dialogue's


def lookup_tools() -> list:
    """The registry's lookups (jixiao.bot.tools) as LangChain tools: pydantic arguments, results as JSON text."""
    from langchain_core.tools import StructuredTool

    from jixiao.bot.tools import TOOLS, result_json

    def bind(tool):
        def call(**kwargs) -> str:
            return json.dumps(result_json(tool.run(tool.args(**kwargs))), ensure_ascii=False, default=str)

        return StructuredTool.from_function(call, name=tool.name, description=tool.description, args_schema=tool.args)

    return [bind(TOOLS[name]) for name in LLM_TOOLS]


class OpenAIDrafter:
    """ChatOpenAI against `base_url`; config in the constructor, the call per turn."""

    def __init__(self, base_url: str, model: str, api_key: str | None, timeout: float):
        from langchain_openai import ChatOpenAI

        self.tools = {t.name: t for t in lookup_tools()}
        self.chat = ChatOpenAI(base_url=base_url, model=model, api_key=api_key or "unused", timeout=timeout,
                               max_retries=0, temperature=0)
        self.bound = self.chat.bind_tools(list(self.tools.values()))

    def draft(self, question: str, evidence: list[str]) -> str | None:
        """The supported part of the model's draft, or None (error, timeout, nothing supported)."""
        from langchain_core.messages import HumanMessage, SystemMessage, ToolMessage

        context = "\n".join(f"[{i}] {e}" for i, e in enumerate(evidence, 1))
        messages: list[Any] = [SystemMessage(SYSTEM_PROMPT),
                               HumanMessage(f"条款与工具结果：\n{context}\n\n问题：{question}")]
        evidence = list(evidence)
        try:
            for _ in range(MAX_TOOL_ROUNDS + 1):
                reply = self.bound.invoke(messages)
                messages.append(reply)
                calls = getattr(reply, "tool_calls", None) or []
                if not calls:
                    break
                for call in calls:
                    tool = self.tools.get(call["name"])
                    result = tool.invoke(call.get("args") or {}) if tool else json.dumps({"error": "unknown tool"})
                    evidence.append(str(result))
                    messages.append(ToolMessage(str(result), tool_call_id=call.get("id") or call["name"]))
            else:
                return None
            text = reply.content if isinstance(reply.content, str) else ""
        except Exception as exc:  # noqa: BLE001 — any failure: the deterministic answer stands
            log.warning("llm draft failed, keeping the deterministic answer error=%s", exc)
            return None
        kept, dropped = keep_supported(text, evidence)
        if dropped:
            log.warning("llm draft sentences dropped as unsupported count=%d", len(dropped))
        return kept or None


class DeadlineDrafter:
    """Any drafter, given at most `deadline` seconds per turn on a bounded pool of `workers` threads.

    A draft that misses the deadline (slow model, or every worker busy with slow drafts) is abandoned
    (None): the caller's deterministic answer goes out, inside the channel's budget. The abandoned call
    finishes in the background on its worker; the pool bounds how many such calls can pile up.
    """

    def __init__(self, inner: Drafter, deadline: float, workers: int = 8):
        from concurrent.futures import ThreadPoolExecutor

        self.inner, self.deadline = inner, deadline
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="llm-draft")

    def draft(self, question: str, evidence: list[str]) -> str | None:
        from concurrent.futures import TimeoutError as FutureTimeout

        future = self.pool.submit(self.inner.draft, question, evidence)
        try:
            return future.result(timeout=self.deadline)
        except FutureTimeout:
            future.cancel()  # still queued: never runs
            log.warning("llm draft missed its deadline, keeping the deterministic answer deadline_s=%s",
                        self.deadline)
            return None

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def make_drafter(settings) -> Drafter | None:
    """An OpenAIDrafter under the per-turn deadline when JIXIAO_LLM_BASE_URL is set, else None (no LLM)."""
    if not getattr(settings, "llm_base_url", None):
        return None
    inner = OpenAIDrafter(settings.llm_base_url, settings.llm_model, settings.llm_api_key, settings.llm_timeout)
    return DeadlineDrafter(inner, getattr(settings, "llm_deadline", settings.llm_timeout),
                           getattr(settings, "llm_workers", 8))
