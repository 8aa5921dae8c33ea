"""Short answers (issue #14 item 2): the first message answers in ≤ 300 characters and one WeChat message, with the
tool result's facts and its clause cited; "详细" sends the full text (read from the database, so after a restart
too); a follow-up names what the previous answer already gave instead of repeating it."""
from __future__ import annotations

import re
import sqlite3

import pytest
import yaml
from fastapi.testclient import TestClient

from jixiao.adapters.app import create_app
from jixiao.bot.answer import RENDERERS, WECHAT_LIMIT, split_for_wechat
from jixiao.bot.incentives import incentives
from jixiao.bot.assess import AssessmentEngine
from jixiao.bot.conversation import ConversationStore
from jixiao.bot.dialogue import Dialogue
from jixiao.bot.passage_search import FakeHit
from jixiao.bot.policy_answer import _quoted
from jixiao.bot.short_answer import (DATA_PATH, SHORT_MAX, is_detail_request, more_line, nothing_more, relevant,
                                     seq_range, short_incentives)
from jixiao.bot.tools import TOOLS
from jixiao.bot.turn import Assistant
from jixiao.bot.understand import understand
from servers import add_user, login, make_services


def dialogue(tmp_path) -> Dialogue:
    return Dialogue(Assistant(search=None, store_path=tmp_path / "turns.db"), AssessmentEngine(tmp_path / "a.db"))


def numbers(text: str) -> set[int]:
    """第1、4–8条 → {1, 4, 5, 6, 7, 8}."""
    out = set()
    for a, b in re.findall(r"(\d+)(?:–(\d+))?", text):
        out |= set(range(int(a), int(b or a) + 1))
    return out


def first_message_ok(text: str) -> None:
    assert len(text) <= SHORT_MAX, (len(text), text)
    assert len(text.encode("utf-8")) <= WECHAT_LIMIT and split_for_wechat(text) == [text]


def shortened(answer) -> None:
    """A short first message, the full text kept as detail, the way to it named, all citations kept."""
    first_message_ok(answer.text)
    assert answer.detail and len(answer.detail) > len(answer.text) and answer.text.endswith(more_line())


# ---------------------------------------------------------------- words

def test_detail_words_and_their_examples():
    data = yaml.safe_load(DATA_PATH.read_text(encoding="utf-8"))
    assert all(is_detail_request(x) for x in data["detail_examples"]["yes"])
    assert not any(is_detail_request(x) for x in data["detail_examples"]["no"])


def test_seq_range():
    assert seq_range([4, 1, 2, 3, 6]) == "1–4、6" and seq_range([5]) == "5" and seq_range([1, 2]) == "1、2"


# ---------------------------------------------------------------- per answer kind

def test_incentives_first_sentence_three_points_rest_by_name(tmp_path):
    a = dialogue(tmp_path).reply("u", "企业评上B级有什么好处？")
    shortened(a)
    result = a.tools[0]["result"]
    measures = result["measures"] + result["upgrade_support"]
    assert a.text.startswith(f"重庆B级企业可享受惠企措施第1–9条（共10条）") and len(a.text.split("\n")[0]) <= 80
    quoted = [line for line in a.text.split("\n") if re.match(r"第\d条 ", line)]
    assert len(quoted) == 3 and all(line.endswith("（2024-08-05））") for line in quoted)  # each cites its clause
    rest = re.search(r"^其余：(.*)$", a.text, re.M).group(1)  # the other measures, by name or by number
    named = {m["seq"] for m in measures if f"第{m['seq']}条{m['name']}" in rest}
    shown = {int(x) for x in re.findall(r"^第(\d)条 ", a.text, re.M)}
    assert shown | named | numbers(rest) == {m["seq"] for m in measures}
    assert all(f"第{m['seq']}条 {m['name']}" in a.detail for m in measures)  # the full list behind 详细
    sections = {c["section"] for c in a.citations}
    assert {m["basis"][0]["section"] for m in measures} <= sections  # every measure's clause stays cited


def test_incentives_points_follow_the_question():
    r = incentives("A")
    picked = [m.seq for m in relevant(r.measures, "增发碳排放配额吗？另外环保税能减吗")]
    assert 9 in picked and 2 in picked and len(picked) == 3 and picked == sorted(picked)
    body, cites = RENDERERS["incentives"](r)
    text, points = short_incentives(r, "增发碳排放配额吗？另外环保税能减吗", "", cites)
    assert "第9条 减污降碳激励：“提升至A级的" in text and [p["n"] for p in points] == picked
    first_message_ok(text)


