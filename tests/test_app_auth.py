"""Staff accounts and sessions: hashing, login, cookie flags, roles, expiry, the `jixiao users` CLI."""
from __future__ import annotations

import os
import stat
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi import Depends
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from jixiao.adapters import auth as auth_module
from jixiao.adapters.app import create_app
from jixiao.adapters.auth import (ACCOUNT_FREE_FAILURES, COOKIE, LOGIN_WINDOW, MAX_BACKOFF, MAX_IP_FAILURES,
                                  MAX_LOGIN_FAILURES, LoginThrottle, User, UserStore,
                                  hash_password, require_admin, require_staff, session_secret, users_table,
                                  verify_password)
from jixiao.db import kv_table
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
    assert ok.status_code == 200 and {k: ok.json()[k] for k in ("username", "role")} == \
        {"username": "alice", "role": "staff"}
    cookie = next(c for c in ok.headers.get_list("set-cookie") if c.startswith(COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert client.post("/api/logout").status_code == 403  # without the session's CSRF token
    client.headers["X-CSRF-Token"] = ok.json()["csrf_token"]
    assert client.get("/api/me").json()["role"] == "staff"
    assert client.get("/test/staff").json() == {"user": "alice"}
    assert client.get("/test/admin").status_code == 403

    token = client.cookies[COOKIE]
    assert client.post("/api/logout").status_code == 204
    client.cookies.set(COOKIE, token)  # the old cookie is dead server-side too
    assert client.get("/api/me").status_code == 401

    client.post("/api/login", json={"username": "root", "password": PASSWORD})
    assert client.get("/test/admin").json() == {"user": "root"}
    assert client.post("/api/logout").status_code == 403  # alice's token does not fit root's session


def test_login_body_validated_in_chinese(tmp_path):
    client = _client(tmp_path)
    r = client.post("/api/login", json={"username": "alice"})
    assert r.status_code == 422 and "password" in r.json()["detail"] and "缺少" in r.json()["detail"]
    r = client.post("/api/login", content=b"username=alice", headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 422 and "JSON" in r.json()["detail"]


# ---------------------------------------------------------------- login throttling

def _login(app, username: str, password: str, ip: str):
    return TestClient(app, client=(ip, 50000)).post("/api/login", json={"username": username, "password": password})


@pytest.fixture
def password_checks(monkeypatch):
    """Counts password verifications (scrypt runs), to show a throttled login never checks one."""
    calls = []
    real = auth_module.verify_password

    def counting(password, stored):
        calls.append(password)
        return real(password, stored)

    monkeypatch.setattr(auth_module, "verify_password", counting)
    return calls


def _forget_last_failure(services, seconds: float = 60) -> None:
    """As if the account's last failure happened `seconds` ago (its backoff has run out)."""
    with services.engine.begin() as conn:
        conn.execute(update(kv_table).where(kv_table.c.key.startswith("login:last:user:"))
                     .values(value=str(time.time() - seconds)))


def test_login_is_throttled_per_address_and_name_for_every_worker(tmp_path, password_checks):
    services = make_services(tmp_path)
    add_user(services, "alice")
    add_user(services, "bob")
    app = create_app(services=services)
    for i in range(MAX_LOGIN_FAILURES):
        _forget_last_failure(services)
        assert _login(app, "alice", f"wrong-{i}", "10.0.0.9").status_code == 401
    _forget_last_failure(services)
    checks = len(password_checks)
    blocked = _login(app, "alice", PASSWORD, "10.0.0.9")
    assert blocked.status_code == 429 and blocked.json()["detail"] == "登录失败次数过多，请 10 分钟后再试"
    assert blocked.headers["retry-after"] == str(LOGIN_WINDOW) and COOKIE not in blocked.cookies
    assert len(password_checks) == checks  # refused without checking the password

    # another worker: its own engine and KV on the same database
    other = make_services(tmp_path)
    assert _login(create_app(services=other), "alice", PASSWORD, "10.0.0.9").status_code == 429
    assert _login(app, "bob", PASSWORD, "10.0.1.3").status_code == 200  # other users are unaffected
    # the real alice elsewhere is not locked out by the stranger at 10.0.0.9
    assert _login(app, "alice", PASSWORD, "10.0.1.1").status_code == 200

    with services.engine.begin() as conn:  # ten minutes later: the failures have expired
        conn.execute(update(kv_table).where(kv_table.c.key.startswith("login:fail:"))
                     .values(expires_at=time.time() - 1))
    assert _login(app, "alice", PASSWORD, "10.0.0.9").status_code == 200


def test_an_account_attacked_from_many_addresses_backs_off_but_never_locks(tmp_path, password_checks):
    services = make_services(tmp_path)
    add_user(services, "alice")
    app = create_app(services=services)
    for i in range(3 * ACCOUNT_FREE_FAILURES):  # a botnet: each address tries once
        _forget_last_failure(services)
        assert _login(app, "alice", f"wrong-{i}", f"10.9.{i}.1").status_code == 401
    checks = len(password_checks)
    slowed = _login(app, "alice", "wrong-again", "10.9.200.1")
    assert slowed.status_code == 429 and "秒后再试" in slowed.json()["detail"]
    assert 1 <= int(slowed.headers["retry-after"]) <= MAX_BACKOFF
    assert len(password_checks) == checks
    _forget_last_failure(services, MAX_BACKOFF + 1)  # the real user waits at most MAX_BACKOFF seconds
    assert _login(app, "alice", PASSWORD, "192.0.2.10").status_code == 200


def test_login_is_throttled_per_client_ip(tmp_path, password_checks):
    services = make_services(tmp_path)
    add_user(services, "alice")
    app = create_app(services=services)
    for i in range(MAX_IP_FAILURES):  # password spraying: a different username each time
        assert _login(app, f"user{i}", "wrong-password", "203.0.113.7").status_code == 401
    checks = len(password_checks)
    assert _login(app, "alice", PASSWORD, "203.0.113.7").status_code == 429
    assert len(password_checks) == checks
    assert _login(app, "alice", PASSWORD, "198.51.100.1").status_code == 200


def test_successful_login_resets_the_counters(tmp_path):
    services = make_services(tmp_path)
    add_user(services, "alice")
    app = create_app(services=services)
    for _ in range(MAX_LOGIN_FAILURES - 1):
        assert _login(app, "alice", "wrong-password", "10.0.0.1").status_code == 401
    assert _login(app, "alice", PASSWORD, "10.0.0.1").status_code == 200
    for _ in range(MAX_LOGIN_FAILURES):  # a fresh allowance for the name at this address
        _forget_last_failure(services)
        assert _login(app, "alice", "wrong-password", "10.0.0.1").status_code == 401
    _forget_last_failure(services)
    assert _login(app, "alice", PASSWORD, "10.0.0.1").status_code == 429


def test_parallel_attempts_get_at_most_the_allowed_password_checks(tmp_path):
    services = make_services(tmp_path)
    throttle = LoginThrottle(services.kv)
    attempts = 3 * MAX_LOGIN_FAILURES
    barrier, real_add = threading.Barrier(attempts, timeout=10), services.kv.add

    def add_after_everyone_passed_the_first_check(key, *args, **kwargs):
        if key.startswith("login:fail:pair:"):
            barrier.wait()  # the worst case: every attempt saw an empty counter
        return real_add(key, *args, **kwargs)

    services.kv.add = add_after_everyone_passed_the_first_check
    with ThreadPoolExecutor(attempts) as pool:
        admitted = list(pool.map(lambda _: throttle.begin("alice", "10.0.0.1"), range(attempts)))
    assert sum(a is not None for a in admitted) <= MAX_LOGIN_FAILURES


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
