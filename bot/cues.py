"""The words and patterns a user turn is read by: intent cues, escalation cues, follow-up cues, grade patterns.

Data, not logic: `understand`, `entities`, `personal_flags`, `intents` and `followup` match text against these.
"""
from __future__ import annotations

import re

HUMAN = ("转人工", "人工客服", "真人", "找人工", "人工服务", "接人工")
SMALLTALK = ("你好", "您好", "谢谢", "多谢", "你是谁", "在吗", "再见", "哈喽", "HELLO", "HI")
OFF_TOPIC = ("个税", "高铁", "火车票", "机票", "股票", "社保", "订票", "基金", "彩票", "外卖")
# Assessment: an explicit request, or "can we make it / what is missing" about an enterprise. A question whether
# a grade may be skipped ("C级能直接升A吗") is a policy question, not a request to assess.
ASSESS = ("帮我评估", "评估一下", "帮我评一下", "帮我看看能评", "自评一下")
ATTAIN = re.compile(r"能(不能)?评得?上|评得上|评不上|可以评上|够不够|还差|差(什么|哪些|多少|在哪)|达不达得到|能不能达到")
JUMP = re.compile(r"直接升|直接评|跳级|越级|连升|跳过|一步到位")
REVIEW = ("谁审", "谁来审", "谁审核", "由谁", "哪一级审", "哪级审", "审核流程", "审核要求", "区县审", "市里审",
          "谁组织", "谁负责", "谁来定", "受委托", "委托区县", "专家账号", "找谁", "审核确定",
          "区县还是市", "市里还是区县", "市级还是区县", "在哪审", "哪里审")
INCENTIVES = ("好处", "优惠", "惠企", "待遇", "碳配额", "配额", "环保税", "首违不罚", "免费监测", "补助",
              "贷款", "限产", "检查会不会少", "享受", "优先", "奖励", "激励")
TIERS = ("几级", "几档", "哪几档", "分几", "评什么", "什么级", "什么等级", "管控类型", "怎么分", "分级类型", "档次",
         "最高能评", "有D级", "有没有D", "能评A", "能评B", "评级有", "哪几类", "哪一类", "分哪些", "哪些等级",
         "哪些级别", "几个等级", "几个级别", "评级分")

OPEN_QUESTION = ("多大", "多少", "什么时候", "哪些", "怎么", "要求", "为什么", "是否")  # not a bare "X厂评级"
WHICH_INDUSTRY = ("属于哪个行业", "属于什么行业", "哪个行业", "什么行业", "哪一行业", "归哪", "算哪", "算不算",
                  "是不是重点行业", "重点行业吗", "个重点行业吗", "属于重点行业")
