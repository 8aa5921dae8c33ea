"""Readers: one file in, plain text lines out (tabs and blank lines kept, they carry table layout)."""
from __future__ import annotations

import re
from pathlib import Path

from jixiao.errors import InputError

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".docx", ".pdf")


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", errors="replace")


def _split(text: str) -> list[str]:
    return [line.rstrip("\r\n\u3000 ") for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]


def read_text(path: Path) -> list[str]:
    return _split(_decode(path.read_bytes()))


def read_markdown(path: Path) -> list[str]:
    """Markdown headings and emphasis are dropped: structure is detected again from the clause numbers."""
    lines = []
    for line in read_text(path):
        line = re.sub(r"^#{1,6}\s+", "", line)
        lines.append(line)
    return lines


def _cell_lines(rows: list[list[str]]) -> list[str]:
    """A table becomes one `cell |` line per cell, the same layout as the scraped seeds."""
    out: list[str] = [""]
    for row in rows:
        out.extend(f"{cell.strip()} |" if cell.strip() else "|" for cell in row)
    out.append("")
    return out


def read_html(path: Path) -> list[str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(path.read_bytes()), "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe"]):
        tag.decompose()
    for table in soup.find_all("table"):
        rows = [[cell.get_text(" ", strip=True) for cell in tr.find_all(["td", "th"])] for tr in table.find_all("tr")]
        table.replace_with("\n".join(_cell_lines(rows)) + "\n")
    for br in soup.find_all("br"):
        br.replace_with("\n")
    root = soup.body or soup
    text = root.get_text("\n")
    return [line.strip() for line in _split(text)]


def read_docx(path: Path) -> list[str]:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(str(path))
    lines: list[str] = []
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(Paragraph(child, document).text.rstrip())
        elif tag == "tbl":
            table = Table(child, document)
            lines.extend(_cell_lines([[cell.text for cell in row.cells] for row in table.rows]))
    return lines


def read_pdf(path: Path) -> list[str]:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    lines: list[str] = []
    for page in reader.pages:
        lines.extend(_split(page.extract_text() or ""))
        lines.append("")
    return lines


READERS = {".txt": read_text, ".md": read_markdown, ".markdown": read_markdown, ".html": read_html,
           ".htm": read_html, ".docx": read_docx, ".pdf": read_pdf}


def read_lines(path: str | Path) -> list[str]:
    """The file's text as lines; raises InputError for a missing file or an unknown format."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"找不到文件：{str(path)!r}")
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise InputError(f"不支持的文件格式 {path.suffix!r}：请提供 {'、'.join(SUPPORTED)} 文件")
    try:
        return reader(path)
    except InputError:
        raise
    except Exception as exc:  # a broken DOCX/PDF is the user's input, not our bug
        raise InputError(f"无法读取文件 {path.name!r}：{exc}") from exc
