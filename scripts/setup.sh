#!/usr/bin/env bash
# Create .venv and install jixiao with its test dependencies. Safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev]'
echo "jixiao 已安装：.venv/bin/jixiao --help"
