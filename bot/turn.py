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
from pathlib import Path

from jixiao.bot import cues, incentive_answer, tool_answers
from jixiao.bot.abstention import HELP, NOT_ANSWERED, REASONS, abstain, slot_not_given
from jixiao.bot.answer_confidence import load_calibrated
from jixiao.bot.answerability import Answerability, asked_slots, asked_text, slot_in, statements
from jixiao.bot.entities import entity_words
from jixiao.bot.answer import Answer, Citation, cite_line, doc_jurisdiction
from jixiao.bot.confidence import AbstainModel, Evidence
from jixiao.bot.conversation import ConversationStore
from jixiao.bot.incentive_answer import INCENTIVES_DOC
from jixiao.bot.passage_search import FakeHit, FakePassageSearch, Hit, PassageSearch
from jixiao.bot.policy_answer import MIN_SCORE, PolicyAnswers
from jixiao.bot.review import is_chongqing
from jixiao.bot.scope import admin_topic, known_rule, topic_covered
from jixiao.bot.tool_answers import NOTICE_DOC
from jixiao.bot.out_of_scope import out_of_scope_answer
from jixiao.bot.route import DOC_REGIONS, Route, Router, newest_year, year_named
from jixiao.bot.timeplace import Clock, SystemClock, time_frame, uncovered_year
from jixiao.bot.tools import TOOLS
from jixiao.bot.understand import DEFAULT_REGION, Understanding, asks_threshold, understand

__all__ = ["DOC_REGIONS", "HELP", "INCENTIVES_DOC", "LONG_NOTE", "MIN_SCORE", "NOTICE_DOC", "NOT_ANSWERED", "Assistant",
           "FakeHit", "FakePassageSearch", "Hit", "PassageSearch"]

log = logging.getLogger(__name__)
FAMILY = {"incentives": ("incentive_measure",), "incentive_measure": ("incentives",)}  # tools answering one table

LONG_NOTE = "您的消息较长，我只根据开头部分作答；如有多个问题，请分开提问。\n"
_DEFAULT_MODEL = object()  # sentinel: load bot/abstain_model.json


STATED_IDF = 3.5  # the words a stated value must repeat: specific ones, not 企业 or 要求


