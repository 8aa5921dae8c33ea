"""The chat entry point: the scripted assessment dialogues work unchanged through `Dialogue.reply`,
policy questions mid-flow go to the assistant, state survives a new Dialogue (a new process)."""
from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from jixiao.bot.answer import Answer
from jixiao.bot.assess import AssessmentEngine
from jixiao.bot.assess.cli import run_script
from jixiao.bot.dialogue import CONTINUE_LINE, Dialogue, build_dialogue
from jixiao.bot.turn import Assistant
from jixiao.settings import Settings

NO_BARS = ["2", "2", "2"]


def printing(variant: str, pct: str, target: str = "A", bars=NO_BARS) -> list[str]:
    return ["包装印刷", "1", target, *bars, "1", variant, pct, *["1"] * 9]  # 6 families + 3 common checks


SCRIPTS = {  # the scripted dialogues of issue #5 (answers after the industry question is asked)
    "printing_a": printing("1", "65"),
    "printing_flexo_b": printing("3", "90%"),
    "barred": printing("1", "65", bars=["1", "2", "2"]),
    "ambiguous": ["喷漆", "4", "1", "A", *NO_BARS, *["1"] * 11],  # 8 families + 3 common 门禁 checks
    "no_pack": ["铸造", "1", "A", *NO_BARS, *["1"] * 11],
    "local": ["汽修", "1", *NO_BARS, *["1"] * 9],
    "invalid": ["xyzxyz", "包装印刷", "1", "A", "是不是", *NO_BARS, "1", "3", "150", "很多", "90", *["1"] * 9],
}


