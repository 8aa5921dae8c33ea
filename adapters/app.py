"""`create_app(settings)`: one FastAPI app for web chat, WeChat and the helpdesk (`jixiao serve`)."""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI

from jixiao.adapters.db import KV, create_all, make_engine
from jixiao.adapters.services import Services
from jixiao.settings import Settings

log = logging.getLogger(__name__)


def build_services(settings: Settings) -> Services:
    """Stores and the assistant, loaded once per process."""
    from jixiao.bot.dialogue import build_dialogue

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url())
    _import_tables()
    create_all(engine)
    return Services(settings=settings, engine=engine, kv=KV(engine), bot=build_dialogue(settings))


def _import_tables() -> None:
    # modules that declare tables on jixiao.adapters.db.metadata
    from jixiao.adapters import auth, helpdesk, outbox  # noqa: F401


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    settings = settings or (services.settings if services else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if getattr(app.state, "services", None) is None:
            app.state.services = build_services(settings)
        yield
        app.state.services.engine.dispose()

    app = FastAPI(title="jixiao 绩效评级政策助手", version="0.1.0", lifespan=lifespan,
                  description="重污染天气重点行业绩效分级政策助手：网页对话、微信公众号、人工服务台。")
    app.state.services = services
    from jixiao.adapters import helpdesk, web, wechat

    app.include_router(web.router)
    app.include_router(wechat.router)
    app.include_router(helpdesk.router)
    return app