class Assistant:
    def __init__(self, search: PassageSearch | None, store_path: str | Path, min_score: float = MIN_SCORE,
                 llm=None, abstain_model: AbstainModel | None | object = _DEFAULT_MODEL, clock: Clock | None = None):
        """`abstain_model`: the calibrated "is this passage an answer" decision (jixiao.bot.confidence);
        default the packaged coefficients, None to answer from every passage found (calibration runs)."""
        self.llm = llm
        self.store = ConversationStore(store_path)
        self.passages = PolicyAnswers(search, min_score,
                                      AbstainModel.load() if abstain_model is _DEFAULT_MODEL else abstain_model)
        self.clock = clock or SystemClock()
        tagged = getattr(getattr(search, "tokenizer", None), "tagged", None)
        self.router = Router(cards_by_id=self._cards_by_id(search), searchable=search is not None, clock=self.clock,
                             tagged=tagged)
        self.answerability = self._answerability(search)
        self.passages.answerability = self.answerability
        # P(right) per route class, counted on the development sets (None: the rules' own confidence stands)
        self.calibrated = load_calibrated() if search is not None else None

    @staticmethod
    def _answerability(search) -> Answerability | None:
        """The coverage check over the retriever's vocabulary (None with a search that has none: tests' fakes)."""
        if not hasattr(search, "term_idf"):
            return None
        from jixiao.retrieval.pinyin import pinyin_tokens

        return Answerability(search.tokenizer.tagged, pinyin_tokens, search.term_idf, search.vocabulary.query_terms,
                             is_word=search.tokenizer.is_word)

    @staticmethod
    def _cards_by_id(search) -> dict:
        loader = getattr(search, "load_card_set", None)
        if loader is None:
            return {}
        try:
            return loader().by_id()
        except Exception:  # a broken card file must not take the assistant down: tools and passages still answer
            log.exception("question cards could not be loaded; routing without cards")
            return {}

    def card_matches(self, u: Understanding) -> list:
        matcher = getattr(self.search, "match_cards", None)
        if matcher is None or u.intent == "empty" or not self.router.cards:
            return []
        return matcher(u.text, k=8)

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
            previous = self._previous(user_id)
            u = understand(text, previous)
            answer = self.answer(u, has_context=previous is not None)
            if self.llm is not None and not answer.escalate and (answer.citations or answer.tools):
                answer = self._draft(u, answer)
            if u.truncated and u.intent != "empty":
                answer.text = LONG_NOTE + answer.text
        except Exception:  # users never see a traceback; operators find it in the log
            log.exception("turn failed user_id=%s", user_id)
            u = Understanding(str(text or "")[:400], "policy")
            answer = Answer("抱歉，处理您的问题时出现错误。" + HELP, escalate=True, intent="error")
        if u.intent not in ("empty", "smalltalk", "human"):
            self._remember(user_id, u)
        latency = int((time.perf_counter() - start) * 1000)
        question = text.encode("utf-8", "replace").decode("utf-8") if isinstance(text, str) else u.text
        try:
            self.store.record(str(user_id), str(channel), question, answer.intent or u.intent,
                              [{"name": t["name"], "args": t["args"], "found": t["result"].get("found")}
                               for t in answer.tools], answer.chunks, answer.text, latency, answer.escalate,
                              answer.route, answer.detail)
        except Exception:  # the user still gets the answer; the operator finds the failure in the log
            log.exception("storing the turn failed user_id=%s", user_id)
        return answer

    def _previous(self, user_id: str) -> Understanding | None:
        """The reading of the user's previous turn, from the database (every worker sees the same)."""
        try:
            data = self.store.context(str(user_id))
            if data is None:
                return None
            return Understanding(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})
        except Exception:  # an unreadable context only loses the follow-up, never the turn
            log.warning("follow-up context unreadable user_id=%s", user_id, exc_info=True)
            return None

    def _remember(self, user_id: str, u: Understanding) -> None:
        try:
            self.store.set_context(str(user_id), dataclasses.asdict(u))
        except Exception:
            log.warning("storing the follow-up context failed user_id=%s", user_id, exc_info=True)

    def _draft(self, u: Understanding, answer: Answer) -> Answer:
        """LLM wording restricted to this turn's evidence; the deterministic answer when it fails."""
        evidence = [answer.text] + answer.evidence + [c.get("quote", "") for c in answer.citations]
        draft = self.llm.draft(u.text, [e for e in evidence if e])
        if not draft:
            return answer
        cites = [Citation(**{k: c[k] for k in ("doc_id", "title", "section", "quote")}) for c in answer.citations]
        text = draft + ("\n" + cite_line(cites) if cites else "")
        return dataclasses.replace(answer, text=text, drafted=True)

    def answer(self, u: Understanding, has_context: bool = False) -> Answer:
        """Decide the route of the understood turn (bot/route.py) and answer it; the route is kept on the answer."""
        route = self.router.decide(u, self.card_matches(u), has_context)
        answer = self.execute(route, u)
        answer = self._slot_gate(u, route, answer)
        if answer.escalate and u.region in DOC_REGIONS and u.region not in answer.text:
            answer.text = f"关于{u.region}：" + answer.text  # a refusal about 开封/聊城 says whose rules it is about
        answer.route = dict(route.to_json(), **answer.route_note)
        if route.kind in ("tool", "clause") and not answer.escalate:
            answer.text = as_of_note(u.text, self.clock.today(), answer) + answer.text
        if self.calibrated is not None:
            answer.confidence = self.calibrated.probability(answer.route, answer.escalate)
        return answer

    def execute(self, route: Route, u: Understanding) -> Answer:
        if route.kind == "tool":
            answer = self._tool(route, u)
            if answer.escalate or not answer.tools or self.search is None:
                return answer
            # "排污许可的自行监测频次能不能降": a 惠企 measure naming 排污许可 in passing does not answer the procedure
            topic = admin_topic(u.text)
            if topic is not None and not topic_covered(topic, [answer.detail or answer.text]):
                fallback = self.passages.policy(u)
                fallback.route_note = {"tool_not_covering": route.name, "topic": topic[0]}
                return fallback
            if self.answerability is None:
                return answer
            focus = all(TOOLS[t["name"]].checks_focus for t in answer.tools if t.get("name") in TOOLS)
            coverage = self.answerability.check(u.text, [answer.detail or answer.text], self._tool_vocabulary(answer),
                                                entity_words(u), focus=focus, said=statements(answer.text))
            if coverage.ok:
                return answer
            # the lookup is about something else than what was asked: the clauses may still answer
            fallback = self.passages.policy(u)
            fallback.route_note = {"tool_not_covering": route.name, "check": coverage.to_json()}
            return fallback
        return self._other(route, u)

    def _slot_gate(self, u: Understanding, route: Route, answer: Answer) -> Answer:
        """Whatever route answered: a question asking a count, date, duration or amount gets an answer only when
        what the answer states (citation labels aside) holds an item of that kind."""
        if route.kind not in ("tool", "clause") or answer.escalate or self.answerability is None:
            return answer
        said = statements(answer.text)
        lex = self.answerability.lexicon
        missing = tuple(s for s in asked_slots(u.text, lex) if not slot_in(s, said, lex, u.text))
        if not missing:
            return answer
        refused = slot_not_given(u, answer, missing)
        refused.route_note = dict(answer.route_note, check={"ok": False, "check": "slot", "missing": list(missing)})
        return refused

    def _stated_value(self, u: Understanding) -> Answer | None:
        """A value question flagged as the unloaded guides' that a loaded clause answers after all: the quoted
        statement holds every asked slot and one of its lines holds a value with, verbatim, every specific word of
        the question (IDF ≥ STATED_IDF) — what the technical guides alone set stays refused."""
        if self.router._places(u):
            return None  # a place without loaded documents (郑州): a loaded plan's value is not its value
        found = self.passages.policy(u)
        if found.escalate or self.answerability is None:
            return None
        place = u.region if u.region in DOC_REGIONS else DEFAULT_REGION
        if "not_loaded" in u.personal and any((doc_jurisdiction(c.get("doc_id", "")) or DEFAULT_REGION) != place
                                              for c in found.citations):
            return None  # an indicator value is the asked place's guide's; another place's (labelled) is no answer
        said = statements(found.text)
        lex = self.answerability.lexicon
        if any(not slot_in(s, said, lex, u.text) for s in asked_slots(u.text, lex)):
            return None
        value = re.compile(lex.value.pattern)  # a number with its unit, or a table cell (answerability.yaml)
        lines = [x for x in re.split(r"[\n。；]", said) if value.search(x)]
        return found if any(self._repeats_focus(u, x) for x in lines) else None  # value and subject in one line

    def _repeats_focus(self, u: Understanding, said: str) -> bool:
        """Every specific word of the question is in what is said ("排放限值" is not an air-quality target)."""
        if self.answerability is None:
            return True
        named = [w for w, idf in self.answerability.focus(asked_text(u.text), entity_words(u)) if idf >= STATED_IDF]
        return all(w in said for w in named)

    def _tool(self, route: Route, u: Understanding) -> Answer:
        if route.name == "incentives" and "measure" in route.args:  # the cards said which measure, or all of them
            if route.args["measure"]:
                return TOOLS["incentive_measure"].answer(u, TOOLS["incentive_measure"].args(
                    measure=route.args["measure"], grade=u.grade))
            return incentive_answer.incentives_answer(u, by_words=False)
        if not route.id.startswith("tool-rule") and route.name in TOOLS:
            tool = TOOLS[route.name]
            try:
                args = tool.args(**{k: v for k, v in route.args.items() if k in tool.args.model_fields})
            except ValueError:  # a card whose arguments the turn does not give: the rule path asks for them
                args = None
            if args is not None:
                return tool.answer(u, args)
        return self._by_intent(u, route)

    def _nearest(self, u: Understanding):
        """The clause the documents would quote for this question, as an anchor for "what they do say"."""
        from jixiao.knowledge.cards import Anchor

        try:
            found = self.passages.policy(u)
        except Exception:  # noqa: BLE001 - the reply stands without it
            log.warning("nearest clause lookup failed", exc_info=True)
            return None
        c = next((c for c in found.citations if c.get("quote")), None) if not found.escalate else None
        return Anchor(doc_id=c["doc_id"], section=c.get("section", ""), anchor=c["quote"][:40]) if c else None

    def _tool_vocabulary(self, answer: Answer) -> list[str]:
        """The questions of the tool cards of the tools this answer used (an incentives answer also of the
        single-measure cards): the known ways to ask for it."""
        out = []
        for t in answer.tools:
            name = t.get("name", "")
            for tool in (name, *FAMILY.get(name, ())):
                out += self.search.card_questions(tool)
        return out

    def _other(self, route: Route, u: Understanding) -> Answer:
        if route.kind == "out_of_scope" and route.id == "scope-rule:place":  # a place the region list lacks
            return out_of_scope_answer(u, route.name, route.args.get("topic", ""))
        if route.kind == "out_of_scope" and not route.id.startswith("scope-rule"):
            card = self.router.cards.get(route.id.split(":", 1)[-1])
            nearest = getattr(card, "nearest", None)
            if nearest is None and route.id.startswith("time-rule") and self.search is not None:
                nearest = self._nearest(u)  # what the loaded (older) documents say about it
            return out_of_scope_answer(u, route.name, route.args.get("topic", ""), nearest)
        if route.kind == "abstain":
            return abstain(u, "在已收录的文件中没有找到明确规定")
        return self._by_intent(u, route)

    def _by_intent(self, u: Understanding, route: Route) -> Answer:
        """The rule-read routes: canned replies, scope rules, the keyword intent's lookup, or the passages."""
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
        loaded_place = u.region == DEFAULT_REGION or u.region in DOC_REGIONS or is_chongqing(u.region)
        today = self.clock.today()  # this year's target or schedule: a loaded plan's value is an older year's
        later_year = uncovered_year(time_frame(u.text, today), newest_year(), today)
        stated_year = later_year is None
        if u.personal == ("not_loaded",) and asks_threshold(u.text) and self.search is not None and loaded_place \
                and stated_year:
            # a loaded clause that states the very value (氨逃逸浓度 8毫克/立方米)
            loaded = self.passages.loaded_value(u)
            if loaded is not None and self._repeats_focus(u, statements(loaded.text)):
                return loaded
        if not stated_year and u.personal in (("not_loaded",), ("specific_amount",)) and loaded_place:
            return out_of_scope_answer(u, "future_year", f"{year_named(u.text, later_year, '今年')}的目标和数值")
        own = "specific_amount" in u.personal and cues.mentions(u.text, cues.MINE)  # our own amount: never stated
        if u.personal in (("not_loaded",), ("specific_amount",)) and self.search is not None and loaded_place \
                and stated_year and not own:
            stated = self._stated_value(u)  # "多少蒸吨以上的锅炉要超低排放改造", a fine per case: a loaded plan states it
            if stated is not None:
                return stated
        if u.personal and not loaded_place:  # 成都's own target: the place first, whatever else is flagged
            return abstain(u, f"涉及{u.region}的规定，本助手只收录了重庆（及聊城、开封）的文件")
        if u.personal:
            known, cites = known_rule(u) if "specific_amount" in u.personal else ("", [])
            return abstain(u, "；".join(REASONS[p] for p in u.personal), known, cites)
        if u.region != DEFAULT_REGION and not is_chongqing(u.region):
            if u.region in DOC_REGIONS:
                return self.passages.policy(u, jurisdiction=u.region)
            return abstain(u, f"涉及{u.region}的规定，本助手只收录了重庆（及聊城、开封）的文件")
        if u.intent == "assess":
            return tool_answers.assess(u)
        if route.kind == "clause" or u.intent not in ("tool_tiers", "tool_review", "tool_incentives",
                                                          "tool_industry"):
            return self.passages.policy(u)
        handler = {"tool_tiers": self._tiers, "tool_review": tool_answers.review,
                   "tool_incentives": incentive_answer.incentives_answer, "tool_industry": tool_answers.which_industry}
        return handler[u.intent](u)

    def _tiers(self, u: Understanding) -> Answer:
        if not u.industry and self.search is not None:  # no industry named: the passages may still answer
            return self.passages.policy(u)
        return tool_answers.tiers(u)



def as_of_note(question: str, today, answer: Answer) -> str:
    """"今年/近期/本次" asked after the newest loaded document's year: say what date the answer rests on."""
    if today.year <= newest_year() or not time_frame(question, today).about_now:
        return ""
    from jixiao.bot.answer import doc_date, doc_title

    dated = sorted({(doc_date(c["doc_id"]) or "", c["doc_id"]) for c in answer.citations if doc_date(c["doc_id"])})
    if not dated:
        return ""
    date, doc_id = dated[-1]
    # no year of today's in the text: the answer rests on the document's date, not on the clock's
    return f"（说明：以下依据{doc_title(doc_id)}（{date}），是已收录的最新文件；此后如有新通知，以新通知为准。）\n"
