"""The optional LLM: drafts checked sentence by sentence against the turn's evidence; failures fall back.

A real HTTP server on 127.0.0.1 speaks /v1/chat/completions (tests/fakes/openai_server.py).
"""
from __future__ import annotations

import time

import pytest

from jixiao.bot.llm import OpenAIDrafter, keep_supported, make_drafter, supported
from jixiao.bot.turn import Assistant, FakeHit, FakePassageSearch
from tests.fakes.openai_server import FakeOpenAI

CLAUSE = "整改期间企业按照最低级管理，整改期满后企业提交整改报告和复核申请。"
HITS = [FakeHit("cq-cbza-2024", "创B争A通知", "五、", "抽查发现企业不满足绩效指标的，责令企业限期整改。" + CLAUSE, 0.9)]


def _bot(tmp_path, server, timeout=5.0):
    drafter = OpenAIDrafter(server.base_url, "fake-model", "test-key", timeout)
    return Assistant(FakePassageSearch(HITS), tmp_path / "t.db", llm=drafter)


def test_supported_draft_is_kept(tmp_path):
    with FakeOpenAI([{"content": "整改期间企业按照最低级管理。整改期满后企业提交整改报告和复核申请。"}]) as server:
        a = _bot(tmp_path, server).reply("u", "抽查不合格会怎样")
    assert a.drafted and a.text.startswith("整改期间企业按照最低级管理。")
    assert a.citations and a.citations[0]["doc_id"] == "cq-cbza-2024"
    sent = server.requests[0]
    assert sent["model"] == "fake-model" and {t["function"]["name"] for t in sent["tools"]} >= {"tier_scheme"}
    assert CLAUSE in sent["messages"][-1]["content"]  # the retrieved clause is the model's context


def test_invented_sentence_is_dropped(tmp_path):
    draft = "整改期间企业按照最低级管理。整改期限一般为30天，逾期罚款5万元。"
    with FakeOpenAI([{"content": draft}]) as server:
        a = _bot(tmp_path, server).reply("u", "抽查不合格会怎样")
    assert a.drafted and "最低级管理" in a.text
    assert "30天" not in a.text and "5万元" not in a.text


def test_fully_invented_draft_falls_back(tmp_path):
    with FakeOpenAI([{"content": "贵企业可以直接升为A级。"}]) as server:
        a = _bot(tmp_path, server).reply("u", "抽查不合格会怎样")
    assert not a.drafted and "限期整改" in a.text


def test_timeout_falls_back_to_deterministic_answer(tmp_path):
    with FakeOpenAI([{"content": "整改期间企业按照最低级管理。", "delay": 30}]) as server:
        t0 = time.perf_counter()
        a = _bot(tmp_path, server, timeout=0.5).reply("u", "抽查不合格会怎样")
        elapsed = time.perf_counter() - t0
    assert not a.drafted and "限期整改" in a.text and not a.escalate
    assert elapsed < 20  # the 30 s reply was not waited for (slack for a loaded machine)


def test_server_error_falls_back(tmp_path):
    with FakeOpenAI([{"status": 500}]) as server:
        a = _bot(tmp_path, server).reply("u", "抽查不合格会怎样")
    assert not a.drafted and "限期整改" in a.text and len(server.requests) == 1  # no retries


def test_tool_call_result_becomes_evidence(tmp_path):
    script = [{"tool_calls": [{"name": "tier_scheme", "arguments": {"industry": "铸造"}}]},
              {"content": "铸造行业铸件（冲天炉）的管控类型为A/B/C/D分级。"}]
    with FakeOpenAI(script) as server:
        a = _bot(tmp_path, server).reply("u", "我们是做铸件的，冲天炉，能评几级？")
    assert len(server.requests) == 2
    assert server.requests[1]["messages"][-1]["role"] == "tool"
    assert "铸造" in server.requests[1]["messages"][-1]["content"]
    assert a.drafted and "A/B/C/D" in a.text and a.tools[0]["name"] == "tier_scheme"


def test_escalations_never_reach_the_model(tmp_path):
    with FakeOpenAI([{"content": "您的申报已通过。"}]) as server:
        a = _bot(tmp_path, server).reply("u", "我们公司的申报审到哪了")
    assert a.escalate and server.requests == [] and "已通过" not in a.text


@pytest.mark.parametrize("sentence, ok", [
    ("整改期间企业按照最低级管理。", True),
    ("整改期间，企业按最低级管理", True),
    ("整改期间企业按照最低级管理，期限30天。", False),
    ("企业可以直接评为A级。", False),
])
def test_support_check(sentence, ok):
    assert supported(sentence, [CLAUSE]) is ok


def test_keep_supported_reports_dropped():
    kept, dropped = keep_supported("整改期间企业按照最低级管理。罚款五万元。", [CLAUSE])
    assert kept == "整改期间企业按照最低级管理。" and dropped == ["罚款五万元。"]


def test_no_base_url_means_no_llm():
    class S:
        llm_base_url = None

    assert make_drafter(S()) is None


def test_settings_switch_the_llm_on_for_the_chat_entry_point(tmp_path, monkeypatch):
    from jixiao.bot.dialogue import build_dialogue
    from jixiao.settings import Settings

    with FakeOpenAI([{"content": "铸造行业按附件3可评A、B、C、D级。"}]) as server:
        monkeypatch.setenv("JIXIAO_LLM_BASE_URL", server.base_url)
        monkeypatch.setenv("JIXIAO_LLM_API_KEY", "test-key")
        a = build_dialogue(Settings(data_dir=tmp_path)).reply("u", "铸造厂能评几级？")
    assert server.requests, "the configured endpoint was never called"
    assert a.citations and a.citations[0]["doc_id"] == "cq-cbza-2024-att3"
    monkeypatch.delenv("JIXIAO_LLM_BASE_URL")
    assert build_dialogue(Settings(data_dir=tmp_path / "plain")).reply("u", "铸造厂能评几级？").drafted is False
