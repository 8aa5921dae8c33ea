"""`jixiao index` and `jixiao search`: wired into the root app by `register(app)`."""
from __future__ import annotations

import json
import sys
from typing import Optional

import typer


def _retriever():
    from jixiao.retrieval.search import RetrievalConfig, Retriever

    return Retriever(RetrievalConfig.from_settings())


def register(app: typer.Typer) -> None:
    @app.command("index")
    def index_cmd(rebuild: bool = typer.Option(False, "--rebuild", help="丢弃向量索引后重建（更换嵌入模型后必须）。")) -> None:
        """建立/增量更新检索索引（按内容哈希，只嵌入新增或变化的片段）。"""
        def progress(done: int, total: int) -> None:
            typer.echo(f"嵌入 {done}/{total}", err=True)

        from jixiao.knowledge.corpus import open_corpus

        from jixiao.bot.sentence_vectors import build

        corpus = open_corpus()
        retriever = _retriever()
        report = retriever.index(rebuild=rebuild, progress=progress, docs=corpus.documents())
        sentences = build(retriever, progress=lambda done, total: typer.echo(f"句子向量 {done}/{total}", err=True))
        corpus.bump()  # running workers reload before their next turn
        corpus.engine.dispose()
        typer.echo(f"chunks={report.chunks} added={report.added} removed={report.removed} "
                   f"kept={report.kept} cards={report.cards} cards_added={report.cards_added} "
                   f"sentences={sentences} seconds={report.seconds:.1f}")
        for card_id in report.orphans:
            typer.echo(f"孤立的条款卡片（锚文字已不在任何片段中，请改写或删除）：{card_id}", err=True)

    @app.command("search")
    def search_cmd(
        question: Optional[str] = typer.Argument(None, help="问题；与 --json 同用且省略时从标准输入逐行读取。"),
        k: int = typer.Option(5, "-k", help="返回条数。"),
        as_json: bool = typer.Option(False, "--json", help="每个问题输出一行 JSON。"),
        jurisdiction: Optional[str] = typer.Option(None, "--jurisdiction", help="只查某地文件，如 重庆。"),
        kind: Optional[str] = typer.Option(None, "--kind", help="notice / attachment / plan / guide"),
    ) -> None:
        """检索政策原文片段（向量 + 关键词/拼音 BM25 融合）。"""
        if question is None and not as_json:
            raise typer.BadParameter("请给出问题，或用 --json 从标准输入读取")
        retriever = _retriever()
        retriever.warm_up()
        filters = {"jurisdiction": jurisdiction, "kind": kind}
        questions = [question] if question is not None else [ln.strip() for ln in sys.stdin if ln.strip()]
        for q in questions:
            hits = retriever.search(q, k=k, filters=filters)
            if as_json:
                typer.echo(json.dumps({"question": q, "results": [h.to_json() for h in hits]}, ensure_ascii=False))
                continue
            typer.echo(f"问：{q}")
            for i, h in enumerate(hits, 1):
                snippet = h.text.split("\n", 1)[-1].replace("\n", " ")[:120]
                typer.echo(f"{i}. [{h.score:.3f}] {h.title} {h.section}\n   {snippet}")


def register_cards(app: typer.Typer) -> None:
    """`jixiao cards check [DIR]`: validate question cards and resolve every clause card against today's chunks."""
    cards_app = typer.Typer(help="问题卡片（knowledge/cards/）：校验。", no_args_is_help=True)
    app.add_typer(cards_app, name="cards")

    @cards_app.command("check")
    def check_cmd(folder: Optional[str] = typer.Argument(None, help="卡片目录；默认内置目录加 <数据目录>/cards")) -> None:
        """校验卡片格式、工具名、编号唯一，并检查每张条款卡片的锚文字仍在某个片段中。"""
        from pathlib import Path

        from jixiao.bot.tools import TOOL_NAMES
        from jixiao.knowledge.cards import CardError, card_dirs, load_cards, resolve_clauses
        from jixiao.knowledge.ingest.model import load_corpus
        from jixiao.retrieval.chunks import chunk_documents

        retriever = _retriever()
        dirs = [Path(folder)] if folder else card_dirs([Path(retriever.config.data_dir) / "cards"])
        try:
            cards = load_cards(dirs, tools=TOOL_NAMES)
        except CardError as exc:
            typer.echo(f"卡片有误：{exc}", err=True)
            raise typer.Exit(1)
        _, orphans = resolve_clauses(cards, chunk_documents(load_corpus(retriever.config.corpus_dirs())))
        counts = "，".join(f"{kind} {n} 张 {q} 问" for kind, (n, q) in sorted(cards.counts().items()))
        typer.echo(f"卡片：{counts}")
        for card in orphans:
            typer.echo(f"孤立的条款卡片（锚文字“{card.anchor}”已不在 {card.doc_id} 的任何片段中）：{card.id}", err=True)
        if orphans:
            raise typer.Exit(1)
