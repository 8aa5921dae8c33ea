"""The helpdesk console on a phone (390 × 844) in headless Chromium: queue, ticket, answer, true delivery state."""
from __future__ import annotations

import pytest

from jixiao.adapters.app import create_app
from jixiao.adapters.helpdesk import Helpdesk
from servers import PASSWORD, add_user, live_server, make_services
from test_browser import browser  # noqa: F401  (fixture)

pytestmark = pytest.mark.integration


def _no_horizontal_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide on a 390px screen"


def test_console_works_at_390px(browser, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    services = make_services(tmp_path)
    desk = services.extras["helpdesk"] = Helpdesk(services)
    add_user(services, "staff_b")
    long_question = "我们是万州区的一家铸造企业，" + "想了解申报材料和审核流程，" * 8 + "请问找谁审？"
    tid = desk.open_ticket("web", "web:zhang", long_question, None, history=[])
    desk.open_ticket("web", "web:li", long_question.replace("，", ","), None, history=[])  # same question
    with live_server(create_app(services=services)) as url:
        context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                      is_mobile=True, has_touch=True)
        page = context.new_page()
        page.goto(url + "/console")
        page.fill("#username", "staff_b")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_url(url + "/console")
        item = page.locator(f'#tickets li[data-id="{tid}"]')
        expect(item).to_contain_text("2 位用户提出了这个问题")
        _no_horizontal_scroll(page)
        item.tap()
        expect(page.locator("#d-title")).to_contain_text(f"工单 #{tid}")
        expect(page.locator("#detail")).to_be_in_viewport()
        expect(page.locator("#d-askers li")).to_have_count(2)
        _no_horizontal_scroll(page)
        page.locator("#act-claim").tap()
        expect(page.locator("#answer-box")).to_be_visible()
        box = page.locator("#act-answer").bounding_box()
        assert box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= 390
        page.fill("#answer-text", "请登录应急管理系统查看审核进度。")
        page.locator("#act-answer").tap()
        expect(page.locator("#d-clocks")).to_contain_text("待用户下次访问时送达", timeout=10_000)  # web: held
        expect(page.locator("#d-askers li").first).to_contain_text("待用户下次访问时送达")
        _no_horizontal_scroll(page)
