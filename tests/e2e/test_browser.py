"""End to end in headless Chromium against a real uvicorn server with the real assistant and helpdesk.

Staff A asks in the web chat, opens a citation's clause text and escalates with 转人工; staff B answers
the ticket in the helpdesk console; the answer appears on A's page. Chromium is Debian's
/usr/bin/chromium (Playwright never downloads a browser here).
"""
from __future__ import annotations

import re
import shutil

import pytest

from jixiao.settings import Settings
from servers import PASSWORD, add_user, app_server

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def server(tmp_path):
    settings = Settings(data_dir=tmp_path / "var", embedder="hash")
    add_user(settings, "staff_a", "staff")
    add_user(settings, "staff_b", "staff")
    with app_server(settings) as url:
        yield url


def _login(page, url: str, username: str, path: str = "/") -> None:
    page.goto(url + path)
    page.wait_for_url(re.compile(r"/login"))
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")


def _chat_as_staff_a(page, url: str) -> int:
    """A logs in, asks, opens a citation, escalates; returns the ticket number shown on the page."""
    from playwright.sync_api import expect

    page.goto(url + "/login")
    page.fill("#username", "staff_a")
    page.fill("#password", "wrong-password")
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_have_text("用户名或密码错误")
    _login(page, url, "staff_a")
    page.wait_for_url(url + "/")
    expect(page.locator("#me")).to_have_text("staff_a")

    page.fill("#message", "汽修申报找谁审？")
    page.press("#message", "Enter")
    answer = page.locator(".msg.bot").last
    expect(answer.locator(".citation").first).to_be_visible(timeout=20_000)
    citation = answer.locator(".citation").first
    expect(citation.locator("summary")).to_contain_text("《")
    citation.locator("summary").click()
    expect(citation.locator(".clause-head")).to_contain_text("原文：", timeout=10_000)
    assert len(citation.locator(".clause-body").inner_text().strip()) > 10
    # the short answer's full text is behind 展开全文 (issue #14), not behind a typed 详细
    more = answer.locator("details.detail")
    expect(more.locator("summary")).to_have_text("展开全文")
    assert not any("回复“详细”" in t for t in answer.locator(".bubble > .line").all_inner_texts())
    more.locator("summary").click()
    expect(more).to_contain_text("申报系统")

    page.click("#escalate")
    ticket = page.locator(".msg.bot .ticket").last
    expect(ticket).to_contain_text("工单号 #", timeout=20_000)
    return int(re.search(r"#(\d+)", ticket.inner_text()).group(1))


def test_staff_chat_citation_and_escalation(browser, server):
    """The web half on its own: login, answer with citations, clause text, 转人工 → ticket, reload keeps history."""
    from playwright.sync_api import expect

    page = browser.new_context().new_page()
    ticket_id = _chat_as_staff_a(page, server)
    assert ticket_id >= 1
    page.reload()
    expect(page.locator(".msg.user")).to_have_count(2)
    # the self-assessment: numbered options and quick replies are buttons
    page.fill("#message", "自评")
    page.press("#message", "Enter")
    expect(page.locator(".msg.bot").last.locator(".chip", has_text="退出")).to_be_visible(timeout=20_000)
    page.fill("#message", "铸造")
    page.press("#message", "Enter")
    option = page.locator(".msg.bot").last.locator(".option", has_text="铸件（冲天炉）")
    expect(option).to_be_visible(timeout=20_000)
    option.click()
    expect(page.locator(".msg.user").last).to_have_text("1")
    expect(page.locator(".msg.bot").last.locator(".option", has_text="B")).to_be_visible(timeout=20_000)


def test_console_answer_reaches_the_web_chat(browser, server):
    """A escalates in the web chat; B claims and answers the ticket in /console; A's page shows the answer."""
    from playwright.sync_api import expect

    page_a = browser.new_context().new_page()
    ticket_id = _chat_as_staff_a(page_a, server)

    page_b = browser.new_context().new_page()
    _login(page_b, server, "staff_b", "/console")
    page_b.wait_for_url(server + "/console")
    row = page_b.locator(f"#tickets li[data-id='{ticket_id}']")
    expect(row).to_contain_text("汽修申报找谁审", timeout=15_000)   # 转人工 carries the last real question
    row.click()
    expect(page_b.locator("#d-question")).to_contain_text("汽修申报找谁审")
    page_b.click("#act-claim")
    expect(row).to_contain_text("staff_b", timeout=10_000)
    page_b.fill("#answer-text", "汽修行业由区县预审核，市生态环境局负责市级集中会议审核。")
    page_b.click("#act-answer")
    expect(page_b.locator("#answered")).to_be_visible(timeout=10_000)

    reply = page_a.locator(".msg.helpdesk").last
    expect(reply).to_contain_text("汽修行业由区县预审核", timeout=15_000)
    expect(reply.locator(".from")).to_have_text("服务台答复")
