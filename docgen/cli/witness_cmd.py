"""``docgen registry witness``: a second party's key, and its cosignature of a log's checkpoints
(C2SP tlog-cosignature / tlog-witness)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import click

from docgen.cli.common import echo, now_utc, open_workspace, read_secret, workspace_option
from docgen.core.errors import UsageError
from docgen.core.workspace import atomic_write
from docgen.registry import open_registry
from docgen.registry.note import Verifier, open_checkpoint, parse_note, parse_verifier_key
from docgen.registry.store import DATABASE_URL_ENV
from docgen.registry.witness_check import store_cosigned, store_dir
from docgen.registry.witness_cosign import cosign_checkpoint, proof_from_json
from docgen.registry.witness_state import (
    DIR_ENV,
    PASSPHRASE_ENV,
    LogState,
    default_dir,
    init_witness,
    load_witness,
)

_DIR = click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"见证方目录(默认:环境变量 {DIR_ENV},否则当前目录下的 witness)",
)


def _passphrase(*, new: bool) -> str:
    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value
    return read_secret("见证方密钥口令", confirm=new)


@click.group("witness")
def witness() -> None:
    """见证方:检查登记簿的每个新检查点是上次副署的检查点的延续,然后副署(C2SP cosignature/v1)。

    见证方是登记簿以外的另一方(如市院或县纪委)。登记簿一方若改写历史(分叉)或换回旧备份
    (回滚),见证方拒绝副署;验证和归档可以要求见证方的副署(docgen.toml 的
    [witness] require 或 docgen verify --witness),不必由谁事先保存检查点。
    """


@witness.command("init")
@click.option("--name", required=True, help="见证方名称(不含空格和加号),如 某某市人民检察院/见证")
@_DIR
def init_command(name: str, directory: Path | None) -> None:
    """生成见证方的 Ed25519 密钥(口令加密,权限 0600),打印公钥供各单位配置。

    口令从环境变量 DOCGEN_WITNESS_PASSPHRASE 读取,没有时提示输入。私钥不会打印。
    """
    where = directory if directory is not None else default_dir()
    cosigner = init_witness(where, name, _passphrase(new=True))
    echo(f"已在 {where} 生成见证方密钥(witness.key,已加密)和公钥 witness.vkey")
    echo("见证方公钥(请交给要求见证的单位,写入 docgen.toml 的 [witness] require):")
    click.echo(cosigner.encode())


def _log_verifier(text: str | None, state_pinned: Verifier | None) -> Verifier:
    if text is None:
        if state_pinned is None:
            raise UsageError(
                "第一次见证这个登记簿,需要用 --log-key 给出它的验证公钥",
                hint="请向该单位当面索取 keys/registry/registry.vkey,核对后传入",
            )
        return state_pinned
    path = Path(text)
    if path.is_file():
        text = path.read_text(encoding="utf-8")
    return parse_verifier_key(text.strip())


def _origin(note: bytes) -> str:
    return note.decode("utf-8", errors="replace").split("\n", 1)[0]


@witness.command("cosign")
@_DIR
@click.option(
    "--log",
    "log_path",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="登记簿所在的 docgen 工作目录:读取最新检查点和一致性证明,副署后存回 cosigned/",
)
@click.option(
    "--proof",
    "proof_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="代替 --log:登记簿一方用 docgen registry consistency --from 大小 生成的 JSON",
)
@click.option("--log-key", default=None, help="登记簿验证公钥(字符串或 registry.vkey 文件)")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="副署后的检查点写到此文件",
)
def cosign_command(
    directory: Path | None,
    log_path: Path | None,
    proof_file: Path | None,
    log_key: str | None,
    out: Path | None,
) -> None:
    """核对登记簿的最新检查点并副署;发现分叉或回滚时拒绝,退出码为 1。

    检查:登记簿的签名(用首次副署时固定的验证公钥)、大小不小于上次副署的、
    与上次副署的检查点之间的一致性证明(RFC 9162)。通过后加上见证方的副署行,
    记下这个检查点作为下次核对的起点。
    """
    if (log_path is None) == (proof_file is None):
        raise UsageError(
            "请用 --log 或 --proof 之一指定登记簿", hint="--log 工作目录;--proof 证明文件"
        )
    where = directory if directory is not None else default_dir()
    signer = load_witness(where, _passphrase(new=False))
    timestamp = int(now_utc().timestamp())
    if proof_file is not None:
        try:
            data = json.loads(proof_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"无法读取一致性证明文件 {proof_file}:{exc}") from exc
        note = str(data.get("checkpoint", "")).encode("utf-8") if isinstance(data, dict) else b""
        state = LogState.of(where, _origin(note))
        verifier = _log_verifier(log_key, state.pinned_verifier())
        last = state.last_cosigned()
        expected = open_checkpoint(last, verifier).size if last is not None else None
        note, source = proof_from_json(data, expected)
        outcome = cosign_checkpoint(state, signer, verifier, note, source, timestamp)
    else:
        assert log_path is not None
        ws = open_workspace(log_path)
        if not os.environ.get(DATABASE_URL_ENV) and not ws.registry_path.exists():
            raise UsageError(  # never create a registry by witnessing one
                f"{ws.root} 中没有登记簿(registry.db),也没有设置 {DATABASE_URL_ENV}",
                hint="请用 --log 指定登记簿所在的工作目录",
            )
        with open_registry(ws) as reg:
            note = reg.checkpoint()
            state = LogState.of(where, _origin(note))
            verifier = _log_verifier(log_key, state.pinned_verifier())

            def source(old: int, new: int) -> Sequence[bytes]:
                return reg.consistency_proof(old, new)

            outcome = cosign_checkpoint(state, signer, verifier, note, source, timestamp)
        stored = store_cosigned(store_dir(ws), outcome.cosigned, verifier)
        echo(f"已存回登记簿一方:{stored}")
    if out is not None:
        atomic_write(out, outcome.cosigned, mode=0o644)
        echo(f"副署后的检查点已写到 {out}")
    since = (
        "首次副署,已固定登记簿验证公钥"
        if outcome.previous_size is None
        else f"与上次副署的检查点(大小 {outcome.previous_size})一致"
    )
    echo(
        f"✓ 已副署登记簿“{outcome.checkpoint.origin}”的检查点(大小 {outcome.checkpoint.size}):"
        f"{since}"
    )


@witness.command("store")
@workspace_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def store_command(workspace_path: Path | None, file: Path) -> None:
    """登记簿一方存入见证方交回的副署检查点 FILE(cosign --proof --out 的输出)。

    检查点须带本登记簿的有效签名;存入 cosigned/,与同一大小已有的副署合并。副署本身在验证和
    归档时按要求的见证方公钥逐一核对,存入的文件被改动只会使核对失败。
    """
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise UsageError(f"无法读取副署检查点文件 {file}:{exc}") from exc
    ws = open_workspace(workspace_path)
    with open_registry(ws) as reg:
        verifier = parse_verifier_key(reg.verifier_key)
    note = parse_note(data)
    names = [s.name for s in note.signatures if s.name != verifier.name]
    if not names:
        raise UsageError(
            f"{file} 中没有见证方的副署行", hint="请交回见证方 cosign 输出的文件,不要改动"
        )
    stored = store_cosigned(store_dir(ws), data, verifier)
    echo(f"已存入 {stored}(副署:{'、'.join(names)})")
