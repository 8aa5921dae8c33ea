"""A throwaway PostgreSQL cluster for the store tests ("a PostgreSQL URL works unchanged").

`database_url(request, backend)` returns a SQLAlchemy URL with empty tables: SQLite under the test's
tmp_path, or a database on one cluster per test session (initdb + pg_ctl from
/usr/lib/postgresql/*/bin, run as the `postgres` OS user when we are root, unix socket only, in a
temp dir, stopped when the session ends). Without the server binaries or psycopg the PostgreSQL
cases skip, or fail when JIXIAO_REQUIRE_PG=1 (CI installs Debian's `postgresql`).
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

BACKENDS = ("sqlite", "postgresql")


def _missing(reason: str):
    if os.environ.get("JIXIAO_REQUIRE_PG") == "1":
        pytest.fail(f"PostgreSQL tests required (JIXIAO_REQUIRE_PG=1) but {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL not available: {reason}")


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[4]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="jixiao-pg-"))
        self.port = _free_port()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self.n = 0

    def _run(self, *args: str) -> None:
        cmd = (["runuser", "-u", "postgres", "--"] if self.as_postgres else []) + list(args)
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = (self.root / "log").read_text(errors="replace")[-2000:] if (self.root / "log").exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed ({done.returncode}): {done.stderr[-2000:]}\n{log}")

    def start(self) -> "Cluster":
        data = self.root / "data"
        self._run(str(self.bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                  "--encoding=UTF8", "--no-locale", "--no-sync")
        opts = (f"-p {self.port} -k {self.root} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
                f"-c full_page_writes=off -c shared_buffers=16MB -c max_connections=40")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(self.root / "log"),
                  "-w", "-t", "60", "start")
        return self

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        except Exception:  # noqa: BLE001 - best effort; the temp dir goes either way
            pass
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@/{dbname}?host={self.root}&port={self.port}"

    def new_database(self) -> str:
        """A fresh, empty database (CREATE DATABASE from template0 is cheap with fsync off)."""
        from sqlalchemy import create_engine, text

        self.n += 1
        name = f"t{os.getpid()}_{self.n}"
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
        finally:
            engine.dispose()
        return self.url(name)


def cluster(request) -> Cluster:
    """The session's cluster, started on first use and stopped when pytest exits."""
    config = request.config
    found = getattr(config, "_jixiao_pg", None)
    if isinstance(found, Cluster):
        return found
    if isinstance(found, str):
        _missing(found)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        config._jixiao_pg = "psycopg is not installed (pip install 'psycopg[binary]')"
        _missing(config._jixiao_pg)
    bindir = _bindir()
    if bindir is None:
        config._jixiao_pg = ("no server binaries under /usr/lib/postgresql/*/bin; "
                             "install Debian's package: apt-get install postgresql")
        _missing(config._jixiao_pg)
    c = Cluster(bindir)
    try:
        c.start()
    except Exception as e:  # noqa: BLE001
        c.stop()
        config._jixiao_pg = f"the throwaway cluster did not start: {e}"
        _missing(config._jixiao_pg)
    config._jixiao_pg = c
    config.add_cleanup(c.stop)
    return c


def database_url(request, backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'jixiao.db'}"
    return cluster(request).new_database()
