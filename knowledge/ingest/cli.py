"""`jixiao docs …`: add policy files to the corpus, list what is loaded."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from jixiao.errors import InputError
from jixiao.knowledge.ingest.dedup import DUPLICATE, SAME, compare
from jixiao.knowledge.ingest.model import SourceDoc, load_sources, write_sources
from jixiao.knowledge.ingest.pipeline import ingest_paths

docs_app = typer.Typer(help="政策文件：导入、列表。", no_args_is_help=True, add_completion=False)


def _default_dir() -> Path:
    """Where added documents go: `<data_dir>/sources` (never the installed package)."""
    from jixiao.settings import Settings

    return Path(Settings().data_dir) / "sources"


def plan_additions(new: list[SourceDoc], existing: list[SourceDoc]) -> tuple[list[SourceDoc], list[str], list[str]]:
    """(documents to write, doc ids to delete, messages): re-adding a present document is a no-op."""
    write: list[SourceDoc] = []
    delete: list[str] = []
    messages: list[str] = []
    for doc in new:
        verdict = None
        ordered = sorted(existing, key=lambda old: old.doc_id != doc.doc_id)  # same id first
        for old in ordered:
            same_id = old.doc_id == doc.doc_id
            if old.meta.content_sha256 == doc.meta.content_sha256:
                verdict = ("skip", f"已存在：{doc.doc_id}（与 {old.doc_id}.md 内容相同），跳过")
                break
            new_in_old, old_in_new = compare(doc.body, old.body)
            comparable = same_id or min(len(doc.body), len(old.body)) >= 0.5 * max(len(doc.body), len(old.body))
            if not comparable:
                continue
            if min(new_in_old, old_in_new) >= SAME:
                verdict = ("skip", f"已存在：{doc.doc_id}（与 {old.doc_id}.md 内容相同），跳过")
                break
            if new_in_old >= DUPLICATE and len(doc.body) <= len(old.body):
                verdict = ("skip", f"重复：{doc.doc_id} 的内容已包含在更完整的 {old.doc_id}.md 中，跳过")
                break
            if old_in_new >= DUPLICATE or same_id:
                verdict = ("replace", f"更新：{doc.doc_id} 比已有的 {old.doc_id}.md 更完整或更新，已替换")
                if not same_id:
                    delete.append(old.doc_id)
                break
        if verdict is None:
            verdict = ("add", f"新增：{doc.doc_id}  {doc.meta.title}")
        messages.append(verdict[1])
        if verdict[0] != "skip":
            write.append(doc)
    return write, delete, messages


@docs_app.command("add")
def add(files: list[Path] = typer.Argument(..., help="要导入的文件（txt/md/html/docx/pdf）"),
        out: Optional[Path] = typer.Option(None, "--out", help="输出目录（默认为知识库 sources 目录）")) -> None:
    """导入政策文件：清理网页噪声、识别结构、拆分附件，去重后写入知识库。"""
    out_dir = out or _default_dir()
    try:
        result = ingest_paths(files)
    except InputError as exc:
        typer.echo(f"导入失败：{exc}", err=True)
        raise typer.Exit(code=2)
    for message in result.messages:
        typer.echo(message)
    existing = load_sources(out_dir) if out_dir.is_dir() else []
    if out is None:  # compared with the packaged sources too: re-adding a packaged notice is a duplicate
        from jixiao.settings import Settings

        existing += load_sources(Settings().sources_dir)
    write, delete, messages = plan_additions(result.docs, existing)
    for message in messages:
        typer.echo(message)
    for doc_id in delete:
        (out_dir / f"{doc_id}.md").unlink(missing_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_sources(write, out_dir)
    typer.echo(f"完成：写入 {len(write)} 篇，跳过 {len(result.docs) - len(write)} 篇，目录 {out_dir}"
               + ("；运行 `jixiao index` 后即可检索" if write else ""))


@docs_app.command("list")
def list_docs(as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
              directory: Optional[Path] = typer.Option(None, "--dir", help="sources 目录")) -> None:
    """列出知识库中已导入的政策文件（内置文件与工作人员添加的文件）。"""
    from jixiao.settings import Settings

    dirs = [directory] if directory else [Path(Settings().sources_dir), _default_dir()]
    docs = [d for folder in dirs if folder.is_dir() for d in load_sources(folder)]
    rows = [{"doc_id": d.doc_id, "title": d.meta.title, "short_title": d.meta.short_title, "date": d.meta.date,
             "jurisdiction": d.meta.jurisdiction, "kind": d.meta.kind, "parent": d.meta.parent} for d in docs]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo("知识库中还没有文件。用 `jixiao docs add 文件` 导入。")
        return
    for row in rows:
        typer.echo(f"{row['doc_id']:<24} {row['date'] or '日期未知':<10} {row['jurisdiction']:<4} {row['title']}")
    typer.echo(f"共 {len(rows)} 篇")
