"""`create_app(settings)`: one FastAPI app for web chat, WeChat and the helpdesk (`jixiao serve`)."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from contextlib import asynccontextmanager, suppress
from importlib.resources import files
from pathlib import Path

import anyio
from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from jixiao.db import KV, create_all, make_engine
from jixiao.adapters.services import OrderedReplier, Services
from jixiao.settings import Settings

log = logging.getLogger(__name__)
INDEX_HINT = "没有检索索引，仅用查询工具作答；运行 `jixiao index` 建立索引后重启即可检索政策原文"


# ---------------------------------------------------------------- logging

class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {"ts": self.formatTime(record), "level": record.levelname, "logger": record.name,
                "msg": record.getMessage()}
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def configure_logging(settings: Settings, level: int = logging.INFO) -> None:
    """Key-value lines on stderr (JIXIAO_LOG_JSON=true: one JSON object per line); for `jixiao serve`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter() if settings.log_json else
                         logging.Formatter("%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry WeChat's access_token in the URL


# ---------------------------------------------------------------- services

def index_ready(settings: Settings) -> bool:
    return (Path(settings.data_dir) / "retrieval" / "bm25.json").is_file()


def build_services(settings: Settings) -> Services:
    """Stores, the helpdesk and the assistant (with the helpdesk's curated answers), loaded once per process."""
    from jixiao.adapters import wechat
    from jixiao.adapters.helpdesk import Helpdesk
    from jixiao.bot.dialogue import build_dialogue

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url())
    _import_tables()
    create_all(engine)
    services = Services(settings=settings, engine=engine, kv=KV(engine), bot=None)  # type: ignore[arg-type]
    # no "web" deliverer: a browser cannot be pushed to, so helpdesk answers wait in the outbox for /api/inbox
    helpdesk = services.extras["helpdesk"] = Helpdesk(services)
    if not index_ready(settings):
        log.warning(INDEX_HINT + " data_dir=%s", settings.data_dir)
    services.bot = _ordered(build_dialogue(settings, curated=helpdesk.curated, engine=engine), services)
    wechat.install(services)  # extras["wechat"], deliverers["wechat"]
    from jixiao.adapters.docs_admin import jobs_of

    jobs_of(services).recover()  # index jobs a stopped worker left unfinished
    log.info("services ready db=%s", engine.url.render_as_string(hide_password=True))
    return services


def _ordered(dialogue, services: Services) -> OrderedReplier:
    """Concurrent turns in per-user order; before each turn, the corpus version check (uploads answer at once)."""
    from jixiao.adapters.turn_order import TurnOrder
    from jixiao.knowledge.corpus import Corpus, CorpusWatch

    retriever = getattr(getattr(dialogue, "assistant", None), "search", None)
    watch = services.extras["corpus_watch"] = CorpusWatch(Corpus(services.settings, services.engine), retriever)
    return OrderedReplier(dialogue, TurnOrder(services.engine), before_turn=watch.check)


def _import_tables() -> None:
    # modules that declare tables on jixiao.db.metadata
    from jixiao.adapters import auth, corpus_jobs, helpdesk, outbox, turn_order, wechat_jobs  # noqa: F401
    from jixiao.bot import conversation  # noqa: F401
    from jixiao.bot.assess import store  # noqa: F401
    from jixiao.knowledge import corpus  # noqa: F401


# ---------------------------------------------------------------- KV sweeping

KV_PURGE_INTERVAL = 600.0  # seconds between sweeps of expired KV rows (dedup keys, tokens, login failures)


async def _sweep_kv(kv: KV) -> None:
    """Delete expired KV rows at start-up and every KV_PURGE_INTERVAL seconds, off the event loop.

    Each worker process sweeps; the DELETE is idempotent, so several workers on one database are harmless.
    """
    while True:
        try:
            purged = await anyio.to_thread.run_sync(kv.purge_expired)
            if purged:
                log.info("kv expired rows purged count=%d", purged)
        except Exception:  # a locked or unreachable database: try again next time
            log.warning("kv purge failed; retrying in %ss", KV_PURGE_INTERVAL, exc_info=True)
        await asyncio.sleep(KV_PURGE_INTERVAL)


# ---------------------------------------------------------------- request body limit

class BodyLimit:
    """ASGI middleware: 413 (Chinese message) when a request body exceeds `max_bytes`, declared or streamed."""

    def __init__(self, app, max_bytes: int, uploads: tuple[str, int] | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.uploads = uploads  # (path prefix, limit): document uploads may be larger than a message

    def _limit(self, scope) -> int:
        if self.uploads and scope.get("path", "").startswith(self.uploads[0]):
            return self.uploads[1]
        return self.max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self._limit(scope)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await self._refuse(scope, receive, send)
        seen, started, refused = 0, False, False

        async def limited_receive():
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit and not refused:
                    refused = True
                    if not started:
                        await self._refuse(scope, receive, send)
                    return {"type": "http.disconnect"}  # the app stops reading; its response is dropped
            return message

        async def guarded_send(message):
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, limited_receive, guarded_send)

    async def _refuse(self, scope, receive, send):
        limit = self._limit(scope)
        detail = (f"文件过大（上限 {limit // 1024 // 1024} MB）：请去掉图片或拆分后再上传。"
                  if limit != self.max_bytes else f"请求内容过大（上限 {limit // 1024} KB）。请精简后再发送。")
        response = JSONResponse({"detail": detail}, status_code=413)
        await response(scope, receive, send)


