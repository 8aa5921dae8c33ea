"""Staff users and sessions for the web chat and the helpdesk console.

- `User(username, role)`; roles "staff" and "admin".
- Passwords: hashlib.scrypt with a per-user random salt, stored as `scrypt$n$r$p$salt$hash` (hex).
- Sessions: a random token in an HttpOnly, SameSite=Lax cookie; the database keeps only
  HMAC-SHA256(secret, token) and an expiry, so a leaked table does not give working cookies.
  The secret is `JIXIAO_SESSION_SECRET`, or generated once into `<data_dir>/session_secret`.
- Login throttling: `auth_throttle.LoginThrottle` (per address, per address and name, per-account backoff).
- Accounts can be disabled (`!` before the hash), re-enabled or removed; a password change, a disable or a
  removal ends every session of the user.
- FastAPI dependencies `require_staff` (401 without a session) and `require_admin` (403 for staff).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from fastapi import HTTPException, Request, Response
from sqlalchemy import Column, Float, String, Table, delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from jixiao.db import metadata
from jixiao.errors import InputError
from jixiao.settings import Settings

ROLES = ("staff", "admin")
COOKIE = "jixiao_session"
SESSION_TTL = 12 * 3600  # seconds; a working day
_SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}
_USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")
MIN_PASSWORD = 8
DISABLED = "!"  # prefix of a disabled user's password hash (never a valid scheme)
from jixiao.adapters.auth_throttle import (ACCOUNT_FREE_FAILURES, LOGIN_WINDOW, MAX_BACKOFF,  # noqa: E402,F401
                                           MAX_IP_FAILURES, MAX_LOGIN_FAILURES, TOO_MANY_FAILURES, LoginThrottle)

users_table = Table(
    "users", metadata,
    Column("username", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", Float, nullable=False),
)

sessions_table = Table(
    "sessions", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("username", String(64), nullable=False, index=True),
    Column("expires_at", Float, nullable=False),
)


@dataclass(frozen=True)
class User:
    username: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


# ---------------------------------------------------------------- passwords

def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(digest) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


# a hash to verify against when the user does not exist, so timing does not reveal usernames
_DUMMY_HASH = hash_password(secrets.token_hex(8))


# ---------------------------------------------------------------- users

class UserStore:
    """Users and sessions in the shared database."""

    def __init__(self, engine: Engine, secret: str):
        self.engine = engine
        self._secret = secret.encode("utf-8")

    def add(self, username: str, password: str, role: str = "staff") -> User:
        """Create a user; InputError (Chinese, safe to show) on a bad name, role, weak password or duplicate."""
        if not _USERNAME.match(username or ""):
            raise InputError(f"用户名 {username!r} 不合法：只能包含字母、数字、下划线、点或短横线，长度 2–64。")
        if role not in ROLES:
            raise InputError(f"角色 {role!r} 无效，可选：{' / '.join(ROLES)}。")
        if len(password or "") < MIN_PASSWORD:
            raise InputError(f"密码至少 {MIN_PASSWORD} 个字符。")
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(users_table).values(username=username, role=role,
                                                        password_hash=hash_password(password), created_at=time.time()))
        except IntegrityError:
            raise InputError(f"用户 {username!r} 已存在。") from None
        return User(username, role)

    def set_password(self, username: str, password: str) -> None:
        if len(password or "") < MIN_PASSWORD:
            raise InputError(f"密码至少 {MIN_PASSWORD} 个字符。")
        with self.engine.begin() as conn:
            done = conn.execute(update(users_table).where(users_table.c.username == username)
                                .values(password_hash=hash_password(password))).rowcount
            conn.execute(delete(sessions_table).where(sessions_table.c.username == username))
        if not done:
            raise InputError(f"用户 {username!r} 不存在。")

    def disable(self, username: str) -> None:
        """Refuse the user's logins (the hash gets a `!` prefix, kept for `enable`) and end every session."""
        self._set_disabled(username, True)

    def enable(self, username: str) -> None:
        self._set_disabled(username, False)

    def _set_disabled(self, username: str, disabled: bool) -> None:
        with self.engine.begin() as conn:
            row = conn.execute(select(users_table.c.password_hash).where(users_table.c.username == username)).first()
            if row is None:
                raise InputError(f"用户 {username!r} 不存在。")
            stored = row.password_hash.lstrip(DISABLED)
            conn.execute(update(users_table).where(users_table.c.username == username)
                         .values(password_hash=(DISABLED + stored) if disabled else stored))
            conn.execute(delete(sessions_table).where(sessions_table.c.username == username))

    def remove(self, username: str) -> None:
        """Delete the user and every session of theirs."""
        with self.engine.begin() as conn:
            conn.execute(delete(sessions_table).where(sessions_table.c.username == username))
            done = conn.execute(delete(users_table).where(users_table.c.username == username)).rowcount
        if not done:
            raise InputError(f"用户 {username!r} 不存在。")

    def is_disabled(self, username: str) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(select(users_table.c.password_hash).where(users_table.c.username == username)).first()
        return row is not None and row.password_hash.startswith(DISABLED)

    def csrf(self, session_token: str) -> str:
        """The anti-forgery token bound to this session (see `adapters.csrf`)."""
        from jixiao.adapters.csrf import csrf_token
        return csrf_token(self._secret, session_token)

    def list(self) -> list[User]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(users_table.c.username, users_table.c.role)
                                .order_by(users_table.c.username)).all()
        return [User(r.username, r.role) for r in rows]

    def list_with_state(self) -> list[tuple[User, bool]]:
        """Users with whether each is disabled."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(users_table).order_by(users_table.c.username)).all()
        return [(User(r.username, r.role), r.password_hash.startswith(DISABLED)) for r in rows]

    def authenticate(self, username: str, password: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users_table).where(users_table.c.username == username)).first()
        if row is None:
            verify_password(password, _DUMMY_HASH)
            return None
        return User(row.username, row.role) if verify_password(password, row.password_hash) else None

    # -- sessions

    def _key(self, token: str) -> str:
        return hmac.new(self._secret, token.encode("utf-8"), hashlib.sha256).hexdigest()

    def open_session(self, username: str, ttl: float = SESSION_TTL) -> str:
        token = secrets.token_urlsafe(32)
        now = time.time()
        with self.engine.begin() as conn:
            conn.execute(delete(sessions_table).where(sessions_table.c.expires_at <= now))
            conn.execute(insert(sessions_table).values(token_hash=self._key(token), username=username,
                                                       expires_at=now + ttl))
        return token

    def session_user(self, token: str | None) -> User | None:
        if not token:
            return None
        j = sessions_table.join(users_table, sessions_table.c.username == users_table.c.username)
        with self.engine.connect() as conn:
            row = conn.execute(select(users_table.c.username, users_table.c.role, sessions_table.c.expires_at)
                               .select_from(j).where(sessions_table.c.token_hash == self._key(token))).first()
        if row is None or row.expires_at <= time.time():
            return None
        return User(row.username, row.role)

    def close_session(self, token: str | None) -> None:
        if token:
            with self.engine.begin() as conn:
                conn.execute(delete(sessions_table).where(sessions_table.c.token_hash == self._key(token)))


def session_secret(settings: Settings) -> str:
    """JIXIAO_SESSION_SECRET, else one generated into `<data_dir>/session_secret` (mode 600) and reused."""
    if settings.session_secret:
        return settings.session_secret
    path = Path(settings.data_dir) / "session_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def user_store(services) -> UserStore:
    """The store kept in `services.extras["users"]`, created on first use."""
    store = services.extras.get("users")
    if store is None:
        store = services.extras["users"] = UserStore(services.engine, session_secret(services.settings))
    return store


# ---------------------------------------------------------------- HTTP

def set_session_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(COOKIE, token, max_age=SESSION_TTL, httponly=True, samesite="lax", path="/",
                        secure=request.url.scheme == "https")


def set_csrf_cookie(response: Response, request: Request, token: str) -> None:
    """Readable by the site's own scripts (which copy it into X-CSRF-Token); useless to other sites."""
    from jixiao.adapters.csrf import COOKIE as CSRF_COOKIE
    response.set_cookie(CSRF_COOKIE, token, max_age=SESSION_TTL, httponly=False, samesite="strict", path="/",
                        secure=request.url.scheme == "https")


def clear_session_cookie(response: Response) -> None:
    from jixiao.adapters.csrf import COOKIE as CSRF_COOKIE
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
    response.delete_cookie(CSRF_COOKIE, path="/", samesite="strict")


def current_user(request: Request) -> User | None:
    return user_store(request.app.state.services).session_user(request.cookies.get(COOKIE))


def require_staff(request: Request) -> User:
    """Any signed-in user (staff or admin); 401 otherwise."""
    user = current_user(request)
    if user is None:
        raise HTTPException(status_code=401, detail="请先登录")
    return user


def require_admin(request: Request) -> User:
    """An admin; 401 without a session, 403 for staff."""
    user = require_staff(request)
    if not user.is_admin:
        raise HTTPException(status_code=403, detail="需要管理员权限")
    return user
