#!/usr/bin/env python
"""Rebuild knowledge/sources/*.md from the seed documents. Safe to rerun.

    python scripts/build_sources.py [--seeds DIR] [--out DIR]

Seeds default to ../shared/seeds relative to the repository root; README files there are
collection notes, not documents.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    from jixiao.knowledge.ingest import ingest_paths, load_sources, write_sources
    from jixiao.knowledge.ingest.readers import SUPPORTED

    parser = argparse.ArgumentParser(description="从原始政策文件生成 knowledge/sources/*.md")
    parser.add_argument("--seeds", type=Path, default=ROOT.parent / "shared" / "seeds")
    parser.add_argument("--out", type=Path, default=ROOT / "knowledge" / "sources")
    args = parser.parse_args(argv)
    files = sorted(p for p in args.seeds.iterdir()
                   if p.is_file() and p.suffix.lower() in SUPPORTED and not p.name.upper().startswith("README"))
    if not files:
        print(f"在 {args.seeds} 中没有找到可导入的文件", file=sys.stderr)
        return 1
    result = ingest_paths(files)
    new_ids = {doc.doc_id for doc in result.docs}
    for old in load_sources(args.out):  # generated files whose document is gone
        if old.doc_id not in new_ids and old.meta.content_sha256:
            (args.out / f"{old.doc_id}.md").unlink()
            print(f"删除过期文件 {old.doc_id}.md")
    write_sources(result.docs, args.out)
    for message in result.messages:
        print(message)
    for doc in result.docs:
        print(f"写入 {doc.doc_id}.md  {doc.meta.short_title}  {doc.meta.date or '日期未知'}")
    print(f"共 {len(files)} 个文件，生成 {len(result.docs)} 篇文档，跳过重复 {len(result.skipped)} 个。")
    return 0


if __name__ == "__main__":
    sys.exit(main())
