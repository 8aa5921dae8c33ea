"""What the FastAPI app shares between routers: built once in the lifespan, read from `app.state.services`.

Routers never build their own stores; tests build a `Services` with fakes where the real thing is out
of reach (WeChat's API servers) and pass it to `create_app`.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from fastapi import Request
from sqlalchemy.engine import Engine

from jixiao.adapters.db import KV
from jixiao.settings import Settings


class Replier(Protocol):
    """`jixiao.bot` chat entry point: Dialogue (assessment + assistant) or a bare Assistant."""

    def reply(self, user_id: str, text: str, channel: str = "cli") -> Any: ...  # -> jixiao.bot.answer.Answer


class SerialReplier:
    """One turn at a time per process: the assistant's stores and models are shared by every channel's threads."""

    def __init__(self, bot: Replier):
        self.bot = bot
        self._lock = threading.Lock()

    def reply(self, user_id: str, text: str, channel: str = "cli") -> Any:
        with self._lock:
            return self.bot.reply(user_id, text, channel)

    def __getattr__(self, name: str) -> Any:  # e.g. the assessment's `pending`
        return getattr(self.bot, name)


# channel name ("wechat", "web") → deliver(user_id, text) -> True when pushed to the user now
Deliverer = Callable[[str, str], bool]


@dataclass
class Services:
    settings: Settings
    engine: Engine
    kv: KV
    bot: Replier
    deliverers: dict[str, Deliverer] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)  # per-router singletons (wechat client, helpdesk …)


def get_services(request: Request) -> Services:
    return request.app.state.services
