"""What the FastAPI app shares between routers: built once in the lifespan, read from `app.state.services`.

Routers never build their own stores; tests build a `Services` with fakes where the real thing is out
of reach (WeChat's API servers) and pass it to `create_app`.
"""
from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from fastapi import Request
from sqlalchemy.engine import Engine

from jixiao.db import KV
from jixiao.settings import Settings

log = logging.getLogger(__name__)


class Replier(Protocol):
    """`jixiao.bot` chat entry point: Dialogue (assessment + assistant) or a bare Assistant."""

    def reply(self, user_id: str, text: str, channel: str = "cli") -> Any: ...  # -> jixiao.bot.answer.Answer


class OrderedReplier:
    """Turns of different users run at once; turns of one user run in order, across worker processes.

    No process-wide lock: the web chat runs turns in FastAPI's thread pool and WeChat in the desk's worker
    threads, all concurrently. `order` (`jixiao.adapters.turn_order.TurnOrder`) serialises one user's turns
    (an in-process per-user lock, then a lease row in the shared database for the other workers).
    `before_turn()` runs first on every turn (the corpus version check: a document uploaded through any
    worker is answered from at once); its failure is logged and the turn goes on with what is loaded.
    """

    def __init__(self, bot: Replier, order: Any, before_turn: Callable[[], Any] | None = None):
        self.bot, self.order, self.before_turn = bot, order, before_turn

    def reply(self, user_id: str, text: str, channel: str = "cli") -> Any:
        if self.before_turn is not None:
            try:
                self.before_turn()
            except Exception:
                log.exception("before-turn hook failed; answering from the loaded corpus")
        with self.order.turn(user_id):
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

    def close(self) -> None:
        """Release what the routers hold (the app's lifespan calls this on shutdown), then the engine's pool.

        Every extra with a `close()` that takes no arguments is closed and forgotten, together with the
        deliverers bound to it, so an app started again on these services installs fresh ones lazily.
        (`Helpdesk.close(ticket_id, staff)` is a ticket action, not a resource: it is left alone.)
        A failing close is logged and does not stop the others.
        """
        for name, extra in list(self.extras.items()):
            close = getattr(extra, "close", None)
            if not callable(close) or not _takes_no_arguments(close):
                continue
            try:
                close()
            except Exception:
                log.exception("closing services.extras[%r] failed", name)
            self.extras.pop(name, None)
            for channel, deliver in list(self.deliverers.items()):
                if getattr(deliver, "__self__", None) is extra:
                    del self.deliverers[channel]
        self.engine.dispose()


def _takes_no_arguments(fn: Callable) -> bool:
    try:
        inspect.signature(fn).bind()
    except TypeError:  # required parameters
        return False
    except ValueError:  # no signature (some builtins): assume the usual close()
        return True
    return True


def get_services(request: Request) -> Services:
    return request.app.state.services
