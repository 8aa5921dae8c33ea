"""The shared KV store: expiry, prefix counts with literal wildcards, and sweeping expired rows."""
from __future__ import annotations

import time

from sqlalchemy import select

from jixiao.db import KV, create_all, kv_table, make_engine


def _kv(tmp_path) -> KV:
    engine = make_engine(f"sqlite:///{tmp_path / 'kv.db'}")
    create_all(engine)
    return KV(engine)


def _keys(kv: KV) -> set[str]:
    with kv.engine.connect() as conn:
        return set(conn.execute(select(kv_table.c.key)).scalars())


def test_purge_expired_deletes_only_expired_rows(tmp_path):
    kv = _kv(tmp_path)
    kv.set("wechat:access_token:wx1", "old-token", ttl=-1)  # expired a second ago
    kv.add("wechat:msg:1", "done", ttl=-60)
    kv.add("wechat:msg:2", "done", ttl=3600)
    kv.set("web:history:alice", "[]")  # no expiry
    assert kv.get("wechat:msg:1") is None and _keys(kv) >= {"wechat:msg:1", "wechat:access_token:wx1"}

    assert kv.purge_expired() == 2
    assert _keys(kv) == {"wechat:msg:2", "web:history:alice"}
    assert kv.get("wechat:msg:2") == "done" and kv.get("web:history:alice") == "[]"
    assert kv.purge_expired() == 0
    assert kv.purge_expired(now=time.time() + 7200) == 1  # the dedup key, once its hour is over
    assert _keys(kv) == {"web:history:alice"}


def test_prefix_count_and_delete_treat_wildcards_literally(tmp_path):
    kv = _kv(tmp_path)
    for key in ("a_b:1", "a_b:2", "axb:1", "a%b:1", "a_bc:1"):
        kv.add(key, ttl=600)
    kv.add("a_b:old", ttl=-1)
    assert kv.count_prefix("a_b:") == 2  # not axb (underscore), not the expired row
    assert kv.count_prefix("a%") == 1
    assert kv.delete_prefix("a_b:") == 3  # expired rows go too
    assert _keys(kv) == {"axb:1", "a%b:1", "a_bc:1"}
