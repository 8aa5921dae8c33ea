"""Every conversation turn, stored in SQLite (WAL), so real questions can become golden cases."""
from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    question TEXT NOT NULL,
    intent TEXT NOT NULL,
    tools TEXT NOT NULL,      -- JSON list of {name, args}
    chunks TEXT NOT NULL,     -- JSON list of {doc_id, section, score}
    answer TEXT NOT NULL,
    latency_ms INTEGER NOT NULL,
    escalate INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS turns_user ON turns(user_id, id);
"""


@dataclass(frozen=True)
class Turn:
    id: int
    user_id: str
    channel: str
    question: str
    intent: str
    tools: list
    chunks: list
    answer: str
    latency_ms: int
    escalate: bool
    created_at: float


class ConversationStore:
    """One SQLite file; each `record` is its own transaction (committed or not at all)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)

    def record(self, user_id: str, channel: str, question: str, intent: str, tools: list, chunks: list,
               answer: str, latency_ms: int, escalate: bool) -> int:
        row = (user_id, channel, question, intent, json.dumps(tools, ensure_ascii=False, default=str),
               json.dumps(chunks, ensure_ascii=False, default=str), answer, int(latency_ms), int(escalate),
               time.time())
        cur = self._conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            cur.execute("INSERT INTO turns (user_id, channel, question, intent, tools, chunks, answer, latency_ms,"
                        " escalate, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)", row)
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        return int(cur.lastrowid)

    def recent(self, user_id: str, limit: int = 10) -> list[Turn]:
        """The user's latest turns, newest first."""
        rows = self._conn.execute(
            "SELECT id, user_id, channel, question, intent, tools, chunks, answer, latency_ms, escalate, created_at"
            " FROM turns WHERE user_id = ? ORDER BY id DESC LIMIT ?", (user_id, limit)).fetchall()
        return [Turn(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), json.loads(r[6]), r[7], r[8], bool(r[9]), r[10])
                for r in rows]

    def close(self) -> None:
        self._conn.close()
