"""Exact per-user locks: one lock per user id while anyone holds or waits for it, forgotten afterwards.

Unlike a fixed set of striped locks, two users never share one, so a slow turn of one user never
delays another user's turn.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Iterator


class UserLocks:
    """One lock per user id while anyone holds or waits for it; forgotten when nobody does."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, list[Any]] = {}  # user → [lock, users of it]

    @contextmanager
    def hold(self, user_id: str) -> Iterator[None]:
        with self._guard:
            entry = self._locks.setdefault(user_id, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._guard:
                entry[1] -= 1
                if entry[1] == 0:
                    self._locks.pop(user_id, None)
