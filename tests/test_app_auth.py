"""Staff accounts and sessions: hashing, login, cookie flags, roles, expiry, the `jixiao users` CLI."""
from __future__ import annotations

import os
import stat

import pytest
from fastapi import Depends
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from jixiao.adapters.app import create_app
from jixiao.adapters.auth import (COOKIE, User, UserStore, hash_password, require_admin, require_staff,
                                  session_secret, users_table, verify_password)
from jixiao.adapters.cli import _user_store
from jixiao.errors import InputError
from jixiao.settings import Settings
from servers import PASSWORD, add_user, make_services


def test_password_hash_is_salted_and_verifies():
    a, b = hash_password("s3cret-pass"), hash_password("s3cret-pass")
    assert a != b and a.startswith("scrypt$") and "s3cret-pass" not in a
    assert verify_password("s3cret-pass", a) and verify_password("s3cret-pass", b)
    assert not verify_password("s3cret-pasS", a)
    assert not verify_password("s3cret-pass", "plain$text") and not verify_password("x", "garbage")


def test_user_store_refuses_bad_input(tmp_path):
    services = make_services(tmp_path)
    store = UserStore(services.engine, "k")
    store.add("alice", PASSWORD, "admin")
    for args, needle in [(("alice", PASSWORD), "已存在"), (("bob", "short"), "至少"),
                         (("bob", PASSWORD, "root"), "角色"), (("bad name", PASSWORD), "不合法")]:
        with pytest.raises(InputError, match=needle):
            store.add(*args)
    with services.engine.connect() as conn:
        stored = conn.execute(select(users_table.c.password_hash)).scalar_one()
    assert PASSWORD not in stored
    assert store.authenticate("alice", PASSWORD) == User("alice", "admin")
    assert store.authenticate("alice", PASSWORD + "x") is None
    assert store.authenticate("nobody", PASSWORD) is None


def test_session_expiry_and_secret(tmp_path):
    services = make_services(tmp_path)
    secret = session_secret(services.settings)
    assert secret == session_secret(services.settings)  # generated once, reused
    path = services.settings.data_dir / "session_secret"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    store = UserStore(services.engine, secret)
    store.add("alice", PASSWORD)
    live, dead = store.open_session("alice"), store.open_session("alice", ttl=-1)
    assert store.session_user(live) == User("alice", "staff")
    assert store.session_user(dead) is None
    assert UserStore(services.engine, "another-secret").session_user(live) is None  # DB keeps only HMACs
    store.close_session(live)
    assert store.session_user(live) is None


def _client(tmp_path) -> TestClient:
    services = make_services(tmp_path)
    add_user(services, "alice", "staff")
    add_user(services, "root", "admin")
    app = create_app(services=services)

    @app.get("/test/staff")
    def staff_only(user: User = Depends(require_staff)):
        return {"user": user.username}

    @app.get("/test/admin")
    def admin_only(user: User = Depends(require_admin)):
        return {"user": user.username}

    return TestClient(app)


def test_login_cookie_roles_logout(tmp_path):
    client = _client(tmp_path)
    assert client.get("/api/me").status_code == 401
    assert client.get("/test/admin").status_code == 401
    bad = client.post("/api/login", json={"username": "alice", "password": "wrong-password"})
    assert bad.status_code == 401 and bad.json()["detail"] == "用户名或密码错误"
    assert COOKIE not in client.cookies

    ok = client.post("/api/login", json={"username": "alice", "password": PASSWORD})
    assert ok.status_code == 200 and ok.json() == {"username": "alice", "role": "staff"}
    cookie = ok.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert client.get("/api/me").json()["role"] == "staff"
    assert client.get("/test/staff").json() == {"user": "alice"}
    assert client.get("/test/admin").status_code == 403

    token = client.cookies[COOKIE]
    assert client.post("/api/logout").status_code == 204
    client.cookies.set(COOKIE, token)  # the old cookie is dead server-side too
    assert client.get("/api/me").status_code == 401

    client.post("/api/login", json={"username": "root", "password": PASSWORD})
    assert client.get("/test/admin").json() == {"user": "root"}


def test_login_body_validated_in_chinese(tmp_path):
    client = _client(tmp_path)
    r = client.post("/api/login", json={"username": "alice"})
    assert r.status_code == 422 and "password" in r.json()["detail"] and "缺少" in r.json()["detail"]
    r = client.post("/api/login", content=b"username=alice", headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 422 and "JSON" in r.json()["detail"]


def test_users_cli_add_and_list(tmp_path, monkeypatch):
    from jixiao.cli import _wire, app

    monkeypatch.setenv("JIXIAO_DATA_DIR", str(tmp_path / "cli-var"))
    _wire()
    runner = CliRunner()
    r = runner.invoke(app, ["users", "list"])
    assert r.exit_code == 0 and "jixiao users add" in r.output
    r = runner.invoke(app, ["users", "add", "zhang.san", "--role", "admin"], input=PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["users", "add", "li", "--role", "boss"], input=PASSWORD + "\n")
    assert r.exit_code == 1 and "角色" in r.output
    r = runner.invoke(app, ["users", "list"])
    assert r.output.split() == ["zhang.san", "admin"]
    store = _user_store(Settings(data_dir=tmp_path / "cli-var"))
    assert store.authenticate("zhang.san", PASSWORD) == User("zhang.san", "admin")
