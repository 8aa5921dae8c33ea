#!/usr/bin/env bash
# Create .venv and install jixiao with its test dependencies. Safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
mkdir -p var
log=var/setup.log
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# CPU torch first (a local wheel on these machines); otherwise sentence-transformers pulls CUDA builds.
if ! { .venv/bin/python -m pip install --upgrade pip \
      && .venv/bin/python -m pip install torch==2.13.0 \
      && .venv/bin/python -m pip install -e '.[dev]'; } >"$log" 2>&1; then
  tail -n 40 "$log"
  echo "安装失败，完整日志见 $log" >&2
  exit 1
fi
echo "jixiao 已安装：.venv/bin/jixiao --help（安装日志：$log）"
