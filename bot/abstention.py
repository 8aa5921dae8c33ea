"""Saying the documents do not answer: why (the personal flags' reasons), what is known, and the way to 转人工."""
from __future__ import annotations

import dataclasses

from jixiao.bot import cues
from jixiao.bot.answer import Answer, Citation, citation, doc_jurisdiction, doc_title
from jixiao.bot.understanding import DEFAULT_REGION, Understanding
from jixiao.knowledge.basis import quoted_rule
from jixiao.knowledge.lexicon import reply_texts

SLOT_NAMES = reply_texts().slot_names  # knowledge/lexicon/replies.yaml
HELP = "如需进一步帮助，可回复“转人工”，或咨询所在区县生态环境局。"
NOT_ANSWERED = "现有文件没有直接回答这个问题。"
REASONS = reply_texts().reasons  # one per `Understanding.personal` flag (knowledge/lexicon/replies.yaml)


def abstain(u: Understanding, reason: str, known: str = "", cites: list[Citation] | None = None) -> Answer:
    if cites:
        return Answer(f"这个问题{reason}，我不能给出具体答复。{known}{HELP}", [dataclasses.asdict(c) for c in cites],
                      escalate=True, confidence=0.3, intent=u.intent)
    if not known and "case_status" in u.personal:
        b = quoted_rule("review-progress")
        c = citation(b.doc_id, b.section, b.quote)
        known = f"按{c.label()}，企业可登录重庆市重污染天气应急管理系统，在“审核进展”中跟踪审核情况。"
        if cues.SELF_CHECK.search(u.text):  # where the enterprise looks its case up itself: that the rule answers
            return Answer(known, [dataclasses.asdict(c)], confidence=0.8, intent=u.intent)
        return Answer(f"这个问题{reason}，我无法查询。{known}{HELP}", [dataclasses.asdict(c)],
                      escalate=True, confidence=0.3, intent=u.intent)
    return Answer(f"这个问题{reason}，现有文件中没有可以直接回答的内容，我不能给出具体答复。{known}{HELP}",
                  escalate=True, confidence=0.2, intent=u.intent)


def not_answered(u: Understanding, picked: list, elsewhere: bool = False, missing: tuple[str, ...] = ()) -> Answer:
    """The passages found do not answer: say so (naming what they do not cover, when known), quote the most
    related clause (when given) as such, offer the helpdesk."""
    lead = _lacking(missing)
    if not picked:
        return Answer(lead + HELP, escalate=True, confidence=0.2, intent=u.intent)
    sentence, h = picked[0]
    return _nearest(u, lead, citation(h.doc_id, h.section, sentence, title=doc_title(h.doc_id, h.title)), elsewhere)


def _lacking(missing: tuple[str, ...]) -> str:
    if not missing:
        return NOT_ANSWERED
    return f"现有文件没有涉及“{'、'.join(SLOT_NAMES.get(m, m) for m in missing)}”，没有直接回答这个问题。"


def _nearest(u: Understanding, lead: str, c: Citation, elsewhere: bool) -> Answer:
    """"The documents do not answer; the nearest rule is …", another jurisdiction's labelled as such."""
    place = doc_jurisdiction(c.doc_id)
    note = f"（{place}文件，不适用于重庆）" if elsewhere and place and place != DEFAULT_REGION else ""
    text = f"{lead}与您问题最相关的规定{note}是：“{c.quote}”（{c.label()}）\n{HELP}"
    return Answer(text, [dataclasses.asdict(c)], escalate=True, confidence=0.3, intent=u.intent)


def slot_not_given(u: Understanding, answer: Answer, missing: tuple[str, ...]) -> Answer:
    """An answer whose statement lacks the kind of item asked (a count, a date, an amount): the documents do not
    give it; quote what the answer would have rested on as the nearest rule, offer the helpdesk."""
    cited = next((c for c in answer.citations if c.get("quote")), None)
    if cited is None:
        return not_answered(u, [], missing=missing)
    c = Citation(cited["doc_id"], cited.get("title") or doc_title(cited["doc_id"]), cited.get("section", ""),
                 cited["quote"])
    return _nearest(u, _lacking(missing), c, elsewhere=(doc_jurisdiction(c.doc_id) or DEFAULT_REGION) not in u.text)
