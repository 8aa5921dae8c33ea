"""The console command end to end, as a user runs it."""
import json
import subprocess
import sys


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jixiao", *args], capture_output=True, text=True, timeout=120)


def test_help_lists_command_groups():
    out = run("--help")
    assert out.returncode == 0, out.stderr
    for command in ("docs", "tiers", "review", "incentives"):
        assert command in out.stdout


def test_tiers_json_names_industry_and_basis():
    out = run("tiers", "我们是做铸件的", "--json")
    assert out.returncode == 0, out.stderr
    assert "铸造" in out.stdout
    data = json.loads(out.stdout)
    assert data


def test_unknown_industry_is_a_clear_reply_not_a_traceback():
    out = run("tiers", "火星采矿")
    assert "Traceback" not in out.stderr + out.stdout
    assert out.stdout.strip() or out.stderr.strip()


def test_docs_list_shows_the_corpus():
    out = run("docs", "list", "--json")
    assert out.returncode == 0, out.stderr
    assert "cq-cbza-2024" in out.stdout and "liaocheng-2020" in out.stdout


def test_ask_json_reads_stdin_one_object_per_line():
    out = subprocess.run([sys.executable, "-m", "jixiao", "ask", "--json"], input="评上B级有什么好处？\n我们公司的申报审到哪了\n",
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["question"] for r in rows] == ["评上B级有什么好处？", "我们公司的申报审到哪了"]
    assert rows[0]["tools"][0]["name"] == "incentives" and not rows[0]["escalate"]
    assert rows[0]["citations"] and rows[0]["citations"][0]["doc_id"] == "cq-cbza-2024-att1"
    assert rows[1]["escalate"] is True


def test_assess_scripted_json(tmp_path):
    answers = tmp_path / "answers.txt"
    answers.write_text("\n".join(["汽修", "1", "2", "2", "2", *["1"] * 9]), encoding="utf-8")
    out = run("assess", "--answers", str(answers), "--json", "--db", str(tmp_path / "a.db"))
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["done"] and data["result"]["industry"] == "汽修行业"
