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
