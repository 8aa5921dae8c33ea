"""What the FastAPI app shares between routers: built once in the lifespan, read from `app.state.services`.

Routers never build their own stores; tests build a `Services` with fakes where the real thing is out
of reach (WeChat's API servers) and pass it to `create_app`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from fastapi import Request
from sqlalchemy.engine import Engine

from jixiao.adapters.db import KV
from jixiao.settings import Settings


class Replier(Protocol):
    """`jixiao.bot` chat entry point: Dialogue (assessment + assistant) or a bare Assistant."""

    def reply(self, user_id: str, text: str, channel: str = "cli") -> Any: ...  # -> jixiao.bot.answer.Answer


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
