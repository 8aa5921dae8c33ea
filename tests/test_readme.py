"""The README opens with two commands; CI runs the second, this test runs the first (after setup)."""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block, "README must open with a ```bash block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_setup_and_test_commands():
    setup, tests = readme_commands()[:2]
    assert setup.startswith("bash scripts/setup.sh && ")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == tests, "the last line of .ci/run must be the README's test command"


def test_first_command_after_setup_runs_and_answers_with_sources(tmp_path):
    """Every `.venv/bin/jixiao …` step of the first command, on a hash-embedder index in tmp."""
    steps = [shlex.split(part) for part in readme_commands()[0].split("&&")[1:]]
    assert steps and all(s[0] == ".venv/bin/jixiao" for s in steps)
    env = {**os.environ, "JIXIAO_DATA_DIR": str(tmp_path), "JIXIAO_EMBEDDER": "hash"}
    answers = []
    for step in steps:
        args = step[1:]
        if args[0] == "ask":
            args = [*args, "--json"]
        done = subprocess.run([sys.executable, "-m", "jixiao", *args], capture_output=True, text=True,
                              timeout=300, env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr[-2000:]
        if args[0] == "ask":
            answers.append(json.loads(done.stdout.strip().splitlines()[-1]))
    assert len(answers) >= 2
    for a in answers:
        assert a["citations"] and all(c["doc_id"] and c["section"] for c in a["citations"]), a
        assert not a["escalate"], a["answer"]
