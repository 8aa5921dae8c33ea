"""Outbox on SQLite and a real PostgreSQL: held messages are taken once, oldest first; pushes never repeat."""
from __future__ import annotations

import threading

import pytest
import pg
from helpdesk_fixtures import FakeDeliverer, make_services
from pg import BACKENDS

from jixiao.adapters.outbox import Outbox, deliver


@pytest.fixture(params=BACKENDS)
def services(request, tmp_path):
    return make_services(request, request.param, tmp_path)


def test_hold_take_pending_oldest_first(services):
    box = Outbox(services.engine)
    ids = [box.hold("wechat", "wechat:a", f"消息{i}", source="test") for i in range(3)]
    box.hold("wechat", "wechat:b", "别人的")
    box.hold("web", "wechat:a", "另一渠道")
    assert ids == sorted(ids)
    assert box.pending("wechat", "wechat:a") == 3
    assert box.take("wechat", "wechat:a") == ["消息0", "消息1", "消息2"]
    assert box.pending("wechat", "wechat:a") == 0 and box.take("wechat", "wechat:a") == []
    assert box.pending("wechat", "wechat:b") == 1 and box.pending("web", "wechat:a") == 1
    with pytest.raises(ValueError):
        box.hold("wechat", "wechat:a", "")


def test_concurrent_takes_never_share_a_message(services):
    box = Outbox(services.engine)
    for round_ in range(3):
        expected = [f"r{round_}-{i}" for i in range(20)]
        for text in expected:
            box.hold("web", "web:u", text)
        got: list[list[str]] = []
        barrier = threading.Barrier(4)

        def take():
            barrier.wait()
            got.append(box.take("web", "web:u"))

        threads = [threading.Thread(target=take) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        flat = [m for batch in got for m in batch]
        assert sorted(flat) == sorted(expected) and len(flat) == len(set(flat))
        for batch in got:
            assert batch == sorted(batch, key=expected.index)  # each batch oldest first


@pytest.mark.parametrize("mode,expected", [(True, "pushed"), (False, "held"), ("raise", "held"), (None, "held")])
def test_deliver_pushed_or_held(services, mode, expected, caplog):
    fake = FakeDeliverer(mode)
    if mode is not None:
        services.deliverers["wechat"] = fake
    assert deliver(services, "wechat", "wechat:a", "答复") == expected
    box = Outbox(services.engine)
    assert box.pending("wechat", "wechat:a") == (0 if expected == "pushed" else 1)
    assert len(fake.calls) == (0 if mode is None else 1)
    if mode == "raise":
        assert "outbox push failed" in caplog.text and "ConnectionError" in caplog.text


def test_push_skips_a_message_already_taken(services):
    fake = FakeDeliverer(True)
    services.deliverers["wechat"] = fake
    box = Outbox(services.engine)
    mid = box.hold("wechat", "wechat:a", "答复")
    assert box.take("wechat", "wechat:a") == ["答复"]
    assert box.push(services, mid) == "held"  # delivered by take: not pushed a second time
    assert fake.calls == []


def test_hold_inside_a_rolled_back_transaction_leaves_nothing(services):
    box = Outbox(services.engine)
    with pytest.raises(RuntimeError):
        with services.engine.begin() as conn:
            box.hold("wechat", "wechat:a", "不该留下", conn=conn)
            raise RuntimeError("caller failed after holding")
    assert box.pending("wechat", "wechat:a") == 0


def test_missing_postgres_fails_when_required(monkeypatch):
    monkeypatch.setenv("JIXIAO_REQUIRE_PG", "1")
    with pytest.raises(pytest.fail.Exception, match="JIXIAO_REQUIRE_PG=1"):
        pg._missing("no server binaries")
    monkeypatch.delenv("JIXIAO_REQUIRE_PG")
    with pytest.raises(pytest.skip.Exception):
        pg._missing("no server binaries")
