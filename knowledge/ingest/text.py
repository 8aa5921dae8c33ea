"""Line classification shared by the stages: titles, clause headings, dates, signatures."""
from __future__ import annotations

import re
import unicodedata

CN_NUM = "一二三四五六七八九十百零〇"
DATE_LINE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日$")
DOC_NUMBER = re.compile(r"^[\u4e00-\u9fff]{1,12}[〔\[［(（]\d{4}[〕\]］)）]\s*\d{1,4}\s*号$")
ATTACHMENT_MARK = re.compile(r"^附\s*件\s*(\d{1,2})?\s*$")
ATTACHMENT_LIST = re.compile(r"^[-•]?\s*附\s*件\s*[:：]")
ISSUER_END = re.compile(r"(办公室|办公厅|生态环境局|生态环境厅|人民政府|委员会|指挥部|领导小组|部|局|厅|委)$")

_TITLE_SUFFIX = re.compile(r"(通知|方案|办法|意见|规定|细则|指南|措施|要求|说明|大纲|清单|文件|决定|公告|通告|条例|计划|标准)$")
_TITLE_PAREN = re.compile(r"[（(][^（）()]*(年|试行|修订|暂行)[^（）()]*[）)]$")
_SENTENCE_PUNCT = re.compile(r"[。；;]")

# clause headings: (level, pattern); the level is the Markdown heading depth
HEADINGS = [
    (2, re.compile(rf"^[{CN_NUM}]{{1,3}}、")),
    (2, re.compile(rf"^第[{CN_NUM}]{{1,4}}[条章]")),
    (3, re.compile(rf"^[（(][{CN_NUM}]{{1,3}}[）)]")),
    (6, re.compile(r"^\d{1,2}\.\d{1,2}\.\d{1,2}(?=\D)")),
    (5, re.compile(r"^\d{1,2}\.\d{1,2}(?=[^\d.])")),
    (4, re.compile(r"^(\d{1,2})\s*[.．、](?![\d.])")),
    (5, re.compile(r"^[（(]\d{1,2}[）)]")),
]
TERMINAL = tuple("。；;：:！!？?）)")


def norm(text: str) -> str:
    """Width-folded text without white space, for comparing titles."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def heading_level(line: str) -> tuple[int, int | None] | None:
    """(level, arabic number or None) when the line starts like a clause heading."""
    text = line.strip()
    for level, pattern in HEADINGS:
        match = pattern.match(text)
        if match:
            number = int(match.group(1)) if level == 4 else None
            return level, number
    return None


def is_table_line(line: str) -> bool:
    return line.startswith("\t") or line.rstrip().endswith("|")


def is_titleish(line: str) -> bool:
    """A short line that could be (part of) a document title."""
    text = line.strip()
    if not text or len(text) > 90 or is_table_line(line):
        return False
    if text[-1] in "：:，,、" or _SENTENCE_PUNCT.search(text):
        return False
    if DATE_LINE.match(text) or DOC_NUMBER.match(text) or heading_level(text) or ATTACHMENT_MARK.match(text):
        return False
    return not ATTACHMENT_LIST.match(text)


def ends_like_title(text: str) -> bool:
    text = norm(text).rstrip("》")
    text = _TITLE_PAREN.sub("", text).rstrip("》")
    return bool(_TITLE_SUFFIX.search(text))


def find_title_block(lines: list[str], start: int, max_lines: int = 6) -> tuple[int, str] | None:
    """(index after the block, joined title) when a title starts at `start`; blank lines are skipped."""
    picked: list[tuple[int, str]] = []
    i = start
    while i < len(lines) and len(picked) < max_lines:
        if not lines[i].strip():
            i += 1
            continue
        if not is_titleish(lines[i]):
            break
        picked.append((i, lines[i].strip()))
        i += 1
    for k in range(len(picked), 0, -1):
        title = "".join(text for _, text in picked[:k])
        if ends_like_title(title):
            return picked[k - 1][0] + 1, title
    return None


def iso_date(line: str) -> str | None:
    match = DATE_LINE.match(line.strip())
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups())
    return f"{year:04d}-{month:02d}-{day:02d}"


def signature(lines: list[str]) -> tuple[str | None, str | None]:
    """(issuer, ISO date) from the last "issuer / date" pair of a part, when it has one."""
    nonblank = [line.strip() for line in lines if line.strip()]
    for i in range(len(nonblank) - 1, -1, -1):
        date = iso_date(nonblank[i])
        if date:
            before = nonblank[i - 1] if i else ""
            issuer = before if ISSUER_END.search(before) and len(before) <= 30 else None
            return issuer, date
    return None, None
