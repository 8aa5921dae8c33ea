"""WeChat's server API client and `jixiao wechat menu`, against the fake WeChat API on loopback."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from fakes.wechat_server import FakeWeChatAPI
from jixiao.db import KV, create_all, make_engine
from jixiao.adapters.wechat_api import WeChatAPIError, WeChatClient
from jixiao.adapters.wechat_inbound import Gate
from jixiao.adapters.wechat_menu import CLICKS, MENU
from jixiao.errors import ConfigError

pytestmark = pytest.mark.integration
APPID, SECRET = "wxfake0001", "fake-secret"


@pytest.fixture
def api():
    with FakeWeChatAPI(APPID, SECRET) as fake:
        yield fake


@pytest.fixture
def kv(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'kv.db'}")
    create_all(engine)
    yield KV(engine)
    engine.dispose()


def test_token_is_cached_in_the_shared_kv(api, kv):
    first, second = WeChatClient(api.url, APPID, SECRET, kv), WeChatClient(api.url, APPID, SECRET, kv)
    first.send_text("openid-1", "一")
    second.send_text("openid-1", "二")  # another worker: same KV, no new fetch
    assert api.token_fetches == 1
    assert api.messages == [("openid-1", "一"), ("openid-1", "二")]


@pytest.mark.parametrize("invalidate,errcode", [("expire_tokens", 42001), ("revoke_tokens", 40001)])
def test_expired_or_invalid_token_is_refreshed_once(api, kv, invalidate, errcode):
    client = WeChatClient(api.url, APPID, SECRET, kv)
    client.send_text("openid-1", "一")
    getattr(api, invalidate)()
    client.send_text("openid-1", "二")
    assert api.token_fetches == 2 and [m[1] for m in api.messages] == ["一", "二"]


def test_errcodes_surface_with_their_number(api, kv):
    client = WeChatClient(api.url, APPID, SECRET, kv)
    api.out_of_window.add("gone")
    with pytest.raises(WeChatAPIError) as exc:
        client.send_text("gone", "你好")
    assert exc.value.errcode == 45015
    api.limit_per_user = 1
    client.send_text("busy", "一")
    with pytest.raises(WeChatAPIError) as exc:
        client.send_text("busy", "二")
    assert exc.value.errcode == 45047
    with pytest.raises(WeChatAPIError) as exc:
        WeChatClient(api.url, APPID, "wrong-secret", KV(kv.engine)).access_token(refresh=True)
    assert exc.value.errcode == 40125


def test_transport_failure_is_an_api_error_not_a_crash(kv):
    client = WeChatClient("http://127.0.0.1:9", APPID, SECRET, kv, timeout=1)
    with pytest.raises(WeChatAPIError) as exc:
        client.send_text("openid-1", "你好")
    assert exc.value.errcode == -2


def test_bodies_are_utf8_json_without_escapes(api, kv):
    WeChatClient(api.url, APPID, SECRET, kv).create_menu(MENU)
    assert "评级查询".encode("utf-8") in api.raw_bodies[0] and b"\\u" not in api.raw_bodies[0]
    assert api.menus == [MENU]


def test_client_and_gate_name_the_missing_setting(kv):
    with pytest.raises(ConfigError, match="JIXIAO_WECHAT_APPID"):
        WeChatClient("http://127.0.0.1:9", None, SECRET, kv)
    with pytest.raises(ConfigError, match="JIXIAO_WECHAT_TOKEN"):
        Gate(None)
    with pytest.raises(ConfigError, match="JIXIAO_WECHAT_AES_KEY"):
        Gate("token", "too-short", APPID)


def test_menu_keys_all_have_an_action():
    keys = [b.get("key") for b in MENU["button"]] + [s.get("key") for b in MENU["button"] for s in b.get("sub_button", [])]
    assert {k for k in keys if k} == set(CLICKS)
    assert {"评级查询", "惠企政策"} <= {b["name"] for b in MENU["button"]}


def _jixiao(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jixiao", *args], capture_output=True, text=True, timeout=120,
                          env=os.environ | env)


def test_cli_menu_publishes_through_the_api(api):
    env = {"JIXIAO_WECHAT_APPID": APPID, "JIXIAO_WECHAT_SECRET": SECRET, "JIXIAO_WECHAT_API_BASE": api.url}
    out = _jixiao("wechat", "menu", env=env)
    assert out.returncode == 0, out.stderr
    assert api.menus == [MENU] and "菜单已发布" in out.stdout
    dry = _jixiao("wechat", "menu", "--dry-run", env=env)
    assert dry.returncode == 0 and json.loads(dry.stdout) == MENU and len(api.menus) == 1
    api.revoke_tokens()  # the cached token is refused, and a new one cannot be fetched with a wrong secret
    refused = _jixiao("wechat", "menu", env=env | {"JIXIAO_WECHAT_SECRET": "wrong"})
    assert refused.returncode == 1 and "40125" in refused.stderr and "Traceback" not in refused.stderr
