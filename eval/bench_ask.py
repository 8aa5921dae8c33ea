"""`jixiao bench ask`: warm per-turn latency of the assistant over the golden questions, without an LLM."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

import typer

TARGET_P95_MS = 300.0


def run_bench(assistant, cases, repeat: int = 1) -> dict:
    """Time every turn of every case (`repeat` passes) after one warm-up turn; milliseconds."""
    from jixiao.eval.answer_eval import _pct

    assistant.reply("bench:warmup", "一年能申报几次？", "bench")  # loads models, caches, jieba
    times: list[float] = []
    by_intent: dict[str, list[float]] = {}
    for r in range(repeat):
        for case in cases:
            user = f"bench:{r}:{case.id}"
            for turn in case.turns:
                t0 = time.perf_counter()
                answer = assistant.reply(user, turn, "bench")
                ms = (time.perf_counter() - t0) * 1000
                times.append(ms)
                by_intent.setdefault(answer.intent or "?", []).append(ms)
    times.sort()
    return {"turns": len(times), "p50_ms": round(_pct(times, 50), 1), "p95_ms": round(_pct(times, 95), 1),
            "max_ms": round(times[-1], 1) if times else 0.0, "target_p95_ms": TARGET_P95_MS,
            "by_intent": {k: {"turns": len(v), "p50_ms": round(_pct(sorted(v), 50), 1),
                              "p95_ms": round(_pct(sorted(v), 95), 1)} for k, v in sorted(by_intent.items())}}


def format_markdown(result: dict, note: str = "") -> str:
    ok = "达标" if result["p95_ms"] <= result["target_p95_ms"] else "未达标"
    lines = ["# 问答延迟基准（jixiao bench ask，预热后、不用大模型）", ""]
    if note:
        lines += [f"> {note}", ""]
    lines += [f"共 {result['turns']} 轮；p50 {result['p50_ms']} ms，p95 {result['p95_ms']} ms，最大 {result['max_ms']} ms；"
              f"目标 p95 ≤ {result['target_p95_ms']:g} ms：{ok}。", "",
              "| 意图 | 轮数 | p50 (ms) | p95 (ms) |", "|---|---:|---:|---:|"]
    for intent, v in result["by_intent"].items():
        lines.append(f"| {intent} | {v['turns']} | {v['p50_ms']} | {v['p95_ms']} |")
    return "\n".join(lines) + "\n"


def register(group: typer.Typer) -> None:
    @group.command("ask")
    def bench_ask(
        out: Optional[Path] = typer.Option(None, "--out", help="Markdown 结果文件（默认 <data_dir>/eval/bench-ask.md）。"),
        repeat: int = typer.Option(1, "--repeat", min=1, help="金标问题跑几遍。"),
        as_json: bool = typer.Option(False, "--json", help="标准输出打印 JSON。"),
    ) -> None:
        """预热后逐轮计时金标问题（不用大模型），输出 p50/p95；目标 p95 ≤ 300 ms。"""
        from jixiao.eval.answer_eval import GOLDEN_PATH, build_eval_assistant, load_cases
        from jixiao.settings import Settings

        settings = Settings()
        assistant, note = build_eval_assistant(settings, llm=False)
        if note:
            typer.echo(f"警告：{note}", err=True)
        result = run_bench(assistant, load_cases(GOLDEN_PATH), repeat)
        table = format_markdown(result, note)
        out_path = Path(out) if out else Path(settings.data_dir) / "eval" / "bench-ask.md"
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(table, encoding="utf-8")
        typer.echo(json.dumps(result, ensure_ascii=False) if as_json else table)
        typer.echo(f"结果已写入 {out_path}", err=True)
