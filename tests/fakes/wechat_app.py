"""The app with a slow fake bot under a real uvicorn process, for crash tests (kill -9, SIGTERM).

`python tests/fakes/wechat_app.py PORT` with the usual JIXIAO_* settings in the environment and
FAKE_BOT_DELAY (seconds). Services are built like `build_services` (helpdesk, WeChat channel with
recovery), only the assistant is `FakeBot`.
"""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(port: int) -> None:
    import uvicorn

    from fakes.wechat_server import FakeBot
    from jixiao.adapters import wechat
    from jixiao.adapters.app import _import_tables, configure_logging, create_app
    from jixiao.adapters.helpdesk import Helpdesk
    from jixiao.adapters.services import Services
    from jixiao.db import KV, create_all, make_engine
    from jixiao.settings import Settings

    settings = Settings()
    configure_logging(settings, logging.INFO)
    engine = make_engine(settings.db_url())
    _import_tables()
    create_all(engine)
    services = Services(settings=settings, engine=engine, kv=KV(engine),
                        bot=FakeBot(delay=float(os.environ.get("FAKE_BOT_DELAY", "0"))))
    services.extras["helpdesk"] = Helpdesk(services)
    desk = wechat.install(services)
    if desk.cs is not None:
        desk.cs.delays = (0.05, 0.1)
    uvicorn.run(create_app(services=services), host="127.0.0.1", port=port, log_config=None,
                timeout_graceful_shutdown=30)


if __name__ == "__main__":
    main(int(sys.argv[1]))
