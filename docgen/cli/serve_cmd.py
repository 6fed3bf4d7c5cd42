"""``docgen serve [WORKSPACE]``: the signing page; ``docgen serve set-password --role ROLE``.

Loopback (127.0.0.1) by default: only this PC can open the page. Serving other PCs on the LAN
needs ``--host`` and TLS with a server certificate issued by the institution's CA; the command
then prints how to install the CA certificate on the client PCs.
"""

from __future__ import annotations

import copy
import ipaddress
from pathlib import Path
from typing import Any

import click
from cryptography import x509

from docgen.cli.common import echo, now_utc, open_workspace, read_secret, workspace_option
from docgen.core.errors import Location, UsageError
from docgen.signing.keyfiles import check_private_file, load_certificate
from docgen.signing.server_cert import server_paths
from docgen.web.logins import ROLE_NAMES, set_password

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8470


def certificate_names(path: Path) -> list[str]:
    """The DNS names and IP addresses a server certificate is for (subjectAltName): the Host
    headers the page answers besides the loopback ones."""
    cert = load_certificate(path)
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    found = list(names.get_values_for_type(x509.DNSName))
    for address in names.get_values_for_type(x509.IPAddress):
        found.append(f"[{address}]" if address.version == 6 else str(address))
    return found


class _ServeGroup(click.Group):
    """``docgen serve demo-ws``: a first argument that is no subcommand names the workspace."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["--workspace", args[0], *args[1:]]
        return super().parse_args(ctx, args)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@click.group(
    "serve",
    cls=_ServeGroup,
    invoke_without_command=True,
    subcommand_metavar="[WORKSPACE | set-password]",
)
@workspace_option
@click.option(
    "--host", default=DEFAULT_HOST, show_default=True, help="监听地址(默认只允许本机访问)"
)
@click.option("--port", type=int, default=DEFAULT_PORT, show_default=True, help="端口")
@click.option(
    "--tls-cert",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="服务器证书(docgen keys issue-server 签发);对局域网开放时必需,"
    "不给出时使用 keys/server/ 中已签发的",
)
@click.option(
    "--tls-key",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="服务器证书的私钥(权限须为 600)",
)
@click.pass_context
def serve(
    ctx: click.Context,
    workspace_path: Path | None,
    host: str,
    port: int,
    tls_cert: Path | None,
    tls_key: Path | None,
) -> None:
    """启动签署页面:签署人阅读并签署本人的文书,办公室查看进度,纪检组核验。

    用法:docgen serve [工作目录]。默认只在本机(127.0.0.1)提供服务;
    对局域网开放须加 --host 和 --tls-cert/--tls-key(本单位根证书签发的服务器证书)。
    办公室、纪检组的登录口令用 docgen serve set-password --role office|auditor 设置。
    """
    ctx.obj = workspace_path
    if ctx.invoked_subcommand is not None:
        return
    ws = open_workspace(workspace_path)
    issued = server_paths(ws.keys_dir)
    lan = not is_loopback(host)
    if lan and tls_cert is None and tls_key is None and all(p.is_file() for p in issued):
        tls_cert, tls_key = issued  # what keys issue-server wrote
    if (tls_cert is None) != (tls_key is None):
        raise UsageError(
            "--tls-cert 和 --tls-key 须同时给出", hint="两者都是 keys issue-server 的产物"
        )
    if not is_loopback(host) and tls_cert is None:
        raise UsageError(
            f"对本机以外开放(--host {host})必须使用 TLS",
            hint="请先运行 docgen keys issue-server 签发服务器证书,再加 --tls-cert 和 --tls-key",
        )
    if tls_key is not None:
        check_private_file(tls_key)
    # Imported here: ``docgen --help`` and the other commands need not load the web stack.
    import uvicorn

    from docgen.web.app import create_app

    names = [host] if host not in ("0.0.0.0", "::") else []
    if tls_cert is not None:
        names += certificate_names(tls_cert)
    app = create_app(ws, now=now_utc, tls=tls_cert is not None, hosts=names)
    scheme = "https" if tls_cert is not None else "http"
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    echo(f"签署页面:{scheme}://{shown}:{port}/  (按 Ctrl+C 停止)")
    if not is_loopback(host):
        echo("其他电脑访问前,请在每台电脑上安装本单位根证书(只需一次):")
        echo(f"  1. 从 {scheme}://{shown}:{port}/ca.pem 下载根证书(或拷贝 {ws.keys_dir}/ca/ca.pem)")
        echo("  2. Windows:双击证书 → 安装证书 → 本地计算机 → 将所有证书放入下列存储")
        echo("     → 受信任的根证书颁发机构;统信UOS/麒麟:复制到 /usr/local/share/ca-certificates/")
        echo("     并改名为 .crt 后运行 sudo update-ca-certificates")
        echo("  3. 核对证书指纹与办公室公布的一致(docgen keys list 显示)")
    uvicorn.run(
        app,
        host=host,
        port=port,
        ssl_certfile=str(tls_cert) if tls_cert is not None else None,
        ssl_keyfile=str(tls_key) if tls_key is not None else None,
        log_config=_log_config(uvicorn.config.LOGGING_CONFIG),
        access_log=True,
        server_header=False,
    )


def _log_config(default: dict[str, Any]) -> dict[str, Any]:
    """uvicorn's logging with its English start/stop lines ("Uvicorn running on … (Press
    CTRL+C to quit)") left out — we print our own Chinese line — but its warnings, errors and
    access log (method, path, status; never a form body) kept."""
    config = copy.deepcopy(default)
    config["loggers"]["uvicorn.error"] = {"level": "WARNING"}
    config["loggers"]["uvicorn.access"] = {**config["loggers"]["uvicorn.access"], "level": "INFO"}
    return config


@serve.command("set-password")
@workspace_option
@click.option(
    "--role",
    type=click.Choice(sorted(ROLE_NAMES)),
    required=True,
    help="office(办公室)或 auditor(纪检组)",
)
@click.pass_context
def set_password_command(ctx: click.Context, workspace_path: Path | None, role: str) -> None:
    """设置办公室或纪检组在签署页面的登录口令(docgen.toml 中只保存其 scrypt 散列)。"""
    ws = open_workspace(workspace_path if workspace_path is not None else ctx.obj)
    password = read_secret(f"{ROLE_NAMES[role]}的登录口令", confirm=True)
    if not password:
        raise UsageError("口令不能为空", location=Location(field="--role"))
    set_password(ws, role, password)
    echo(f"已设置{ROLE_NAMES[role]}的登录口令(docgen.toml 的 [serve] 中只保存其散列)。")
