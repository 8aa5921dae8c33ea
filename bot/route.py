"""One router: an ordered list of routes (knowledge/lexicon/routes.yaml), the first that holds decides the turn.

Every decision is a frozen `Route(kind, name, args, id, reason, scores)`, recorded with the turn, shown by
`jixiao ask --json` and on the helpdesk ticket, so a wrong answer can be traced to the route and card that fired.
Conditions are mechanisms named here; what they compare with (card kind, score floor, margin) is data.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict

from jixiao.bot.timeplace import (Clock, SystemClock, other_places, place_words, time_frame, time_words,
                                  uncovered_year)
from jixiao.bot.understanding import DEFAULT_REGION, TOOL_INTENTS, Understanding

ROUTES_PATH = Path(__file__).resolve().parent.parent / "knowledge" / "lexicon" / "routes.yaml"
KINDS = ("empty", "smalltalk", "tool", "clause", "out_of_scope", "abstain", "curated", "assessment")
DOC_REGIONS = place_words().documents  # other jurisdictions with loaded documents (knowledge/lexicon/places.yaml)
INTENT_TOOLS = {"tool_tiers": "tier_scheme", "tool_review": "review_route", "tool_incentives": "incentives",
                "tool_industry": "resolve_industry", "assess": "start_assessment", "human": "handoff"}
# the personal flags of `understand` → the out-of-scope reply kind they stand for
FLAG_REPLIES = {"case_status": "case_status", "live_data": "live_data", "specific_amount": "amount_not_given",
                "specific_date": "future_year", "not_loaded": "threshold_not_loaded", "service": "service_request",
                "not_in_docs": "not_in_docs", "opinion": "opinion_complaint"}


def year_named(text: str, year: int, default: str = "近期") -> str:
    """The asked year as the user wrote it ("2025年", "2025版", "今年"): never a year the question does not hold."""
    written = re.search(rf"{year}年?", text)
    if written:
        return written.group(0) if written.group(0).endswith("年") else f"{year}"
    return next((w for w in time_words().relative if w in text), default)


@dataclass(frozen=True)
class Route:
    kind: str                     # one of KINDS
    name: str = ""                # tool name, out-of-scope reply kind, …
    args: dict = field(default_factory=dict)
    id: str = ""                  # the route rule, and the card or rule that fired ("tool-card:tool.incentives")
    reason: str = ""
    scores: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)


class RouteRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    when: Literal["empty", "intent", "scope_rule", "time_rule", "tool_intent", "card", "retrieval", "always"]
    kind: Literal[KINDS]  # type: ignore[valid-type]
    name: str = ""
    intent: str = ""
    card_kind: str = ""
    min_score: float = 0.0
    margin: float = 0.0


class RouteTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    routes: tuple[RouteRule, ...]
    gates: dict[str, Literal["place", "time"]] = {}   # out-of-scope reply kind → what the question must name
    owns: dict[str, tuple[str, ...]] = {}   # keyword intent → card-id prefixes of the evidence its lookup is built from
    yield_to_tools: tuple[str, ...] = ()    # the tool cards a keyword intent yields to (besides clause/out-of-scope)
    # an incentives question whose best incentive card (the whole list, one measure's tool card or an 附件1 clause card)
    # scores at least this is answered as that card says: the whole list, or that one measure
    measure_card: float = 1.01


@cache
def load_table(path: Path = ROUTES_PATH) -> RouteTable:
    return RouteTable.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))


def load_routes(path: Path = ROUTES_PATH) -> tuple[RouteRule, ...]:
    table = load_table(path)
    ids = [r.id for r in table.routes]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: route ids must be unique")
    if table.routes[-1].when != "always":
        raise ValueError(f"{path}: the last route must be the fallback (when: always)")
    return table.routes


def _elliptical(u: Understanding, has_context: bool, strict: bool = False) -> bool:
    """A short turn after another with no subject of its own ("那C级呢", "那要多久？") leans on it: cards would match
    its few words alone. One naming its own subject ("要准备啥子材料嘛") is matched to tool and clause cards like any
    question, but never to an out-of-scope card (`strict`): it continues a conversation about the rating."""
    from jixiao.bot.followup import _own_topic

    short = (u.followup or has_context) and len(re.sub(r"[\W_]+", "", u.text)) <= 10
    return short and (strict or not _own_topic(u.text))


class Router:
    """`decide(u, matches)`: `matches` are this turn's card matches (best first, `retrieval.cards.CardMatch`)."""

    def __init__(self, rules: tuple[RouteRule, ...] | None = None, cards_by_id: dict | None = None,
                 searchable: bool = True, clock: Clock | None = None, tagged=None):
        self.rules = rules or load_routes()
        self.gates = load_table().gates
        self.owns = load_table().owns
        self.yield_to_tools = load_table().yield_to_tools
        self.measure_card = load_table().measure_card
        self.cards = cards_by_id or {}
        self.searchable = searchable
        self.clock = clock or SystemClock()
        self.tagged = tagged  # (word, part of speech) reader: names places; None without a retriever

    def decide(self, u: Understanding, matches: list, has_context: bool = False) -> Route:
        """`has_context`: the user's previous turn is known (a short turn then leans on it)."""
        scores = {m.kind: round(m.score, 3) for m in reversed(matches)}  # best per kind (matches are best first)
        for rule in self.rules:
            route = self._try(rule, u, matches, scores, has_context)
            if route is not None:
                return route
        raise AssertionError("the route table ends with a fallback")  # load_routes guarantees it

    def _try(self, rule: RouteRule, u: Understanding, matches: list, scores: dict,
             has_context: bool = False) -> Route | None:
        when = rule.when
        if when == "empty":
            return Route("empty", id=rule.id, reason="空消息") if u.intent == "empty" else None
        if when == "intent":
            if u.intent != rule.intent:
                return None
            return Route(rule.kind, rule.name, id=f"{rule.id}:rule", reason=f"关键词意图 {u.intent}", scores=scores)
        if when == "scope_rule":
            return self._scope(rule, u, scores)
        if when == "time_rule":
            return self._time(rule, u, scores)
        if when == "tool_intent":
            numbered = _measure_number(u)
            if numbered:  # "那第七条呢" after a question on the 惠企 measures
                args = {"measure": numbered, **({"grade": u.grade} if u.grade else {})}
                return Route("tool", "incentive_measure", args, f"tool-number:{numbered}", f"惠企措施第{numbered}条",
                             scores)
            if u.intent not in TOOL_INTENTS and u.intent != "assess":
                return None
            if u.region in DOC_REGIONS and u.intent != "assess":
                return None  # the tables are Chongqing's: 开封's and 聊城's own plans answer for them
            rival = self._rival(rule, u, matches, has_context)
            if rival is not None:  # the cards say the question asks something else than the keyword's table
                scores["yielded"] = {"intent": u.intent, "to": rival.card_id, "score": round(rival.score, 3)}
                return None
            name = INTENT_TOOLS[u.intent]
            args = _entity_args(u)
            if name == "incentives" and not _elliptical(u, has_context):
                args.update(self._measure(u, matches))
            return Route("tool", name, args, f"{rule.id}:{u.intent}", f"关键词意图 {u.intent}", scores)
        if when == "card":
            if _elliptical(u, has_context):
                return None
            if _elliptical(u, has_context, strict=True):  # a short follow-up with its own subject: no out-of-scope card
                if rule.card_kind == "out_of_scope":
                    return None
                matches = [m for m in matches if m.kind != "out_of_scope"]
            return self._card(rule, u, matches, scores)
        if when == "retrieval":
            if not self.searchable:
                return None
            clause = next((m for m in matches if m.kind == "clause"), None)
            return Route("clause", "passages", {"jurisdiction": u.region if u.region in DOC_REGIONS else None},
                         f"{rule.id}:{clause.card_id}" if clause else rule.id, "检索条款", scores)
        return Route(rule.kind, id=rule.id, reason="没有路由适用", scores=scores)

    def _measure(self, u: Understanding, matches: list) -> dict:
        """{"measure": n} when the best card of the incentives evidence (`owns`) scores at least `measure_card`:
        0 for the whole list (tool.incentives), else the one measure its tool card or 附件1 clause card is about
        ("拿到B级实际能得到啥" is the whole list although 实际 occurs in measure 8 only). {} otherwise."""
        own = tuple(p for p in self.owns.get(u.intent, ()) if p != "tool.start_assessment")
        best = next((m for m in matches if m.card_id.startswith(own)), None) if own else None
        if best is None or best.score < self.measure_card:
            return {}
        card = self.cards.get(best.card_id)
        if getattr(card, "tool", "") == "incentives":
            return {"measure": 0, "card": best.card_id}
        measure = getattr(card, "args", {}).get("measure") if getattr(card, "tool", "") else None
        if measure is None and getattr(card, "section", ""):
            m = re.match(r"(?:附件\d+\s*)?([一二三四五六七八九十]+)", card.section)
            measure = "一二三四五六七八九十".find(m.group(1)) + 1 if m and len(m.group(1)) == 1 else None
        return {"measure": int(measure), "card": best.card_id} if isinstance(measure, int) and measure > 0 else {}

    def _rival(self, rule: RouteRule, u: Understanding, matches: list, has_context: bool):
        """The card match that outranks a keyword intent: a clause, out-of-scope or procedure card outside the
        evidence the intent's lookup is built from (a card on the 附件3 table backs the tier lookup), scoring at
        least `min_score` and `margin` above the best card of that evidence. None: the keyword decides."""
        if not rule.min_score or _elliptical(u, has_context):
            return None
        own = tuple(self.owns.get(u.intent, ()))
        backing = max((m.score for m in matches if m.card_id.startswith(own)), default=0.0) if own else 0.0
        for m in matches:  # best first
            if own and m.card_id.startswith(own):
                continue
            if m.kind == "tool" and not m.card_id.startswith(self.yield_to_tools):
                continue
            if m.score < rule.min_score or m.score < backing + rule.margin:
                return None
            if m.kind == "out_of_scope" and not self._gate_open(self.cards.get(m.card_id), u):
                continue
            if m.kind == "clause" and not self._own_place(self.cards.get(m.card_id), u):
                continue
            return m
        return None

    @staticmethod
    def _own_place(card, u: Understanding) -> bool:
        """A clause card of another jurisdiction's document (聊城, 开封) speaks for the question only when the
        question names that place."""
        from jixiao.bot.answer import doc_jurisdiction

        place = doc_jurisdiction(getattr(card, "doc_id", "")) or DEFAULT_REGION
        return place == DEFAULT_REGION or place in u.text or place == u.region

    def _gate_open(self, card, u: Understanding) -> bool:
        """An out-of-scope card about other places or other years applies only when the question names one."""
        gate = self.gates.get(getattr(card, "reply", ""))
        if gate == "place":
            return bool(self._places(u) or u.region not in (DEFAULT_REGION, *DOC_REGIONS))
        if gate == "time":  # a year no loaded document covers, or "now" when today is past the newest document
            today = self.clock.today()
            frame = time_frame(u.text, today)
            return any(y > newest_year() for y in frame.years) or (frame.about_now and today.year > newest_year())
        return True

    def _scope(self, rule: RouteRule, u: Understanding, scores: dict) -> Route | None:
        if u.personal:
            kinds = [FLAG_REPLIES.get(p, p) for p in u.personal]
            return Route("out_of_scope", kinds[0], {"flags": list(u.personal)}, f"{rule.id}:{'+'.join(u.personal)}",
                         "规则：" + "、".join(u.personal), scores)
        if u.region != DEFAULT_REGION and u.region not in DOC_REGIONS and not _is_chongqing(u.region):
            return Route("out_of_scope", "other_place", {"region": u.region, "topic": f"{u.region}的规定"},
                         f"{rule.id}:region", f"地区 {u.region} 的文件未收录", scores)
        places = self._places(u)
        if places:
            return Route("out_of_scope", "other_place", {"region": places[0], "topic": f"{places[0]}的规定"},
                         f"{rule.id}:place", f"地名 {places[0]} 的文件未收录", scores)
        return None

    def _places(self, u: Understanding) -> list[str]:
        return other_places(self.tagged, u.text) if self.tagged is not None else []

    def _time(self, rule: RouteRule, u: Understanding, scores: dict) -> Route | None:
        today = self.clock.today()
        frame = time_frame(u.text, today)
        if u.followup and u.query and not frame.schedule:  # "那今年的呢？" asks the previous turn's question of a year
            frame = replace(frame, schedule=time_frame(u.query, today).schedule)
        year = uncovered_year(frame, newest_year(), today)
        if year is None:
            return None
        named = year_named(u.text, year)
        return Route("out_of_scope", "future_year", {"year": year, "topic": f"{named}的安排"}, f"{rule.id}:{year}",
                     f"问 {year} 年的安排，已收录文件最新为 {newest_year()} 年", scores)

    def _card(self, rule: RouteRule, u: Understanding, matches: list, scores: dict) -> Route | None:
        if not matches:
            return None
        best = next((m for m in matches if m.kind == rule.card_kind), None)
        if best is None or best.score < rule.min_score:
            return None
        rival = max((m.score for m in matches if m.kind != rule.card_kind), default=0.0)
        if best.score < rival + rule.margin:
            return None
        card = self.cards.get(best.card_id)
        if not self._gate_open(card, u):
            return None  # "石家庄的铸造厂能评几级" is like an other-place card only when a place is named
        detail = dict(scores, card=best.to_json())
        if rule.card_kind == "tool" and card is not None:
            if u.region in DOC_REGIONS and card.tool != "handoff":
                return None  # as for keyword intents: another loaded jurisdiction's plan answers
            return Route("tool", card.tool, _card_args(card, u), f"{rule.id}:{card.id}",
                         f"问题卡片“{best.question}”", detail)
        if rule.card_kind == "out_of_scope" and card is not None:
            return Route("out_of_scope", card.reply, {"topic": card.topic}, f"{rule.id}:{card.id}",
                         f"文件外问题卡片“{best.question}”", detail)
        return None


