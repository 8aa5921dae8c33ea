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
# Assessment: an explicit request, or "can we make it / what is missing" about an enterprise. A question whether
# a grade may be skipped ("C级能直接升A吗") is a policy question, not a request to assess.
_ASSESS = ("帮我评估", "评估一下", "帮我评一下", "帮我看看能评", "自评一下")
_ATTAIN = re.compile(r"能(不能)?评得?上|评得上|评不上|可以评上|够不够|还差|差(什么|哪些|多少|在哪)|达不达得到|能不能达到")
_JUMP = re.compile(r"直接升|直接评|跳级|越级|连升|跳过|一步到位")
_REVIEW = ("谁审", "谁来审", "谁审核", "由谁", "哪一级审", "哪级审", "审核流程", "审核要求", "区县审", "市里审",
           "谁组织", "谁负责", "谁来定", "受委托", "委托区县", "专家账号", "找谁", "审核确定",
           "区县还是市", "市里还是区县", "市级还是区县", "在哪审", "哪里审")
_INCENTIVES = ("好处", "优惠", "惠企", "待遇", "碳配额", "配额", "环保税", "首违不罚", "免费监测", "补助",
               "贷款", "限产", "检查会不会少", "享受", "优先", "奖励", "激励")
_TIERS = ("几级", "几档", "哪几档", "分几", "评什么", "什么级", "什么等级", "管控类型", "怎么分", "分级类型", "档次",
          "最高能评", "有D级", "有没有D", "能评A", "能评B", "评级有", "哪几类", "哪一类", "分哪些", "哪些等级",
          "哪些级别", "几个等级", "几个级别", "评级分")

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
# Asks for a numeric limit (emission concentration, limit value, indicator threshold): those numbers sit in the
# technical guide and the 《地方指南》, which are not loaded. A tax question ("浓度比标准低一半，环保税怎么收") is not
# one: 附件1 第二条 answers it.
_POLLUTANT = ("排放", "浓度", "限值", "颗粒物", "烟尘", "粉尘", "氮氧化物", "二氧化硫", "NOX", "SO2", "VOCS", "VOC",
              "挥发性有机物", "非甲烷总烃", "氨逃逸", "PM", "去除效率", "去除率", "治理效率", "指标", "标准值")
_VALUE_ASKED = re.compile(r"(多少(?!钱|家|配额|次|天|个|年|万|元)|几毫克|多高|多低|什么数|哪个数|什么水平|几个点)")
_UNIT = re.compile(r"多少(毫克|微克|MG|UG|ΜG)|MG/(N?M|立方)|毫克/|毫克每")
_TAX = ("环保税", "环境保护税", "减税", "征收")
# Fees of the rating process: Chongqing's documents set none (only the 聊城 plan forbids them).
_FEE = re.compile(r"收费|收不收费|收钱|交钱|要钱|出钱|花钱|评审费|审核费|费用|掏钱")
_FEE_OF = ("评审", "评级", "审核", "申报", "专家", "评B", "评A", "绩效分级", "创B争A", "现场")
# How much an enterprise itself gets back or saves ("我们交了20万环保税，能退多少"): the documents give the rule,
# not one enterprise's amount.
_OWN_AMOUNT = re.compile(r"(退|返|少交|减免?|省|免|抵)[^，。？?]{0,3}(多少|几万|几千)")
_FIGURE = re.compile(r"\d+(\.\d+)?\s*(万|千|元|块)")
# A named enterprise or a list's members: live data and case status, never in the documents.
_COMPANY = re.compile(r"某某|[\u4e00-\u9fffA-Z]{2,}(有限责任公司|有限公司|股份公司|集团)")
_LIST = ("名单", "清单", "名录", "目录")
_MEMBER = re.compile(r"有没有|有无|是否有|是否包括|包不包括|在不在|是否在|里有|中有|上有|有我|有咱")
_STANDING = re.compile(r"几级|什么级|什么等级|哪个等级|评上|评了|评没评|是不是[ABCD]|结果|级别")
# Places whose documents Chongqing's own documents reference (the 10 local industries use Sichuan's 《地方指南》,
# 川环办函〔2024〕337号): asking about that reference is a question about Chongqing's rules.
_REFERENCED = {"四川": ("指南", "川环办", "337号", "地方行业", "10个", "十个")}
_HANDOVER = re.compile(r"(给我|发我|发给我|传我).{0,6}(名单|一份|清单|联系方式)|(名单|清单).{0,6}(给我|发我|一份)")
# Everyday words → the documents' wording, appended to the search query (never shown to the user).
_EXPANSIONS = {"造假": "虚假材料 隐瞒", "弄虚作假": "虚假材料 隐瞒", "作假": "虚假材料", "不合格": "不满足 整改",
               "达不到": "不满足 整改", "不达标": "不满足 整改", "什么时候": "时段 时间", "到什么时候": "工作时段",
               "依据": "根据", "文号": "号", "收费": "费用", "评审费": "评审费用", "培训": "培训", "好处": "惠企",
               "没通过": "审核不通过 退回", "再交": "重新提交", "重新交": "重新提交", "截止": "日前 前完成",
               "大纲": "大纲 一、 二、", "搞到": "工作时段 延长", "到几号": "工作时段", "几号结束": "工作时段",
               "结束": "工作时段", "过了时间": "适当延长", "逾期": "适当延长", "延期": "适当延长", "错过": "适当延长",
               "过期": "适当延长"}
