"""What the loaded documents can and cannot answer, beyond the retriever's score.

- threshold questions: the pollutant or indicator a question asks a value for, and whether a sentence gives
  a concentration (a loaded clause may state one; the technical guide and 《地方指南》 are not loaded);
- near-domain administration (排污许可证延续, 环评审批时限, 危废转移): a question whose main topic is such a
  procedure is out of scope unless a retrieved clause is about it, not merely naming it in passing;
- amounts: the rule a loaded clause gives (环保税 减征 in 附件1 第二条), stated as a rule, never as the user's amount.
"""
from __future__ import annotations

import re

from jixiao.bot.answer import Citation, citation
from jixiao.bot.passages import body, unit_sentences

CONCENTRATION = re.compile(r"\d+(\.\d+)?\s*(毫克|微克|MG|ΜG|UG)", re.I)
# Pollutants and indicators a value can be asked for; the generic words (排放, 浓度, 限值, 指标) name none.
_SUBJECTS = ("颗粒物", "烟尘", "粉尘", "氮氧化物", "二氧化硫", "NOX", "SO2", "VOCS", "挥发性有机物", "非甲烷总烃",
             "氨逃逸", "PM2.5", "PM10", "氨", "一氧化碳", "苯")

# Environmental administration next to the rating: a topic (its names) and the procedure asked about.
_ADMIN_TOPICS = (("排污许可证", "排污许可"), ("环评", "环境影响评价"), ("危废", "危险废物"), ("固废", "固体废物"),
                 ("排污权",), ("环保验收", "竣工环保验收", "竣工验收"), ("辐射安全许可",), ("入河排污口",), ("取水许可",))
# Procedures asked about, each with the words a clause about it would use; a duration must be a number of days.
_DURATION = re.compile(r"[\d一二三四五六七八九十]+个?(工作日|日内|天|个月)")
_ADMIN_ASKS = (("延续", ("延续",)), ("变更", ("变更",)), ("转移", ("转移",)), ("注销", ("注销",)), ("换证", ("换证",)),
               ("补办", ("补办",)), ("申领", ("申领", "核发")), ("到期", ("到期", "有效期", "延续")),
               ("联单", ("联单",)), ("材料", ("材料", "资料")), ("交易", ("交易",)),
               ("多久", _DURATION), ("几天", _DURATION), ("时限", _DURATION), ("多长时间", _DURATION),
               ("审批", ("审批",)), ("办理", ("办理", "程序", "流程")), ("流程", ("程序", "流程")),
               ("手续", ("手续", "程序")), ("申请", ("申请",)), ("备案", ("备案",)), ("验收", ("验收",)))


def threshold_subjects(text: str) -> tuple[str, ...]:
    """The specific pollutants/indicators named in a threshold question (upper case, as `understand` keeps it)."""
    t = text.upper()
    return tuple(s for s in _SUBJECTS if s in t)


def admin_topic(text: str) -> tuple[str, tuple[str, ...]] | None:
    """(topic, procedures asked) when the question asks about an environmental-administration procedure
    (排污许可证延续, 环评审批要多久, 危废转移联单); None otherwise."""
    names = next((g for g in _ADMIN_TOPICS if any(n in text for n in g)), None)
    if names is None:
        return None
    rest = text
    for n in names:
        rest = rest.replace(n, " ")
    asks = tuple(a for a, _ in _ADMIN_ASKS if a in rest)
    return (names[0], asks) if asks else None


def _says(sentence: str, words) -> bool:
    return bool(words.search(sentence)) if isinstance(words, re.Pattern) else any(w in sentence for w in words)


def topic_covered(topic: tuple[str, tuple[str, ...]], hits) -> bool:
    """Some retrieved sentence is about the topic: it names the topic and says something about every procedure
    asked (a clause listing 排污许可 among a monitoring result's uses does not cover 排污许可证延续; one about
    环评审批 without a number of days does not say how long it takes)."""
    name, asks = topic
    names = next(g for g in _ADMIN_TOPICS if g[0] == name)
    wanted = [dict(_ADMIN_ASKS)[a] for a in asks]
    for h in hits:
        for s in unit_sentences(body(h.text or "")):
            if any(n in s for n in names) and all(_says(s, w) for w in wanted):
                return True
    return False


# -------------------------------------------------------------- amounts

_ATT1 = "cq-cbza-2024-att1"
_TAX_RULE = ("纳税人排放应税大气污染物的浓度值低于国家和地方规定的污染物排放标准百分之三十的，减按百分之七十五征收环境保护税，"
             "纳税人排放应税大气污染物的浓度值低于国家和地方规定的污染物排放标准百分之五十的，减按百分之五十征收环境保护税")
_SUBSIDY_RULE = "帮扶企业争取中央和市级大气专项补助资金"
_FEE_RULE = "不得向企业收取评审费用"


def known_rule(u) -> tuple[str, list[Citation]]:
    """What a loaded clause does say next to an amount the documents do not give: (text, citations)."""
    t = u.text
    if "税" in t:
        c = citation(_ATT1, "附件1 二、", _TAX_RULE)
        return (f"可以确定的是：{c.title}第二条写明的是环境保护税的减征规则——“{_TAX_RULE}”（{c.label()}）。"
                "这是按排放浓度确定的征收比例，不是退税金额；贵企业具体能少交多少，取决于实际排放浓度和税务部门核定，"
                "文件没有给出个别企业的金额。", [c])
    if re.search(r"补助|补贴|资金|奖励", t):
        c = citation(_ATT1, "附件1 一、", _SUBSIDY_RULE)
        return f"可以确定的是：{c.title}第一条只写明“{_SUBSIDY_RULE}”（{c.label()}），没有规定金额。", [c]
    if re.search(r"收费|费用|评审费|审核费|交钱|要钱|收钱|出钱|花钱|掏钱", t):
        c = citation("liaocheng-2020", "四、（四）", _FEE_RULE)
        return (f"重庆的文件没有规定评审是否收费或收费标准。可供参考的是{c.title}（聊城文件，不适用于重庆）"
                f"规定“{_FEE_RULE}”（{c.label()}）。", [c])
    return "", []