def newest_year(jurisdiction: str = DEFAULT_REGION) -> int:
    from jixiao.bot.out_of_scope import newest_document

    return int(newest_document(jurisdiction)[2][:4])


def _is_chongqing(region: str) -> bool:
    from jixiao.bot.review import is_chongqing

    return is_chongqing(region)


_ORDINAL = re.compile(r"第([一二三四五六七八九十]|10|[1-9])条")


def _measure_number(u: Understanding) -> int | None:
    """The 附件1 measure a turn names by its number ("第九条"), when the turn or the one it follows is about the
    惠企 measures; None otherwise (第九条 of another document is not a measure)."""
    from jixiao.bot import cues

    m = _ORDINAL.search(u.text)
    if m is None:
        return None
    about = u.intent == "tool_incentives" or (u.followup and cues.mentions(u.query or "", cues.INCENTIVES))
    if not about:
        return None
    n = m.group(1)
    return int(n) if n.isdigit() else "一二三四五六七八九十".index(n) + 1


def _entity_args(u: Understanding) -> dict:
    return {k: v for k, v in (("industry", u.industry), ("branch", u.branch), ("grade", u.grade),
                              ("region", u.region)) if v}


def _card_args(card, u: Understanding) -> dict:
    """A tool card's arguments: "@industry" etc. read from the turn, literals as written."""
    entities = {"@industry": u.industry, "@branch": u.branch, "@grade": u.grade, "@region": u.region,
                "@text": u.text}
    out = {}
    for key, value in card.args.items():
        v = entities.get(value, value) if isinstance(value, str) else value
        if v is not None:
            out[key] = v
    return out
