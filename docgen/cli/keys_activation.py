"""``docgen keys activate / reset / handwriting / issue-server`` and ``keys issue``'s activation
codes: each person's own PIN, a new key for a forgotten one, the stamp's handwritten signature,
the TLS certificate of ``docgen serve``. Registered on the ``keys`` group (:mod:`docgen.cli.keys`).

Codes and PINs are typed without echo (or come from an environment variable, for scripts), never
from a command-line argument, and are never printed — except each code on its own sheet.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import click

from docgen.cli.common import echo, now_utc, open_workspace, read_secret, workspace_option
from docgen.core.errors import UsageError
from docgen.core.lock import workspace_lock
from docgen.core.workspace import Workspace
from docgen.signing import passphrase as passphrases
from docgen.signing.activation import ActivationSheet, activate, issue_pending
from docgen.signing.activation_sheet import write_sheets
from docgen.signing.handwriting import save_handwriting
from docgen.signing.key_reset import reset
from docgen.signing.keyfiles import make_private_dir
from docgen.signing.passphrase import Passphrase
from docgen.signing.server_cert import issue_server_certificate
from docgen.signing.x509util import Algorithm

CODE_ENV = "DOCGEN_ACTIVATION_CODE"  # for scripts and tests; people type it
PIN_ENV = passphrases.NEW_ENV
SHEETS_DIR = "activation"


def _ca_secret(file: Path | None) -> Passphrase:
    return passphrases.resolve(
        file=file,
        env_name=passphrases.CA_ENV,
        prompt=lambda: read_secret("根证书口令"),
        what="根证书口令",
    )


def _ca_option(func: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--ca-passphrase-file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=f"从文件第一行读取根证书口令(文件权限须为 600);也可用环境变量 {passphrases.CA_ENV}",
    )(func)


def default_sheets_path(ws: Workspace, now: datetime) -> Path:
    """``keys/activation/激活单_<UTC time>.docx``: beside the keys, in a 0700 directory."""
    directory = ws.keys_dir / SHEETS_DIR
    make_private_dir(directory)
    return directory / f"激活单_{now:%Y%m%dT%H%M%SZ}.docx"


def _say_sheets(sheets: list[ActivationSheet], path: Path) -> None:
    for sheet in sheets:
        echo(f"  {sheet.person_id}  {sheet.name}  序列号 {sheet.certificate_serial}  待本人激活")
    echo(f"激活单(含激活码,权限 600,请打印后分别交给本人,然后删除文件):{path}")
    echo("本人激活:docgen keys activate --person 编号,或在签署页面(docgen serve)点“首次激活”。")


def issue_with_codes(
    ws: Workspace,
    person_ids: list[str] | None,
    ca_secret: Passphrase,
    *,
    algorithm: Algorithm | None,
    sheets_path: Path | None,
) -> None:
    """``keys issue`` with activation codes (the default without a personal passphrase)."""
    now = now_utc()
    with workspace_lock(ws.root):
        sheets, skipped = issue_pending(ws, person_ids, ca_secret, now=now, algorithm=algorithm)
    if skipped:
        echo(f"已有证书、未重新签发 {len(skipped)} 人(忘记 PIN 请用 docgen keys reset)。")
    if not sheets:
        echo("本次签发 0 张证书。")
        return
    path = sheets_path if sheets_path is not None else default_sheets_path(ws, now)
    write_sheets(sheets, path, institution=ws.config.institution)
    _say_sheets(sheets, path)
    echo(f"本次签发 {len(sheets)} 张证书。")


def _code() -> str:
    typed = os.environ.get(CODE_ENV) or read_secret("激活单上的激活码")
    if not typed.strip():
        raise UsageError("激活码不能为空")
    return typed


@click.command("activate")
@workspace_option
@click.option("--person", "person_id", required=True, help="人员编号")
def activate_command(workspace_path: Path | None, person_id: str) -> None:
    """本人激活密钥:输入激活单上的激活码,设置只有自己知道的 PIN(输入两次)。

    激活后私钥改由 PIN 加密,激活码作废;PIN 至少 6 位,不能是 123456、111111 之类。
    """
    ws = open_workspace(workspace_path)
    code = _code()
    pin = passphrases.resolve(
        file=None,
        env_name=PIN_ENV,
        prompt=lambda: read_secret("本人的新 PIN", confirm=True),
        what="PIN",
    )
    activate(ws, person_id, code, pin, now=now_utc())
    echo(f"已激活 {person_id} 的签名密钥:私钥已改由本人 PIN 加密,激活码已作废,已记入登记簿。")
    echo(f"签名:docgen sign --as {person_id}(输入 PIN),或在签署页面登录。")


@click.command("reset")
@workspace_option
@click.option("--person", "person_id", required=True, help="人员编号")
@click.option("--reason", required=True, help="原因(记入登记簿),如:忘记PIN")
@click.option(
    "--compromised", is_flag=True, help="私钥或 PIN 可能已被他人知道(吊销原因记为私钥泄露)"
)
@click.option(
    "--sheets",
    "sheets_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="激活单(.docx)保存位置",
)
@_ca_option
def reset_command(
    workspace_path: Path | None,
    person_id: str,
    reason: str,
    compromised: bool,
    sheets_path: Path | None,
    ca_passphrase_file: Path | None,
) -> None:
    """忘记 PIN:吊销此人的证书,签发新密钥和新证书(待本人用新激活码激活),记入登记簿。

    此前用旧证书所作的签名仍然有效;吊销之后再用旧私钥所作的签名一律不被接受。
    """
    ws = open_workspace(workspace_path)
    ca_secret = _ca_secret(ca_passphrase_file)
    now = now_utc()
    done = reset(ws, person_id, ca_secret, now=now, reason=reason, compromised=compromised)
    echo(
        f"已吊销 {person_id} 的旧证书 {done.old_serial}({done.revocation.label}),"
        f"吊销列表第 {done.crl_number} 号已记入登记簿。"
    )
    path = sheets_path if sheets_path is not None else default_sheets_path(ws, now)
    write_sheets([done.sheet], path, institution=ws.config.institution)
    _say_sheets([done.sheet], path)


@click.command("handwriting")
@workspace_option
@click.option("--person", "person_id", required=True, help="人员编号")
@click.argument("png", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def handwriting_command(workspace_path: Path | None, person_id: str, png: Path) -> None:
    """保存本人的手写签名图片(PNG,不超过 200 KB、1200×600 像素),用于 PDF 签章;可不设。

    图片转为灰度透明底并裁去空白,其 SHA-256 记入登记簿。
    """
    ws = open_workspace(workspace_path)
    path = save_handwriting(ws, person_id, png.read_bytes(), now=now_utc())
    echo(f"已保存 {person_id} 的手写签名:{path}(SHA-256 已记入登记簿)")


@click.command("issue-server")
@workspace_option
@click.option(
    "--host", "hostnames", multiple=True, required=True,
    help="服务器的主机名或 IP 地址(可重复),客户端用它访问签署页面",
)  # fmt: skip
@_ca_option
def issue_server_command(
    workspace_path: Path | None, hostnames: tuple[str, ...], ca_passphrase_file: Path | None
) -> None:
    """为 docgen serve --host 签发 TLS 服务器证书(本单位根证书签发,serverAuth)。"""
    ws = open_workspace(workspace_path)
    ca_secret = _ca_secret(ca_passphrase_file)
    cert_path, key_path = issue_server_certificate(ws, hostnames, ca_secret, now=now_utc())
    echo(f"已签发服务器证书:{cert_path}(主机名:{'、'.join(hostnames)},已记入登记簿)")
    echo(f"服务器私钥(权限 600,不加密,供 docgen serve 启动时读取):{key_path}")
    echo(
        f"客户端电脑需信任本单位根证书 {ws.keys_dir / 'ca' / 'ca.pem'}:"
        "Windows 双击该文件(改名为 ca.crt)→ 安装证书 → 本地计算机 → “受信任的根证书颁发机构”。"
    )


COMMANDS = (activate_command, reset_command, handwriting_command, issue_server_command)
