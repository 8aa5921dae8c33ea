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
from jixiao.knowledge.basis import quoted_rule
from jixiao.knowledge.lexicon import groups, pairs, pattern, prefixed, words

CONCENTRATION = pattern("scope", "CONCENTRATION")
# Pollutants and indicators a value can be asked for; the generic words (排放, 浓度, 限值, 指标) name none.
_SUBJECTS = words("scope", "SUBJECTS")
# Environmental administration next to the rating: a topic (its names) and the procedure asked about.
_ADMIN_TOPICS = groups("scope", "ADMIN_TOPICS")
# Procedures asked about, each with the words a clause about it would use; a duration must be a number of days.
_DURATION = pattern("scope", "DURATION")
_ADMIN_ASKS = tuple((ask, _DURATION if said == "@DURATION" else tuple(said.split()))
                    for ask, said in pairs("scope", "ADMIN_ASKS"))
_KNOWN_RULE = prefixed("scope", "KNOWN_RULE")


def threshold_subjects(text: str) -> tuple[str, ...]:
    """The specific pollutants/indicators named in a threshold question (upper case, as `understand` keeps it)."""
    t = text.upper()
    return tuple(s for s in _SUBJECTS if s in t)


def admin_topic(text: str) -> tuple[str, tuple[str, ...]] | None:
    """(topic, procedures asked) when the question asks about an environmental-administration procedure
    (排污许可证延续, 环评审批要多久, 危废转移联单); None otherwise."""
    text = re.sub(r"除了[^，,。？?；;]*", " ", text)  # "除了排污许可证，还要交啥承诺书": a topic set aside is not asked
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


def topic_covered(topic: tuple[str, tuple[str, ...]], texts) -> bool:
    """Some sentence of `texts` (retrieved clauses, a lookup's answer) is about the topic: it names the topic and says something about every procedure
    asked (a clause listing 排污许可 among a monitoring result's uses does not cover 排污许可证延续; one about
    环评审批 without a number of days does not say how long it takes)."""
    name, asks = topic
    names = next(g for g in _ADMIN_TOPICS if g[0] == name)
    wanted = [dict(_ADMIN_ASKS)[a] for a in asks]
    for text in texts:
        for s in unit_sentences(body(text or "")):
            if any(n in s for n in names) and all(_says(s, w) for w in wanted):
                return True
    return False


# -------------------------------------------------------------- amounts

def known_rule(u) -> tuple[str, list[Citation]]:
    """What a loaded clause does say next to an amount the documents do not give: (text, citations)."""
    t = u.text
    if _KNOWN_RULE["tax"].fires(t):
        b = quoted_rule("tax-reduction")
        c = citation(b.doc_id, b.section, b.quote)
        return (f"可以确定的是：{c.title}第二条写明的是环境保护税的减征规则——“{b.quote}”（{c.label()}）。"
                "这是按排放浓度确定的征收比例，不是退税金额；贵企业具体能少交多少，取决于实际排放浓度和税务部门核定，"
                "文件没有给出个别企业的金额。", [c])
    if _KNOWN_RULE["subsidy"].fires(t):
        b = quoted_rule("subsidy-fund")
        c = citation(b.doc_id, b.section, b.quote)
        return f"可以确定的是：{c.title}第一条只写明“{b.quote}”（{c.label()}），没有规定金额。", [c]
    if _KNOWN_RULE["fee"].fires(t):
        b = quoted_rule("no-review-fee")
        c = citation(b.doc_id, b.section, b.quote)
        return (f"重庆的文件没有规定评审是否收费或收费标准。可供参考的是{c.title}（聊城文件，不适用于重庆）"
                f"规定“{b.quote}”（{c.label()}）。", [c])
    return "", []
