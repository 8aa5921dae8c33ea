"""Staff users and sessions for the web chat and the helpdesk console.

- `User(username, role)`; roles "staff" and "admin".
- Passwords: hashlib.scrypt with a per-user random salt, stored as `scrypt$n$r$p$salt$hash` (hex).
- Sessions: a random token in an HttpOnly, SameSite=Lax cookie; the database keeps only
  HMAC-SHA256(secret, token) and an expiry, so a leaked table does not give working cookies.
  The secret is `JIXIAO_SESSION_SECRET`, or generated once into `<data_dir>/session_secret`.
- Login throttling (`LoginThrottle`): after MAX_LOGIN_FAILURES failures for one username or one client IP
  within LOGIN_WINDOW, logins are refused (429) without checking the password; counted in the shared KV.
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

from jixiao.db import KV, metadata
from jixiao.errors import InputError
from jixiao.settings import Settings

ROLES = ("staff", "admin")
COOKIE = "jixiao_session"
SESSION_TTL = 12 * 3600  # seconds; a working day
_SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}
_USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")
MIN_PASSWORD = 8
MAX_LOGIN_FAILURES = 5  # per username and per client IP …
LOGIN_WINDOW = 600  # … within this many seconds (each failure is forgotten this long after it happened)
TOO_MANY_FAILURES = f"登录失败次数过多，请 {LOGIN_WINDOW // 60} 分钟后再试"

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
        if not done:
            raise InputError(f"用户 {username!r} 不存在。")

    def list(self) -> list[User]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(users_table.c.username, users_table.c.role)
                                .order_by(users_table.c.username)).all()
        return [User(r.username, r.role) for r in rows]

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


# ---------------------------------------------------------------- login throttling

class LoginThrottle:
    """Failed logins counted per username and per client IP in the shared KV, so every worker sees them.

    Each failure is its own KV row (`login:fail:<user|ip>:<sha256>:<random>`, expiring after LOGIN_WINDOW),
    so the window slides and no read-modify-write is needed. `begin` records the attempt *before* the
    password is checked and counts again afterwards: of any number of parallel attempts, across workers,
    at most MAX_LOGIN_FAILURES get to check a password. A successful login clears both counters.
    """

    def __init__(self, kv: KV):
        self.kv = kv

    @staticmethod
    def _prefixes(username: str, ip: str) -> tuple[str, str]:
        def digest(value: str) -> str:  # any string may arrive as a username: keep keys short and unambiguous
            return hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]
        return f"login:fail:user:{digest(username)}:", f"login:fail:ip:{digest(ip)}:"

    def _blocked(self, prefixes: tuple[str, ...], limit: int) -> bool:
        return any(self.kv.count_prefix(p) >= limit for p in prefixes)

    def begin(self, username: str, ip: str) -> list[str] | None:
        """None when this attempt is refused; otherwise the keys recording it (kept if it fails)."""
        prefixes = self._prefixes(username, ip)
        if self._blocked(prefixes, MAX_LOGIN_FAILURES):
            return None
        token = secrets.token_hex(8)
        keys = [p + token for p in prefixes]
        for key in keys:
            self.kv.add(key, str(time.time()), ttl=LOGIN_WINDOW)
        if self._blocked(prefixes, MAX_LOGIN_FAILURES + 1):  # parallel attempts got in first
            for key in keys:
                self.kv.delete(key)
            return None
        return keys

    def succeeded(self, username: str, ip: str) -> None:
        for prefix in self._prefixes(username, ip):
            self.kv.delete_prefix(prefix)


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


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")


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
