"""What a user turn asks for: intent, entities (industry, branch, grade, region) and escalation flags.

Rule-based (keyword sets and a few patterns), deterministic and fast. `understand` never raises:
empty input gives intent `empty`, 10 000-character input is truncated before analysis.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace

from jixiao.bot.industry import resolve_industry

MAX_CHARS = 400  # the analysed prefix of a long message
DEFAULT_REGION = "重庆"
INTENTS = ("tool_tiers", "tool_review", "tool_incentives", "tool_industry", "policy", "assess", "human", "smalltalk", "empty")
TOOL_INTENTS = ("tool_tiers", "tool_review", "tool_incentives", "tool_industry")


@dataclass(frozen=True)
class Understanding:
    text: str  # the analysed text (NFKC, truncated)
    intent: str
    industry: str | None = None
    industry_candidates: tuple[str, ...] = ()  # set when the industry is ambiguous
    branch: str | None = None
    grade: str | None = None  # A, B, B-, C, D, A+, 绩效引领, 非绩效引领, 地方A, 地方绩效引领 …
    region: str = DEFAULT_REGION
    personal: tuple[str, ...] = ()  # why the documents cannot answer: case_status, live_data, …
    off_topic: bool = False
    followup: bool = False
    truncated: bool = False
    query: str = ""  # text for passage search (a follow-up carries the previous question)

    @property
    def escalate(self) -> bool:
        return bool(self.personal) or self.off_topic or self.intent == "human"


# ---------------------------------------------------------------- keyword sets

_HUMAN = ("转人工", "人工客服", "真人", "找人工", "人工服务", "接人工")
_SMALLTALK = ("你好", "您好", "谢谢", "多谢", "你是谁", "在吗", "再见", "哈喽", "HELLO", "HI")
_OFF_TOPIC = ("个税", "高铁", "火车票", "机票", "股票", "社保", "订票", "基金", "彩票", "外卖")
_ASSESS = ("帮我评估", "评估一下", "能不能评上", "能评上吗", "够不够", "直接升")
_REVIEW = ("谁审", "谁来审", "谁审核", "由谁", "哪一级审", "哪级审", "审核流程", "审核要求", "区县审", "市里审",
           "谁组织", "谁负责", "谁来定", "受委托", "委托区县", "专家账号", "找谁审", "审核确定")
_INCENTIVES = ("好处", "优惠", "惠企", "待遇", "碳配额", "配额", "环保税", "首违不罚", "免费监测", "补助",
               "贷款", "限产", "检查会不会少", "享受", "优先", "奖励", "激励")
_TIERS = ("几级", "几档", "哪几档", "分几", "评什么", "什么级", "什么等级", "管控类型", "怎么分", "分级类型", "档次",
          "最高能评", "有D级", "有没有D", "能评A", "能评B", "评级有", "哪几类", "哪一类")

_OPEN_QUESTION = ("多大", "多少", "什么时候", "哪些", "怎么", "要求", "为什么", "是否")  # not a bare "X厂评级"
_WHICH_INDUSTRY = ("属于哪个行业", "属于什么行业", "哪个行业", "什么行业", "哪一行业", "归哪", "算哪", "算不算",
                   "是不是重点行业", "重点行业吗", "个重点行业吗", "属于重点行业")
_PERSONAL = {
    "case_status": ("审到哪", "到哪一步", "现在是什么等级", "帮我查", "了没有", "了没",
                    "改成", "已经评上几家", "我们区今年"),
    "live_data": ("今天", "明天", "现在", "实时", "什么时候解除", "市场价", "空气质量", "名单发给我", "一共有多少家",
                  "会不会停产"),
    "specific_amount": ("多少钱", "具体能给多少", "补多少", "罚款多少", "电话多少", "百分之多少", "分了多少"),
    "specific_date": ("截止日期", "多少天", "有效期"),
    "not_loaded": ("限值", "排放浓度要求", "MG/M", "具体要满足哪些指标", "指南里", "指南中", "原文是什么", "用量占比",
                   "摄像头", "存多久"),
    "service": ("密码忘了", "打不开", "一直转圈", "投诉", "写一份", "推荐个", "哪个牌子", "怎么填"),
    "not_in_docs": ("申诉", "不服", "复议", "A+"),
}
_HANDOVER = re.compile(r"(给我|发我|发给我|传我).{0,6}(名单|一份|清单|联系方式)|(名单|清单).{0,6}(给我|发我|一份)")
# Everyday words → the documents' wording, appended to the search query (never shown to the user).
_EXPANSIONS = {"造假": "虚假材料 隐瞒", "弄虚作假": "虚假材料 隐瞒", "作假": "虚假材料", "不合格": "不满足 整改",
               "达不到": "不满足 整改", "不达标": "不满足 整改", "什么时候": "时段 时间", "到什么时候": "工作时段",
               "依据": "根据", "文号": "号", "收费": "费用", "评审费": "评审费用", "培训": "培训", "好处": "惠企",
               "没通过": "审核不通过 退回", "再交": "重新提交", "重新交": "重新提交", "截止": "日前 前完成",
               "大纲": "大纲 一、 二、"}
_MINE = ("我们", "我司", "我的", "我家", "本公司", "本企业", "我厂", "咱们")
_REWRITES = (("没有", "未"), ("没", "未"), ("啥", "什么"))
_LATER_YEAR = re.compile(r"20(2[5-9]|[3-9]\d)年.*?(截止|哪天|时间|目标)")

_REGIONS = ("聊城", "开封", "北京", "天津", "上海", "河北", "山西", "山东", "河南", "四川", "成都", "广东", "广州", "深圳",
            "湖北", "武汉", "湖南", "江苏", "浙江", "安徽", "福建", "江西", "陕西", "西安", "贵州", "云南", "广西",
            "辽宁", "吉林", "黑龙江", "内蒙古", "甘肃", "青海", "宁夏", "新疆", "西藏", "海南")
_FOLLOWUP_START = ("那", "那么", "还有", "如果是", "换成", "要是")

_GRADE = re.compile(r"(?<![A-Z])(地方)?([ABCD])(\+|-|−|－)?(?![A-Z])")
_LEAD = re.compile(r"(地方)?(非)?(绩效)?引领")


def normalize(text) -> str:
    """NFKC, upper case, control and format characters removed; non-text input becomes text first."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    elif text is not None and not isinstance(text, str):
        text = str(text)
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(ch if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co") else " "
                   for ch in text)
    return text.upper().strip()


