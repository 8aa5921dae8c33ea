"""Why the documents cannot answer a turn: it asks about one case, live data, an amount or date the documents do
not set, a value only the unloaded guides give, a service matter, or something no loaded document rules on."""
from __future__ import annotations

from jixiao.bot import cues
from jixiao.bot.cues import mentions
from jixiao.bot.timeplace import place_words
from jixiao.bot.understanding import DEFAULT_REGION


def asks_threshold(text: str) -> bool:
    """The question asks for an emission limit, concentration or indicator value (a number the technical
    guide / 《地方指南》 would give), not for the tax rule of 附件1."""
    if mentions(text, cues.TAX) or mentions(text, cues.QUOTA):  # 碳排放配额 is incentive 九, not an emission value
        return False
    return bool(cues.UNIT.search(text)) or (mentions(text, cues.POLLUTANT) and bool(cues.VALUE_ASKED.search(text)))


def asks_fee(text: str) -> bool:
    """A fee of the rating process itself (评审要收费吗); 免费监测 is an incentive, not a fee question."""
    rest = text
    for word in cues.FEE_NOT:
        rest = rest.replace(word, "")
    return bool(cues.FEE.search(rest)) and mentions(text, cues.FEE_OF)


def asks_own_amount(text: str) -> bool:
    """How much this enterprise gets back ("我们交了20万环保税，能退多少")."""
    # a money figure makes it one enterprise's amount; "浓度低一半，环保税能减多少" is answered by the rate rule
    return bool(cues.OWN_AMOUNT.search(text)) and (bool(cues.FIGURE.search(text))
                                                   or mentions(text, cues.MONEY_ASKED))


def on_list(text: str) -> bool:
    """Whether our (or a named) enterprise is on a list: 名单里有没有我们厂."""
    return (mentions(text, cues.LIST) and bool(cues.MEMBER.search(text))
            and (mentions(text, cues.MINE) or bool(cues.COMPANY.search(text))))


def named_standing(text: str) -> bool:
    """What grade or result a named enterprise has: 某某公司是几级."""
    return bool(cues.COMPANY.search(text)) and bool(cues.STANDING.search(text))


def personal_flags(text: str, region: str = DEFAULT_REGION) -> tuple[str, ...]:
    flags = [name for name, words in cues.PERSONAL.items() if mentions(text, words)]
    if cues.LATER_YEAR.search(text):
        flags.append("specific_date")
    if cues.ACT_FOR_ME.search(text):
        flags.append("service")
    if cues.MY_CASE.search(text) or cues.GRADED_NOW.search(text):
        flags.append("case_status")
    if cues.STATUS_NOW.search(text):
        flags.append("live_data")
    if cues.INDICATOR_ASKED.search(text):
        flags.append("not_loaded")
    if cues.HANDOVER.search(text):
        flags.append("live_data")
    if asks_threshold(text):
        flags.append("not_loaded")
    if (asks_fee(text) and region == DEFAULT_REGION) or asks_own_amount(text):
        flags.append("specific_amount")  # 聊城's plan does rule on fees
    if on_list(text):
        flags.append("live_data")
    elif named_standing(text):
        flags.append("case_status")
    if mentions(text, cues.MINE) and mentions(text, cues.PROGRESS) and "case_status" not in flags:
        flags.append("case_status")  # "我们的审核进度" asks about one case; "在哪看审核进度" asks how
    if region in place_words().documents:  # 开封's and 聊城's own plans are loaded: their limits and amounts are quoted
        flags = [f for f in flags if f not in ("not_loaded", "specific_amount")]
    return tuple(dict.fromkeys(flags))

