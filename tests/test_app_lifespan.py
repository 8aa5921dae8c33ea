"""The app's lifespan: expired KV rows swept at start-up and periodically; router resources closed on shutdown."""
from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import select

from jixiao.adapters import app as app_module
from jixiao.adapters import wechat
from jixiao.adapters.app import create_app
from jixiao.db import kv_table
from jixiao.settings import Settings
from servers import make_services


class Resource:
    def __init__(self, fail: bool = False):
        self.closed, self.fail = 0, fail

    def close(self) -> None:
        self.closed += 1
        if self.fail:
            raise RuntimeError("close failed")

    def deliver(self, user_id: str, text: str) -> bool:
        return True


class TicketDesk:
    """Like Helpdesk: `close(ticket_id, staff)` is a ticket action, not a resource to release."""

    def __init__(self):
        self.calls = []

    def close(self, ticket_id: int, staff) -> None:
        self.calls.append((ticket_id, staff))


def _wait_until(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_expired_kv_rows_are_swept_at_start_and_periodically(tmp_path, monkeypatch):
    monkeypatch.setattr(app_module, "KV_PURGE_INTERVAL", 0.05)
    services = make_services(tmp_path)
    kv = services.kv
    kv.add("wechat:msg:old", "done", ttl=-1)
    kv.add("wechat:msg:live", "done", ttl=3600)
    with TestClient(create_app(services=services)):
        assert _wait_until(lambda: _keys(services) == {"wechat:msg:live"})  # swept at start-up
        kv.set("wechat:access_token:wx1", "token", ttl=0.2)  # expires while the app runs
        assert "wechat:access_token:wx1" in _keys(services)
        assert _wait_until(lambda: _keys(services) == {"wechat:msg:live"})  # swept by the periodic task
    assert kv.get("wechat:msg:live") == "done"


def _keys(services) -> set[str]:
    with services.engine.connect() as conn:
        return set(conn.execute(select(kv_table.c.key)).scalars())


def test_shutdown_closes_router_resources_and_forgets_them(tmp_path):
    services = make_services(tmp_path, wechat_token="t", wechat_appid="wx1", wechat_secret="s")
    resource, broken, tickets = Resource(), Resource(fail=True), TicketDesk()
    services.extras.update(broken=broken, resource=resource, helpdesk=tickets)
    services.deliverers["fake"] = resource.deliver
    with TestClient(create_app(services=services)) as client:
        desk = wechat.install(services)  # the real WeChat desk: thread pool + API client
        assert client.get("/healthz").status_code == 200
        assert not desk.pool._shutdown and not desk.client.http.is_closed
    assert desk.pool._shutdown and desk.client.http.is_closed
    assert resource.closed == 1 and broken.closed == 1  # a failing close does not stop the others
    assert tickets.calls == [] and services.extras == {"helpdesk": tickets}
    assert services.deliverers == {}  # the closed desk's and the closed resource's deliverers are gone

    with TestClient(create_app(services=services)):  # started again on the same services: a fresh desk
        again = wechat.install(services)
        assert again is not desk and not again.pool._shutdown
        assert services.deliverers["wechat"] == again.deliver
    assert again.pool._shutdown


def test_shutdown_closes_services_built_by_the_lifespan(tmp_path, monkeypatch):
    built = []
    real_build = app_module.build_services

    def build(settings):
        built.append(real_build(settings))
        return built[-1]

    monkeypatch.setattr(app_module, "build_services", build)
    settings = Settings(data_dir=tmp_path / "var", wechat_token="t")
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        desk = built[0].extras["wechat"]
        assert not desk.pool._shutdown
    assert desk.pool._shutdown and "wechat" not in built[0].extras and "helpdesk" in built[0].extras

