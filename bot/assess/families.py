"""Indicator families walked in every assessment, with the 附件5 evidence item each one needs.

Families are the 2020 技术指南's indicator groups (DOMAIN.md); `evidence` names the item of
《申报材料大纲》(cq-cbza-2024-att5, 六、2.x) under which the proof is filed.
"""
from __future__ import annotations

from dataclasses import dataclass

GRADE_ORDER = ("A", "B", "B-", "C", "D")  # best first; weakest link = the last one reached
LEADING = ("绩效引领", "地方绩效引领", "地方A", "地方B")
def lv(grade: str | None) -> str:
    """A grade as read in a sentence: “B级”, but “绩效引领” and “地方绩效引领” stay as they are."""
    if not grade:
        return ""
    return grade if "引领" in grade else f"{grade}级"


# every grade a pack may name: the 2020 guide's, the simpler branches' and the Sichuan local guide's
ALL_GRADES = GRADE_ORDER + ("绩效引领", "非绩效引领", "地方A", "地方B", "地方C", "地方绩效引领", "地方非绩效引领")


@dataclass(frozen=True)
class Family:
    id: str
    name: str
    evidence: tuple[str, ...]  # 附件5 items
    question: str
    singled_out: bool = False  # named as a short board in 《创B争A通知》 二（二）


FAMILIES: tuple[Family, ...] = (
    Family("equipment", "装备水平/能源类型", ("2.1能源（燃料）类型（如涉及）", "2.2生产工艺（如涉及）", "2.12装备工艺水平（如涉及）"),
           "装备水平与能源类型（生产工艺、燃料类型、装备规模）目前情况如何？"),
    Family("raw_materials", "原辅材料", ("2.4原辅材料（如涉及）",),
           "原辅材料（如低VOCs含量油墨、涂料、胶粘剂的使用）目前情况如何？"),
    Family("treatment", "污染治理技术", ("2.13污染治理技术",),
           "污染治理技术（除尘、脱硫、脱硝、VOCs治理设施）目前情况如何？"),
    Family("emission_limits", "排放限值", ("2.14排放限值",),
           "有组织排放浓度是否稳定达到目标等级的排放限值？"),
    Family("fugitive", "无组织排放", ("2.15无组织排放",),
           "无组织排放管控（物料密闭储存、输送、收集）目前情况如何？", singled_out=True),
    Family("monitoring", "监测监控水平", ("2.13污染治理技术", "2.16.2台账资料"),
           "监测监控水平（在线监测、分布式控制系统DCS、用电监控）目前情况如何？", singled_out=True),
    Family("management", "环境管理水平", ("2.16.1环保档案资料", "2.16.2台账资料", "2.16.3机构及人员配置"),
           "环境管理水平（环保档案、台账、环保机构与人员）目前情况如何？"),
    Family("transport", "运输方式", ("2.17运输方式",),
           "运输方式（清洁运输比例、国五及以上或新能源车辆）目前情况如何？"),
    Family("transport_control", "运输监管/门禁", ("2.18运输监控要求",),
           "运输监管（门禁系统、车辆电子台账、视频监控）目前情况如何？", singled_out=True),
)
FAMILY_IDS = tuple(f.id for f in FAMILIES)
BY_ID = {f.id: f for f in FAMILIES}

# status answers for families without a loaded threshold (value, label); order = options order
STATUS_OPTIONS: tuple[tuple[str, str], ...] = (
    ("done", "已按目标等级要求完成"),
    ("partial", "部分完成/正在改造"),
    ("none", "尚未开展"),
    ("unknown", "不清楚"),
    ("na", "不涉及"),
)
STATUS_LABELS = dict(STATUS_OPTIONS)

BARS: tuple[tuple[str, str], ...] = (
    ("bar_unapproved", "上一年度企业是否存在“未批先建”（未经环评批复先行建设）的情况？"),
    ("bar_overlimit", "上一年度是否存在超过排污许可证规定的浓度或排放量排放大气污染物的情况？"),
    ("bar_monitoring", "上一年度是否存在未安装、或安装后未正常使用大气污染物自动监测设备的情况？"),
)
BAR_NAMES = {"bar_unapproved": "未批先建", "bar_overlimit": "超许可排放", "bar_monitoring": "自动监测设备未安装或未使用"}
YESNO_OPTIONS: tuple[tuple[str, str], ...] = (("yes", "是"), ("no", "否"), ("unknown", "不清楚"))
