"""The criteria packs page in headless Chromium: an admin opens it from the console, uploads the README's
example pack with a mistake, sees the line and the fix, corrects it, validates and activates it."""
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


def test_admin_validates_and_activates_a_pack(browser, tmp_path):
    from playwright.sync_api import expect
    from test_criteria_admin import readme_pack

    settings = Settings(data_dir=tmp_path / "var", embedder="hash")
    add_user(settings, "root", "admin")
    pack = readme_pack()
    broken = tmp_path / "zhuzao-paifang.yaml"
    broken.write_text(pack.replace("kind: choice", "kind: pick"), encoding="utf-8")
    with app_server(settings) as url:
        page = browser.new_page()
        page.goto(url + "/console")
        page.wait_for_url(re.compile(r"/login"))
        page.fill("#username", "root")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_url(url + "/console")
        page.click("text=指标包")
        page.wait_for_url(url + "/console/criteria")
        expect(page.locator("#packs")).to_contain_text("common-transport.yaml")
        page.set_input_files("#file", str(broken))
        expect(page.locator("#name")).to_have_value("zhuzao-paifang.yaml")
        page.click("#check")
        expect(page.locator("#result")).to_contain_text("校验未通过")
        expect(page.locator("#problems li").first).to_contain_text("修改方法：kind 只能是 percent、yesno 或 choice")
        expect(page.locator("#activate")).to_be_disabled()
        page.fill("#text", pack)
        page.click("#check")
        expect(page.locator("#result")).to_contain_text("校验通过：铸造")
        page.click("#activate")
        expect(page.locator("#flash")).to_contain_text("已启用 zhuzao-paifang.yaml")
        expect(page.locator("#packs")).to_contain_text("管理员启用")
    assert (tmp_path / "var" / "criteria" / "zhuzao-paifang.yaml").read_text(encoding="utf-8") == pack
