"""One uploaded file → what ingestion found, for an admin to confirm; bad files get a Chinese reason.

`inspect_upload(filename, data, existing)` checks the file (type, size, encrypted or text-less PDF),
ingests it with the usual pipeline (`ingest_paths`) and compares each document with the corpus
(`plan_additions`): the result lists, per document, title, number, date, jurisdiction, sections,
attachments and the duplicate verdict. Nothing is written: the caller stores the plan and applies it
when the admin confirms (`apply_plan`).
"""
from __future__ import annotations

import io
import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from jixiao.errors import InputError
from jixiao.knowledge.ingest.model import SourceDoc, parse_markdown, write_sources

UPLOAD_TYPES = {".txt": "TXT", ".html": "HTML", ".htm": "HTML", ".docx": "DOCX", ".pdf": "PDF"}
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MIN_TEXT_CHARS = 60          # fewer readable characters than this: no text layer (a scan) or an empty file
_SAFE_NAME = re.compile(r"[^\w.\-\u4e00-\u9fff]+")


@dataclass
class Found:
    doc_id: str
    title: str
    doc_number: str
    date: str
    jurisdiction: str
    kind: str
    parent: str
    attachment: str
    sections: list[str]           # the `##` headings (一、… / 第X条 / 附件N)
    chars: int
    verdict: str                  # add / replace / skip
    message: str


@dataclass
class Inspection:
    filename: str
    found: list[Found] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)       # pipeline messages (a file skipped as a duplicate …)
    write: list[str] = field(default_factory=list)       # markdown of the documents to write on confirmation
    delete: list[str] = field(default_factory=list)      # doc ids the new ones replace

    def to_json(self) -> dict:
        return {"filename": self.filename, "documents": [asdict(f) for f in self.found], "notes": self.notes,
                "writes": len(self.write), "replaces": self.delete}


def safe_filename(name: str) -> str:
    base = Path(name or "").name.strip() or "upload"
    return _SAFE_NAME.sub("_", base)[:120]


def check_file(filename: str, data: bytes) -> str:
    """The file's type label, or InputError with the reason in Chinese."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in UPLOAD_TYPES:
        raise InputError(f"不支持的文件类型 {suffix or '（无扩展名）'!r}：请上传 TXT、HTML、DOCX 或 PDF 文件。")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError(f"文件过大（{len(data) / 1024 / 1024:.1f} MB，上限 {MAX_UPLOAD_BYTES // 1024 // 1024} MB）："
                         "请去掉图片或拆分后再上传。")
    if not data.strip():
        raise InputError("文件是空的：请检查后重新上传。")
    if suffix == ".pdf":
        _check_pdf(data)
    if suffix == ".docx" and not data.startswith(b"PK"):
        raise InputError("文件扩展名是 .docx，但内容不是 Word 文档（可能是旧版 .doc 改了扩展名）：请在 Word 中另存为 .docx 后上传。")
    return UPLOAD_TYPES[suffix]


def _check_pdf(data: bytes) -> None:
    if not data.lstrip().startswith(b"%PDF"):
        raise InputError("文件扩展名是 .pdf，但内容不是 PDF：请上传原始 PDF 文件。")
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
    except Exception as exc:
        raise InputError(f"PDF 文件已损坏，无法打开（{exc}）：请重新导出后上传。") from exc
    if encrypted:
        raise InputError("PDF 文件已加密（设有密码或权限保护），无法读取其中的文字：请上传未加密的版本。")
    text = "".join((page.extract_text() or "") for page in reader.pages)
    if len(re.sub(r"\s+", "", text)) < MIN_TEXT_CHARS:
        raise InputError("PDF 中没有可提取的文字（可能是扫描件或图片）：请上传带文字的 PDF，或 Word、TXT 版本。")


def _sections(doc: SourceDoc) -> list[str]:
    return [line[3:].strip() for line in doc.body.splitlines() if line.startswith("## ")]


def inspect_upload(filename: str, data: bytes, existing: list[SourceDoc]) -> Inspection:
    """What the file holds and what confirming it would change; InputError (Chinese) for a bad file."""
    from jixiao.knowledge.ingest.cli import plan_additions
    from jixiao.knowledge.ingest.pipeline import ingest_paths

    name = safe_filename(filename)
    check_file(name, data)
    with tempfile.TemporaryDirectory(prefix="jixiao-upload-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        result = ingest_paths([path])
    docs = [d for d in result.docs if d.body.strip()]
    if sum(len(re.sub(r"\s+", "", d.body)) for d in docs) < MIN_TEXT_CHARS:
        raise InputError("文件中没有识别出政策文件正文（文字太少）：请确认上传的是政策文件本身。")
    write, delete, messages = plan_additions(docs, existing)
    writing = {d.doc_id for d in write}
    out = Inspection(name, notes=list(result.messages), write=[d.to_markdown() for d in write], delete=delete)
    for doc, message in zip(docs, messages):
        m = doc.meta
        verdict = "skip" if doc.doc_id not in writing else ("replace" if message.startswith("更新") else "add")
        out.found.append(Found(m.doc_id, m.title, m.doc_number, m.date, m.jurisdiction, m.kind, m.parent,
                               m.attachment, _sections(doc), len(doc.body), verdict, message))
    return out


def apply_plan(writes: list[str], deletes: list[str], out_dir: Path) -> list[str]:
    """Write the confirmed documents into `out_dir` (the data dir's sources); the doc ids written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for doc_id in deletes:
        (out_dir / f"{doc_id}.md").unlink(missing_ok=True)
    docs = [parse_markdown(text, "<upload>") for text in writes]
    write_sources(docs, out_dir)
    return [d.doc_id for d in docs]
