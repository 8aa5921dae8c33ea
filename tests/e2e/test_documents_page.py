"""The documents page in headless Chromium: an admin uploads a DOCX, reads what was found, confirms, watches
the indexing finish, then marks the document removed. Real server, real services (hash embedder)."""
from __future__ import annotations

import re

import pytest

from docx_notice import NUMBER, TITLE, write_notice
from jixiao.settings import Settings
from servers import PASSWORD, add_user, app_server
from test_browser import browser  # noqa: F401  (fixture)

pytestmark = pytest.mark.integration


def test_admin_uploads_confirms_and_removes_a_document(browser, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    settings = Settings(data_dir=tmp_path / "var", embedder="hash")
    add_user(settings, "admin", "admin")
    docx = write_notice(tmp_path / "臭氧巡检通知.docx")
    with app_server(settings) as url:
        page = browser.new_page()
        page.goto(url + "/console")
        page.wait_for_url(re.compile(r"/login"))
        page.fill("#username", "admin")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_url(re.compile(r"/console"))
        page.click("a[href='/console/documents']")
        page.wait_for_url(re.compile(r"/console/documents"))
        expect(page.locator("#docs tbody tr").first).to_be_visible()

        page.set_input_files("#file", str(docx))
        page.click("#upload")
        found = page.locator("#found tbody tr")
        expect(found).to_have_count(1)
        expect(found.first).to_contain_text(TITLE)
        expect(found.first).to_contain_text(NUMBER)
        expect(found.first).to_contain_text("2026-03-02")
        expect(found.first).to_contain_text("一、试点范围")

        page.click("#confirm")
        expect(page.locator("#progress")).to_contain_text("已完成", timeout=120_000)
        row = page.locator("#docs tbody tr", has_text=TITLE)
        expect(row).to_contain_text("上传")
        expect(row).to_contain_text("有效")

        row.locator("select").select_option("removed")
        row.locator("button").click()
        expect(page.locator("#flash")).to_contain_text("正在更新索引")
        # the list is read again when the re-index job has finished
        expect(page.locator("#docs tbody tr", has_text=TITLE)).to_contain_text("已移除", timeout=120_000)
        expect(page.locator("#progress")).to_contain_text("已完成")
