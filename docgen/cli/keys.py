"""``docgen keys``: the institution CA, personal keys and certificates, revocation.

Passphrases come from a file option, an environment variable or a hidden prompt — never from a
command-line argument — and are never echoed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from docgen.cli import keys_activation, keys_protect
from docgen.cli.common import (
    echo,
    fail,
    now_utc,
    open_workspace,
    read_secret,
    workspace_option,
)
from docgen.core.errors import UsageError
from docgen.core.lock import workspace_lock
from docgen.core.models import Roster
from docgen.core.workspace import Workspace
from docgen.roster.load import load_roster
from docgen.signing import activation, ca, certificates, keyring
from docgen.signing import passphrase as passphrases
from docgen.signing.crl import CRL_DAYS_DEFAULT, load_crl
from docgen.signing.keyfiles import OLD_DIR, ca_paths
from docgen.signing.keylist import CertSlot, CertState, KeyListing, list_keys
from docgen.signing.passphrase import Passphrase
from docgen.signing.profile import CertificateProfile
from docgen.signing.x509util import Algorithm, RevocationReason, common_name_of, iso_z, serial_hex

_ALGORITHMS = [a.value for a in Algorithm]


def _passphrase_file_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--passphrase-file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="从文件第一行读取个人私钥口令(文件权限须为 600);"
        f"也可用环境变量 {passphrases.PERSON_ENV}",
    )(func)


def _ca_passphrase_file_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--ca-passphrase-file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=f"从文件第一行读取根证书口令(文件权限须为 600);也可用环境变量 {passphrases.CA_ENV}",
    )(func)


def _algorithm_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--algorithm",
        type=click.Choice(_ALGORITHMS),
        default=Algorithm.ECDSA_P256.value,
        show_default=True,
        help="密钥算法",
    )(func)


def _person_algorithm_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--algorithm",
        type=click.Choice(_ALGORITHMS),
        default=None,
        help="密钥算法(默认:与根证书相同)",
    )(func)


def _prompt(label: str, *, new: bool) -> Callable[[], str]:
    def ask() -> str:
        return read_secret(label, confirm=new)

    return ask


def _ca_passphrase(file: Path | None, *, new: bool = False) -> Passphrase:
    ask = _prompt("根证书口令" if not new else "新的根证书口令", new=new)

    def typed() -> str:
        try:
            return ask()
        except click.Abort as exc:
            if sys.stdin is not None and sys.stdin.isatty():
                raise  # Ctrl-D at the terminal: the user cancelled
            # No terminal and nothing piped in: say how to give it, not just "已取消。".
            raise UsageError(
                "没有输入根证书口令:标准输入不是终端,也没有读到口令",
                hint=f"请在终端中运行并按提示输入,或设置环境变量 {passphrases.CA_ENV},"
                "或用 --ca-passphrase-file 指定口令文件(权限 600)",
            ) from exc

    return passphrases.resolve(
        file=file, env_name=passphrases.CA_ENV, prompt=typed, what="根证书口令"
    )


def _person_passphrase(file: Path | None, label: str) -> Passphrase:
    return passphrases.resolve(
        file=file, env_name=passphrases.PERSON_ENV, prompt=_prompt(label, new=True)
    )


def _roster(ws: Workspace) -> Roster:
    return load_roster(ws.roster_path)


def _register(ws: Workspace, records: list[dict[str, Any]], now: datetime) -> None:
    """Record issuance in the registry, so it is as tamper-evident as letters.

    What an interrupted earlier ``keys`` command left unrecorded is recorded first.
    """
    _say_caught(keyring.register(ws, records, now))


def _say_caught(caught: keyring.CatchUp) -> None:
    for line in caught.notes():
        fail(line)


def _show_issued(item: certificates.IssuedCertificate) -> None:
    echo(
        f"  {item.person_id}  {item.name}  序列号 {item.serial}  指纹 {item.fingerprint[:16]}…  "
        f"有效期至 {iso_z(item.cert.not_valid_after_utc)}"
    )


@click.group("keys")
def keys() -> None:
    """本单位电子签名证书:建立根证书(init-ca)、签发(issue,默认发激活单)、本人激活并设置
    PIN(activate)、忘记 PIN 重新签发(reset)、查看(list)、吊销(revoke)、发布吊销列表(crl)、
    更换密钥(rotate)、更换口令并升级私钥加密(passwd)、检查私钥加密方式(check)、手写签名图片
    (handwriting)、签署页面的服务器证书(issue-server)。

    口令只能来自口令文件、环境变量或终端隐藏输入,不能写在命令行上。
    """


@keys.command("init-ca")
@workspace_option
@_algorithm_option
@click.option(
    "--days", type=int, default=ca.CA_DAYS_DEFAULT, show_default=True, help="根证书有效期(天)"
)
@_ca_passphrase_file_option
def init_ca(
    workspace_path: Path | None, algorithm: str, days: int, ca_passphrase_file: Path | None
) -> None:
    """建立本单位根证书(keys/ca/ca.pem)和加密的根私钥(keys/ca/ca.key),
    并把第一份吊销列表记入登记簿。

    根证书已经存在时不会覆盖;若登记簿中还没有它现在的吊销列表(此前建立的工作目录),
    只把吊销列表补记入登记簿。
    """
    ws = open_workspace(workspace_path)
    if ca_paths(ws.keys_dir).cert.exists():
        with workspace_lock(ws.root):
            caught = keyring.register_existing_ca(ws, now_utc())
        for line in caught.notes():
            echo(line)
        echo(f"根证书已经存在,未改动:{ca_paths(ws.keys_dir).cert}")
        return
    secret = _ca_passphrase(ca_passphrase_file, new=True)
    with workspace_lock(ws.root):
        result = keyring.init_ca(
            ws,
            passphrase=secret,
            now=now_utc(),
            algorithm=Algorithm(algorithm),
            days=days,
        )
    echo(f"已建立根证书:{result.cert_path}")
    echo(f"  名称 {common_name_of(result.cert)}  算法 {Algorithm(algorithm).label}")
    echo(f"  指纹(SHA-256):{result.fingerprint}")
    echo(f"  有效期至 {iso_z(result.cert.not_valid_after_utc)}")
    echo(f"根私钥(已加密,权限 600):{result.key_path}")
    echo(f"证书吊销列表(第 1 号,已记入登记簿):{result.crl_path}")
    echo("请妥善保管根证书口令;口令遗失后无法再签发或吊销证书。")


@keys.command("issue")
@workspace_option
@click.option("--person", "person_ids", multiple=True, help="人员编号(可重复);与 --all 二选一")
@click.option(
    "--all", "all_people", is_flag=True, help="为名册中还没有证书的所有人签发(每人各自的激活码)"
)
@_person_algorithm_option
@_passphrase_file_option
@_ca_passphrase_file_option
@click.option(
    "--activation/--no-activation",
    default=None,
    help="用一次性激活码加密新私钥并生成激活单,由本人激活时设置自己的 PIN"
    "(未给口令文件或口令环境变量时默认如此);--no-activation 则在终端逐人输入口令",
)
@click.option(
    "--sheets",
    "sheets_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="激活单(.docx)保存位置(默认:keys/activation/激活单_<时间>.docx)",
)
def issue(
    workspace_path: Path | None,
    person_ids: tuple[str, ...],
    all_people: bool,
    algorithm: str | None,
    passphrase_file: Path | None,
    ca_passphrase_file: Path | None,
    activation: bool | None,
    sheets_path: Path | None,
) -> None:
    """为人员生成密钥对并签发签名证书(keys/people/<编号>/)。

    默认每人一个一次性激活码(打印激活单交本人),本人激活时设置只有自己知道的 PIN,
    办公室不知道任何人的 PIN。用口令文件或环境变量 DOCGEN_PASSPHRASE 时按原方式用该口令加密
    (供脚本使用)。--all 为名册中还没有证书的所有人签发:默认每人各自的激活码;
    只有给了 --passphrase-file 或环境变量 DOCGEN_PASSPHRASE 时,才对所有人使用同一个口令
    (供脚本、演示使用)。
    """
    if bool(person_ids) == all_people:
        raise click.UsageError("请指定 --person 编号,或 --all(二选一)")
    scripted = passphrase_file is not None or (
        passphrases.from_env(passphrases.PERSON_ENV) is not None
    )
    if activation is None:
        activation = not scripted
    elif activation and scripted:
        raise click.UsageError("--activation 不使用个人口令:请去掉 --passphrase-file 或环境变量")
    ws = open_workspace(workspace_path)
    roster = _roster(ws)
    ca_secret = _ca_passphrase(ca_passphrase_file)
    if activation:
        keys_activation.issue_with_codes(
            ws,
            list(person_ids) if person_ids else None,
            ca_secret,
            algorithm=Algorithm(algorithm) if algorithm else None,
            sheets_path=sheets_path,
        )
        return
    if all_people:
        fail("注意:--all 为所有人使用同一个私钥口令,只适合演示;正式使用请逐人 --person。")
        label = "全体人员共用的私钥口令"
    else:
        label = f"{'、'.join(person_ids)} 的新私钥口令"
    secret: Passphrase | Callable[[str], Passphrase]
    if all_people or len(person_ids) == 1 or passphrase_file is not None or (
        passphrases.from_env(passphrases.PERSON_ENV) is not None
    ):
        secret = _person_passphrase(passphrase_file, label)
    else:
        # Several people at one sitting, one CA unlock: each types their own, in turn.
        names = {p.id: p.name for p in roster.people}
        asked: dict[str, Passphrase] = {}

        def secret(person_id: str) -> Passphrase:
            if person_id not in asked:
                who = f"{person_id} {names.get(person_id, '')}".strip()
                asked[person_id] = _person_passphrase(None, f"{who} 的新私钥口令(请本人输入)")
            return asked[person_id]

    now = now_utc()
    with workspace_lock(ws.root):
        result = certificates.issue_certificates(
            ws.keys_dir,
            roster,
            list(person_ids) if person_ids else None,
            institution=ws.config.institution,
            ca_passphrase=ca_secret,
            passphrase=secret,
            now=now,
            days=ws.config.certificate_days,
            algorithm=Algorithm(algorithm) if algorithm else None,
            profile=CertificateProfile.of(ws.config),
        )
        _register(ws, list(result.records), now)
    for item in result.issued:
        _show_issued(item)
    if result.skipped:
        echo(f"已有证书、未重新签发 {len(result.skipped)} 人(换新密钥请用 docgen keys rotate)。")
    echo(f"本次签发 {len(result.issued)} 张证书。")


@keys.command("rotate")
@workspace_option
@click.option("--person", "person_id", required=True, help="人员编号")
@_person_algorithm_option
@_passphrase_file_option
@_ca_passphrase_file_option
def rotate(
    workspace_path: Path | None,
    person_id: str,
    algorithm: str | None,
    passphrase_file: Path | None,
    ca_passphrase_file: Path | None,
) -> None:
    """为一人生成新密钥和新证书;旧证书保存在 old/<序列号>.pem,旧签名仍可验证。"""
    ws = open_workspace(workspace_path)
    roster = _roster(ws)
    ca_secret = _ca_passphrase(ca_passphrase_file)
    secret = _person_passphrase(passphrase_file, f"{person_id} 的新私钥口令")
    now = now_utc()
    with workspace_lock(ws.root):
        item = certificates.rotate(
            ws.keys_dir,
            roster,
            person_id,
            institution=ws.config.institution,
            ca_passphrase=ca_secret,
            passphrase=secret,
            now=now,
            days=ws.config.certificate_days,
            algorithm=Algorithm(algorithm) if algorithm else None,
            profile=CertificateProfile.of(ws.config),
        )
        _register(ws, [item.record], now)
    _show_issued(item)
    echo(f"旧证书 {item.replaced_serial} 已移至 {item.cert_path.parent / OLD_DIR}。")


@keys.command("revoke")
@workspace_option
@click.option("--person", "person_id", required=True, help="人员编号")
@click.option(
    "--reason",
    required=True,
    help="吊销原因:" + "、".join(f"{r.value}({r.label})" for r in RevocationReason),
)
@click.option("--serial", default=None, help="吊销已更换的旧证书时指定序列号(默认:在用证书)")
@_ca_passphrase_file_option
def revoke(
    workspace_path: Path | None,
    person_id: str,
    reason: str,
    serial: str | None,
    ca_passphrase_file: Path | None,
) -> None:
    """吊销一人的证书并重新发布吊销列表;证书保存在 revoked/<序列号>.pem。"""
    parsed = RevocationReason.parse(reason)
    ws = open_workspace(workspace_path)
    ca_secret = _ca_passphrase(ca_passphrase_file)
    now = now_utc()
    with workspace_lock(ws.root):
        result, caught = keyring.revoke(
            ws,
            person_id,
            reason=parsed,
            ca_passphrase=ca_secret,
            now=now,
            serial=serial,
        )
    _say_caught(caught)
    echo(
        f"已吊销 {person_id} 的证书 {serial_hex(result.cert)}({parsed.label}),"
        f"吊销时间 {iso_z(result.revoked_at)}"
    )
    echo(f"证书已移至 {result.moved_to}")
    echo(
        f"吊销列表(第 {result.crl.number} 号,共 {result.crl.revoked_count} 张,已记入登记簿):"
        f"{result.crl.pem_path}"
    )


@keys.command("crl")
@workspace_option
@click.option(
    "--days", type=int, default=CRL_DAYS_DEFAULT, show_default=True, help="下次更新间隔(天)"
)
@_ca_passphrase_file_option
def crl(workspace_path: Path | None, days: int, ca_passphrase_file: Path | None) -> None:
    """重新签发证书吊销列表(keys/ca/crl.pem 和 crl.der)并记入登记簿。

    保留登记簿和现有吊销列表中的全部吊销记录;编号比登记簿中登记过的最大编号大 1。
    """
    ws = open_workspace(workspace_path)
    ca_secret = _ca_passphrase(ca_passphrase_file)
    with workspace_lock(ws.root):
        result, caught = keyring.publish_crl(
            ws, ca_passphrase=ca_secret, now=now_utc(), days=days
        )
    _say_caught(caught)
    echo(
        f"已发布吊销列表第 {result.number} 号(共 {result.revoked_count} 张吊销证书),"
        "已记入登记簿:"
    )
    echo(f"  {result.pem_path}")
    echo(f"  {result.der_path}")


def _listing_json(row: KeyListing, pending: bool) -> dict[str, Any]:
    def when(value: Any) -> str | None:
        return iso_z(value) if value is not None else None

    return {
        "person": row.person_id,
        "name": row.name,
        "slot": row.slot.value if row.slot is not None else None,
        "state": row.state.value,
        "serial": row.serial,
        "fingerprint": row.fingerprint,
        "not_before": when(row.not_before),
        "not_after": when(row.not_after),
        "revoked_at": when(row.revoked_at),
        "has_key": row.has_key,
        "pending_activation": pending,
        "in_roster": row.in_roster,
    }


@keys.command("list")
@workspace_option
@click.option("--history", is_flag=True, help="也列出已更换和已吊销的旧证书")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def list_command(workspace_path: Path | None, history: bool, as_json: bool) -> None:
    """列出每人的证书:编号、姓名、状态、序列号、指纹前缀、到期时间、是否吊销。"""
    ws = open_workspace(workspace_path)
    roster = _roster(ws) if ws.roster_path.exists() else None
    now = now_utc()
    ca_cert = ca.load_ca_certificate(ws.keys_dir)
    crl_path = ca_paths(ws.keys_dir).crl_pem
    revocations = load_crl(crl_path, ca_cert=ca_cert) if crl_path.exists() else None
    rows = [
        r
        for r in list_keys(ws.keys_dir, now=now, crl=revocations, roster=roster)
        if history or r.slot in (None, CertSlot.CURRENT)
    ]
    if as_json:
        listed = [
            _listing_json(r, r.slot is CertSlot.CURRENT and activation.is_pending(ws, r.person_id))
            for r in rows
        ]
        echo(json.dumps(listed, ensure_ascii=False, indent=2))
        return
    for row in rows:
        name = row.name or "?"
        if row.slot is None:
            echo(f"{row.person_id}  {name}  无在用证书")
            continue
        assert row.not_after is not None and row.fingerprint is not None
        parts = [
            row.person_id,
            name,
            row.state.label if row.slot is CertSlot.CURRENT else row.slot.label,
            f"序列号 {row.serial}",
            f"指纹 {row.fingerprint[:16]}…",
            f"到期 {iso_z(row.not_after)}",
        ]
        if row.revoked_at is not None:
            parts.append(f"吊销于 {iso_z(row.revoked_at)}")
        if row.slot is CertSlot.CURRENT and not row.has_key:
            parts.append("缺少私钥")
        elif row.slot is CertSlot.CURRENT and activation.is_pending(ws, row.person_id):
            parts.append("待本人激活")
        if not row.in_roster:
            parts.append("不在名册中")
        echo("  ".join(parts))
    counts: dict[CertState, int] = {}
    for row in rows:
        if row.slot in (None, CertSlot.CURRENT):
            counts[row.state] = counts.get(row.state, 0) + 1
    echo("合计:" + ",".join(f"{state.label} {n} 人" for state, n in counts.items()))


# passwd and check: the key files' protection (docgen/cli/keys_protect.py)
keys.add_command(keys_protect.passwd)
keys.add_command(keys_protect.check)
# activation, reset, handwriting, the server certificate (docgen/cli/keys_activation.py)
for _command in keys_activation.COMMANDS:
    keys.add_command(_command)
