"""Real server processes for integration tests: `chroma run` and `jixiao serve --workers N` on loopback.

Plain context managers (import as `from procs import ...`); each process logs to a file under the test's
tmp dir, which the failure message quotes.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx

VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(proc: subprocess.Popen, url: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {timeout:.0f} s:\n{log.read_text(errors='replace')[-3000:]}")


@contextlib.contextmanager
def _process(cmd: list[str], url: str, log: Path, env: dict | None = None, timeout: float = 120.0,
             cwd: Path | None = None) -> Iterator[subprocess.Popen]:
    out = open(log, "wb")
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True)
    try:
        _wait(proc, url, log, timeout)
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        out.close()


@contextlib.contextmanager
def chroma_server(path: Path) -> Iterator[str]:
    """`chroma run --path <path> --host 127.0.0.1 --port <free>` (shipped with chromadb); yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    path.mkdir(parents=True, exist_ok=True)
    cmd = [str(VENV_BIN / "chroma"), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
    with _process(cmd, url + "/api/v2/heartbeat", path.parent / f"chroma-{port}.log", timeout=60):
        yield url


@contextlib.contextmanager
def jixiao_serve(env: dict, log: Path, workers: int = 2, timeout: float = 180.0) -> Iterator[str]:
    """`jixiao serve --workers N` in its own process group on a free port; yields the base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [str(VENV_BIN / "jixiao"), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    with _process(cmd, url + "/healthz", log, env=env, timeout=timeout, cwd=log.parent):
        yield url


def run_cli(args: list[str], env: dict, stdin: str | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    done = subprocess.run([str(VENV_BIN / "jixiao"), *args], env=env, input=stdin, capture_output=True, text=True,
                          timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"jixiao {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done
