"""Shared pieces of the helpdesk/outbox tests: a Services on SQLite or PostgreSQL, a recording deliverer."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pg import database_url

from jixiao.adapters import helpdesk, outbox  # noqa: F401  (declare their tables)
from jixiao.db import KV, create_all, make_engine
from jixiao.adapters.services import Services
from jixiao.settings import Settings

CITATION = {"doc_id": "cq-cbza-2024", "section": "五、", "quote": "抽查比例不少于30%"}


@dataclass
class FakeDeliverer:
    """Records pushes; `mode` True/False is returned, "raise" raises like a channel outage."""

    mode: object = True
    calls: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, user_id: str, text: str) -> bool:
        self.calls.append((user_id, text))
        if self.mode == "raise":
            raise ConnectionError("channel down")
        return self.mode


def make_services(request, backend: str, tmp_path: Path, deliverers: dict | None = None) -> Services:
    engine = make_engine(database_url(request, backend, tmp_path))
    create_all(engine)
    request.addfinalizer(engine.dispose)
    settings = Settings(data_dir=tmp_path / "var")
    return Services(settings=settings, engine=engine, kv=KV(engine), bot=None, deliverers=deliverers or {})
