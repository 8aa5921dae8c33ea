"""The text of a cited clause: `《文件简称》四（二）` → the Markdown section 四、/（二） of the source.

Citations name sections loosely ("四（二）", "四（一）3.", "附件3 二、审核要求", "九", "导语", "五、三是"),
so the section string is read as a list of ordinals and matched against the heading labels of the
source; words left over (or the quote) narrow it down. Nothing here rewrites the text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from jixiao.knowledge.basis import normalize
from jixiao.knowledge.ingest.model import read_source

_CN = "一二三四五六七八九十百零〇"
_HEADING = re.compile(r"^(#{1,6})\s+(.*\S)\s*$")
# one ordinal at the start of a (section) string; a bare Chinese numeral counts as "X、"
_ORDINAL = re.compile(
    rf"^\s*(第[{_CN}\d]+[条章节]|附件\s*\d+|[{_CN}]+、|[（(][{_CN}\d]+[）)]|\d+(?:\.\d+)*[.、．]?"
    rf"|[{_CN}]+(?=[（(\s]|$))")
MAX_CHARS = 6000


@dataclass(frozen=True)
class Clause:
    doc_id: str
    title: str          # full document title
    short_title: str    # 《简称》
    date: str
    section: str        # as asked
    heading: str        # the matched heading ("" when the whole preamble/quote paragraph is returned)
    text: str           # the section text, headings included, verbatim


def _label(raw: str) -> str:
    s = raw.strip().replace(" ", "").replace("(", "（").replace(")", "）")
    if re.fullmatch(rf"[{_CN}]+", s):
        return s + "、"
    m = re.fullmatch(r"(\d+(?:\.\d+)*)[.、．]?", s)
    return m.group(1) + "." if m else s


def parse_section(section: str) -> tuple[list[str], str]:
    """Ordinals at the start of `section` and the words after them: "四（一）3." → (["四、","（一）","3."], "")."""
    labels, rest = [], section or ""
    while True:
        m = _ORDINAL.match(rest)
        if not m or not m.group(1):
            break
        labels.append(_label(m.group(1)))
        rest = rest[m.end():]
    return labels, rest.strip()


@dataclass
class _Node:
    level: int
    label: str
    heading: str
    path: tuple[str, ...]
    start: int          # line index of the heading
    end: int = 0        # line index after the last line of the section (children included)


def _outline(lines: list[str]) -> list[_Node]:
    nodes: list[_Node] = []
    stack: list[_Node] = []
    for i, line in enumerate(lines):
        m = _HEADING.match(line)
        if not m or len(m.group(1)) == 1:       # the document title is not part of any path
            continue
        level, heading = len(m.group(1)), m.group(2)
        while stack and stack[-1].level >= level:
            stack.pop().end = i
        labels, _ = parse_section(heading)
        label = labels[0] if labels else heading[:20]
        node = _Node(level, label, heading, tuple(n.label for n in stack) + (label,), i)
        stack.append(node)
        nodes.append(node)
    for n in stack:
        n.end = len(lines)
    return nodes


def _matches(path: tuple[str, ...], labels: list[str]) -> bool:
    """`labels` appear in `path` in order, ending at the last element of `path`."""
    if not labels or path[-1] != labels[-1]:
        return False
    it = iter(path)
    return all(any(p == want for p in it) for want in labels)


def _paragraph_with(lines: list[str], quote: str) -> tuple[int, int] | None:
    want = normalize(quote)
    if not want:
        return None
    for i, line in enumerate(lines):
        if want in normalize(line):
            return i, i + 1
    return None


def _table_excerpt(lines: list[str], quote: str, words: str) -> list[str]:
    """In a section with a long table, keep the text, the header and the rows the citation points at
    (the row holding `quote`, or item N of "第N项", with its continuation rows)."""
    rows = [i for i, line in enumerate(lines) if line.lstrip().startswith("|")]
    if len(rows) <= 8:
        return lines
    body = rows[2:]   # after the header and the --- separator
    item = re.search(r"第\s*(\d+)\s*项", words or "")
    keep: set[int] = set()
    if item:
        first = [i for i in body if re.match(rf"^\|\s*{item.group(1)}\s*\|", lines[i].strip())]
        for i in first:
            keep.add(i)
            j = i + 1
            while j in body and re.match(r"^\|\s*\|", lines[j].strip()):   # rows of the same item
                keep.add(j)
                j += 1
    want = normalize(quote)
    if want and not keep:
        keep = {i for i in body if want in normalize(lines[i])}
    if not keep:
        return lines
    return [line for i, line in enumerate(lines) if i not in body or i in keep]


def _locate(lines: list[str], section: str, quote: str) -> tuple[tuple[int, int] | None, str]:
    """Line span and heading of the section named by `section` (narrowed by `quote`)."""
    nodes = _outline(lines)
    labels, words = parse_section(section)
    if labels and labels[0].startswith("附件") and not any(n.label == labels[0] for n in nodes):
        labels = labels[1:]     # "附件3 二、…" cited against the attachment's own file
    candidates = [n for n in nodes if _matches(n.path, labels)] if labels else []
    if not candidates and words:
        key = normalize(words)
        candidates = [n for n in nodes if key and key in normalize(n.heading)]
    if quote:
        with_quote = [n for n in candidates if normalize(quote) in normalize("\n".join(lines[n.start:n.end]))]
        candidates = with_quote or candidates
    if candidates:
        best = min(candidates, key=lambda n: (len(n.path), n.start))
        return (best.start, best.end), best.heading
    spread = re.fullmatch(rf"([{_CN}]+)至([{_CN}]+)", (section or "").strip())   # "一至四": a run of sections
    if spread:
        first = [n for n in nodes if n.path == (spread.group(1) + "、",)]
        last = [n for n in nodes if n.path == (spread.group(2) + "、",)]
        if first and last and first[0].start <= last[0].start:
            return (first[0].start, last[0].end), f"{first[0].heading} 至 {last[0].heading}"
    if quote and (span := _paragraph_with(lines, quote)):
        return span, ""
    if (section or "").strip() in ("导语", "正文", "") and nodes:
        return (0, nodes[0].start), ""
    return None, ""


def find_clause(doc_id: str, section: str, sources_dir: str | Path, quote: str = "") -> Clause | None:
    """The section of `doc_id` that `section` names (narrowed by `quote`); None when the document is unknown
    or nothing matches."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9\-]{0,80}", doc_id or ""):
        return None
    doc = read_source(doc_id, sources_dir)
    if doc is None:
        return None
    lines = doc.body.splitlines()
    span, heading = _locate(lines, section, quote)
    if span is None:
        return None
    text = "\n".join(_table_excerpt(lines[span[0]:span[1]], quote, parse_section(section)[1])).strip()
    text = re.sub(r"^#{1,6}\s+", "", text, flags=re.M)
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS] + "……"
    meta = doc.meta
    return Clause(doc_id, meta.title, meta.short_title or f"《{meta.title}》", meta.date, section, heading, text)
