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
from typing import Protocol, runtime_checkable

from jixiao.bot.answer import (RENDERERS, Answer, Citation, citation, citations_of, cite_line, doc_jurisdiction, doc_title,
                               find_document, render_review_overview, uncovered_years)
from jixiao.bot.confidence import AbstainModel, Evidence, evidence
from jixiao.bot.conversation import ConversationStore
from jixiao.bot.incentives import grade_label, incentives, normalize_grade
from jixiao.bot.industry import resolve_industry, tier_scheme
from jixiao.bot.passages import (best_sentences, clause_sentences, focus_clause, outline_of, top_clauses,
                                 where_named)
from jixiao.bot.review import is_chongqing, load_review_routes, review_route
from jixiao.bot.scope import CONCENTRATION, admin_topic, known_rule, threshold_subjects, topic_covered
from jixiao.bot.understand import DEFAULT_REGION, Understanding, asks_threshold, measure_words, understand

log = logging.getLogger(__name__)

INCENTIVES_DOC = "cq-cbza-2024-att1"
NOTICE_DOC = "cq-cbza-2024"
_BROAD = re.compile(r"大纲|目录|都有哪些|哪几部分|包括哪些|准备哪些")  # asks for a whole outline
MIN_SCORE = 0.3  # top hit below this → abstain (scale of the retriever's score; tune with eval)
DOC_REGIONS = ("聊城", "开封")  # other jurisdictions with loaded documents
LONG_NOTE = "您的消息较长，我只根据开头部分作答；如有多个问题，请分开提问。\n"
HELP = "如需进一步帮助，可回复“转人工”，或咨询所在区县生态环境局。"
NOT_ANSWERED = "现有文件没有直接回答这个问题。"
_DEFAULT_MODEL = object()  # sentinel: load bot/abstain_model.json
_REASONS = {
    "case_status": "涉及贵企业的个案办理情况（申报进度、当前等级、评级结果）",
    "live_data": "涉及实时数据、预警或名单等动态信息",
    "specific_amount": "涉及文件未规定的具体金额",
    "specific_date": "涉及文件未规定的具体日期或期限",
    "not_loaded": "涉及《地方指南》或技术指南中的具体指标，本助手尚未收录这些文件的原文",
    "service": "属于系统故障、投诉或代办等服务事项",
    "not_in_docs": "涉及已收录文件没有规定的事项（如申诉途径、A+级）",
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
    # raw signals as `jixiao.retrieval.search.Hit` carries them; dense_rank 0 means "not given"
    dense_cos: float = 0.0
    bm25_raw: float = 0.0
    dense_rank: int = 0
    bm25_rank: int = 0
    agree: bool = False
    chunk_id: str = ""


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


# ---------------------------------------------------------------- the assistant

def _leading_equivalent(grade: str | None, valid: tuple[str, ...]) -> str | None:
    """A letter grade asked of an industry graded only 绩效引领/非绩效引领: the tier it corresponds to."""
    if not grade or grade[-1:] not in "ABCD-" or not valid:
        return None
    want = "非绩效引领" if grade[0] in "CD" else "绩效引领"
    return next((g for g in valid if g.endswith(want) and (want == "非绩效引领" or "非" not in g)), None)


def _asdict(result) -> dict:
    data = dataclasses.asdict(result)
    data.pop("resolution", None)
    return data


def _cite_dicts(cites: list[Citation]) -> list[dict]:
    return [dataclasses.asdict(c) for c in cites]


class Assistant:
    def __init__(self, search: PassageSearch | None, store_path: str | Path, min_score: float = MIN_SCORE,
                 llm=None, abstain_model: AbstainModel | None | object = _DEFAULT_MODEL):
        """`abstain_model`: the calibrated "is this passage an answer" decision (jixiao.bot.confidence);
        default the packaged coefficients, None to answer from every passage found (calibration runs)."""
        self.search = search
        self.llm = llm
        self.store = ConversationStore(store_path)
        self.min_score = min_score
        self.abstain_model = AbstainModel.load() if abstain_model is _DEFAULT_MODEL else abstain_model
        self.last_evidence: Evidence | None = None  # features of the last passage decision (calibration)
        self._context: dict[str, Understanding] = {}

    def reply(self, user_id: str, text: str, channel: str = "cli") -> Answer:
        start = time.perf_counter()
        self.last_evidence = None
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
        if u.personal == ("not_loaded",) and asks_threshold(u.text) and self.search is not None:
            loaded = self.loaded_value(u)  # a loaded clause that states the very value (氨逃逸浓度 8毫克/立方米)
            if loaded is not None:
                return loaded
        if u.personal:
            known, cites = known_rule(u) if "specific_amount" in u.personal else ("", [])
            return self.abstain(u, "；".join(_REASONS[p] for p in u.personal), known, cites)
        if u.region != DEFAULT_REGION and not is_chongqing(u.region):
            if u.region in DOC_REGIONS:
                return self.policy(u, jurisdiction=u.region)
            return self.abstain(u, f"涉及{u.region}的规定，本助手只收录了重庆（及聊城、开封）的文件")
        if u.intent == "assess":
            return self.assess(u)
        handler = {"tool_tiers": self.tiers, "tool_review": self.review, "tool_incentives": self.incentives,
                   "tool_industry": self.which_industry}
        return handler.get(u.intent, self.policy)(u)

    def abstain(self, u: Understanding, reason: str, known: str = "", cites: list[Citation] | None = None) -> Answer:
        if cites:
            return Answer(f"这个问题{reason}，我不能给出具体答复。{known}{HELP}", _cite_dicts(cites),
                          escalate=True, confidence=0.3, intent=u.intent)
        if not known and "case_status" in u.personal:
            c = citation("cq-cbza-2024-att4", "二、", "企业在审核进展中跟踪审核情况")
            known = f"按{c.label()}，企业可登录重庆市重污染天气应急管理系统，在“审核进展”中跟踪审核情况。"
            return Answer(f"这个问题{reason}，我无法查询。{known}{HELP}", [dataclasses.asdict(c)],
                          escalate=True, confidence=0.3, intent=u.intent)
        return Answer(f"这个问题{reason}，现有文件中没有可以直接回答的内容，我不能给出具体答复。{known}{HELP}",
                      escalate=True, confidence=0.2, intent=u.intent)

    def not_answered(self, u: Understanding, picked: list, elsewhere: bool = False) -> Answer:
        """The passages found do not answer: say so, quote the most related clause (when given) as
        such, offer the helpdesk."""
        if not picked:
            return Answer(NOT_ANSWERED + HELP, escalate=True, confidence=0.2, intent=u.intent)
        sentence, h = picked[0]
        c = citation(h.doc_id, h.section, sentence, title=doc_title(h.doc_id, h.title))
        place = doc_jurisdiction(h.doc_id)
        note = f"（{place}文件，不适用于重庆）" if elsewhere and place and place != DEFAULT_REGION else ""
        text = f"{NOT_ANSWERED}与您问题最相关的规定{note}是：“{sentence}”（{c.label()}）\n{HELP}"
        return Answer(text, [dataclasses.asdict(c)], escalate=True, confidence=0.3, intent=u.intent)

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

    def which_industry(self, u: Understanding) -> Answer:
        res = resolve_industry(u.text)
        tools = [{"name": "resolve_industry", "args": {"text": u.text}, "result": _asdict(res)}]
        if not u.industry:
            a = self._ask_industry(u)
            a.tools = tools
            return a
        r = tier_scheme(u.industry, u.branch)
        body, cites = RENDERERS["tier_scheme"](r)
        place = "附件3所列的" + (r.category_label or "") if r.found else ""
        lead = f"按附件3，这类企业属于{place}“{r.industry or u.industry}”行业。\n" if r.found else ""
        named = where_named(NOTICE_DOC, r.industry) if r.found and r.industry else None
        if named:  # the notice itself names the industry (e.g. 通用行业（含工业锅炉/炉窑）)
            cites = [citation(NOTICE_DOC, named[0], named[1])] + cites
        text = lead + body + ("\n" + cite_line(cites) if cites else "")
        tools.append({"name": "tier_scheme", "args": {"industry": u.industry, "branch": u.branch}, "result": _asdict(r)})
        return Answer(text, _cite_dicts(cites), tools, escalate=False, confidence=0.9 if r.found else 0.4,
                      intent=u.intent)

    def review(self, u: Understanding) -> Answer:
        if not u.industry:
            if u.industry_candidates:
                return self._ask_industry(u)
            body, cites = render_review_overview(load_review_routes(), u.grade, u.text)
            text = body + ("\n" + cite_line(cites) if cites else "")
            return Answer(text, _cite_dicts(cites), [{"name": "review_route", "args": {"industry": None,
                          "grade": u.grade, "region": u.region}, "result": {"found": True, "overview": True}}],
                          escalate=False, confidence=0.8, intent=u.intent)
        args = {"industry": u.industry, "branch": u.branch, "grade": u.grade, "region": u.region}
        r = review_route(u.industry, u.branch, u.grade, u.region)
        prefix = ""
        mapped = _leading_equivalent(u.grade, r.valid_grades) if not r.found else None
        if mapped:  # 汽修 has no A/B/C/D: 绩效引领 stands for A/B, 非绩效引领 for C/D
            prefix = (f"{r.industry}不分A/B/C/D级，只有{'/'.join(r.valid_grades)}；{u.grade}级对应的是“{mapped}”。"
                      f"以下按{mapped}回答：\n")
            args = dict(args, grade=mapped)
            r = review_route(u.industry, u.branch, mapped, u.region)
        if r.found and not r.steps and len(r.routes) > 1:  # no grade named: cite each route's own clause first
            body, cites = RENDERERS["review_route"](r)
            cites = citations_of(tuple(b for route in r.routes for b in route.basis[:1])) + cites
            return Answer(prefix + body + "\n" + cite_line(cites, limit=len(r.routes) + 1), _cite_dicts(cites),
                          [{"name": "review_route", "args": args, "result": _asdict(r)}],
                          escalate=False, confidence=0.9, intent=u.intent)
        return self._tool(u, "review_route", args, r, prefix)

    def incentives(self, u: Understanding) -> Answer:
        grade, prefix = u.grade, ""
        if not grade:
            grade, prefix = "B", "您没有说明等级，以下以B级为例。"
        args = {"grade": grade, "region": u.region}
        r = incentives(grade, u.region)
        focus = focus_clause(INCENTIVES_DOC, f"{u.text} {measure_words(u.text)}")
        if r.found and focus:
            return self._incentive_focus(u, args, r, focus)
        answer = self._tool(u, "incentives", args, r, prefix)
        if r.found and grade not in ("B", "A"):
            self._excluded_measures(answer, r)
        return answer

    @staticmethod
    def _excluded_measures(answer: Answer, r) -> None:
        """Name the measures a lower grade does not get, quoting their grade condition."""
        full = incentives("B", r.region)
        got = {m.seq for m in r.measures + r.upgrade_support}
        lines, cites = [], []
        for m in full.measures:
            if m.seq not in got and m.basis:
                c = citation(m.basis[0].doc_id, m.basis[0].section, m.basis[0].quote)
                cites.append(c)
                lines.append(f"第{m.seq}条 {m.name}：“{m.basis[0].quote}”（{c.label()}）")
        if lines:
            answer.text += "\n不适用的条款（条文限定的等级）：\n" + "\n".join(lines)
            answer.citations = _cite_dicts(cites) + answer.citations

    def _incentive_focus(self, u: Understanding, args: dict, r, focus: tuple[str, str]) -> Answer:
        """The question is about one measure: quote that clause, then say whether the grade qualifies."""
        ordinal, text = focus
        c = citation(INCENTIVES_DOC, f"附件1 {ordinal}、", "")
        picked = clause_sentences(text, u.text, limit=3)
        c = Citation(c.doc_id, c.title, c.section, picked[0] if picked else "")
        seq = "一二三四五六七八九十".index(ordinal) + 1 if ordinal and len(ordinal) == 1 else None
        applies = {m.seq for m in r.measures + r.upgrade_support}
        lines = [f"{s}（{c.label()}）" for s in picked]
        name = self._measure_name(seq)
        if name and not any(name in s for s in picked):  # the clause heading (六、首违不罚。) is not quoted
            lines.insert(0, f"{c.title}第{ordinal}条“{name}”：")  # the document's numeral: no digit of our own
        if seq == 10:
            lines.append("第十条是对区县的考核激励，不直接惠及企业。")
        elif seq and u.grade and seq not in applies:
            lines.append(f"按条文，第{seq}条不适用于{grade_label(r.grade or u.grade)}企业。{r.message}")
        elif seq and u.grade:
            lines.append(f"{grade_label(r.grade or u.grade)}企业可适用第{seq}条。")
        _, tool_cites = RENDERERS["incentives"](r)
        cites = [c] + [x for x in tool_cites if x.section != c.section][:2]
        return Answer("\n".join(lines), _cite_dicts(cites),
                      [{"name": "incentives", "args": args, "result": _asdict(r)}],
                      escalate=False, confidence=0.85, intent=u.intent)

    @staticmethod
    def _measure_name(seq: int | None) -> str:
        full = incentives("B")
        return next((m.name for m in full.measures + full.not_for_enterprises if m.seq == seq), "") if seq else ""

    def assess(self, u: Understanding) -> Answer:
        known = ""
        if u.industry:
            r = tier_scheme(u.industry, u.branch)
            if r.found:
                known = f"可以确定的是：{r.message}"
        return self.abstain(u, "需要对照《地方指南》等指标并经审核才能确定企业能评何等级", known)

    # -- passages

    def loaded_value(self, u: Understanding) -> Answer | None:
        """A threshold question a loaded clause answers: a retrieved sentence names the question's pollutant or
        indicator and gives a concentration (e.g. 秋冬季方案 “氨逃逸浓度控制在8毫克/立方米以下”)."""
        named = threshold_subjects(u.text)
        if not named:
            return None
        query = u.query or u.text
        hits = [h for h in self.search.search(query, k=5, filters={"jurisdiction": DEFAULT_REGION}) or []
                if h.score >= self.min_score]
        for sentence, h in best_sentences(hits, query):
            if (CONCENTRATION.search(sentence) and any(n in sentence.upper() for n in named)
                    and (not u.industry or u.industry[:2] in sentence)):  # 铸造's limit is not 垃圾焚烧's
                c = citation(h.doc_id, h.section, sentence, title=doc_title(h.doc_id, h.title))
                return Answer(f"{sentence}（{c.label()}）", [dataclasses.asdict(c)], [], escalate=False,
                              confidence=0.7, intent=u.intent, evidence=[h.text for h in hits])
        return None

    def policy(self, u: Understanding, jurisdiction: str | None = None) -> Answer:
        """Quote the best sentences of the retrieved clauses; 重庆 documents first, others labelled."""
        if "文号" in u.text:
            numbered = self.document_number(u)
            if numbered is not None:
                return numbered
        if self.search is None:
            return self.abstain(u, "需要查阅政策原文，但文件检索暂不可用")
        query = u.query or u.text
        hits, picked = self._passages(query, jurisdiction or DEFAULT_REGION)
        fallback = False
        if not picked and not jurisdiction:  # nothing in Chongqing's documents: look at the others, labelled
            hits, picked = self._passages(query, None)
            fallback = bool(picked)
        chunks = [{"doc_id": h.doc_id, "section": h.section, "score": round(float(h.score), 4)} for h in hits]
        if picked:
            self.last_evidence = evidence(query, hits, self.search)
            if self.abstain_model and not self.abstain_model.fits(self.search):  # other embedder: cosine unknown
                self.last_evidence = dataclasses.replace(self.last_evidence, dense=None)
            decision = self.abstain_model.decide(self.last_evidence) if self.abstain_model else "answer"
            if decision != "answer":
                a = self.not_answered(u, picked if decision == "related" else [], fallback or bool(jurisdiction))
                a.chunks = chunks
                return a
        topic = admin_topic(u.text)
        if picked and topic and not topic_covered(topic, hits):  # 排污许可证延续 ≠ a clause naming 排污许可
            a = self.abstain(u, f"涉及{topic[0]}{'、'.join(topic[1])}等环境管理事项，不属于重污染天气绩效分级（“创B争A”）文件的内容")
            a.chunks = chunks
            return a
        if picked and not jurisdiction and hits[0].doc_id == INCENTIVES_DOC:  # a question about one 惠企 measure
            focus = self._att1_clause(hits[0].section)
            if focus and focus_clause(INCENTIVES_DOC, query) == focus:  # retriever and wording agree
                grade = u.grade or "B"
                r = incentives(grade, u.region)
                if r.found:
                    a = self._incentive_focus(u, {"grade": grade, "region": u.region}, r, focus)
                    a.chunks = chunks
                    return a
        missing = uncovered_years(u.text, [s for s, _ in picked[:1]])
        if missing:
            a = self.abstain(u, f"涉及{'、'.join(missing)}的安排，已收录的文件没有{missing[0]}的规定")
            a.chunks = chunks
            return a
        if not picked:
            a = self.abstain(u, "在已收录的文件中没有找到明确规定")
            a.chunks = chunks
            return a
        lines, cites = [], []
        if jurisdiction and jurisdiction != DEFAULT_REGION:
            lines.append(f"以下是{jurisdiction}文件的规定，不是重庆的规定：")
        elif fallback:
            lines.append("重庆的文件中没有找到直接规定。以下是其他地方文件的规定，仅供参考，不适用于重庆：")
        outline = outline_of(picked[0][1].doc_id) if _BROAD.search(u.text) else None
        if outline:
            c = citation(picked[0][1].doc_id, "", outline)
            cites.append(c)
            lines.append(f"{c.title}共分以下部分：{outline}（{c.label()}）")
        for sentence, h in picked:
            c = citation(h.doc_id, h.section, sentence, title=doc_title(h.doc_id, h.title))
            cites.append(c)
            place = doc_jurisdiction(h.doc_id)
            tag = f"【{place}】" if fallback and place else ""
            lines.append(f"{tag}{sentence}（{c.label()}）")
        return Answer("\n".join(lines), _cite_dicts(cites), [], escalate=False,
                      confidence=round(min(1.0, float(hits[0].score)), 3), intent=u.intent, chunks=chunks,
                      evidence=[h.text for h in hits])

    @staticmethod
    def _att1_clause(section: str) -> tuple[str, str] | None:
        m = re.match(r"(?:附件\s*\d+\s*)?([一二三四五六七八九十]+)", section or "")
        return next((c for c in top_clauses(INCENTIVES_DOC) if m and c[0] == m.group(1)), None)

    def document_number(self, u: Understanding) -> Answer | None:
        """"XX方案的文号": the document number from the source's front matter, cited as 发文."""
        doc = find_document(u.text)
        if doc is None or not doc.doc_number:
            return None
        c = citation(doc.doc_id, "发文", doc.doc_number)
        place = doc.jurisdiction or ""
        note = f"（{place}文件）" if place and place != DEFAULT_REGION else ""
        return Answer(f"{c.title}{note}的文号是{doc.doc_number}，{doc.issuer or ''}{doc.date or ''}印发。（{c.label()}）",
                      [dataclasses.asdict(c)], [], escalate=False, confidence=0.9, intent=u.intent)

    def _passages(self, query: str, jurisdiction: str | None) -> tuple[list, list]:
        filters = {"jurisdiction": jurisdiction} if jurisdiction else None
        hits = list(self.search.search(query, k=5, filters=filters) or [])
        good = [h for h in hits if h.score >= self.min_score]
        return hits, (best_sentences(good, query) if good else [])
