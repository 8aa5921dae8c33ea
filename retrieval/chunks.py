"""Structure-aware chunks: one per deepest clause, carrying the heading path (docs/contracts.md)."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from jixiao.knowledge.ingest.model import SourceDoc

MERGE_UP_TO = 400      # tiny sibling clauses are merged while the result stays under this
SPLIT_ABOVE = 500      # a clause longer than this is split on sentence boundaries
TABLE_MAX = 600        # table chunks: caption + header + as many rows as fit

_HEADING = re.compile(r"^(#{1,6})\s+(.*\S)\s*$")
# Leading ordinal of a heading: 一、 / （一） / (一) / 1. / 2.13 / 第三条 / 附件1
_LABEL = re.compile(
    r"^(第[一二三四五六七八九十百零〇\d]+[条章节]|附件\s*\d+|[一二三四五六七八九十百]+、"
    r"|[（(][一二三四五六七八九十百\d]+[）)]|\d+(?:\.\d+)*[.、．]?)"
)
_ENUMERATED = re.compile(r"^[一二三四五六七八九十]+是")     # "一是务必高度重视。…"
_SENTENCE = re.compile(r"(?<=[。；！？;])")


@dataclass(frozen=True)
class Chunk:
    id: str
    doc_id: str
    title: str
    short_title: str
    section_path: str          # e.g. "四、（二）"; "" for a document's preamble
    text: str                  # prefixed with 《short_title》 and the section path
    metadata: dict = field(default_factory=dict, compare=False, hash=False)


def heading_label(heading: str) -> str:
    """The ordinal a heading starts with (一、, （二）, 1., 附件3); the heading itself if it has none."""
    m = _LABEL.match(heading.strip())
    if not m:
        return heading.strip()[:20]
    label = m.group(1).replace(" ", "").replace("(", "（").replace(")", "）")   # one style of brackets
    if re.fullmatch(r"\d+(?:\.\d+)*", label):
        label += "."
    return label


@dataclass
class _Section:
    path: tuple[str, ...]          # labels of the headings above (document title excluded)
    heading: str                   # the deepest heading text ("" for the preamble)
    blocks: list[tuple[str, object]] = field(default_factory=list)   # ("text", str) | ("table", [lines])
    heading_in_text: bool = False
    outline: bool = False          # an empty leaf heading: an outline item with no clause text


class _Unit(NamedTuple):
    """One piece of one clause, before tiny siblings are merged."""
    path: tuple[str, ...]
    heading: str                   # "" when the heading is already the clause text
    text: str
    mergeable: bool
    outline: bool


def _is_clause_text(heading: str) -> bool:
    """A long heading, or one with a sentence inside it, is the clause itself; a short title may end
    with a full stop ("（二）核定程序。")."""
    return len(heading) > 40 or bool(re.search(r"[。；;：:]", heading.rstrip("。")))


def _sections(body: str) -> list[_Section]:
    stack: list[tuple[int, str, str]] = []       # (level, label, heading)
    current = _Section((), "")
    out = [current]
    para: list[str] = []
    table: list[str] = []

    def flush() -> None:
        if para:
            text = "\n".join(para).strip()
            if text:
                current.blocks.append(("text", text))
            para.clear()
        if table:
            current.blocks.append(("table", list(table)))
            table.clear()

    for line in body.splitlines():
        m = _HEADING.match(line)
        if m:
            flush()
            level, heading = len(m.group(1)), m.group(2)
            if level == 1:          # the document title: not part of the path
                continue
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading_label(heading), heading))
            current = _Section(tuple(s[1] for s in stack), heading)
            if _is_clause_text(heading):   # "#### 1.重点行业范围。按照…": the heading is the clause
                current.blocks.append(("text", heading))
                current.heading_in_text = True
            out.append(current)
            continue
        if line.lstrip().startswith("|"):
            if para:
                flush()
            table.append(line.strip())
            continue
        if table:
            flush()
        if line.strip():
            para.append(line.strip())
        elif para:
            flush()
    flush()
    for i, sec in enumerate(out):   # an empty leaf heading (outline items, 附件5) is its own clause text
        nxt = out[i + 1].path if i + 1 < len(out) else ()
        is_leaf = not (len(nxt) > len(sec.path) and nxt[:len(sec.path)] == sec.path)
        if sec.path and not sec.blocks and is_leaf:
            sec.blocks.append(("text", sec.heading))
            sec.heading_in_text = sec.outline = True
    return [s for s in out if s.blocks]


def _join(labels: tuple[str, ...]) -> str:
    """Path text; a numeric label that its child repeats (2. → 2.16 → 2.16.1.) is written once."""
    keep = [lab for i, lab in enumerate(labels)
            if not (i + 1 < len(labels) and re.fullmatch(r"[\d.]+", lab)
                    and labels[i + 1].startswith(lab.rstrip(".") + "."))]
    return "".join(keep)


def _split_sentences(text: str, limit: int = SPLIT_ABOVE) -> list[str]:
    pieces: list[str] = []
    buf = ""
    for sentence in (s for s in _SENTENCE.split(text) if s):
        while len(sentence) > limit:            # one sentence too long: hard cut
            if buf:
                pieces.append(buf)
                buf = ""
            pieces.append(sentence[:limit])
            sentence = sentence[limit:]
        if buf and len(buf) + len(sentence) > limit:
            pieces.append(buf)
            buf = ""
        buf += sentence
    if buf.strip():
        pieces.append(buf)
    return [p.strip() for p in pieces if p.strip()]


def _table_pieces(lines: list[str], caption: str, limit: int = TABLE_MAX) -> list[str]:
    header = lines[:2] if len(lines) >= 2 and set(lines[1].replace("|", "").strip()) <= set("-: ") else lines[:1]
    head = "\n".join(([caption] if caption else []) + header)
    pieces: list[str] = []
    buf: list[str] = []
    for group in _row_groups(lines[len(header):]):
        size = sum(len(r) + 1 for r in group)
        if buf and len(head) + sum(len(r) + 1 for r in buf) + size > limit:
            pieces.append(head + "\n" + "\n".join(buf))
            buf = []
        for row in group:      # a group longer than a whole piece is cut between its rows
            if buf and len(head) + sum(len(r) + 1 for r in buf) + len(row) > limit:
                pieces.append(head + "\n" + "\n".join(buf))
                buf = []
            buf.append(row)
    if buf or not pieces:
        pieces.append(head + ("\n" + "\n".join(buf) if buf else ""))
    return pieces


def _row_groups(rows: list[str]) -> list[list[str]]:
    """Rows grouped the way the table shows them: a row whose first cell is empty continues the group
    above it (a merged cell, e.g. one industry over its branches in 附件3)."""
    groups: list[list[str]] = []
    for row in rows:
        first = row.strip().strip("|").split("|")[0].strip()
        if groups and not first:
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def _units(section: _Section) -> list[tuple[str, bool]]:
    """(text, mergeable) pieces of one clause, in order."""
    units: list[tuple[str, bool]] = []
    texts: list[str] = []
    caption = section.heading
    for kind, value in section.blocks:
        if kind == "text":
            texts.append(value)  # type: ignore[arg-type]
            continue
        if texts:
            # a short paragraph just before a table is its caption
            if len(texts[-1]) <= 80:
                caption, texts = texts[-1], texts[:-1]   # said once, with every piece of the table
            if texts:
                units += _text_units(texts)
            texts = []
        units += [(p, False) for p in _table_pieces(value, caption)]  # type: ignore[arg-type]
    if texts:
        units += _text_units(texts)
    return units


def _text_units(paragraphs: list[str]) -> list[tuple[str, bool]]:
    """A clause's paragraphs as (text, mergeable) pieces. Enumerated items ("一是…", "二是…") stand alone,
    like numbered sub-clauses, and so does whatever follows them (a 联系人 line)."""
    if sum(bool(_ENUMERATED.match(p)) for p in paragraphs) >= 2:
        return [(piece, False) for p in paragraphs for piece, _ in _text_units([p])]
    text = "\n".join(paragraphs)
    if len(text) <= SPLIT_ABOVE:
        return [(text, True)]
    return [(p, False) for p in _split_sentences(text)]


def _prefix(short_title: str, path: str, heading: str) -> str:
    label = _LABEL.match(heading.strip()) if heading else None
    rest = (heading.strip()[label.end():] if label else heading).strip(" 、.．")
    parts = [short_title, path] + ([rest] if rest else [])
    return " ".join(p for p in parts if p)


def chunk_document(doc: SourceDoc) -> list[Chunk]:
    meta = doc.meta
    short = meta.short_title or f"《{meta.title}》"
    metadata = {"doc_id": meta.doc_id, "jurisdiction": meta.jurisdiction, "kind": meta.kind,
                "audience": meta.audience or "public", "date": meta.date}
    if meta.attachment:
        metadata["attachment"] = meta.attachment
    raw = [_Unit(section.path, "" if section.heading_in_text else section.heading, text, mergeable,
                 section.outline)
           for section in _sections(doc.body) for text, mergeable in _units(section)]

    # merge consecutive tiny siblings (same parent path, both mergeable) up to MERGE_UP_TO chars;
    # top-level clauses merge only when all are outline items (附件5 一、…四、)
    groups: list[list[_Unit]] = []
    for unit in raw:
        last = groups[-1] if groups else None
        if (last and unit.mergeable and all(u.mergeable for u in last)
                and last[0].path[:-1] == unit.path[:-1] and len(last[0].path) == len(unit.path)
                and (len(unit.path) >= 2 or all(u.outline for u in (*last, unit)))
                and sum(len(u.text) for u in last) + len(unit.text) <= MERGE_UP_TO):
            last.append(unit)
        else:
            groups.append([unit])

    chunks: list[Chunk] = []
    seen: set[str] = set()
    for group in groups:
        first, lastp = group[0].path, group[-1].path
        path = _join(first)
        if lastp != first:
            path += "—" + lastp[-1]
        body_parts = []
        for unit in group:
            if len(group) > 1 and unit.heading:
                body_parts.append(f"{unit.heading}\n{unit.text}")
            else:
                body_parts.append(unit.text)
        heading = group[0].heading if len(group) == 1 else ""
        first_line = _prefix(short, path, heading)
        if not path and meta.title.strip("《》") != short.strip("《》"):
            first_line += " " + meta.title       # the preamble is where a document names itself in full
        text = first_line + "\n" + "\n".join(body_parts)
        # the id hashes everything indexed: the attachment label is in the keyword tokens, not the text
        key = f"{meta.doc_id}\x1f{meta.attachment}" if meta.attachment else meta.doc_id
        cid = hashlib.sha256(f"{key}\x1f{path}\x1f{text}".encode("utf-8")).hexdigest()
        n = 1
        while cid in seen:      # identical text twice in one clause: keep both, distinct ids
            n += 1
            cid = hashlib.sha256(f"{key}\x1f{path}\x1f{text}\x1f{n}".encode("utf-8")).hexdigest()
        seen.add(cid)
        chunks.append(Chunk(cid, meta.doc_id, meta.title, short, path, text,
                            dict(metadata, section=path)))
    return chunks


def chunk_documents(docs: list[SourceDoc]) -> list[Chunk]:
    return [c for doc in docs for c in chunk_document(doc)]
