"""One assistant turn: understand → lookup tool or passage search → answer (or abstain) → store.

`Assistant.reply(user_id, text, channel)` is the single entry point for the CLI `ask` command and
the channel adapters. Nothing is invented: tool answers come from the rule tables, policy answers
are sentences quoted from retrieved passages, everything else abstains and offers 转人工.
"""
from __future__ import annotations

import dataclasses
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from jixiao.bot.answer import RENDERERS, Answer, Citation, citation, cite_line, doc_jurisdiction, doc_title
from jixiao.bot.conversation import ConversationStore
from jixiao.bot.incentives import grade_label, incentives, normalize_grade
from jixiao.bot.industry import tier_scheme
from jixiao.bot.review import is_chongqing, review_route
from jixiao.bot.understand import DEFAULT_REGION, Understanding, understand

log = logging.getLogger(__name__)

MIN_SCORE = 0.3  # top hit below this → abstain (scale of the retriever's score; tune with eval)
DOC_REGIONS = ("聊城", "开封")  # other jurisdictions with loaded documents
HELP = "如需进一步帮助，可回复“转人工”，或咨询所在区县生态环境局。"
_REASONS = {
    "case_status": "涉及贵企业的个案办理情况（申报进度、当前等级、评级结果）",
    "live_data": "涉及实时数据、预警或名单等动态信息",
    "specific_amount": "涉及文件未规定的具体金额",
    "specific_date": "涉及文件未规定的具体日期或期限",
    "not_loaded": "涉及《地方指南》或技术指南中的具体指标，本助手尚未收录这些文件的原文",
    "service": "属于系统故障、投诉或代办等服务事项",
}


# ---------------------------------------------------------------- the search seam

@runtime_checkable
class Hit(Protocol):
    doc_id: str
    title: str
    section: str
    text: str
    score: float


class PassageSearch(Protocol):
    """Satisfied by `jixiao.retrieval.Retriever`: best passages first, `score` higher is better."""

    def search(self, query: str, k: int = 5, filters: dict | None = None) -> list[Hit]: ...


@dataclass(frozen=True)
class FakeHit:
    doc_id: str
    title: str
    section: str
    text: str
    score: float


class FakePassageSearch:
    """Deterministic stand-in for tests: returns fixed hits whose text shares a character with the query."""

    def __init__(self, hits: list[FakeHit]):
        self.hits = list(hits)
        self.calls: list[tuple[str, int, dict | None]] = []

    def search(self, query: str, k: int = 5, filters: dict | None = None) -> list[FakeHit]:
        self.calls.append((query, k, filters))
        hits = [h for h in self.hits if set(query) & set(h.text)]
        if filters and filters.get("jurisdiction"):
            hits = [h for h in hits if doc_jurisdiction(h.doc_id) == filters["jurisdiction"]]
        return sorted(hits, key=lambda h: -h.score)[:k]


# ---------------------------------------------------------------- extractive passages

_SENT = re.compile(r"[^。！？；\n]+[。！？；]?")
_STOP = set("的了吗呢吧啊是有在和与及或我们你他她它这那什么怎么如何哪些多少能会要请问一个")


def _terms(query: str) -> set[str]:
    q = re.sub(r"[\W_]+", "", query)
    q = "".join(ch for ch in q if ch not in _STOP)
    return {q[i:i + 2] for i in range(len(q) - 1)}


_TABLE_HEAD = re.compile(r"^\|[^\n]*\n\|(?:\s*:?-+:?\s*\|)+[ \t]*(?:\n|$)", re.M)


