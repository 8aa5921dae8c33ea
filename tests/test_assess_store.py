"""Assessment sessions in the one database: SQLite by default, PostgreSQL shared by several processes."""
from __future__ import annotations

import pytest
from sqlalchemy import func, inspect, select

from pg import database_url
from jixiao.bot.assess import AssessmentEngine
from jixiao.bot.assess.store import sessions_table, turns_table
from jixiao.db import make_engine

PRINTING = ["包装印刷", "1", "A", "否", "否", "否", "1", "3", "90", *["1"] * 9]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_processes_alternate_on_one_database(request, tmp_path, backend):
    """Two engines (as two worker processes would hold) take turns answering one user's assessment."""
    url = database_url(request, backend, tmp_path)
    first, second = make_engine(url), make_engine(url)
    try:
        a, b = AssessmentEngine(first), AssessmentEngine(second)
        a.start("wechat:o1")
        a.start("wechat:o2")
        turn = None
        for i, answer in enumerate(PRINTING):
            turn = (a if i % 2 == 0 else b).handle("wechat:o1", answer)
        assert turn.done and turn.result.ceiling == "B"  # flexo absorbent 90 %: B
        assert a.result("wechat:o1").short == b.result("wechat:o1").short
        assert b.status("wechat:o2") == "active" and b.pending("wechat:o2").id == "industry"
        with first.connect() as conn:
            assert conn.execute(select(func.count()).select_from(sessions_table)).scalar_one() == 2
            assert conn.execute(select(func.count()).select_from(turns_table)
                                .where(turns_table.c.user_id == "wechat:o1")).scalar_one() == len(PRINTING)
        assert {"assess_sessions", "assess_turns"} <= set(inspect(second).get_table_names())
    finally:
        first.dispose()
        second.dispose()


def test_engine_accepts_a_path_and_no_separate_assess_db(tmp_path, monkeypatch):
    from jixiao.bot.dialogue import build_dialogue
    from jixiao.settings import Settings
    monkeypatch.setenv("JIXIAO_DATA_DIR", str(tmp_path / "data"))
    settings = Settings()
    shared = make_engine(settings.db_url())
    d = build_dialogue(settings, engine=shared)
    assert d.engine.store.engine is shared
    d.reply("u", "自评")
    assert not (tmp_path / "data" / "assess.db").exists()
    with shared.connect() as conn:
        assert conn.execute(select(sessions_table.c.user_id)).scalars().all() == ["u"]


def test_sessions_of_the_former_assess_db_are_moved_in_once(tmp_path, monkeypatch):
    import json
    import sqlite3

    from jixiao.bot.dialogue import build_dialogue
    from jixiao.settings import Settings
    data = tmp_path / "data"
    data.mkdir()
    old = sqlite3.connect(data / "assess.db")
    old.execute("CREATE TABLE sessions (user_id TEXT PRIMARY KEY, state TEXT NOT NULL, updated_at REAL NOT NULL)")
    state = {"answers": {"industry": {"text": "包装印刷", "industry": "包装印刷", "branch": None}},
             "order": ["industry"], "hints": {}}
    old.execute("INSERT INTO sessions VALUES (?, ?, 0)", ("wechat:o1", json.dumps(state, ensure_ascii=False)))
    old.commit()
    old.close()
    monkeypatch.setenv("JIXIAO_DATA_DIR", str(data))
    d = build_dialogue(Settings())
    assert d.engine.pending("wechat:o1").id == "branch"  # resumes where the user left off
    assert not (data / "assess.db").exists() and (data / "assess.db.imported").exists()
    assert build_dialogue(Settings()).engine.status("wechat:o1") == "active"