# Everyday descriptions of one 惠企 measure (附件1): they route to the incentives lookup and name the measure, so
# its clause is quoted rather than the whole list ("第一次被查出小毛病会直接罚款吗" → 首违不罚).
_MEASURE_HINTS = (
    (re.compile(r"(第一次|首次|头一回|初次|第1次)[^。？?]{0,12}(罚|处罚|处理)|(小毛病|小问题|轻微)[^。？?]{0,8}(罚|处罚)"),
     "首违不罚 首次违法 不予行政处罚"),
    (re.compile(r"(检查|执法)[^。？?]{0,4}(少|减少|频次|次数|多不多)|少来查|经常来查|天天来?查"), "减少 执法检查 频次"),
)
_MINE = ("我们", "我司", "我的", "我家", "本公司", "本企业", "我厂", "咱们")
_REWRITES = (("没有", "未"), ("没", "未"), ("啥", "什么"))
_LATER_YEAR = re.compile(r"20(2[5-9]|[3-9]\d)年.*?(截止|哪天|时间|目标)")

_REGIONS = ("聊城", "开封", "北京", "天津", "上海", "河北", "山西", "山东", "河南", "四川", "成都", "广东", "广州", "深圳",
            "湖北", "武汉", "湖南", "江苏", "浙江", "安徽", "福建", "江西", "陕西", "西安", "贵州", "云南", "广西",
            "辽宁", "吉林", "黑龙江", "内蒙古", "甘肃", "青海", "宁夏", "新疆", "西藏", "海南")
_FOLLOWUP_START = ("那", "那么", "还有", "如果是", "换成", "要是")
# Words pointing back at the previous turn ("这个", "上面说的", "刚才那个"; "评上了" = the grade just named).
_DEIXIS = ("这个", "那个", "这些", "那些", "这条", "那条", "这种", "那种", "上面", "刚才", "刚刚", "前面", "上述",
           "你说的", "评上了", "评上后", "评上以后", "评上之后", "评上的话")
# Asked after a lookup answer without naming a grade or industry: about the previous topic, not a table.
_OPEN_FOLLOW = ("多久", "多长", "几天", "什么时候", "哪些材料", "什么材料", "材料", "怎么办", "怎么弄", "怎么申报",
                "流程", "为什么")
# What an elliptical turn is made of besides entities: starters, particles, pronouns, question words.
_FILLER = re.compile(
    r"那么|那|还有|如果是|如果|换成|要是|假如|改成|的话|我们|我司|我厂|咱们|我家|我|你们|你|这个|那个|这些|那些|"
    r"这种|那种|上面|刚才|刚刚|前面|上述|说的|也是|也|还|又|再|是|做|生产|搞|开|呢|吗|啊|呀|吧|嘛|哦|的|了|"
    r"厂家|厂子|厂|企业|公司|行业|这边|一下|"
    r"多久|多长时间|多长|哪些|哪个|什么|啥|怎么样|怎么|如何|谁来|找谁|谁|几|要|需要|得|能|可以|会|有没有|有")
