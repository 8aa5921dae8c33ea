"""`jixiao bench retrieval`: index build time, model load time, warm query latency, peak RSS."""
from __future__ import annotations

import resource
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import typer

TARGET_P95_MS = 150.0
TARGET_BUILD_S = 120.0


@dataclass(frozen=True)
class RetrievalBench:
    embedder: str
    chunks: int
    build_s: float | None          # None when the build was skipped
    load_s: float                  # fresh embedder warm_up (model load)
    open_s: float                  # retriever warm_up over the index (stores, BM25, vectors, jieba)
    queries: int
    p50_ms: float
    p95_ms: float
    peak_rss_mb: float


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0   # Linux reports KiB


def run_bench(config, questions: list[str], build: bool = True) -> RetrievalBench:
    """Build a fresh index in a temp dir (unless `build` is False: then `config.data_dir` is used),
    time a fresh model load, then time every question once after one warm-up query. Each question is
    asked once, so the embedder's query cache never answers for it."""
    from dataclasses import replace

    from jixiao.retrieval.embed import make_embedder
    from jixiao.retrieval.search import Retriever

    tmp = None
    build_s = None
    if build:
        tmp = Path(tempfile.mkdtemp(prefix="bench-", dir=str(Path(config.data_dir))))
        config = replace(config, data_dir=tmp)
    try:
        embedder = make_embedder(config.embedder, config.embedder_model)
        t0 = time.perf_counter()
        embedder.warm_up()
        load_s = time.perf_counter() - t0
        retriever = Retriever(config, embedder=embedder)
        if build:
            t0 = time.perf_counter()
            retriever.index(rebuild=True)
            build_s = time.perf_counter() - t0
            retriever = Retriever(config, embedder=embedder)    # query from what was persisted
        t0 = time.perf_counter()
        retriever.warm_up()
        open_s = time.perf_counter() - t0
        retriever.search("预热：第一次查询", k=5)     # not a golden question: none of them is cached
        latencies = []
        for q in questions:
            t0 = time.perf_counter()
            retriever.search(q, k=5)
            latencies.append((time.perf_counter() - t0) * 1000)
        chunks = len(retriever._load_bm25())
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return RetrievalBench(embedder.name, chunks, build_s, load_s, open_s, len(latencies),
                          percentile(latencies, 50) if latencies else 0.0,
                          percentile(latencies, 95) if latencies else 0.0, peak_rss_mb())


def format_bench(b: RetrievalBench) -> str:
    def ok(value: float | None, target: float) -> str:
        return "-" if value is None else ("达标 ok" if value <= target else "未达标 over")

    build = "未测 skipped" if b.build_s is None else f"{b.build_s:.1f} s"
    rows = [
        ("索引构建（新目录）index build, fresh dir", f"{build}（{b.chunks} 片段 chunks）", f"≤ {TARGET_BUILD_S:.0f} s",
         ok(b.build_s, TARGET_BUILD_S)),
        ("模型加载 model load", f"{b.load_s:.2f} s", "", ""),
        ("打开索引 open index (warm_up)", f"{b.open_s:.2f} s", "", ""),
        (f"热查询 warm query p50（{b.queries} 题）", f"{b.p50_ms:.1f} ms", "", ""),
        (f"热查询 warm query p95（{b.queries} 题）", f"{b.p95_ms:.1f} ms", f"≤ {TARGET_P95_MS:.0f} ms",
         ok(b.p95_ms, TARGET_P95_MS)),
        ("峰值内存 peak RSS", f"{b.peak_rss_mb:.0f} MB", "", ""),
    ]
    out = [f"## 检索基准 retrieval bench（嵌入模型 embedder: {b.embedder}）", "",
           "| 指标 metric | 结果 value | 目标 target | 结论 |", "|---|---:|---:|---|"]
    out += [f"| {a} | {v} | {t} | {o} |" for a, v, t, o in rows]
    return "\n".join(out) + "\n"


def register(group: typer.Typer) -> None:
    @group.command("retrieval")
    def bench_retrieval_cmd(
        skip_build: bool = typer.Option(False, "--skip-build", help="不重建索引，直接用 <data_dir> 里已有的索引测查询。"),
        golden: Optional[Path] = typer.Option(None, "--golden", help="提问来源（默认检索金标集）。"),
        out: Optional[Path] = typer.Option(None, "--out", help="Markdown 结果文件（默认 <data_dir>/eval/bench-retrieval.md）。"),
    ) -> None:
        """检索基准：新目录建索引耗时、模型加载耗时、热查询 p50/p95、峰值内存。"""
        from jixiao.errors import ConfigError
        from jixiao.eval.retrieval_eval import GOLDEN_PATH, load_golden
        from jixiao.retrieval.search import RetrievalConfig
        from jixiao.settings import Settings

        settings = Settings()
        config = RetrievalConfig.from_settings(settings)
        Path(config.data_dir).mkdir(parents=True, exist_ok=True)
        questions = [c.question for c in load_golden(golden or GOLDEN_PATH)]
        try:
            result = run_bench(config, questions, build=not skip_build)
        except ConfigError as exc:
            typer.echo(f"错误：{exc}", err=True)
            raise typer.Exit(1)
        table = format_bench(result)
        out_path = Path(out) if out else Path(settings.data_dir) / "eval" / "bench-retrieval.md"
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(table, encoding="utf-8")
        typer.echo(table)
        typer.echo(f"结果已写入 {out_path}")
