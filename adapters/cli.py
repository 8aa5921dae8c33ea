"""`jixiao serve` (web chat, WeChat, helpdesk in one app) and `jixiao users add|list|passwd|disable|enable|remove`."""
from __future__ import annotations

import getpass
import sys

import typer

from jixiao.errors import ConfigError, InputError
from jixiao.settings import Settings

users_app = typer.Typer(help="网页与服务台的工作人员账号。", no_args_is_help=True)


def _user_store(settings: Settings):
    from jixiao.adapters.app import _import_tables
    from jixiao.adapters.auth import UserStore, session_secret
    from jixiao.db import create_all, make_engine

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url())
    _import_tables()
    create_all(engine)
    return UserStore(engine, session_secret(settings))


def _read_password() -> str:
    """From an interactive prompt (asked twice), or the first line of stdin when piped."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("密码：")
    if getpass.getpass("再次输入密码：") != first:
        typer.echo("两次输入的密码不一致。", err=True)
        raise typer.Exit(2)
    return first


@users_app.command("add")
def users_add(
    username: str = typer.Argument(..., help="登录用户名（字母、数字、_ . -）"),
    role: str = typer.Option("staff", "--role", help="staff（工作人员）或 admin（管理员，可用服务台管理功能）"),
) -> None:
    """新建账号；密码从提示输入，或从标准输入读取第一行（如 echo 密码 | jixiao users add 张三）。"""
    store = _user_store(Settings())
    try:
        user = store.add(username, _read_password(), role)
    except InputError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1)
    typer.echo(f"已创建用户 {user.username}（{user.role}）。")


@users_app.command("passwd")
def users_passwd(username: str = typer.Argument(..., help="用户名")) -> None:
    """重设密码（从提示或标准输入读取）；该用户的所有会话随即失效。"""
    try:
        _user_store(Settings()).set_password(username, _read_password())
    except InputError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1)
    typer.echo(f"已更新 {username} 的密码。")


def _account_action(username: str, action: str, done: str) -> None:
    try:
        getattr(_user_store(Settings()), action)(username)
    except InputError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1)
    typer.echo(done.format(username=username))


@users_app.command("disable")
def users_disable(username: str = typer.Argument(..., help="用户名")) -> None:
    """停用账号：立即结束其所有会话，之后无法登录（enable 可恢复）。"""
    _account_action(username, "disable", "已停用 {username}，其所有会话已结束。")


@users_app.command("enable")
def users_enable(username: str = typer.Argument(..., help="用户名")) -> None:
    """恢复被停用的账号（密码不变）。"""
    _account_action(username, "enable", "已恢复 {username}。")


@users_app.command("remove")
def users_remove(username: str = typer.Argument(..., help="用户名")) -> None:
    """删除账号及其所有会话。"""
    _account_action(username, "remove", "已删除 {username}，其所有会话已结束。")


@users_app.command("list")
def users_list() -> None:
    """列出账号和角色（停用的标注“已停用”）。"""
    users = _user_store(Settings()).list_with_state()
    if not users:
        typer.echo("还没有账号。运行 `jixiao users add 用户名 --role admin` 创建。")
    for u, disabled in users:
        typer.echo(f"{u.username}\t{u.role}" + ("\t已停用" if disabled else ""))


def serve(host: str = typer.Option("127.0.0.1", "--host", help="监听地址；对外服务用 0.0.0.0"),
          port: int = typer.Option(8000, "--port", help="端口"),
          workers: int = typer.Option(None, "--workers", min=1,
                                      help="进程数（同一端口；默认 JIXIAO_WORKERS，即 1）")) -> None:
    """启动网页对话、微信公众号接口和人工服务台（--workers N：N 个进程共用一个端口和同一个数据库）。"""
    import uvicorn

    from jixiao.adapters.app import INDEX_HINT, configure_logging, create_app, index_ready

    try:
        settings = Settings().check()
        workers = workers or settings.workers
        if workers > 1 and not settings.database_url:
            typer.echo(f"提示：{workers} 个进程共用 SQLite（{settings.db_url()}）；负载较高时建议设置 "
                       "JIXIAO_DATABASE_URL 使用 PostgreSQL。", err=True)
    except ConfigError as exc:
        typer.echo(f"配置错误：{exc}", err=True)
        raise typer.Exit(2)
    configure_logging(settings)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    typer.echo(f"jixiao 正在启动：http://{shown}:{port}/ （接口文档 http://{shown}:{port}/docs）")
    if not _user_store(settings).list():
        typer.echo("还没有任何账号：另开终端运行 `jixiao users add 用户名 --role admin` 创建后即可登录。")
    if not index_ready(settings):
        typer.echo(INDEX_HINT + "。")
    if workers > 1:  # each worker process imports the factory and builds its own services in the lifespan
        uvicorn.run("jixiao.adapters.app:app_from_env", factory=True, workers=workers, host=host, port=port,
                    log_config=None, proxy_headers=True)
    else:
        uvicorn.run(create_app(settings), host=host, port=port, log_config=None, proxy_headers=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(users_app, name="users", help="工作人员账号：新建、列表、重设密码、停用、删除。")