def _body(text: str) -> str:
    """A chunk's text without its first line, the 《title》 + clause-path label added by chunking."""
    if text.startswith("《"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
    return _TABLE_HEAD.sub("", text)  # a table's header row says nothing on its own


def best_sentences(hits, query: str, limit: int = 3) -> list[tuple[str, Any]]:
    terms = _terms(query)
    scored = []
    for rank, h in enumerate(hits[:3]):
        for s in _SENT.findall(_body(h.text or "")):
            s = s.strip().lstrip("#").strip()
            overlap = sum(1 for t in terms if t in s)
            if overlap and 6 <= len(s) <= 300:
                scored.append((-overlap, rank, s, h))
    scored.sort(key=lambda x: (x[0], x[1]))
    out, seen = [], set()
    for _, _, s, h in scored:
        if s not in seen:
            seen.add(s)
            out.append((s, h))
        if len(out) == limit:
            break
    return out


# ---------------------------------------------------------------- the assistant

def _asdict(result) -> dict:
    data = dataclasses.asdict(result)
    data.pop("resolution", None)
    return data


def _cite_dicts(cites: list[Citation]) -> list[dict]:
    return [dataclasses.asdict(c) for c in cites]


class Assistant:
    def __init__(self, search: PassageSearch | None, store_path: str | Path, min_score: float = MIN_SCORE):
        self.search = search
        self.store = ConversationStore(store_path)
        self.min_score = min_score
        self._context: dict[str, Understanding] = {}

    def reply(self, user_id: str, text: str, channel: str = "cli") -> Answer:
        start = time.perf_counter()
        try:
            u = understand(text, self._context.get(user_id))
            answer = self.answer(u)
        except Exception:  # users never see a traceback; operators find it in the log
            log.exception("turn failed user_id=%s", user_id)
            u = Understanding((text or "")[:400], "policy")
            answer = Answer("抱歉，处理您的问题时出现错误。" + HELP, escalate=True, intent="error")
        if u.intent not in ("empty", "smalltalk", "human"):
            self._context[user_id] = u
        latency = int((time.perf_counter() - start) * 1000)
        self.store.record(user_id, channel, text or "", answer.intent or u.intent,
                          [{"name": t["name"], "args": t["args"], "found": t["result"].get("found")}
                           for t in answer.tools], answer.chunks, answer.text, latency, answer.escalate)
        return answer

    # -- routing

    def answer(self, u: Understanding) -> Answer:
        if u.intent == "empty":
            return Answer("您好，请直接输入您的问题，例如：“铸造厂能评几级？”“评上B级有什么好处？”“汽修申报找谁审？”",
                          confidence=1.0, intent="empty")
        if u.intent == "human":
            return Answer("好的，已为您记录转人工请求，工作人员会尽快联系您。也可直接咨询所在区县生态环境局。",
                          escalate=True, confidence=1.0, intent="human")
        if u.intent == "smalltalk":
            if u.off_topic:
                return self.abstain(u, "不属于重污染天气绩效分级（“创B争A”）政策范围")
            return Answer("您好，我可以解答重庆重污染天气重点行业绩效分级（“创B争A”）的政策问题：行业能评哪些等级、"
                          "申报由谁审核、评级后的惠企措施等。", confidence=1.0, intent="smalltalk")
        if u.personal:
            return self.abstain(u, "；".join(_REASONS[p] for p in u.personal))
        if u.region != DEFAULT_REGION and not is_chongqing(u.region):
            if u.region in DOC_REGIONS:
                return self.policy(u, jurisdiction=u.region)
            return self.abstain(u, f"涉及{u.region}的规定，本助手只收录了重庆（及聊城、开封）的文件")
        if u.intent == "assess":
            return self.assess(u)
        handler = {"tool_tiers": self.tiers, "tool_review": self.review, "tool_incentives": self.incentives}
        return handler.get(u.intent, self.policy)(u)

    def abstain(self, u: Understanding, reason: str, known: str = "") -> Answer:
        if not known and "case_status" in u.personal:
            c = citation("cq-cbza-2024-att4", "二、", "企业在审核进展中跟踪审核情况")
            known = f"按{c.label()}，企业可登录重庆市重污染天气应急管理系统，在“审核进展”中跟踪审核情况。"
            return Answer(f"这个问题{reason}，我无法查询。{known}{HELP}", [dataclasses.asdict(c)],
                          escalate=True, confidence=0.3, intent=u.intent)
        return Answer(f"这个问题{reason}，现有文件中没有可以直接回答的内容，我不能给出具体答复。{known}{HELP}",
                      escalate=True, confidence=0.2, intent=u.intent)

    def _ask_industry(self, u: Understanding) -> Answer:
        if u.industry_candidates:
            msg = f"您说的行业可能是：{'、'.join(u.industry_candidates)}。请告诉我具体是哪一个。"
        else:
            msg = "请告诉我企业所属行业或主要产品（例如“铸造”“包装印刷”“汽修”），我再查附件3。"
        return Answer(msg, confidence=0.4, intent=u.intent)

    def _tool(self, u: Understanding, name: str, args: dict, result, prefix: str = "") -> Answer:
        body, cites = RENDERERS[name](result)
        text = prefix + body + ("\n" + cite_line(cites) if cites else "")
        return Answer(text, _cite_dicts(cites), [{"name": name, "args": args, "result": _asdict(result)}],
                      escalate=False, confidence=0.9 if result.found else 0.4, intent=u.intent)

    # -- tools

    def tiers(self, u: Understanding) -> Answer:
        if not u.industry:
            return self._ask_industry(u) if self.search is None else self.policy(u)
        args = {"industry": u.industry, "branch": u.branch}
        r = tier_scheme(u.industry, u.branch)
        prefix = ""
        if r.found and u.grade:
            canon, _ = normalize_grade(u.grade)
            grades = {g.removeprefix("地方") for b in r.branches for g in b.grades}
            if canon and canon not in grades:
                prefix = f"附件3中{r.industry}没有“{grade_label(canon)}”这一档。"
            elif canon:
                prefix = f"附件3中{r.industry}设有{grade_label(canon)}。"
        return self._tool(u, "tier_scheme", args, r, prefix)

    def review(self, u: Understanding) -> Answer:
        if not u.industry:
            return self._ask_industry(u) if self.search is None else self.policy(u)
        args = {"industry": u.industry, "branch": u.branch, "grade": u.grade, "region": u.region}
        return self._tool(u, "review_route", args, review_route(u.industry, u.branch, u.grade, u.region))

    def incentives(self, u: Understanding) -> Answer:
        grade, prefix = u.grade, ""
        if not grade:
            grade, prefix = "B", "您没有说明等级，以下以B级为例。"
        args = {"grade": grade, "region": u.region}
        return self._tool(u, "incentives", args, incentives(grade, u.region), prefix)

    def assess(self, u: Understanding) -> Answer:
        known = ""
        if u.industry:
            r = tier_scheme(u.industry, u.branch)
            if r.found:
                known = f"可以确定的是：{r.message}"
        return self.abstain(u, "需要对照《地方指南》等指标并经审核才能确定企业能评何等级", known)

    # -- passages

    def policy(self, u: Understanding, jurisdiction: str | None = None) -> Answer:
        """Quote the best sentences of the retrieved clauses; 重庆 documents first, others labelled."""
        if self.search is None:
            return self.abstain(u, "需要查阅政策原文，但文件检索暂不可用")
        query = u.query or u.text
        hits, picked = self._passages(query, jurisdiction or DEFAULT_REGION)
        fallback = False
        if not picked and not jurisdiction:  # nothing in Chongqing's documents: look at the others, labelled
            hits, picked = self._passages(query, None)
            fallback = bool(picked)
        chunks = [{"doc_id": h.doc_id, "section": h.section, "score": round(float(h.score), 4)} for h in hits]
        if not picked:
            a = self.abstain(u, "在已收录的文件中没有找到明确规定")
            a.chunks = chunks
            return a
        lines, cites = [], []
        if jurisdiction and jurisdiction != DEFAULT_REGION:
            lines.append(f"以下是{jurisdiction}文件的规定，不是重庆的规定：")
        elif fallback:
            lines.append("重庆的文件中没有找到直接规定。以下是其他地方文件的规定，仅供参考，不适用于重庆：")
        for sentence, h in picked:
            c = citation(h.doc_id, h.section, sentence, title=doc_title(h.doc_id, h.title))
            cites.append(c)
            place = doc_jurisdiction(h.doc_id)
            tag = f"【{place}】" if fallback and place else ""
            lines.append(f"{tag}{sentence}（{c.label()}）")
        return Answer("\n".join(lines), _cite_dicts(cites), [], escalate=False,
                      confidence=round(min(1.0, float(hits[0].score)), 3), intent=u.intent, chunks=chunks)

    def _passages(self, query: str, jurisdiction: str | None) -> tuple[list, list]:
        filters = {"jurisdiction": jurisdiction} if jurisdiction else None
        hits = list(self.search.search(query, k=5, filters=filters) or [])
        good = [h for h in hits if h.score >= self.min_score]
        return hits, (best_sentences(good, query) if good else [])
