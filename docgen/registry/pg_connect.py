"""Reaching the PostgreSQL server: a bounded number of attempts with backoff, and one Chinese line
when it cannot be reached.

A server restarted mid-run (``pg_ctl restart``, a failover) drops every connection; a command that
gave up at once left its letters half-done. So a connection is tried again a few times with a
growing pause (about 4 s in all), and a lost connection is opened again the same way — the
registry then redoes, or recognises as committed, the append it was in. When the server stays
away the user sees one line in Chinese: what failed, where, what to do — not libpq's English,
and exit code 1 (a failed operation), not 2 (a usage error).
"""

from __future__ import annotations

import time
from typing import Any

from docgen.core.errors import DocgenError

RETRY_DELAYS = (0.25, 0.5, 1.0, 2.0)
"""Pauses (seconds) before the second, third … attempt to reach the server."""

_PERMANENT = (
    ("password authentication failed", "账号或口令不对"),
    ("no password supplied", "没有提供口令(请用 PGPASSWORD 或 ~/.pgpass)"),
    ("no pg_hba.conf entry", "服务器不允许该账号从本机连接(pg_hba.conf)"),
    ("does not exist", "数据库或账号不存在"),
    ("SSL", "SSL 连接失败(请检查 sslmode 和服务器的证书设置)"),
)
_TRANSIENT = (
    ("Connection refused", "服务器拒绝连接(数据库服务未启动或端口不对)"),
    ("No such file or directory", "找不到数据库服务(服务未启动或地址不对)"),
    ("the database system is starting up", "数据库服务正在启动"),
    ("the database system is shutting down", "数据库服务正在关闭"),
    ("the database system is in recovery mode", "数据库服务正在恢复"),
    ("timeout expired", "连接超时"),
    ("could not translate host name", "无法解析服务器地址"),
    ("terminating connection", "服务器中断了连接(服务重启或被管理员终止)"),
    ("server closed the connection", "服务器中断了连接"),
    ("connection is closed", "连接已断开"),
    ("consuming input failed", "连接已断开"),
)


class RegistryUnavailable(DocgenError):
    """The PostgreSQL registry could not be reached, or the connection was lost (exit code 1)."""


def reason(exc: BaseException) -> tuple[str, bool]:
    """Why ``exc`` happened, in Chinese, and whether trying again may help."""
    text = str(exc)
    for needle, why in _PERMANENT:
        if needle in text:
            return why, False
    for needle, why in _TRANSIENT:
        if needle in text:
            return why, True
    return "无法与数据库服务器通信", True


def unavailable(location: str, exc: BaseException, attempts: int) -> RegistryUnavailable:
    why, transient = reason(exc)
    tried = f"(已尝试 {attempts} 次)" if attempts > 1 else ""
    return RegistryUnavailable(
        f"无法连接 PostgreSQL 登记簿 {location}:{why}{tried}",
        hint=(
            "请确认数据库服务已启动、网络可达后重新运行本命令;已登记的记录不受影响"
            if transient
            else "请检查 DOCGEN_DATABASE_URL 中的账号、口令、数据库名和 sslmode"
        ),
    )


def connect(psycopg: Any, url: str, location: str) -> Any:
    """A new autocommit connection, tried up to ``1 + len(RETRY_DELAYS)`` times."""
    attempts = 0
    for delay in (0.0, *RETRY_DELAYS):
        if delay:
            time.sleep(delay)
        attempts += 1
        try:
            return psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            last: BaseException = exc
            if not reason(exc)[1]:
                break
    raise unavailable(location, last, attempts) from last


def lost(location: str, exc: BaseException) -> RegistryUnavailable:
    """The connection dropped in the middle of an operation."""
    why, _transient = reason(exc)
    return RegistryUnavailable(
        f"与 PostgreSQL 登记簿 {location} 的连接中断:{why}",
        hint="请确认数据库服务正常后重新运行本命令;中断的那次写入要么完整登记、要么没有登记",
    )
