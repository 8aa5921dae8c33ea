"""SourceDoc: front-matter metadata plus Markdown body, and its file format (docs/contracts.md)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from jixiao.errors import DataError


@dataclass(frozen=True)
class DocMeta:
    doc_id: str
    title: str
    short_title: str = ""
    issuer: str = ""
    doc_number: str = ""
    date: str = ""                 # ISO date the document was signed (成文日期)
    jurisdiction: str = "全国"
    kind: str = "notice"           # notice / attachment / plan / guide
    validity: str = ""
    audience: str = "public"       # public / staff
    source_file: str = ""
    parent: str = ""
    attachment: str = ""           # how the parent notice names it: "附件2" ("" for a main document)
    content_sha256: str = ""
    published: str = ""            # ISO date of publication, when the page gives one
    disclosure: str = ""           # e.g. 依申请公开 (still public once released)
    extra: dict = field(default_factory=dict, compare=False)


FIELDS = [f.name for f in dataclasses.fields(DocMeta) if f.name != "extra"]


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SourceDoc:
    meta: DocMeta
    body: str

    @property
    def doc_id(self) -> str:
        return self.meta.doc_id

    def with_meta(self, **changes) -> "SourceDoc":
        return SourceDoc(dataclasses.replace(self.meta, **changes), self.body)

    def sealed(self) -> "SourceDoc":
        """The same document with content_sha256 computed from its body."""
        return self.with_meta(content_sha256=sha256(self.body))

    def to_markdown(self) -> str:
        data = {name: getattr(self.meta, name) for name in FIELDS}
        data = {k: v for k, v in data.items() if v or k in ("doc_id", "title", "audience", "date")}
        data.update(self.meta.extra)
        front = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)
        return f"---\n{front}---\n{self.body}"


def parse_markdown(text: str, where: str = "<text>") -> SourceDoc:
    if not text.startswith("---"):
        raise DataError(f"{where}: no YAML front matter (the file must start with '---')")
    try:
        _, front, body = text.split("---\n", 2)
        data = yaml.safe_load(front) or {}
    except (ValueError, yaml.YAMLError) as exc:
        raise DataError(f"{where}: unreadable front matter: {exc}") from exc
    if "doc_id" not in data:
        raise DataError(f"{where}: front matter has no doc_id")
    known = {k: ("" if v is None else v.isoformat() if isinstance(v, dt.date) else str(v))
             for k, v in data.items() if k in FIELDS}
    known.setdefault("title", known["doc_id"])
    extra = {k: v for k, v in data.items() if k not in FIELDS}
    return SourceDoc(DocMeta(**known, extra=extra), body)


def write_sources(docs: list[SourceDoc], out_dir: str | Path) -> list[Path]:
    """Write each document to <out_dir>/<doc_id>.md; returns the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for doc in docs:
        path = out / f"{doc.doc_id}.md"
        path.write_text(doc.sealed().to_markdown(), encoding="utf-8")
        paths.append(path)
    return paths


def read_source(doc_id: str, directory: str | Path) -> SourceDoc | None:
    """One source by id, or None when the document is not in the corpus."""
    path = Path(directory) / f"{doc_id}.md"
    return parse_markdown(path.read_text(encoding="utf-8"), str(path)) if path.is_file() else None


def load_sources(directory: str | Path) -> list[SourceDoc]:
    """Every <doc_id>.md in a folder, parsed (sorted by doc id); a missing folder is empty."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    return [parse_markdown(p.read_text(encoding="utf-8"), str(p)) for p in sorted(folder.glob("*.md"))]


def load_corpus(dirs: list[str | Path]) -> list[SourceDoc]:
    """Every source document in `dirs`, a later folder's document replacing an earlier one with its id."""
    docs: dict[str, SourceDoc] = {}
    for folder in dirs:
        if Path(folder).is_dir():
            for doc in load_sources(folder):
                docs[doc.doc_id] = doc
    return list(docs.values())
