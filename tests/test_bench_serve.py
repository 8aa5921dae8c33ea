"""`jixiao bench serve` runs its three parts in one run (small numbers: this checks the harness, not the speed)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_bench_serve_reports_workers_ratio_open_loop_and_slow_llm(tmp_path):
    out = tmp_path / "bench-serve.md"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIXIAO_")} | {
        "JIXIAO_DATA_DIR": str(tmp_path / "var"), "JIXIAO_EMBEDDER": "hash", "JIXIAO_LLM_DEADLINE": "0.5"}
    run = subprocess.run([str(Path(sys.executable).with_name("jixiao")), "bench", "serve", "--clients", "3",
                          "--requests", "2", "--rate", "4", "--seconds", "2", "--llm-delay", "3", "--tools-only",
                          "--out", str(out)], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    rows = [line.split("|")[1:-1] for line in out.read_text(encoding="utf-8").splitlines()[6:] if line.startswith("|")]
    labels = [r[0].strip() for r in rows]
    assert labels[0].endswith("1 进程") and labels[1].endswith("2 进程") and "开环 4 条/秒" in labels[2]
    assert "吞吐比" in labels[3] and float(rows[3][-1].strip(" *")) > 0
    for row in rows[:3] + rows[4:8]:
        assert row[1].strip() == row[2].strip()  # every request succeeded
    llm = [r for r in rows if "大模型起草的问题" in r[0]]
    others = [r for r in rows if "其他用户" in r[0]]
    assert len(llm) == len(others) == 2
    drafts = int(rows[-1][1])
    assert drafts > 0  # the fake LLM was really asked
    # drafts are abandoned at the 0.5 s deadline: the deterministic answers go out well before the LLM's 3 s
    assert all(float(r[4]) < 2500 for r in llm)