def test_an_amount_asked_is_given_by_the_relevant_measure_that_states_one():
    r = incentives("B")
    body, cites = RENDERERS["incentives"](r)
    text, points = short_incentives(r, "评了B级环保税和监测费用能省好多", "", cites)
    tax = next(line for line in text.split("\n") if line.startswith("第2条"))
    assert "75%" in tax  # measure 2 states its rates; the other measures picked state no amount


def test_lower_grade_names_what_it_does_not_get(tmp_path):
    a = dialogue(tmp_path).reply("u", "D级企业有什么好处")
    shortened(a)
    assert a.text.startswith("重庆D级企业可享受惠企措施第1–4条") and "第5–9条" in a.text and "不适用" in a.text
    assert "首违不罚" in a.detail  # the excluded measures are quoted in full behind 详细


def test_review_route_who_in_order_one_line_each(tmp_path):
    a = dialogue(tmp_path).reply("u", "铸造企业申报B级由谁审核？")
    shortened(a)
    steps = a.tools[0]["result"]["steps"]
    lines = a.text.split("\n")
    for s in steps:
        assert f"{s['order']}. {s['actor']}：{s['action']}" in lines
    assert "区县预审" in lines[0] and any(line.startswith("依据：《") for line in lines)


def test_review_overview_one_line_per_route(tmp_path):
    a = dialogue(tmp_path).reply("u", "企业申报绩效评级都由谁来审核？")
    shortened(a)
    assert "区县" in a.text and "市生态环境局" in a.text and a.text.count("\n- ") >= 2
    assert len(a.citations) >= 3


def test_tiers_answer_is_short_and_whole(tmp_path):
    a = dialogue(tmp_path).reply("u", "做铸件的厂子能评哪几级")
    first_message_ok(a.text)
    assert "A/B/C/D" in a.text and "审核要求" in a.text and a.citations


@pytest.mark.parametrize("tool, args, facts", [
    ("delegated_industries", {}, ["汽修", "通用行业", "市生态环境局"]),
    ("procedure_fact", {"topic": "申报材料"}, ["附件5", "一年只能申报一次"]),
    ("policy_register", {}, ["创B争A通知"]),
])
def test_registry_tools_answer_short(tool, args, facts):
    t = TOOLS[tool]
    a = t.answer(understand("请问"), t.args(**args))
    first_message_ok(a.text)
    assert all(f in a.text for f in facts)
    assert not a.detail or a.text.endswith(more_line())


def test_policy_clauses_best_sentence_first_at_most_two_more():
    sentences = [f"第{i}句规定企业应当按要求开展绩效分级申报工作并在系统中上传全部证明材料和监测数据。" for i in range(1, 6)]
    hit = FakeHit("cq-cbza-2024", "创B争A通知", "五、", "".join(sentences), 0.9)
    a = _quoted(understand("申报要做什么"), [hit], [(s, hit) for s in sentences], None, False, [])
    shortened(a)
    assert a.text.startswith(sentences[0]) and sum(s in a.text for s in sentences) == 3
    assert all(s in a.detail for s in sentences) and len(a.citations) == 5


def test_abstentions_stay_short(tmp_path):
    a = dialogue(tmp_path).reply("u", "我们厂的评级申报现在审到哪一步了？")
    first_message_ok(a.text)
    assert a.escalate and not a.detail


# ---------------------------------------------------------------- 详细

def test_detail_after_a_restart_from_the_database(tmp_path):
    first = dialogue(tmp_path).reply("wx:1", "企业评上B级有什么好处？")
    assert first.detail
    again = dialogue(tmp_path)  # a new process on the same database
    full = again.reply("wx:1", "详细")
    assert full.text == first.detail and full.intent == "detail"
    assert again.reply("wx:1", "展开").text == nothing_more()  # the full text is already the last answer
    assert again.reply("wx:2", "详细").text == nothing_more()  # another user: nothing of wx:1's
    stored = ConversationStore(tmp_path / "turns.db").recent("wx:1", 3)
    assert stored[2].detail == first.detail and stored[1].answer == first.detail