_GRADE_WORDS = re.compile(r"(地方)?(非)?(绩效)?引领(性)?|(地方)?[ABCD][+\-−－]?(级|类)?|等级|级别")
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
    t = text.replace("成渝", "").replace("川渝", "")
    for place in _REGIONS:
        if place in t and not _referenced(t, place):
            return place
    return DEFAULT_REGION


def _referenced(text: str, place: str) -> bool:
    """`place` is named as the source of a document Chongqing's notice references, not as a jurisdiction asked
    about ("那10个地方行业参照的四川指南，文号是多少" vs "四川的企业评级在哪个系统申报")."""
    words = _REFERENCED.get(place, ())
    return bool(words) and (_has(text, words) or bool(re.search(r"(参照|参考|引用|依据|按照|借鉴)[^，。？?]{0,4}" + place, text)))


def asks_threshold(text: str) -> bool:
    """The question asks for an emission limit, concentration or indicator value (a number the technical
    guide / 《地方指南》 would give), not for the tax rule of 附件1."""
    if _has(text, _TAX) or "配额" in text:  # 碳排放配额 is incentive 九, not an emission value
        return False
    return bool(_UNIT.search(text)) or (_has(text, _POLLUTANT) and bool(_VALUE_ASKED.search(text)))


def asks_fee(text: str) -> bool:
    """A fee of the rating process itself (评审要收费吗); 免费监测 is an incentive, not a fee question."""
    return bool(_FEE.search(text.replace("免费", ""))) and _has(text, _FEE_OF)


def asks_own_amount(text: str) -> bool:
    """How much this enterprise gets back ("我们交了20万环保税，能退多少")."""
    # a money figure makes it one enterprise's amount; "浓度低一半，环保税能减多少" is answered by the rate rule
    return bool(_OWN_AMOUNT.search(text)) and (bool(_FIGURE.search(text)) or _has(text, ("多少钱", "几万块", "多少万")))


def on_list(text: str) -> bool:
    """Whether our (or a named) enterprise is on a list: 名单里有没有我们厂."""
    return _has(text, _LIST) and bool(_MEMBER.search(text)) and (_has(text, _MINE) or bool(_COMPANY.search(text)))


def named_standing(text: str) -> bool:
    """What grade or result a named enterprise has: 某某公司是几级."""
    return bool(_COMPANY.search(text)) and bool(_STANDING.search(text))


def _personal(text: str, region: str = DEFAULT_REGION) -> tuple[str, ...]:
    flags = [name for name, words in _PERSONAL.items() if _has(text, words)]
    if _LATER_YEAR.search(text):
        flags.append("specific_date")
    if _HANDOVER.search(text):
        flags.append("live_data")
    if asks_threshold(text):
        flags.append("not_loaded")
    if (asks_fee(text) and region == DEFAULT_REGION) or asks_own_amount(text):
        flags.append("specific_amount")  # 聊城's plan does rule on fees
    if on_list(text):
        flags.append("live_data")
    elif named_standing(text):
        flags.append("case_status")
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


def measure_words(text: str) -> str:
    """The 附件1 measure wording an everyday description stands for ("" when it names none)."""
    return " ".join(words for pattern, words in _MEASURE_HINTS if pattern.search(text))


def _intent(text: str, industry: str | None, grade: str | None) -> str | None:
    """The intent named by keywords, or None when the text names none (a bare entity)."""
    if _has(text, _HUMAN):
        return "human"
    if _has(text, _ASSESS) or (_ATTAIN.search(text) and not _JUMP.search(text)):
        return "assess"
    if (_has(text, _REVIEW) and (industry or grade or "审" in text or "评级" in text)) or (
            "找谁" in text and "申报" in text) or (
            "审" in text and (industry or grade)):
        return "tool_review"
    if _has(text, _INCENTIVES) or measure_words(text):
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
    if len(text) <= 40 and _has(text, _DEIXIS):  # "上面说的整改要多久"
        return True
    return len(text) <= 30 and (text.startswith(_FOLLOWUP_START) or text.rstrip("？?。.!！ ").endswith("呢")
                                or "也是" in text or text.startswith("我们是"))


