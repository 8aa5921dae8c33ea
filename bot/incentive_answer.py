"""Answers about the 惠企 measures of 附件1: the incentives lookup for a grade, or the one measure a question names."""
from __future__ import annotations

from jixiao.bot.answer import RENDERERS, Answer, Citation, citation
from jixiao.bot.incentives import grade_label, incentives
from jixiao.bot.passages import clause_sentences, focus_clause
from jixiao.bot.short_answer import SHORT_MAX, finish, fit, scores
from jixiao.bot.tool_answers import cite_dicts, result_dict, shorten, tool_answer
from jixiao.bot.intents import measure_words
from jixiao.bot.understanding import Understanding

INCENTIVES_DOC = "cq-cbza-2024-att1"


def incentives_answer(u: Understanding, by_words: bool = True) -> Answer:
    """The measures a grade gets (B when none is named), or the one measure the question is about (`by_words`: read
    from the question's words; False when the question cards said it asks for the whole list)."""
    grade, prefix = u.grade, ""
    if not grade:
        grade, prefix = "B", "您没有说明等级，以下以B级为例。"
    args = {"grade": grade, "region": u.region}
    r = incentives(grade, u.region)
    focus = focus_clause(INCENTIVES_DOC, f"{u.text} {measure_words(u.text)}") if by_words else None
    before = u.query.split(u.text)[0].strip() if u.followup and u.query and u.text in u.query else ""
    if focus is None and before and by_words:  # "那B级呢" after a question on one measure: that measure
        focus = focus_clause(INCENTIVES_DOC, f"{before} {measure_words(before)}")
    if r.found and focus:
        return incentive_focus(u, args, r, focus)
    answer = tool_answer(u, "incentives", args, r, prefix, short=False)
    _, cites = RENDERERS["incentives"](r)
    excluded = _excluded_measures(answer, r) if r.found and grade not in ("B", "A") else ()
    return shorten(answer, u, "incentives", r, prefix, cites, excluded)


def _excluded_measures(answer: Answer, r) -> tuple[int, ...]:
    """Name the measures a lower grade does not get, quoting their grade condition; their numbers."""
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
        answer.citations = cite_dicts(cites) + answer.citations
    return tuple(m.seq for m in full.measures if m.seq not in got and m.basis)


def incentive_focus(u: Understanding, args: dict, r, focus: tuple[str, str]) -> Answer:
    """The question is about one measure: quote that clause, then say whether the grade qualifies."""
    ordinal, text = focus
    c = citation(INCENTIVES_DOC, f"附件1 {ordinal}、", "")
    asked = f"{u.text} {u.industry}" if u.industry else u.text  # a sentence naming the asker's industry is about it
    picked = clause_sentences(text, asked, limit=3)
    c = Citation(c.doc_id, c.title, c.section, picked[0] if picked else "")
    seq = "一二三四五六七八九十".index(ordinal) + 1 if ordinal and len(ordinal) == 1 else None
    applies = {m.seq for m in r.measures + r.upgrade_support}
    lines = [f"{s}（{c.label()}）" for s in picked]
    name = _measure_name(seq)
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
    answer = Answer("\n".join(lines), cite_dicts(cites),
                    [{"name": "incentives", "args": args, "result": result_dict(r)}],
                    escalate=False, confidence=0.85, intent=u.intent)
    head = lines[:1] if lines[0].endswith("：") else []  # the clause heading stays first
    tail = lines[len(picked) + len(head):]
    ranked = scores(asked, picked)
    best = [lines[len(head) + i] for i in sorted(range(len(picked)), key=lambda i: (-ranked[i], i))]
    room = SHORT_MAX - sum(len(x) + 1 for x in head + tail)
    return finish(answer, "\n".join(head + fit(best, budget=room) + tail))  # the best sentence first


def _measure_name(seq: int | None) -> str:
    full = incentives("B")
    return next((m.name for m in full.measures + full.not_for_enterprises if m.seq == seq), "") if seq else ""
