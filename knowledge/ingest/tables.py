"""Rebuild tables that collection flattened to one cell per line.

Two layouts occur: tab-indented cells with blank lines between rows (a Word table pasted as text;
cells broken over two lines continue as an un-indented line), and `cell |` lines (a web table).
"""
from __future__ import annotations

import re

from jixiao.knowledge.ingest.text import heading_level

_SECTION = re.compile(r"^[一二三四五六七八九十]{1,3}、")
_ROW_NUMBER = re.compile(r"^\d{1,3}$")


def md_row(cells: list[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "｜").strip() for cell in cells) + " |"


def md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    width = len(header)
    out = [md_row(header), "| " + " | ".join("---" for _ in header) + " |"]
    for row in rows:
        out.append(md_row((row + [""] * width)[:width]))
    return out


# ---- tab-indented layout -------------------------------------------------------------------

def _tokens(lines: list[str]):
    """Cells, blank separators and free text lines, with broken cells joined back."""
    row: list[str] = []
    pending_blank = False
    for line in lines:
        if line.startswith("\t"):
            cell = line.strip()
            if _SECTION.match(cell):
                if row:
                    yield "row", row
                row, pending_blank = [], False
                yield "heading", cell
                continue
            if pending_blank and row:
                yield "row", row
                row = []
            row.append(cell)
            pending_blank = False
        elif not line.strip():
            pending_blank = True
        else:
            text = line.strip()
            continuation = row and pending_blank and len(text) <= 12 and not re.search(r"[：:。，]", text)
            if continuation:
                row[-1] += text  # "短流程" + "钢铁": one cell broken over two lines
                pending_blank = False
                continue
            if row:
                yield "row", row
            row, pending_blank = [], False
            yield "text", text
    if row:
        yield "row", row


def rebuild_tab_table(lines: list[str], controls_from: int = 3) -> list[str]:
    """Markdown for a tab-flattened table region: section headings, notes and one table per section.

    Cells from `controls_from` on are alternatives of one column (e.g. A / B（B-） / C / D). A row
    whose first two cells are empty continues the group above: its name is repeated.
    """
    out: list[str] = []
    header: list[str] | None = None
    rows: list[list[str]] = []
    group = ""

    def flush() -> None:
        if rows and header:
            out.extend(["", *md_table(header, rows), ""])
        rows.clear()

    for kind, value in _tokens(lines):
        if kind == "heading":
            flush()
            out.extend(["", f"## {value}", ""])
        elif kind == "text":
            flush()
            level = heading_level(value)
            out.extend(["", f"{'#' * level[0]} {value}" if level else value, ""])
        elif value and value[0] in ("序号", "编号"):
            flush()
            header = list(value)
        else:
            cells = list(value)
            if header is None:
                header = [f"列{i + 1}" for i in range(controls_from + 1)]
            fixed = cells[:controls_from] + [""] * max(0, controls_from - len(cells))
            if not fixed[0] and not fixed[1]:
                fixed[1] = group
            group = fixed[1] or group
            controls = " / ".join(cell for cell in cells[controls_from:] if cell)
            rows.append(fixed + [controls])
    flush()
    return out


# ---- `cell |` layout -------------------------------------------------------------------------

def _shape(cell: str) -> str:
    return re.sub(r"[一二三四五六七八九十\d]+", "0", cell)


def _header_width(cells: list[str]) -> int | None:
    for i, cell in enumerate(cells):
        if _ROW_NUMBER.match(cell):
            return i if i >= 2 else None
    for width in range(2, min(9, len(cells) // 2 + 1)):
        firsts = cells[width::width]
        if len(cells) % width == 0 and len(firsts) >= 2 and len({_shape(c) for c in firsts}) == 1:
            return width
    return None


def rebuild_pipe_table(lines: list[str]) -> list[str]:
    """Markdown for consecutive `cell |` lines; falls back to the lines themselves if no grid fits."""
    cells = [line.strip()[:-1].strip() for line in lines if line.strip()]
    width = _header_width(cells)
    if not width:
        return [line.strip() for line in lines if line.strip()]
    header, data = cells[:width], cells[width:]
    rows = [data[i:i + width] for i in range(0, len(data), width)]
    return ["", *md_table(header, rows), ""]