def _residue(text: str) -> str:
    """What is left of a turn without its industry, grade, starters, particles and question words: empty for
    "那A级呢" "印刷厂呢" "那要多久？", a topic of its own for "那抽查发现不达标怎么处理"."""
    res = resolve_industry(text)
    t = text.replace(res.best.matched_term, "") if res.found and res.best and res.best.matched_term else text
    t = _GRADE_WORDS.sub("", t)
    t = _FILLER.sub("", t)
    return re.sub(r"[\W_]+", "", t)


def _own_topic(text: str) -> bool:
    """The turn names a subject of its own (three or more characters beyond the elliptical words)."""
    return len(_residue(text)) >= 3


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
    personal = _personal(t, region)
    off_topic = _has(t, _OFF_TOPIC)
    intent = _intent(t, industry, grade)
    followup = _is_followup(t, context)
    query = expand(t)
    if context is not None and intent not in ("human", "smalltalk"):
        own_intent = intent
        intent, followup = _resolve_followup(t, intent, followup, context, industry or candidates, grade)
        if own_intent is None and intent == "tool_review" and industry is None and context.industry is None:
            industry, candidates, branch = _industry_match(resolve_industry(context.text))  # "谁来定？"
        if followup or (intent in TOOL_INTENTS and context.intent in TOOL_INTENTS):
            if industry is None and not candidates:
                industry, candidates, branch = context.industry, context.industry_candidates, context.branch
            if grade is None and followup and (intent == context.intent
                                               or (intent in TOOL_INTENTS and _has(t, _DEIXIS))):
                grade = context.grade
            if region == DEFAULT_REGION and followup and context.region != DEFAULT_REGION:
                region = context.region
            if followup and not (intent == "policy" and context.intent in TOOL_INTENTS):
                query = f"{context.query or context.text} {expand(t)}"  # a lookup question is no search topic
    if intent is None:
        if industry and not _has(t, _OPEN_QUESTION):  # a bare industry ("油墨厂分级", "红木家具厂") asks for its tiers
            intent = "tool_tiers"
        elif off_topic:
            intent = "smalltalk"
        else:
            intent = "policy"
    return Understanding(t, intent, industry, candidates, branch, grade, region, personal, off_topic,
                         followup, truncated, query)


def _resolve_followup(t: str, intent: str | None, followup: bool, context: Understanding, named_industry,
                      grade: str | None) -> tuple[str | None, bool]:
    """The intent of a turn read against the previous one, and whether it leans on it.

    - a turn with its own topic after a lookup ("那抽查发现不达标怎么处理" after "铸造能评几级") stands alone;
    - an elliptical turn after a lookup that asks something no table answers ("那要多久？") goes to the passages,
      searched on its own words (a lookup question is no search topic);
    - an elliptical or deictic turn after a policy answer ("那要多久？" "刚才那个…") is searched with the previous one;
    - a turn naming only a grade or an industry ("那A级呢" "印刷厂呢") repeats the previous lookup for it;
    - a tool keyword read with the previous entities ("那审核是区县还是市里？" after 铸造) switches the tool.
    """
    if intent is not None:
        return intent, followup
    own = _own_topic(t)
    after_tool = context.intent in TOOL_INTENTS or context.intent == "assess"
    if own and after_tool and not _has(t, _DEIXIS):
        return None, False
    if not (followup or named_industry or grade):
        return None, followup
    if followup and _has(t, _REVIEW) and not named_industry:
        return "tool_review", True  # "谁来定？" after "民生保障要什么等级"
    if after_tool and not (named_industry or grade) and _has(t, _OPEN_FOLLOW):
        return "policy", True
    if own and not after_tool:
        return context.intent, True
    if not _has(t, _OPEN_FOLLOW + ("不通过", "没通过", "处理", "整改")):
        switched = _intent(t, named_industry or context.industry, grade or context.grade)
        if switched in TOOL_INTENTS:
            return switched, True
    return context.intent, True


def expand(text: str) -> str:
    extra = [v for k, v in _EXPANSIONS.items() if k in text] + ([measure_words(text)] if measure_words(text) else [])
    rewritten = text
    for old, new in _REWRITES:
        rewritten = rewritten.replace(old, new)
    if rewritten != text:
        extra.append(rewritten)
    return text + (" " + " ".join(dict.fromkeys(extra)) if extra else "")


def with_intent(u: Understanding, intent: str) -> Understanding:
    return replace(u, intent=intent)