PERSONAL = {
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
POLLUTANT = ("排放", "浓度", "限值", "颗粒物", "烟尘", "粉尘", "氮氧化物", "二氧化硫", "NOX", "SO2", "VOCS", "VOC",
             "挥发性有机物", "非甲烷总烃", "氨逃逸", "PM", "去除效率", "去除率", "治理效率", "指标", "标准值")
VALUE_ASKED = re.compile(r"(多少(?!钱|家|配额|次|天|个|年|万|元)|几毫克|多高|多低|什么数|哪个数|什么水平|几个点)")
UNIT = re.compile(r"多少(毫克|微克|MG|UG|ΜG)|MG/(N?M|立方)|毫克/|毫克每")
TAX = ("环保税", "环境保护税", "减税", "征收")
# Fees of the rating process: Chongqing's documents set none (only the 聊城 plan forbids them).
FEE = re.compile(r"收费|收不收费|收钱|交钱|要钱|出钱|花钱|评审费|审核费|费用|掏钱")
FEE_OF = ("评审", "评级", "审核", "申报", "专家", "评B", "评A", "绩效分级", "创B争A", "现场")
# How much an enterprise itself gets back or saves ("我们交了20万环保税，能退多少"): the documents give the rule,
# not one enterprise's amount.
OWN_AMOUNT = re.compile(r"(退|返|少交|减免?|省|免|抵)[^，。？?]{0,3}(多少|几万|几千)")
FIGURE = re.compile(r"\d+(\.\d+)?\s*(万|千|元|块)")
# A named enterprise or a list's members: live data and case status, never in the documents.
COMPANY = re.compile(r"某某|[\u4e00-\u9fffA-Z]{2,}(有限责任公司|有限公司|股份公司|集团)")
LIST = ("名单", "清单", "名录", "目录")
MEMBER = re.compile(r"有没有|有无|是否有|是否包括|包不包括|在不在|是否在|里有|中有|上有|有我|有咱")
STANDING = re.compile(r"几级|什么级|什么等级|哪个等级|评上|评了|评没评|是不是[ABCD]|结果|级别")
# Places whose documents Chongqing's own documents reference (the 10 local industries use Sichuan's 《地方指南》,
# 川环办函〔2024〕337号): asking about that reference is a question about Chongqing's rules.
REFERENCED = {"四川": ("指南", "川环办", "337号", "地方行业", "10个", "十个")}
HANDOVER = re.compile(r"(给我|发我|发给我|传我).{0,6}(名单|一份|清单|联系方式)|(名单|清单).{0,6}(给我|发我|一份)")
# Everyday words → the documents' wording, appended to the search query (never shown to the user).
EXPANSIONS = {"造假": "虚假材料 隐瞒", "弄虚作假": "虚假材料 隐瞒", "作假": "虚假材料", "不合格": "不满足 整改",
              "达不到": "不满足 整改", "不达标": "不满足 整改", "什么时候": "时段 时间", "到什么时候": "工作时段",
              "依据": "根据", "文号": "号", "收费": "费用", "评审费": "评审费用", "培训": "培训", "好处": "惠企",
              "没通过": "审核不通过 退回", "再交": "重新提交", "重新交": "重新提交", "截止": "日前 前完成",
              "大纲": "大纲 一、 二、", "搞到": "工作时段 延长", "到几号": "工作时段", "几号结束": "工作时段",
              "结束": "工作时段", "过了时间": "适当延长", "逾期": "适当延长", "延期": "适当延长", "错过": "适当延长",
              "过期": "适当延长"}
# Everyday descriptions of one 惠企 measure (附件1): they route to the incentives lookup and name the measure, so
# its clause is quoted rather than the whole list ("第一次被查出小毛病会直接罚款吗" → 首违不罚).
MEASURE_HINTS = (
    (re.compile(r"(第一次|首次|头一回|初次|第1次)[^。？?]{0,12}(罚|处罚|处理)|(小毛病|小问题|轻微)[^。？?]{0,8}(罚|处罚)"),
     "首违不罚 首次违法 不予行政处罚"),
    (re.compile(r"(检查|执法)[^。？?]{0,4}(少|减少|频次|次数|多不多)|少来查|经常来查|天天来?查"), "减少 执法检查 频次"),
)
MINE = ("我们", "我司", "我的", "我家", "本公司", "本企业", "我厂", "咱们")
REWRITES = (("没有", "未"), ("没", "未"), ("啥", "什么"))
LATER_YEAR = re.compile(r"20(2[5-9]|[3-9]\d)年.*?(截止|哪天|时间|目标)")

REGIONS = ("聊城", "开封", "北京", "天津", "上海", "河北", "山西", "山东", "河南", "四川", "成都", "广东", "广州", "深圳",
           "湖北", "武汉", "湖南", "江苏", "浙江", "安徽", "福建", "江西", "陕西", "西安", "贵州", "云南", "广西",
           "辽宁", "吉林", "黑龙江", "内蒙古", "甘肃", "青海", "宁夏", "新疆", "西藏", "海南")
FOLLOWUP_START = ("那", "那么", "还有", "如果是", "换成", "要是")
# Words pointing back at the previous turn ("这个", "上面说的", "刚才那个"; "评上了" = the grade just named).
DEIXIS = ("这个", "那个", "这些", "那些", "这条", "那条", "这种", "那种", "上面", "刚才", "刚刚", "前面", "上述",
          "你说的", "评上了", "评上后", "评上以后", "评上之后", "评上的话")
# Asked after a lookup answer without naming a grade or industry: about the previous topic, not a table.
OPEN_FOLLOW = ("多久", "多长", "几天", "什么时候", "哪些材料", "什么材料", "材料", "怎么办", "怎么弄", "怎么申报",
               "流程", "为什么")
# What an elliptical turn is made of besides entities: starters, particles, pronouns, question words.
FILLER = re.compile(
    r"那么|那|还有|如果是|如果|换成|要是|假如|改成|的话|我们|我司|我厂|咱们|我家|我|你们|你|这个|那个|这些|那些|"
    r"这种|那种|上面|刚才|刚刚|前面|上述|说的|也是|也|还|又|再|是|做|生产|搞|开|呢|吗|啊|呀|吧|嘛|哦|的|了|"
    r"厂家|厂子|厂|企业|公司|行业|这边|一下|"
    r"多久|多长时间|多长|哪些|哪个|什么|啥|怎么样|怎么|如何|谁来|找谁|谁|几|要|需要|得|能|可以|会|有没有|有")
GRADE_WORDS = re.compile(r"(地方)?(非)?(绩效)?引领(性)?|(地方)?[ABCD][+\-−－]?(级|类)?|等级|级别")
GRADE = re.compile(r"(?<![A-Z])(地方)?([ABCD])(\+|-|−|－)?(?![A-Z])")
LEAD = re.compile(r"(地方)?(非)?(绩效)?引领")


def mentions(text: str, words) -> bool:
    """Any of `words` occurs in `text`."""
    return any(w in text for w in words)
