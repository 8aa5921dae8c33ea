"""The assessment result as text: a short first message (≤ SHORT_LIMIT bytes) and the full report.

The short message puts, in this order: anything that blocks applying this year, the likely grade or the
ceiling with the row that sets it and its source, the top three short boards, what the grade means in a
heavy-pollution warning (when a document says it and it fits), and the next step (详细 / 转人工).
"""
from __future__ import annotations

from jixiao.bot.assess.families import lv
from jixiao.bot.assess.result import AssessmentResult

SHORT_LIMIT = 600  # bytes, UTF-8: one WeChat message a phone shows without scrolling far
DETAIL_WORD = "详细"
NEXT_STEP = f"下一步：回复“{DETAIL_WORD}”看完整报告（材料、审核、惠企、申报方式）；回复“转人工”由帮办人员跟进。"


def _b(text: str) -> int:
    return len(text.encode("utf-8"))


def _clip(text: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis when cut."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _head(r: AssessmentResult) -> str:
    return "【自评结果】" + r.industry + (f"·{r.branch}" if r.branch and r.branch != r.industry else "") + \
        (f"，目标{lv(r.target)}" if r.target else "")


def _board(board: str) -> str:
    """A short board in a few words: its name and the answer, without the explanation."""
    name, _, rest = board.partition("：")
    if rest:
        return name.split("（")[0] + "：" + rest.split("，")[0].split("（")[0]
    return name.split("（")[0] + ("（" + board.split("（")[1].split("，")[0].rstrip("）") + "）" if "（" in board else "")


def _grade_line(r: AssessmentResult, clip: int) -> str:
    if r.estimate:
        return f"可能等级：{r.estimate}（按短板原则）。"
    if r.ceiling and r.ceiling_short:
        return f"最高可能：{lv(r.ceiling)}。原因：" + _clip(r.ceiling_short, clip) + "。"
    if r.ceiling:
        return (f"最高可能：{lv(r.ceiling)}（仅就已载入门槛的指标而言{'，且受上述前置条件限制' if r.barred else ''}）；"
                f"其余{len(r.not_estimable)}项指标门槛未载入，暂无法估计。")
    home = "四川《地方指南》" if "地方指南" in r.threshold_home else "2020年《技术指南》"
    return f"暂无法估计等级：{len(r.not_estimable)}项指标的门槛定义于{home}，本助手未载入，不作猜测。"


def render_short(r: AssessmentResult) -> str:
    """One message ≤ SHORT_LIMIT bytes; lines are clipped harder until it fits."""
    named = r.ceiling_short.split("：")[0] + "：" if r.ceiling_short and not r.estimate else None
    for clip, board_clip, n in ((200, 30, 3), (200, 20, 3), (200, 14, 3), (200, 14, 2), (80, 14, 2), (60, 12, 1),
                                (40, 10, 1)):
        lines = [_head(r)]
        if r.bar_findings:
            lines.append(f"⚠先看：上一年度有{'、'.join(r.bar_findings)}，今年可能不得申报A、B级和引领性（聊城规定，重庆待核实）。")
        lines.append(_grade_line(r, clip))
        boards = [_board(b) for b in r.short_boards if not b.startswith("前置条件")]
        boards = [b for b in boards if not (named and b.startswith(named))][:n]
        if boards:
            lines.append("其他短板：" if named else "短板：")
            lines[-1] += "；".join(f"{i}. {_clip(b, board_clip)}" for i, b in enumerate(boards, 1)) + "。"
        lines.append(NEXT_STEP)
        text = "\n".join(lines)
        if r.warning and _b(text) + _b(r.warning) + 1 <= SHORT_LIMIT:
            lines.insert(-1, _clip(r.warning.split("（《")[0], 80))
            text = "\n".join(lines)
        if _b(text) <= SHORT_LIMIT:
            return text
    return text.encode("utf-8")[:SHORT_LIMIT].decode("utf-8", "ignore")


def render(r: AssessmentResult) -> str:
    """The full report (web page, and on 详细 in WeChat)."""
    lines = [f"【自评结果·完整报告】{r.industry}" + (f"·{r.branch}" if r.branch and r.branch != r.industry else "") +
             (f"，目标等级：{r.target}" if r.target else "")]
    if r.bar_findings:
        lines.append(f"⚠ 前置条件：上一年度存在{'、'.join(r.bar_findings)}，今年可能不得申报A、B（含B-）级和绩效引领。")
    if r.estimate:
        lines.append(f"可能等级：{r.estimate_text}。")
    elif r.ceiling:
        lines.append(f"最高可能：{lv(r.ceiling)}（按短板原则，由下列已载入门槛的指标决定）；其余"
                     f"{len(r.not_estimable)}项指标门槛未载入，暂无法估计可能等级。")
    else:
        lines.append(f"可能等级：{r.estimate_text}。")
    if r.warning:
        lines.append("预警期间：" + r.warning)
    for o in (o for o in r.indicators if o.basis):
        g = {"graded": lv(o.grade), "below_loaded": f"未达{lv(o.failed)}" if o.failed else "低于已载入门槛",
             "reference": "对照已知要求", "not_graded": "本工艺不按此项分级",
             "unanswered": "未确认，无法判断"}.get(o.status, "未回答")
        lines.append(f"· {o.name}：{o.answer}，{g}。要求：{o.requirement}。依据：{o.source or '；'.join(o.basis)}")
    seen = list(dict.fromkeys(s for o in r.indicators for s in o.seen))
    if seen:
        lines.append("以上二手资料的出处（均需以官方文本核实）：" + "；".join(seen) + "。")
    rest = [o for o in r.indicators if not o.basis]
    if rest:  # those that are short boards are listed there
        shown = [f"{o.name}（{_clip(o.answer, 30)}）" for o in rest if not o.gap]
        lines.append(f"其余{len(rest)}项指标的门槛定义于{r.threshold_home}，只记录您的回答，不估计等级"
                     + ("：" + "；".join(shown) if shown else "（回答见短板）") + "。")
    if r.short_boards:
        lines.append("短板（按影响排序）：" + "；".join(f"{i}. {_board(b)}" for i, b in enumerate(r.short_boards, 1)) + "。")
    lines.append("需准备的证明材料（《申报材料大纲》附件5）：申请表、两份承诺书、要件清单、企业基本情况（一至五）、"
                 "指标对标总表（六、1），以及六、2中的" + "、".join(r.evidence) + "。")
    lines.append(f"审核路径（{r.review_grade or '未定'}）：{r.review}")
    lines.append("惠企措施：" + r.incentives)
    lines.append("如何申报：" + r.how_to_apply)
    lines.append("何时申报：" + r.apply_when)
    lines.extend("说明：" + n for n in r.notes)
    lines.append(r.handoff)
    return "\n".join(lines)
