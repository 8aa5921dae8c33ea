"""Login throttling in the shared KV: slows attackers down without letting a stranger lock an account out."""
from __future__ import annotations

import hashlib
import secrets
import time

from jixiao.db import KV

MAX_LOGIN_FAILURES = 5  # per (client IP, username) …
MAX_IP_FAILURES = 20  # per client IP, any usernames …
LOGIN_WINDOW = 600  # … within this many seconds (each failure is forgotten this long after it happened)
ACCOUNT_FREE_FAILURES = 5  # per account from anywhere before the backoff starts
MAX_BACKOFF = 30  # seconds; the longest a stranger can make the real user wait
TOO_MANY_FAILURES = f"登录失败次数过多，请 {LOGIN_WINDOW // 60} 分钟后再试"


class LoginThrottle:
    """Failed logins counted in the shared KV (every worker sees them); slows attackers, locks no one out.

    - per client IP and username: MAX_LOGIN_FAILURES failures within LOGIN_WINDOW → 429 for that pair;
    - per client IP (password spraying): MAX_IP_FAILURES failures → 429 for that address;
    - per account, from anywhere: after ACCOUNT_FREE_FAILURES failures each further attempt must wait
      2^(n − free) seconds (at most MAX_BACKOFF) after the last failure — a stranger elsewhere can delay the
      real user by MAX_BACKOFF seconds at worst, never lock the account.
    Each failure is its own KV row (`login:fail:<kind>:<sha256>:<random>`, expiring after LOGIN_WINDOW), so the
    window slides and no read-modify-write is needed. `begin` records the attempt *before* the password is
    checked and counts again afterwards: of any number of parallel attempts from one address, across
    workers, at most MAX_LOGIN_FAILURES get to check a password. A successful login clears the pair and the
    account counters.
    """

    def __init__(self, kv: KV):
        self.kv = kv

    @staticmethod
    def _digest(value: str) -> str:  # any string may arrive as a username: keep keys short and unambiguous
        return hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]

    def _prefixes(self, username: str, ip: str) -> tuple[str, str]:
        return (f"login:fail:pair:{self._digest(ip + chr(0) + username)}:",
                f"login:fail:ip:{self._digest(ip)}:")

    def _account(self, username: str) -> str:
        return f"login:fail:user:{self._digest(username)}:"

    def _last(self, username: str) -> str:
        return f"login:last:user:{self._digest(username)}"

    def _blocked(self, prefixes: tuple[str, ...], extra: int = 0) -> bool:
        pair, ip = prefixes
        return (self.kv.count_prefix(pair) >= MAX_LOGIN_FAILURES + extra
                or self.kv.count_prefix(ip) >= MAX_IP_FAILURES + extra)

    def account_wait(self, username: str) -> int:
        """Seconds this account's next attempt must still wait (0: go ahead)."""
        failures = self.kv.count_prefix(self._account(username))
        if failures < ACCOUNT_FREE_FAILURES:
            return 0
        last = float(self.kv.get(self._last(username)) or 0)
        delay = min(2 ** (failures - ACCOUNT_FREE_FAILURES), MAX_BACKOFF)
        return max(0, int(last + delay - time.time() + 0.999))

    def begin(self, username: str, ip: str) -> list[str] | None:
        """None when this attempt is refused; otherwise the keys recording it (kept if it fails)."""
        prefixes = self._prefixes(username, ip)
        if self._blocked(prefixes):
            return None
        token = secrets.token_hex(8)
        keys = [p + token for p in prefixes]
        for key in keys:
            self.kv.add(key, str(time.time()), ttl=LOGIN_WINDOW)
        if self._blocked(prefixes, 1):  # parallel attempts got in first
            for key in keys:
                self.kv.delete(key)
            return None
        return keys

    def failed(self, username: str) -> None:
        """Count a wrong password against the account (for its backoff)."""
        account = self._account(username)
        self.kv.add(account + secrets.token_hex(8), str(time.time()), ttl=LOGIN_WINDOW)
        self.kv.set(self._last(username), str(time.time()), ttl=LOGIN_WINDOW)

    def succeeded(self, username: str, ip: str) -> None:
        self.kv.delete_prefix(self._prefixes(username, ip)[0])
        self.kv.delete_prefix(self._account(username))
        self.kv.delete(self._last(username))
