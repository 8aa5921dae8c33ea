"""`jixiao wechat menu`: publish the official account's menu (`adapters/wechat_menu.py: MENU`)."""
from __future__ import annotations

import json

import typer

wechat_app = typer.Typer(help="微信公众号：自定义菜单等。", no_args_is_help=True, add_completion=False)


@wechat_app.callback()
def _wechat_group() -> None:
    """微信公众号：自定义菜单等。"""


@wechat_app.command("menu")
def menu_cmd(dry_run: bool = typer.Option(False, "--dry-run", help="只打印菜单 JSON，不调用微信接口。")) -> None:
    """发布公众号自定义菜单（评级查询、惠企政策、企业自评、人工服务）。"""
    from jixiao.db import KV, create_all, make_engine
    from jixiao.adapters.wechat_api import WeChatAPIError, WeChatClient
    from jixiao.adapters.wechat_menu import MENU
    from jixiao.errors import ConfigError
    from jixiao.settings import Settings

    if dry_run:
        typer.echo(json.dumps(MENU, ensure_ascii=False, indent=2))
        return
    settings = Settings()
    engine = make_engine(settings.db_url())
    create_all(engine)  # the kv table caches the access token for `jixiao serve` too
    try:
        client = WeChatClient.from_settings(settings, KV(engine))
        client.create_menu(MENU)
    except ConfigError as exc:
        typer.echo(f"错误：{exc}", err=True)
        raise typer.Exit(2)
    except WeChatAPIError as exc:
        typer.echo(f"错误：微信接口拒绝了菜单（errcode={exc.errcode}，errmsg={exc.errmsg!r}）。"
                   f"接口地址 {settings.wechat_api_base}；请检查 JIXIAO_WECHAT_APPID/SECRET 与公众号权限。", err=True)
        raise typer.Exit(1)
    finally:
        engine.dispose()
    names = "、".join(b["name"] for b in MENU["button"])
    typer.echo(f"菜单已发布：{names}（{settings.wechat_api_base}）")


def register(app: typer.Typer) -> None:
    app.add_typer(wechat_app, name="wechat", help="微信公众号：自定义菜单等。")