class Curated:
    """Helpdesk-approved answers: one fixed question, plus a trap that would answer option numbers."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def lookup(self, text: str) -> Answer | None:
        self.asked.append(text)
        if "申报材料" in text or text.strip() in ("1", "2", "3", "A"):
            return Answer("（帮办审核的答复）按附件5准备。", intent="curated", confidence=1.0)
        return None


def make(tmp_path, curated=None) -> Dialogue:
    assistant = Assistant(search=None, store_path=tmp_path / "conversations.db")
    return Dialogue(assistant, AssessmentEngine(tmp_path / "assess.db"), curated)


def play(d: Dialogue, user: str, lines: list[str]) -> list[Answer]:
    return [d.reply(user, line) for line in lines]


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_scripted_dialogues_work_unchanged_through_chat(tmp_path, name):
    answers = SCRIPTS[name]
    engine_result = run_script(answers, tmp_path / "engine.db")["result"]
    d = make(tmp_path)
    replies = play(d, "wx:1", ["自评", *answers])
    assert all(a.intent == "assess" for a in replies)
    final = replies[-1]
    summary = final.tools[0]["result"]
    assert final.tools[0]["name"] == "self_assessment" and summary["industry"] == engine_result["industry"]
    assert summary["estimate_text"] == engine_result["estimate_text"]
    assert summary["short_boards"] == engine_result["short_boards"]
    assert final.text.startswith("【自评结果】") and "转人工" in final.text
    assert final.citations and all({"doc_id", "title", "section", "quote"} <= set(c) for c in final.citations)


def test_assessment_starts_from_the_question_with_industry_and_grade(tmp_path):
    d = make(tmp_path)
    first = d.reply("u", "我们是包装印刷厂，能评上B吗？还差什么？")
    assert first.intent == "assess" and "已识别行业：包装印刷" in first.text
    assert first.tools[0]["result"]["question_id"] == "branch"  # the industry is not asked again
    second = d.reply("u", "1")
    assert "目标等级：B" in second.text and second.tools[0]["result"]["question_id"] == "bar_unapproved"
    ambiguous = d.reply("v", "我们做喷漆的，帮我评估一下")
    assert ambiguous.tools[0]["result"]["question_id"] == "industry_pick" and "工业涂装" in ambiguous.text


def test_policy_question_mid_flow_then_continue(tmp_path):
    d = make(tmp_path)
    play(d, "u", ["自评", "包装印刷", "1"])
    side = d.reply("u", "评上B级有什么好处？")
    assert side.intent == "tool_incentives" and side.tools[0]["name"] == "incentives"
    assert side.text.endswith(CONTINUE_LINE)
    back = d.reply("u", "继续")
    assert back.intent == "assess" and back.tools[0]["result"]["question_id"] == "target"
    assert "贵企业希望申报哪个等级" in back.text
    assert d.reply("u", "2").tools[0]["result"]["question_id"] == "bar_unapproved"  # B, the second option


def test_invalid_answer_is_re_asked_not_sent_to_the_assistant(tmp_path):
    d = make(tmp_path)
    play(d, "u", ["自评", "包装印刷", "1", "A", *NO_BARS, "1", "3"])
    a = d.reply("u", "很多")
    assert a.intent == "assess" and "0到100" in a.text
    assert a.tools[0]["result"]["question_id"] == "ind:ink_share:low_voc_ink_pct"


def test_resumed_days_later_by_a_new_dialogue(tmp_path):
    play(make(tmp_path), "wx:9", ["帮我评估一下", "汽修"])
    later = make(tmp_path)  # another process, same data dir
    side = later.reply("wx:9", "汽修申报找谁审？")
    assert side.intent == "tool_review" and side.text.endswith(CONTINUE_LINE)
    turn = later.reply("wx:9", "继续")
    assert "继续上次的自评" in turn.text and turn.tools[0]["result"]["question_id"] == "target"
    assert later.reply("wx:9", "退出").intent == "assess"
    paused = later.reply("wx:9", "评上B级有什么好处？")
    assert paused.intent == "tool_incentives" and "回复“继续”可接着做" in paused.text
    assert later.reply("wx:9", "1").intent != "assess"  # after 退出 an option number is not taken as an answer
    assert later.reply("wx:9", "继续").tools[0]["result"]["question_id"] == "target"


def test_curated_answers_come_first_but_never_for_an_option(tmp_path):
    curated = Curated()
    d = make(tmp_path, curated)
    assert d.reply("u", "申报材料怎么准备？").intent == "curated"
    play(d, "u", ["自评", "包装印刷"])
    picked = d.reply("u", "1")  # the trap would answer "1"; the engine takes it as the branch
    assert picked.intent == "assess" and "1" not in curated.asked
    side = d.reply("u", "申报材料要准备哪些？")
    assert side.intent == "curated" and side.text.endswith(CONTINUE_LINE)


def test_helpdesk_offered_and_escalated_with_the_result(tmp_path):
    d = make(tmp_path)
    final = play(d, "u", ["自评", *SCRIPTS["printing_flexo_b"]])[-1]
    assert "回复“转人工”" in final.text and not final.escalate
    human = d.reply("u", "转人工")
    assert human.escalate and human.intent == "human"
    attached = [t for t in human.tools if t["name"] == "self_assessment"]
    assert attached and attached[0]["result"]["ceiling"] == "B"


def test_turns_are_stored_and_concurrent_users_do_not_interfere(tmp_path):
    d = make(tmp_path)
    script = ["自评", *SCRIPTS["printing_a"]]
    finals: dict[str, Answer] = {}

    def run(user: str) -> None:
        finals[user] = play(d, user, script)[-1]

    threads = [threading.Thread(target=run, args=(f"web:{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(finals[f"web:{i}"].tools[0]["result"]["ceiling"] == "A" for i in range(4))
    stored = d.assistant.store.recent("web:0", limit=100)
    assert len(stored) == len(script) and {t.intent for t in stored} == {"assess"}


def test_build_dialogue_uses_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("JIXIAO_DATA_DIR", str(tmp_path / "data"))
    d = build_dialogue(Settings())
    d.reply("u", "自评")
    assert (tmp_path / "data" / "jixiao.db").exists() and not (tmp_path / "data" / "assess.db").exists()
    assert build_dialogue(Settings()).engine.status("u") == "active"


def test_chat_command_runs_the_assessment(tmp_path):
    lines = ["自评", "包装印刷", "1", "评上B级有什么好处？", "继续", "A", *NO_BARS, "1", "3", "90", *["1"] * 9,
             "转人工", "退出"]
    out = subprocess.run([sys.executable, "-m", "jixiao", "chat", "--user", "t"], input="\n".join(lines) + "\n",
                         capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, out.stderr
    assert "贵企业希望申报哪个等级" in out.stdout and "惠企措施" in out.stdout
    assert "【自评结果】包装印刷" in out.stdout and "已为您记录转人工请求" in out.stdout


class LongAssistant:
    """A stand-in for the assistant whose answers are longer than one WeChat message (5 KB)."""

    store = None

    def reply(self, user_id: str, text: str, channel: str = "cli") -> Answer:
        return Answer("门禁系统是指……" + "按照移动源应急管理要求，出入口应安装门禁视频系统。" * 120, intent="policy",
                      confidence=0.9)


def test_long_answer_mid_flow_fits_one_wechat_message_so_continue_resumes_at_once(tmp_path):
    from jixiao.bot.answer import WECHAT_LIMIT
    d = Dialogue(LongAssistant(), AssessmentEngine(tmp_path / "assess.db"))
    play(d, "wx", ["自评", "包装印刷", "1"])
    side = d.reply("wx", "门禁系统是什么意思？", channel="wechat")
    assert len(side.text.encode()) <= WECHAT_LIMIT and side.text.endswith(CONTINUE_LINE) and "已截取开头" in side.text
    web = d.reply("web", "自评"), d.reply("web", "包装印刷"), d.reply("web", "门禁系统是什么意思？", channel="web")
    assert len(web[-1].text.encode()) > WECHAT_LIMIT  # the web page shows it whole
    assert d.reply("wx", "继续", channel="wechat").tools[0]["result"]["question_id"] == "target"


def test_descriptions_stay_in_the_flow_and_only_clear_questions_leave(tmp_path):
    d = make(tmp_path)
    play(d, "u", ["自评", "包装印刷", "1", "A", "没有", "无", "没有吧应该", "已完成", "3"])
    a = d.reply("u", "我们用的水性油墨，VOCs含量大概5%")
    assert a.intent == "assess" and a.tools[0]["result"]["question_id"] == "ind:ink_share:low_voc_ink_pct"
    assert d.reply("u", "大概八成五").tools[0]["result"]["question_id"] == "fam:treatment"
    side = d.reply("u", "低VOCs油墨是什么意思？")
    assert side.intent != "assess" and side.text.endswith(CONTINUE_LINE)


def test_result_short_first_full_on_detail_and_on_the_web(tmp_path):
    d = make(tmp_path)
    wx = play(d, "wx", ["自评", *SCRIPTS["printing_flexo_b"]])[-1]
    d2 = [d.reply("wx2", line, channel="wechat") for line in ["自评", *SCRIPTS["printing_flexo_b"]]][-1]
    assert len(d2.text.encode()) <= 600 and "完整报告" not in d2.text.split("\n")[0]
    assert "【自评结果·完整报告】" in wx.text  # cli/web: the full report follows the short result
    detail = d.reply("wx2", "详细", channel="wechat")
    assert detail.intent == "assess" and detail.text.startswith("【自评结果·完整报告】") and "惠企措施" in detail.text


def test_handover_carries_answers_ceiling_and_short_boards(tmp_path):
    d = make(tmp_path)
    play(d, "u", ["自评", *SCRIPTS["printing_flexo_b"]])
    human = d.reply("u", "转人工")
    result = next(t for t in human.tools if t["name"] == "self_assessment")["result"]
    assert result["ceiling"] == "B" and result["ceiling_reasons"][0].startswith("原辅材料")
    assert result["short_boards"] and len(result["short"].encode()) <= 600
    asked = {a["question"]: a["answer"] for a in result["answers"]}
    assert asked["贵企业希望申报哪个等级？"] == "A" and asked["低VOCs含量油墨占油墨总用量的比例是多少（%）？"] == "90%"
    assert "最高可能B级" in human.text and "短板" in human.text  # so the ticket's draft carries it too
