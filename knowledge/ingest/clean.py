"""Boilerplate stripping for scraped pages: portal metadata becomes fields, noise lines go.

The body is bounded by rules, not offsets: it starts at the first title block (a run of short
lines ending like a document title, or the line after "全文如下") and ends at the first portal
footer (disclaimer, contribution notice); known noise lines inside are dropped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from jixiao.knowledge.ingest.text import find_title_block

# "[ 索引号 ] | 115001.../2024-00073 | [ 发文字号 ] | 渝环办〔2024〕106号 |"
_META_ROW = re.compile(r"^\s*\[\s*[^\]]{2,8}\s*\]\s*\|")
_META_PAIR = re.compile(r"\[\s*([^\]]{2,8}?)\s*\]\s*\|\s*([^|\[]*?)\s*(?=\||$)")
# "2020-03-17 13:51来源:北极星售电网关键词:..."
_PAGE_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\s+\d{1,2}:\d{2})?\s*来源[:：]")

NOISE_LINES = [re.compile(p) for p in (
    r"^登录注册$", r"^登录$", r"^注册$", r"^请使用微信扫一扫", r"^关注公众号完成登录", r"^扫一扫",
    r"^搜索历史清空$", r"^您的位置[:：]", r"^•\s*\S{1,10}$", r"^投稿$", r"^我要投稿$", r"^收藏$", r"^点赞$",
    r"^北极星$", r"^我们将会第一时间为您推送", r"^(打印|关闭)(本页|窗口)?$", r"^【?字体[:：]",
    r"^(姓名|性别|出生日期|邮箱|所在地区|行业类别|工作经验|学历|公司名称|任职岗位|手机|电话)[:：]\s*\|",
    r"^[—–-]\s*\d+\s*[—–-]$",  # page footers "— 1 —"
)]
END_MARKERS = [re.compile(p) for p in (
    r"^特别声明[:：]", r"^凡来源注明", r"^投稿与新闻线索", r"^免责声明", r"^版权声明", r"^责任编辑[:：]",
    r"^相关阅读", r"^相关新闻", r"^上一篇[:：]", r"^下一篇[:：]", r"^分享到",
)]
_FULL_TEXT = re.compile(r"^(全文如下|原文如下|详情如下|以下为(政策)?原文)[:：]?$")


@dataclass
class Cleaned:
    lines: list[str]
    page_meta: dict[str, str] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)  # what was dropped, for the report


def _is_noise(line: str) -> bool:
    text = line.strip()
    return any(p.search(text) for p in NOISE_LINES)


def extract_page_meta(lines: list[str]) -> tuple[list[str], dict[str, str]]:
    """Turn portal metadata rows into fields and drop them; also the "date 来源:" line of news pages."""
    meta: dict[str, str] = {}
    kept: list[str] = []
    for line in lines:
        if _META_ROW.match(line):
            for key, value in _META_PAIR.findall(line):
                if value and key not in meta:
                    meta[key.strip()] = value.strip()
            continue
        match = _PAGE_DATE.match(line.strip())
        if match:
            meta.setdefault("页面日期", match.group(1))
            continue
        kept.append(line)
    return kept, meta


def body_bounds(lines: list[str]) -> tuple[int, int]:
    """Index of the first body line (title block) and one past the last one (before the footer)."""
    start = 0
    for i, line in enumerate(lines):
        if _FULL_TEXT.match(line.strip()):
            start = i + 1
            break
    else:
        for i in range(len(lines)):
            if lines[i].strip() and find_title_block(lines, i):
                start = i
                break
    end = len(lines)
    for i in range(start, len(lines)):
        if any(p.search(lines[i].strip()) for p in END_MARKERS):
            end = i
            break
    return start, end


def clean(lines: list[str]) -> Cleaned:
    lines, meta = extract_page_meta(lines)
    removed: list[str] = []
    kept = []
    for line in lines:
        (removed if _is_noise(line) else kept).append(line)
    start, end = body_bounds(kept)
    removed.extend(line for line in kept[:start] + kept[end:] if line.strip())
    body = kept[start:end]
    while body and not body[-1].strip():
        body.pop()
    return Cleaned(body, meta, removed)
