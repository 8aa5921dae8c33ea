"""File → SourceDocs: read, clean, split, render, describe. Plain function calls, no engine."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from jixiao.knowledge.ingest import catalog
from jixiao.knowledge.ingest.clean import clean
from jixiao.knowledge.ingest.dedup import DUPLICATE, compare
from jixiao.knowledge.ingest.model import DocMeta, SourceDoc, sha256
from jixiao.knowledge.ingest.readers import read_lines
from jixiao.knowledge.ingest.split import Part, split_parts
from jixiao.knowledge.ingest.structure import render_body
from jixiao.knowledge.ingest.text import DOC_NUMBER, norm, signature

_DISCLOSURE = re.compile(r"^[（(](此件[^）)]*公开)[）)]$")


def _iso(value: str) -> str:
    match = re.match(r"^(\d{4})-(\d{1,2})-(\d{1,2})", value or "")
    return f"{int(match[1]):04d}-{int(match[2]):02d}-{int(match[3]):02d}" if match else ""


def collection_date(path: Path) -> str:
    """A date the collector noted for this file in a README beside it ("… (dated 2024-08-05)")."""
    for name in ("README.md", "README.txt"):
        notes = path.parent / name
        if notes.is_file():
            for line in notes.read_text(encoding="utf-8", errors="replace").splitlines():
                if path.name in line:
                    match = re.search(r"dated (\d{4}-\d{2}-\d{2})", line)
                    if match:
                        return match.group(1)
    return ""


def _doc_number(lines: list[str]) -> str:
    for line in lines[:15]:
        if DOC_NUMBER.match(line.strip()):
            return re.sub(r"\s+", "", line.strip())
    return ""


def _disclosure(lines: list[str]) -> str:
    for line in lines:
        match = _DISCLOSURE.match(line.strip())
        if match:
            return match.group(1).replace("此件", "")
    return ""


def _describe(part: Part, parent: DocMeta | None, page: dict[str, str], source: Path) -> DocMeta:
    issuer, date = signature(part.lines)
    number = _doc_number(part.lines) or (page.get("发文字号", "") if part.kind == "main" else "")
    published = _iso(page.get("发布日期", "") or page.get("页面日期", ""))
    if parent is not None and part.kind == "attachment":
        doc_id = f"{parent.doc_id}-att{part.number}"
        entry = None
    else:
        entry = catalog.lookup(part.title, number)
        doc_id = entry.doc_id if entry else f"doc-{sha256(norm(''.join(part.lines)))[:12]}"
    title = (entry.title if entry and entry.title else None) or part.title
    inherited = parent if parent is not None else None
    date = (date or (inherited.date if inherited else "") or _iso(page.get("成文日期", ""))
            or _iso(page.get("页面日期", "")) or collection_date(source))
    issuer = issuer or (inherited.issuer if inherited else "") or (entry.issuer if entry else "")
    if part.kind == "attachment":
        short = catalog.ATTACHMENT_SHORT.get(doc_id, f"《{title}》")
        kind = "attachment"
    else:
        short = entry.short_title if entry else f"《{title}》"
        kind = entry.kind if entry else ("plan" if part.kind == "issued" else "notice")
    jurisdiction = (entry.jurisdiction if entry else "") or (inherited.jurisdiction if inherited else "") \
        or catalog.guess_jurisdiction(title, issuer)
    return DocMeta(
        doc_id=doc_id, title=title, short_title=short, issuer=issuer,
        doc_number=number or (inherited.doc_number if inherited else ""), date=date,
        jurisdiction=jurisdiction, kind=kind, validity=entry.validity if entry else "",
        audience="public", source_file=source.name, parent=inherited.doc_id if inherited else "",
        attachment=f"附件{part.number}" if part.kind == "attachment" and part.number else "",
        published=published or (inherited.published if inherited else ""),
        disclosure=_disclosure(part.lines) or (inherited.disclosure if inherited else ""),
    )


def ingest_file(path: str | Path) -> list[SourceDoc]:
    """Every document in one file (a notice and its attachments, or a cover and its plans)."""
    source = Path(path)
    cleaned = clean(read_lines(source))
    docs: list[SourceDoc] = []
    parent: DocMeta | None = None
    for part in split_parts(cleaned.lines):
        meta = _describe(part, parent, cleaned.page_meta, source)
        if part.kind == "main":
            parent = meta
        body_lines = part.lines
        docs.append(SourceDoc(meta, render_body(body_lines, meta.title)).sealed())
    return docs


@dataclass
class IngestResult:
    docs: list[SourceDoc] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)   # (file, kept file)
    messages: list[str] = field(default_factory=list)


def _fill_missing(kept: SourceDoc, dropped: list[SourceDoc]) -> SourceDoc:
    """Metadata the kept version lacks (e.g. the signature date) taken from its dropped duplicate."""
    for other in dropped:
        if compare(kept.body, other.body)[1] >= DUPLICATE or other.doc_id == kept.doc_id:
            changes = {f: getattr(other.meta, f) for f in ("date", "issuer", "doc_number", "published")
                       if not getattr(kept.meta, f) and getattr(other.meta, f)}
            if changes:
                kept = kept.with_meta(**changes)
    return kept


def ingest_paths(paths: list[str | Path]) -> IngestResult:
    """Ingest several files; a file whose text is contained in a more complete one is skipped."""
    per_file = [(Path(p), ingest_file(p)) for p in paths]
    texts = {p: "\n".join(d.body for d in docs) for p, docs in per_file}
    dropped: dict[Path, Path] = {}
    for i, (a, _) in enumerate(per_file):
        for b, _ in per_file[i + 1:]:
            if a in dropped or b in dropped:
                continue
            a_in_b, b_in_a = compare(texts[a], texts[b])
            if max(a_in_b, b_in_a) < DUPLICATE:
                continue
            small, large = (a, b) if len(texts[a]) <= len(texts[b]) else (b, a)
            dropped[small] = large
    result = IngestResult()
    by_path = dict(per_file)
    for path, docs in per_file:
        if path in dropped:
            large = dropped[path]
            result.skipped.append((path.name, large.name))
            result.messages.append(f"跳过 {path.name}：与 {large.name} 是同一文件，后者更完整（保留后者）")
            continue
        sources = [p for p, kept in dropped.items() if kept == path]
        extra = [d for p in sources for d in by_path[p]]
        result.docs.extend(_fill_missing(d, extra).sealed() for d in docs)
    parents = {d.doc_id: d.meta for d in result.docs}
    for i, doc in enumerate(result.docs):
        parent = parents.get(doc.meta.parent)
        if parent:
            changes = {f: getattr(parent, f) for f in ("date", "issuer") if not getattr(doc.meta, f)}
            if changes:
                result.docs[i] = doc.with_meta(**changes).sealed()
    return result
