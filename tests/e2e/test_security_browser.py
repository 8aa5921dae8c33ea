"""Issue #16 in headless Chromium: a forged form from another origin, and the open redirect after login."""
from __future__ import annotations

import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from jixiao.adapters.app import create_app
from jixiao.adapters.helpdesk import Helpdesk
from servers import PASSWORD, add_user, live_server, make_services
from test_browser import browser  # noqa: F401  (fixture)

pytestmark = pytest.mark.integration


@pytest.fixture
def site(tmp_path):
    services = make_services(tmp_path)
    desk = services.extras["helpdesk"] = Helpdesk(services)
    add_user(services, "root", "admin")
    tid = desk.open_ticket("web", "web:bob", "抽查比例是多少？", history=[])
    desk.claim(tid, "root")
    desk.answer(tid, "root", "不少于30%。")
    cid = desk.propose_curated(tid, "root")
    with live_server(create_app(services=services)) as url:
        yield url, services, cid


@pytest.fixture
def attacker():
    """Another port of the same host (same site for SameSite cookies) serving `page`."""
    page = {"html": ""}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = page["html"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", page
    server.shutdown()


def _login(page, url, next_path=None):
    page.goto(url + "/login" + (f"?next={next_path}" if next_path else ""))
    page.fill("#username", "root")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")


def test_forged_cross_origin_form_changes_nothing(browser, site, attacker):  # noqa: F811
    url, services, cid = site
    evil, evil_page = attacker
    page = browser.new_context().new_page()
    _login(page, url)
    page.wait_for_url(url + "/")
    responses = []
    page.on("response", lambda r: responses.append((r.url, r.status))
            if "/api/" in r.url and r.request.method == "POST" else None)
    for action in (f"/api/helpdesk/curated/{cid}/approve", "/api/logout"):
        evil_page["html"] = (f'<form id="f" method="POST" action="{url}{action}" enctype="text/plain">'
                             f'<input name="x" value="1"></form><script>document.getElementById("f").submit()</script>')
        page.goto(evil + "/")
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)
    assert [s for u, s in responses] == [403, 403], responses  # the browser sent them, the server refused
    assert services.extras["helpdesk"].curated.get(cid)["state"] == "proposed"
    page.goto(url + "/")  # still logged in: the forged logout did nothing
    page.wait_for_url(url + "/")


@pytest.mark.parametrize("next_path", ["/%5Cevil.example/", "/%2F%09%2Fevil.example/", "/%0A/evil.example/",
                                       "//evil.example/", "https://evil.example/", "/%09/evil.example",
                                       "javascript:alert(1)", "/\\\\evil.example"])
def test_login_never_redirects_to_another_site(browser, site, next_path):  # noqa: F811
    url, _, _ = site
    context = browser.new_context()
    visited = []
    context.route(re.compile(r"^https?://evil\.example"), lambda route: (visited.append(route.request.url),
                                                                       route.fulfill(body="evil")))
    page = context.new_page()
    _login(page, url, next_path)
    page.wait_for_timeout(500)
    assert visited == [] and page.url == url + "/", (visited, page.url)


def test_login_follows_a_same_site_next(browser, site):  # noqa: F811
    url, _, _ = site
    page = browser.new_context().new_page()
    _login(page, url, "/console")
    page.wait_for_url(url + "/console")


def test_docs_render_from_local_files_only(browser, site):  # noqa: F811
    url, _, _ = site
    context = browser.new_context()
    outside = []
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda route: (outside.append(route.request.url),
                                                                          route.abort()))
    page = context.new_page()
    _login(page, url, "/docs")
    page.wait_for_url(url + "/docs")
    from playwright.sync_api import expect
    expect(page.locator("#operations")).to_contain_text("POST /api/chat")
    assert outside == []


def test_staff_answer_shows_on_every_device_and_is_marked_read(browser, site):  # noqa: F811
    from playwright.sync_api import expect

    from jixiao.adapters.outbox import Outbox

    url, services, _ = site
    box = Outbox(services.engine)
    box.hold("web", "web:root", "【人工服务答复·工单 9】您的问题“进度”：\n请查看应急管理系统。", "helpdesk:9")
    laptop = browser.new_context().new_page()
    _login(laptop, url)
    laptop.wait_for_url(url + "/")
    expect(laptop.locator("#log")).to_contain_text("请查看应急管理系统", timeout=10_000)
    deadline = time.monotonic() + 10
    while box.pending("web", "web:root") and time.monotonic() < deadline:
        laptop.wait_for_timeout(100)
    assert box.pending("web", "web:root") == 0  # shown → marked read on the server
    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    _login(phone, url)
    phone.wait_for_url(url + "/")
    expect(phone.locator("#log")).to_contain_text("请查看应急管理系统", timeout=10_000)  # from the history
    phone.wait_for_timeout(500)  # a poll or two: shown once, not again from the inbox
    assert phone.locator("#log").inner_text().count("请查看应急管理系统") == 1