def _has(text: str, words) -> bool:
    return any(w in text for w in words)


def extract_grade(text: str) -> str | None:
    m = _LEAD.search(text)
    if m:
        return (m.group(1) or "") + ("非绩效引领" if m.group(2) else "绩效引领")
    t = text.replace("创B争A", "").replace("A+级", "A+")
    for m in _GRADE.finditer(t):
        local, letter, sign = m.group(1) or "", m.group(2), m.group(3)
        after = t[m.end():m.end() + 1]
        before = t[max(0, m.start() - 1):m.start()]
        if not (local or after in ("级", "类", "吗", "呢", "企", "的", "", "？", "?", "，", ",")
                or before in ("评", "升", "是", "报", "上", "到", "为", "成")):
            continue
        if sign == "+":
            return local + letter + "+"
        return local + letter + ("-" if sign else "")
    return None


def _region(text: str) -> str:
    t = text.replace("成渝", "")
    for place in _REGIONS:
        if place in t:
            return place
    return DEFAULT_REGION


def _personal(text: str) -> tuple[str, ...]:
    flags = [name for name, words in _PERSONAL.items() if _has(text, words)]
    if _LATER_YEAR.search(text):
        flags.append("specific_date")
    if _HANDOVER.search(text):
        flags.append("live_data")
    if _has(text, _MINE) and _has(text, ("进度", "进展", "审核")) and "case_status" not in flags:
        flags.append("case_status")  # "我们的审核进度" asks about one case; "在哪看审核进度" asks how
    return tuple(dict.fromkeys(flags))


def _industry(text: str) -> tuple[str | None, tuple[str, ...], str | None]:
    res = resolve_industry(text)
    if res.found and res.best is not None and res.best.category == "livelihood" and not _has(text, _REVIEW):
        return None, (), None  # 民生保障类 is an exemption category: only its review route is a lookup
    return _industry_match(res)