def test_detail_on_wechat_is_sent_whole(tmp_path):
    d = dialogue(tmp_path)
    d.reply("wx:3", "企业申报绩效评级都由谁来审核？")
    full = d.reply("wx:3", "全文")
    parts = split_for_wechat(full.text)
    assert "".join(parts) == full.text and all(len(p.encode("utf-8")) <= WECHAT_LIMIT for p in parts)


def test_web_chat_shows_detail_behind_an_expander(tmp_path):
    bot = dialogue(tmp_path)
    services = make_services(tmp_path, bot=bot)
    add_user(services, "alice")
    client = TestClient(create_app(services=services))
    login(client, "alice")
    short = client.post("/api/chat", json={"message": "企业评上B级有什么好处？"}).json()
    assert short["detail"] and short["detail"] != short["answer"] and len(short["answer"]) <= SHORT_MAX
    whole = client.post("/api/chat", json={"message": "铸造厂能评几级？"}).json()
    assert whole["detail"] == ""


def test_old_turns_table_gets_the_detail_column(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # the table as it was before issue #14
        conn.execute("CREATE TABLE turns (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id VARCHAR(255) NOT NULL, "
                     "channel VARCHAR(32) NOT NULL, question TEXT NOT NULL, intent VARCHAR(64) NOT NULL, "
                     "tools TEXT NOT NULL, chunks TEXT NOT NULL, answer TEXT NOT NULL, latency_ms INTEGER NOT NULL, "
                     "escalate INTEGER NOT NULL, route TEXT NOT NULL, created_at FLOAT NOT NULL)")
        conn.execute("INSERT INTO turns VALUES (1, 'u', 'web', 'q', 'policy', '[]', '[]', 'old', 1, 0, '{}', 1.0)")
    store = ConversationStore(path)
    store.record("u", "web", "q2", "policy", [], [], "short", 1, False, {}, detail="full")
    new, old = store.recent("u", 2)
    assert (old.answer, old.detail) == ("old", "") and (new.answer, new.detail) == ("short", "full")


# ---------------------------------------------------------------- follow-ups

def test_follow_up_names_measures_already_given(tmp_path):
    d = dialogue(tmp_path)
    first = d.reply("u", "评上B级有什么好处，资金和税收上呢")
    given = [line for line in first.text.split("\n") if re.match(r"第\d条 ", line)]
    assert given[:2] == [x for x in given if x.startswith(("第1条", "第2条"))]
    follow = d.reply("u", "如果是C级企业呢")
    assert follow.text.startswith("重庆C级企业可享受惠企措施第1–4条")
    assert not any(line in follow.text for line in given)  # nothing repeated word for word
    assert "第1、2条同上。" in follow.text and "第3条 免费监测" in follow.text  # 3 was not given before
    first_message_ok(follow.text)
    assert ConversationStore(tmp_path / "turns.db").recent("u", 1)[0].answer == follow.text  # stored as sent


def test_follow_up_names_review_steps_already_given(tmp_path):
    d = dialogue(tmp_path)
    first = d.reply("u", "汽修企业申报地方绩效引领找谁审核？")
    steps = [line for line in first.text.split("\n") if line[:1].isdigit()]
    assert len(steps) >= 3
    follow = d.reply("u", "要是申报的是B级，又找谁")
    assert not any(line in follow.text for line in steps) and f"第1–{len(steps)}步同上。" in follow.text


def test_a_new_question_is_not_trimmed(tmp_path):
    d = dialogue(tmp_path)
    d.reply("u", "铸造厂能评几级")
    a = d.reply("u", "评上B级有什么好处")
    assert "同上" not in a.text and len(re.findall(r"^第\d条 ", a.text, re.M)) == 3


def test_a_whole_list_shows_the_grades_own_benefits_unless_the_question_points_to_a_measure():
    from jixiao.bot.incentives import incentives
    from jixiao.bot.short_answer import relevant

    got = list(incentives("B", "重庆").measures)
    assert [m.seq for m in relevant(got, "拿到B级以后有啥甜头 B级")] == [6, 8, 9]  # no measure named: headline order
    assert 2 in [m.seq for m in relevant(got, "拿到B级以后环保税能不能少交 B级")]   # 环保税 points to measure 2
