"""Split one cleaned file into its documents: a notice and its attachments, or a cover notice and
the plans it issues ("印发《A》《B》…等N个方案的通知")."""
from __future__ import annotations

import re
from dataclasses import dataclass

from jixiao.knowledge.ingest.text import ATTACHMENT_MARK, DATE_LINE, find_title_block, norm

_ISSUES = re.compile(r"印发.*《.+》")
_QUOTED = re.compile(r"《([^《》]{4,80})》")
_CLOSING = re.compile(r"^联系人[:：]")


@dataclass(frozen=True)
class Part:
    kind: str              # "main", "attachment" or "issued"
    number: int | None     # attachment number, or position of an issued plan
    title: str
    lines: list[str]


def _title_at(lines: list[str], start: int) -> tuple[int, str]:
    i = start
    while i < len(lines) and not lines[i].strip():
        i += 1
    block = find_title_block(lines, i)
    return (i, block[1]) if block else (i, lines[i].strip() if i < len(lines) else "")


def _issued_titles(lines: list[str], title: str) -> list[str]:
    if not _ISSUES.search(title):
        return []
    head = " ".join(line for line in lines[:12])
    return list(dict.fromkeys(_QUOTED.findall(head)))


def _locate(lines: list[str], titles: list[str], after: int) -> list[tuple[int, str]]:
    """Where each issued title starts as a title block of its own (joined lines compared folded)."""
    found = []
    for title in titles:
        want = norm(title)
        for i in range(after, len(lines)):
            if not lines[i].strip():
                continue
            joined = ""
            for j in range(i, min(i + 8, len(lines))):
                joined += norm(lines[j])
                if joined == want:
                    found.append((i, title))
                    break
                if not want.startswith(joined):
                    break
            if found and found[-1][1] == title:
                break
    return sorted(found)


def _unmarked_attachment(lines: list[str], end: int) -> int | None:
    """Start of an attachment that follows the notice's closing (联系人 / date) without a 附件 line."""
    closing = None
    for i in range(end):
        text = lines[i].strip()
        if _CLOSING.match(text) or DATE_LINE.match(text):
            closing = i
    if closing is None:
        return None
    i = closing + 1
    while i < end and not lines[i].strip():
        i += 1
    return i if i < end and find_title_block(lines, i) else None


def split_parts(lines: list[str]) -> list[Part]:
    start, title = _title_at(lines, 0)
    issued = _issued_titles(lines, title)
    if issued:
        spots = _locate(lines, issued, start + 1)
        if len(spots) >= 2:
            cuts = [i for i, _ in spots]
            parts = [Part("main", None, title, lines[:cuts[0]])]
            for n, (i, plan_title) in enumerate(spots, 1):
                stop = cuts[n] if n < len(cuts) else len(lines)
                parts.append(Part("issued", n, plan_title, lines[i:stop]))
            return parts
    marks = [(i, ATTACHMENT_MARK.match(line.strip())) for i, line in enumerate(lines)]
    marks = [(i, m) for i, m in marks if m]
    first = marks[0][0] if marks else len(lines)
    parts: list[Part] = []
    unmarked = _unmarked_attachment(lines, first)
    if unmarked is not None and marks:
        parts.append(Part("main", None, title, lines[:unmarked]))
        number = int(marks[0][1].group(1) or 2) - 1
        parts.append(Part("attachment", number, _title_at(lines, unmarked)[1], lines[unmarked:first]))
    elif unmarked is not None and not marks and _mentions_attachment(lines[:unmarked]):
        parts.append(Part("main", None, title, lines[:unmarked]))
        parts.append(Part("attachment", 1, _title_at(lines, unmarked)[1], lines[unmarked:]))
        return parts
    else:
        parts.append(Part("main", None, title, lines[:first]))
    for n, (i, match) in enumerate(marks):
        stop = marks[n + 1][0] if n + 1 < len(marks) else len(lines)
        number = int(match.group(1)) if match.group(1) else n + 1
        parts.append(Part("attachment", number, _title_at(lines, i + 1)[1], lines[i + 1:stop]))
    return parts


def _mentions_attachment(lines: list[str]) -> bool:
    return any(re.search(r"[（(]附件\s*\d*[）)]|见附件", line) for line in lines)
