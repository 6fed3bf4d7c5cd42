"""``docgen registry``: checkpoints, proofs, audit and rollback/fork checks of the registry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from docgen.cli.common import echo, open_workspace, workspace_option
from docgen.core.errors import UsageError, VerificationError
from docgen.core.workspace import atomic_write
from docgen.registry import open_registry


def _json(data: Any) -> None:
    echo(json.dumps(data, ensure_ascii=False, indent=2))


@click.group("registry")
def registry() -> None:
    """登记簿(透明日志):查看签名检查点、取证明、审计、核对保存的检查点。

    登记簿只能追加:每条文书、签名、证书、吊销、作废和工作记录都写入一棵 Merkle 树,
    每次写入后用登记簿密钥签发新的检查点。审计人员可用 pin 保存检查点,
    以后用 verify-checkpoint 发现回滚或分叉。
    """


@registry.command("checkpoint")
@workspace_option
def checkpoint_command(workspace_path: Path | None) -> None:
    """打印最新的签名检查点(C2SP 格式,原样输出)。"""
    with open_registry(open_workspace(workspace_path)) as reg:
        click.echo(reg.checkpoint().decode("utf-8"), nl=False)


@registry.command("pin")
@workspace_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def pin_command(workspace_path: Path | None, file: Path) -> None:
    """把当前签名检查点保存到 FILE,供以后用 verify-checkpoint 核对。"""
    with open_registry(open_workspace(workspace_path)) as reg:
        note = reg.checkpoint()
        size = reg.size()
    atomic_write(file, note, mode=0o644)
    echo(f"已保存检查点(大小 {size})到 {file}")


@registry.command("proof")
@workspace_option
@click.argument("doc_id")
def proof_command(workspace_path: Path | None, doc_id: str) -> None:
    """打印文书 DOC_ID 的登记条目的证明包(JSON),可离线验证。"""
    with open_registry(open_workspace(workspace_path)) as reg:
        entry = reg.document_entry(doc_id)
        _json(reg.proof_bundle(entry.index))


@registry.command("consistency")
@workspace_option
@click.option("--from", "old_size", type=int, required=True, help="旧的树大小")
@click.option("--to", "new_size", type=int, default=None, help="新的树大小(默认:当前大小)")
def consistency_command(workspace_path: Path | None, old_size: int, new_size: int | None) -> None:
    """打印从树大小 --from 到 --to 的一致性证明(JSON)。"""
    with open_registry(open_workspace(workspace_path)) as reg:
        size = new_size if new_size is not None else reg.size()
        proof = reg.consistency_proof(old_size, size)
        _json(
            {
                "old_size": old_size,
                "new_size": size,
                "old_root": reg.root(old_size).hex(),
                "new_root": reg.root(size).hex(),
                "consistency_proof": [p.hex() for p in proof],
                "checkpoint": reg.checkpoint().decode("utf-8"),
                "verifier_key": reg.verifier_key,
            }
        )


@registry.command("audit")
@workspace_option
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出结果")
def audit_command(workspace_path: Path | None, as_json: bool) -> None:
    """从存储的条目重新计算每个叶、树节点和检查点,发现任何改动。失败时退出码为 1。"""
    with open_registry(open_workspace(workspace_path)) as reg:
        report = reg.audit()
    if as_json:
        _json(
            {
                "ok": report.ok,
                "size": report.size,
                "checkpoints": report.checkpoints,
                "first_bad_index": report.first_bad_index,
                "problems": list(report.problems),
            }
        )
    else:
        for problem in report.problems:
            echo(f"✗ {problem}")
        if report.ok:
            echo(f"✓ 登记簿审计通过:{report.size} 条记录,{report.checkpoints} 个签名检查点均一致")
    if not report.ok:
        where = (
            f"第一个有问题的索引为 {report.first_bad_index}"
            if report.first_bad_index is not None
            else "发现的问题见上"
        )
        raise VerificationError(
            f"登记簿审计未通过:{where}",
            hint="登记簿被改动过,请从备份恢复并追查原因",
        )


@registry.command("verify-checkpoint")
@workspace_option
@click.argument("pinned_file", type=click.Path(dir_okay=False, path_type=Path))
def verify_checkpoint_command(workspace_path: Path | None, pinned_file: Path) -> None:
    """核对以前保存的检查点 PINNED_FILE:发现登记簿被回滚或分叉时退出码为 1。"""
    try:
        pinned = pinned_file.read_bytes()
    except FileNotFoundError as exc:
        raise UsageError(
            f"找不到保存的检查点文件 {pinned_file}", hint="请先用 docgen registry pin 保存"
        ) from exc
    with open_registry(open_workspace(workspace_path)) as reg:
        result = reg.check_pinned(pinned)
    echo(
        f"✓ 登记簿(大小 {result.current_size})包含保存的检查点(大小 {result.pinned_size}),"
        "未发现回滚或分叉"
    )