class WorkerHeader:
    """ASGI middleware: `X-Jixiao-Worker: <pid>` on every response, so operators (and the multi-worker
    test) see which `jixiao serve --workers N` process answered."""

    def __init__(self, app):
        self.app = app
        self.value = str(os.getpid()).encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def tagged(message):
            if message["type"] == "http.response.start":
                message = dict(message, headers=[*message.get("headers", []), (b"x-jixiao-worker", self.value)])
            await send(message)

        await self.app(scope, receive, tagged)


# ---------------------------------------------------------------- the app

def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    settings = settings or (services.settings if services else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if getattr(app.state, "services", None) is None:
            app.state.services = build_services(settings)
        services: Services = app.state.services
        sweeper = asyncio.create_task(_sweep_kv(services.kv))
        try:
            yield
        finally:
            sweeper.cancel()
            with suppress(asyncio.CancelledError):
                await sweeper
            services.close()  # WeChat desk threads and HTTP client, then the engine

    app = FastAPI(title="jixiao 绩效评级政策助手", version="0.1.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None,  # adapters/api_docs.py: local, staff only
                  description="重污染天气重点行业绩效分级政策助手：网页对话、微信公众号、人工服务台。\n\n"
                              "网页接口需先 `POST /api/login` 取得会话 Cookie。")
    app.state.services = services
    from jixiao.adapters import api_docs, criteria_admin, docs_admin, helpdesk, web, wechat
    from jixiao.knowledge.ingest.upload import MAX_UPLOAD_BYTES

    app.include_router(web.router)
    app.include_router(criteria_admin.router)
    app.include_router(wechat.router)
    app.include_router(helpdesk.router)
    app.include_router(api_docs.router)
    app.include_router(docs_admin.router)
    app.mount("/static", StaticFiles(directory=str(files("jixiao.adapters") / "static")), name="static")
    # JSON-escaped Chinese takes up to 6 bytes a character; room for the rest of the body on top
    app.add_middleware(BodyLimit, max_bytes=settings.max_message_chars * 6 + 64 * 1024,
                       uploads=(docs_admin.PREFIX + "/uploads", MAX_UPLOAD_BYTES))
    app.add_middleware(WorkerHeader)
    from jixiao.adapters.csrf import CsrfGuard, session_secret_of
    app.add_middleware(CsrfGuard, secret_of=session_secret_of)  # outermost: forged requests read no body

    from jixiao.adapters import edges
    edges.install(app)  # surrogates / numbers out of range that slip past validation → 400, no traceback

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        if not request.url.path.startswith(web.CHINESE_ERRORS):
            return await request_validation_exception_handler(request, exc)
        return JSONResponse({"detail": _chinese(exc), "errors": jsonable_errors(exc)}, status_code=422)

    @app.get("/healthz", tags=["ops"], summary="存活检查")
    def healthz(request: Request) -> dict:
        """进程在运行且数据库可用时返回 ok；`retrieval` 表示是否有检索索引。"""
        svc: Services = request.app.state.services
        with svc.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return {"status": "ok", "retrieval": index_ready(svc.settings),
                "helpdesk": "helpdesk" in svc.extras}

    return app


def app_from_env() -> FastAPI:
    """The app of one `jixiao serve --workers N` process: settings from the environment (uvicorn factory)."""
    settings = Settings().check()
    configure_logging(settings)
    return create_app(settings)


def _chinese(exc: RequestValidationError) -> str:
    for err in exc.errors():
        kind, loc = err.get("type", ""), [str(x) for x in err.get("loc", ())]
        if kind == "json_invalid" or (kind in ("model_attributes_type", "dict_type") and loc == ["body"]):
            return "请求格式不正确：请发送 JSON，例如 {\"message\": \"铸造厂能评几级？\"}。"
        if kind == "value_error":
            return str(err.get("ctx", {}).get("error") or err.get("msg"))
        if kind == "missing":
            return f"缺少字段 {loc[-1]!r}。"
        if kind == "extra_forbidden":
            return f"不支持的字段 {loc[-1]!r}。"
        if kind in ("string_type", "model_attributes_type", "dict_type"):
            return f"字段 {'.'.join(loc[1:]) or loc[-1]!r} 类型不正确。"
        if kind in ("less_than_equal", "greater_than_equal", "less_than", "greater_than", "int_parsing"):
            return f"字段 {loc[-1]!r} 超出范围或不是有效的数字。"
        if kind.startswith("string_too"):
            return f"字段 {loc[-1]!r} 长度不符合要求。"
    return "请求格式不正确。"


def jsonable_errors(exc: RequestValidationError) -> list[dict]:
    return [{"type": e.get("type"), "loc": list(e.get("loc", ()))} for e in exc.errors()]
