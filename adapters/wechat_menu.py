"""The official account's menu and fixed texts: one place for button keys and what each click does.

`jixiao wechat menu` publishes `MENU`; the router maps a CLICK event's key through `CLICKS`: either a
message handed to the assistant as if the user had typed it, or a fixed guide (no assistant call).
"""
from __future__ import annotations

from dataclasses import dataclass

KEY_RATING = "RATING_QUERY"
KEY_INCENTIVES = "INCENTIVES"
KEY_SELF_ASSESS = "SELF_ASSESS"
KEY_HUMAN = "HUMAN_SERVICE"

MENU: dict = {"button": [
    {"type": "click", "name": "评级查询", "key": KEY_RATING},
    {"type": "click", "name": "惠企政策", "key": KEY_INCENTIVES},
    {"name": "自评与咨询", "sub_button": [
        {"type": "click", "name": "企业自评", "key": KEY_SELF_ASSESS},
        {"type": "click", "name": "人工服务", "key": KEY_HUMAN},
    ]},
]}


@dataclass(frozen=True)
class Click:
    """What a menu key does: `ask` goes to the assistant as the user's message; `guide` is replied as is."""
    ask: str | None = None
    guide: str | None = None


CLICKS: dict[str, Click] = {
    KEY_RATING: Click(guide="请发送企业所属行业或主要产品，例如：“铸造行业能评几级？”“包装印刷能评A级吗？”"
                            "我会按《创B争A通知》附件3告诉您可评等级和审核要求。"),
    KEY_INCENTIVES: Click(ask="评上A级、B级有哪些惠企措施？"),
    KEY_SELF_ASSESS: Click(ask="开始自评"),
    KEY_HUMAN: Click(guide="请直接发送您的问题，并在开头写“转人工”，例如：“转人工：我们厂的审核进度怎么查？”"
                           "工作人员答复后，会通过本公众号把答复发送给您。"),
}

WELCOME = ("您好，欢迎关注！我是重庆重污染天气重点行业绩效分级（“创B争A”）政策助手，可以帮您：\n"
           "1. 查行业能评几级：如“铸造行业能评几级？”\n"
           "2. 查申报找谁审：如“汽修申报找谁审？”\n"
           "3. 查评级好处：如“评上B级有什么好处？”\n"
           "4. 企业自评：点菜单“企业自评”，逐题回答即可\n"
           "5. 转人工：发送“转人工”加您的问题，工作人员会答复您\n"
           "回答均注明依据的文件和条款，仅供参考，以主管部门审核为准。")
UNSUPPORTED = "目前只能处理文字消息。请用文字描述您的问题，例如：“铸造行业能评几级？”"
UNKNOWN_CLICK = "该菜单暂不可用，请直接发送文字问题。"
TOO_LONG = "您的消息过长（超过 {limit} 字），请精简后再发送。"
PENDING = "正在查询，请稍后发送任意消息获取回答。"
MORE_HINT = "（回复“继续”查看后续内容）"
HELD_PREFIX = "您上一个问题的回答：\n"
CONTINUE = {"继续", "继续。", "继续！", "more"}
ESCALATED = "已转人工服务（工单号 {ticket}），答复后会发送给您。"
ERROR = "抱歉，系统暂时无法回答，请稍后再试，或发送“转人工”。"
