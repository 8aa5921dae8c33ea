"""Known documents: stable doc ids and short titles (docs/contracts.md), matched on title text.

A document not listed here still ingests, with an id made from its content hash and the
jurisdiction guessed from its title and issuer.
"""
from __future__ import annotations

from dataclasses import dataclass

from jixiao.knowledge.ingest.text import norm


@dataclass(frozen=True)
class Entry:
    doc_id: str
    match: tuple[str, ...]          # all must occur in the folded title (or the doc number)
    short_title: str
    jurisdiction: str = "重庆"
    kind: str = "notice"
    validity: str = ""
    title: str | None = None        # official title when the text's own title block is not it
    issuer: str = ""


CATALOG = (
    Entry("cq-cbza-2024", ("创B争A", "通知"), "《创B争A通知》",
          validity="2024年8月1日—12月31日（根据工作需要，可适当延长）", issuer="重庆市生态环境局办公室"),
    Entry("cq-106-2024", ("等5个方案的通知",), "《渝环办〔2024〕106号》", issuer="重庆市生态环境局办公室"),
    Entry("cq-digital-2024", ("生态环境治理数字化行动方案",), "《数字化行动方案》", kind="plan",
          validity="2024—2025年"),
    Entry("cq-chengyu-2024", ("成渝地区生态环境联建联治行动工作方案",), "《成渝联建联治方案》", kind="plan",
          validity="2024年"),
    Entry("cq-autumn-winter-2024", ("秋冬季", "攻坚提升行动工作方案"), "《秋冬季治气攻坚方案》", kind="plan",
          validity="2024年秋冬季"),
    Entry("cq-eia-service-2024", ("环评服务", "专项行动方案"), "《环评惠企便民方案》", kind="plan"),
    Entry("cq-mobile-source-2024", ("移动源大气污染综合治理行动工作方案",), "《移动源治理方案》", kind="plan",
          validity="2024年"),
    Entry("kaifeng-2020", ("开封市2020年大气污染防治攻坚战实施方案",), "《开封2020攻坚方案》",
          jurisdiction="开封", kind="plan", validity="2020年"),
    Entry("liaocheng-2020", ("聊重指办[2020]6号",), "《聊城绩效分级方案》", jurisdiction="聊城", kind="plan",
          title="聊城市重污染天气重点行业绩效分级实施方案（试行）", issuer="聊城市重污染天气应急指挥部办公室",
          validity="自发布之日起施行（试行）"),
)

ATTACHMENT_SHORT = {
    "cq-cbza-2024-att1": "《惠企10条措施》",
    "cq-cbza-2024-att2": "《地方指南》",
    "cq-cbza-2024-att3": "《行业清单审核要求》",
    "cq-cbza-2024-att4": "《应急管理系统操作说明》",
    "cq-cbza-2024-att5": "《申报材料大纲》",
}

_PLACES = ("重庆", "聊城", "开封", "四川")


def lookup(title: str, doc_number: str = "") -> Entry | None:
    key = norm(title) + "|" + norm(doc_number).replace("〔", "[").replace("〕", "]")
    for entry in CATALOG:
        if all(norm(m) in key for m in entry.match):
            return entry
    return None


def guess_jurisdiction(*texts: str) -> str:
    joined = "".join(texts)
    for place in _PLACES:
        if place in joined:
            return place
    return "全国"
