"""A small policy notice written as a real DOCX with python-docx, for upload tests.

Its clauses use words no packaged document has (青蒿, 臭氧夜间巡检), so a question with them can only be
answered by citing this document.
"""
from __future__ import annotations

from pathlib import Path

TITLE = "重庆市生态环境局关于开展臭氧夜间巡检试点工作的通知"
NUMBER = "渝环〔2026〕99号"
QUESTION = "臭氧夜间巡检试点由谁组织？"
TERMS = ("臭氧夜间巡检", "青蒿")
CLAUSES = [
    ("一、试点范围", "臭氧夜间巡检试点在青蒿片区的铸造、家具制造企业开展，试点期限为一年。"),
    ("二、组织实施", "臭氧夜间巡检试点由市生态环境局大气环境处组织，各区县生态环境局配合开展夜间巡检。"),
    ("三、工作要求", "参加臭氧夜间巡检试点的企业应当如实记录夜间生产情况，青蒿片区企业每月报送一次巡检台账。"),
]


def write_notice(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_paragraph(TITLE)
    document.add_paragraph(NUMBER)
    document.add_paragraph("各区县（自治县）生态环境局：")
    document.add_paragraph("为推进臭氧污染防治，现就开展臭氧夜间巡检试点工作通知如下。")
    for heading, text in CLAUSES:
        document.add_paragraph(heading)
        document.add_paragraph(text)
    document.add_paragraph("重庆市生态环境局")
    document.add_paragraph("2026年3月2日")
    document.save(str(path))
    return path