def _industry_match(res) -> tuple[str | None, tuple[str, ...], str | None]:
    if not res.found or res.best is None:
        return None, (), None
    if res.best.how == "fuzzy" and res.best.confidence < 0.6:
        return None, (), None
    if res.ambiguous:
        best, others = res.best, [m for m in res.candidates if m.industry != res.best.industry]
        specific = others and (len(best.matched_term) > max(len(m.matched_term) for m in others)
                               or (best.branch and not any(m.branch for m in others)))
        if not specific:
            return None, tuple(m.industry for m in res.candidates[:5]), None
    return res.best.industry, (), res.best.branch


def _intent(text: str, industry: str | None, grade: str | None) -> str | None:
    """The intent named by keywords, or None when the text names none (a bare entity)."""
    if _has(text, _HUMAN):
        return "human"
    if _has(text, _ASSESS):
        return "assess"
    if (_has(text, _REVIEW) and (industry or grade or "审" in text or "评级" in text)) or (
            "审" in text and (industry or grade)):
        return "tool_review"
    if _has(text, _INCENTIVES):
        return "tool_incentives"
    if _has(text, _WHICH_INDUSTRY) and industry:
        return "tool_industry"
    if _has(text, _TIERS) or (industry and re.search(r"能评[ABCD]|评[ABCD]吗|[ABCD]级吗", text)):
        return "tool_tiers"
    if _has(text, _SMALLTALK) and len(text) <= 12:
        return "smalltalk"
    if _has(text, _OFF_TOPIC):
        return "smalltalk"
    return None


def _is_followup(text: str, previous: Understanding | None) -> bool:
    if previous is None or previous.intent in ("empty", "smalltalk"):
        return False
    if len(re.sub(r"[\W_]+", "", text)) <= 6:  # "谁来定？" "C级谁审" lean on the previous turn
        return True
    return len(text) <= 30 and (text.startswith(_FOLLOWUP_START) or text.rstrip("？?。.!！ ").endswith("呢")
                                or "也是" in text or text.startswith("我们是"))


def understand(text: str, context: Understanding | None = None) -> Understanding:
    """Analyse one user turn; `context` is the previous turn's Understanding (or None)."""
    full = normalize(text)
    t = full[:MAX_CHARS]
    truncated = len(full) > MAX_CHARS
    if not re.sub(r"[\W_]+", "", t):
        return Understanding(t, "empty", truncated=truncated)
    industry, candidates, branch = _industry(t)
    grade = extract_grade(t)
    region = _region(t)
    personal = _personal(t)
    off_topic = _has(t, _OFF_TOPIC)
    intent = _intent(t, industry, grade)
    followup = _is_followup(t, context)
    query = expand(t)
    if context is not None and intent not in ("human", "smalltalk"):
        if intent is None and followup and _has(t, _REVIEW) and industry is None:
            intent = "tool_review"  # "谁来定？" after "民生保障要什么等级"
            industry, candidates, branch = _industry_match(resolve_industry(context.text))
        if intent is None and (followup or industry or grade):
            intent, followup = context.intent, True
        if followup or (intent in TOOL_INTENTS and context.intent in TOOL_INTENTS):
            if industry is None and not candidates:
                industry, candidates, branch = context.industry, context.industry_candidates, context.branch
            if grade is None and followup and intent == context.intent:
                grade = context.grade
            if region == DEFAULT_REGION and followup and context.region != DEFAULT_REGION:
                region = context.region
            if followup:
                query = f"{context.query or context.text} {expand(t)}"
    if intent is None:
        if industry and not _has(t, _OPEN_QUESTION):  # a bare industry ("油墨厂分级", "红木家具厂") asks for its tiers
            intent = "tool_tiers"
        elif off_topic:
            intent = "smalltalk"
        else:
            intent = "policy"
    return Understanding(t, intent, industry, candidates, branch, grade, region, personal, off_topic,
                         followup, truncated, query)


def expand(text: str) -> str:
    extra = [v for k, v in _EXPANSIONS.items() if k in text]
    rewritten = text
    for old, new in _REWRITES:
        rewritten = rewritten.replace(old, new)
    if rewritten != text:
        extra.append(rewritten)
    return text + (" " + " ".join(dict.fromkeys(extra)) if extra else "")


def with_intent(u: Understanding, intent: str) -> Understanding:
    return replace(u, intent=intent)
