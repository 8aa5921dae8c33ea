"""Plain lines of one document → Markdown: clause headings, joined paragraphs, rebuilt tables."""
from __future__ import annotations

from jixiao.knowledge.ingest.tables import rebuild_pipe_table, rebuild_tab_table
from jixiao.knowledge.ingest.text import (ATTACHMENT_LIST, ATTACHMENT_MARK, DATE_LINE, TERMINAL,
                                          find_title_block, heading_level, norm)

_MIN_BROKEN = 20  # a line this long without closing punctuation was broken by the page layout


def _accept_number(number: int, last: int) -> bool:
    """Arabic-numbered headings must continue a sequence (a skipped number may sit inside prose)."""
    return number == 1 or last < number <= last + 2


def _joinable(current: str, following: str) -> bool:
    if len(current) < _MIN_BROKEN or current.endswith(TERMINAL) or not following:
        return False
    if heading_level(current) and "。" not in current and len(current) < 60:
        return False  # a heading of its own ("（一）行业范围"), not a sentence broken by the layout
    if following.startswith("\t") or following.endswith("|"):
        return False
    return not (heading_level(following) or ATTACHMENT_MARK.match(following) or DATE_LINE.match(following)
                or ATTACHMENT_LIST.match(following))


def _logical_lines(lines: list[str]) -> list[str]:
    """Join lines broken mid-sentence (blank lines between them are layout, not paragraphs)."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip() or line.startswith("\t") or line.rstrip().endswith("|"):
            out.append(line)
            i += 1
            continue
        text = line.strip()
        j = i + 1
        while True:
            k = j
            while k < len(lines) and not lines[k].strip():
                k += 1
            if k < len(lines) and _joinable(text, lines[k].strip()):
                text += lines[k].strip()
                j = k + 1
            else:
                break
        out.append(text)
        i = j
    return out


def render_body(lines: list[str], title: str) -> str:
    """Markdown body: `# title`, then the text with clause headings and tables."""
    out: list[str] = [f"# {title}", ""]
    block = find_title_block(lines, 0)
    if block and norm(block[1]) == norm(title):
        lines = lines[block[0]:]
    if sum(line.startswith("\t") for line in lines) >= 10:
        first = next(i for i, line in enumerate(lines) if line.startswith("\t"))
        head = render_lines(lines[:first])
        return "\n".join(_squeeze(out + head + rebuild_tab_table(lines[first:]))) + "\n"
    return "\n".join(_squeeze(out + render_lines(lines))) + "\n"


def render_lines(lines: list[str]) -> list[str]:
    out: list[str] = []
    last_number = 0
    in_list = False
    logical = _logical_lines(lines)
    i = 0
    while i < len(logical):
        line = logical[i]
        if line.rstrip().endswith("|") and not line.startswith("\t"):
            j = i
            while j < len(logical) and (logical[j].rstrip().endswith("|") or not logical[j].strip()):
                j += 1
            out.extend(rebuild_pipe_table(logical[i:j]))
            i = j
            continue
        i += 1
        text = line.strip()
        if not text:
            in_list = False
            continue
        if ATTACHMENT_LIST.match(text):
            in_list = True
            out.extend(["", text])
            continue
        mark = ATTACHMENT_MARK.match(text)
        if mark:
            in_list = False
            out.extend(["", f"## {text}", ""])
            continue
        level = heading_level(text)
        if level and in_list and level[0] >= 4:
            out.append(text)  # "2. 区县涉气企业减排清单" continues an attachment list
            continue
        in_list = False
        if level and level[1] is not None:
            if _accept_number(level[1], last_number):
                last_number = level[1]
            else:
                level = None
        if level:
            out.extend(["", f"{'#' * level[0]} {text}", ""])
        else:
            out.extend(["", text])
    return out


def _squeeze(lines: list[str]) -> list[str]:
    """Single blank lines between blocks, none at the ends; table rows stay together."""
    out: list[str] = []
    for line in lines:
        if not line.strip():
            if out and out[-1] != "":
                out.append("")
            continue
        out.append(line)
    while out and out[-1] == "":
        out.pop()
    return out
