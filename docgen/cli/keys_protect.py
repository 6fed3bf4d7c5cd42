"""``docgen keys passwd`` and ``docgen keys check``: the protection of the private key files.

``passwd`` re-encrypts one key — a person's, the CA's or the registry's — with a new passphrase
and the current KDF (scrypt), changing nothing else; ``check`` lists every key file with what
protects it and says which still use the old, weak KDF and the command that fixes each. Both are
registered on the ``keys`` group (:mod:`docgen.cli.keys`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from docgen.cli.common import echo, fail, open_workspace, read_secret, workspace_option
from docgen.core.errors import EXIT_FAILURE
from docgen.core.lock import workspace_lock
from docgen.core.pkcs8 import KdfKind
from docgen.registry import signing_key as registry_key
from docgen.roster.load import load_roster
from docgen.signing import passphrase as passphrases
from docgen.signing.passphrase import Passphrase
from docgen.signing.rekey import (
    Rekeyed,
    change_ca_passphrase,
    change_person_passphrase,
    check_keys,
)

F = TypeVar("F", bound=Callable[..., Any])


def _file_option(name: str, help_text: str) -> Callable[[F], F]:
    return click.option(
        name, type=click.Path(dir_okay=False, path_type=Path), default=None, help=help_text
    )


def _ask(label: str, *, new: bool) -> Callable[[], str]:
    def ask() -> str:
        return read_secret(label, confirm=new)

    return ask


def _new_passphrase(file: Path | None, label: str) -> Passphrase:
    return passphrases.resolve(
        file=file,
        env_name=passphrases.NEW_ENV,
        prompt=_ask(label, new=True),
        what=label,
    )


def _show(what: str, done: Rekeyed) -> None:
    echo(f"已重新加密{what}:{done.path}(权限 600)")
    echo(f"  加密方式:{done.before.label()} → {done.after.label()}")
    echo("  密钥和证书没有改变,以前的签名照常有效;旧口令从此不能再打开这个文件。")


@click.command("passwd")
@workspace_option
@click.option("--person", "person_id", default=None, help="人员编号:重新加密此人的私钥")
@click.option("--ca", "is_ca", is_flag=True, help="重新加密根证书私钥")
@click.option("--registry", "is_registry", is_flag=True, help="加密(或重新加密)登记簿签名私钥")
@_file_option(
    "--passphrase-file",
    f"从文件第一行读取此人现在的私钥口令(文件权限须为 600);也可用环境变量 {passphrases.PERSON_ENV}",
)
@_file_option(
    "--ca-passphrase-file",
    f"从文件第一行读取现在的根证书口令(文件权限须为 600);也可用环境变量 {passphrases.CA_ENV}",
)
@_file_option(
    "--registry-passphrase-file",
    "从文件第一行读取登记簿签名私钥现在的口令(已加密时;文件权限须为 600);"
    f"也可用环境变量 {passphrases.REGISTRY_ENV}",
)
@_file_option(
    "--new-passphrase-file",
    f"从文件第一行读取新口令(文件权限须为 600);也可用环境变量 {passphrases.NEW_ENV}",
)
def passwd(
    workspace_path: Path | None,
    person_id: str | None,
    is_ca: bool,
    is_registry: bool,
    passphrase_file: Path | None,
    ca_passphrase_file: Path | None,
    registry_passphrase_file: Path | None,
    new_passphrase_file: Path | None,
) -> None:
    """用新口令和现行的加密方式(scrypt)重新加密一把私钥,其他一概不变。

    依次询问现在的口令和新口令(新口令输入两次);脚本中可用口令文件或环境变量。
    私钥可能已被他人知道时,换口令没有用:请用 docgen keys rotate 更换密钥和证书,
    必要时用 docgen keys revoke 吊销旧证书。
    """
    if sum((person_id is not None, is_ca, is_registry)) != 1:
        raise click.UsageError("请指定 --person 编号、--ca 或 --registry 之一")
    ws = open_workspace(workspace_path)
    if person_id is not None:
        old = passphrases.resolve(
            file=passphrase_file,
            env_name=passphrases.PERSON_ENV,
            prompt=_ask(f"{person_id} 现在的私钥口令", new=False),
        )
        new = _new_passphrase(new_passphrase_file, f"{person_id} 的新私钥口令")
        with workspace_lock(ws.root):
            done = change_person_passphrase(ws.keys_dir, person_id, old=old, new=new)
        _show(f" {person_id} 的私钥", done)
        return
    if is_ca:
        old = passphrases.resolve(
            file=ca_passphrase_file,
            env_name=passphrases.CA_ENV,
            prompt=_ask("现在的根证书口令", new=False),
            what="根证书口令",
        )
        new = _new_passphrase(new_passphrase_file, "新的根证书口令")
        with workspace_lock(ws.root):
            done = change_ca_passphrase(ws.keys_dir, old=old, new=new)
        _show("根证书私钥", done)
        return
    key_dir = registry_key.key_dir_of(ws)
    protection = registry_key.registry_key_protection(key_dir)
    current: Passphrase | None = None
    if protection is not None and protection.kind is not KdfKind.UNENCRYPTED:
        current = passphrases.resolve(
            file=registry_passphrase_file,
            env_name=passphrases.REGISTRY_ENV,
            prompt=_ask("登记簿签名私钥现在的口令", new=False),
            what="登记簿签名私钥口令",
        )
    new = _new_passphrase(new_passphrase_file, "登记簿签名私钥的新口令")
    passphrases.require_new_strength(new, what="登记簿签名私钥口令")
    with workspace_lock(ws.root):
        after = registry_key.reencrypt_signing_key(
            key_dir, old=current.secret if current else None, new=new.secret
        )
    echo(f"已加密登记簿签名私钥:{key_dir / registry_key.KEY_NAME}(权限 600)")
    echo(f"  加密方式:{protection.label() if protection else '?'} → {after.label()}")
    echo("  密钥没有改变:验证公钥 registry.vkey 和已有的检查点照常有效。")
    echo(
        f"今后每个打开登记簿的命令都需要环境变量 {passphrases.REGISTRY_ENV}"
        "(请只在当前会话中设置,不要写进脚本或文件)。"
    )


@click.command("check")
@workspace_option
def check(workspace_path: Path | None) -> None:
    """检查每把私钥的加密方式:哪些仍用旧的弱加密(PBKDF2),以及怎样改正。

    有私钥仍用旧的加密方式或没有加密时退出码为 1;登记簿签名私钥未加密只提示,不算失败。
    """
    ws = open_workspace(workspace_path)
    roster = load_roster(ws.roster_path) if ws.roster_path.exists() else None
    found = check_keys(ws.keys_dir, roster)
    if not found:
        echo("没有找到私钥文件(请先运行 docgen keys init-ca 和 docgen keys issue)。")
        return
    weak = 0
    for item in found:
        if item.current:
            echo(f"✓ {item.label}:{item.protection.label()}")
            continue
        if item.kind != "registry":
            weak += 1
        mark = "⚠" if item.kind == "registry" else "✗"
        echo(f"{mark} {item.label}:{item.protection.label()},低于现行标准。{item.fix}")
    people = sum(1 for item in found if item.kind == "person")
    echo(
        f"共检查 {len(found)} 把私钥(其中个人私钥 {people} 把);"
        f"个人或根证书私钥不合现行标准的 {weak} 把。"
    )
    if any(item.kind == "registry" and not item.current for item in found):
        fail(
            "提示:登记簿签名私钥未加密,拿到工作目录副本(或其备份)的人就能用它签发检查点;"
            f"{registry_key.ENCRYPT_HINT}。"
        )
    if weak:
        raise click.exceptions.Exit(EXIT_FAILURE)
