"""``docgen registry``: checkpoints, proofs, audit, rollback/fork checks, and the database setup
(tables by the owner, the SQL of the PostgreSQL roles)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from docgen.cli.common import echo, open_workspace, workspace_option
from docgen.cli.witness_cmd import witness
from docgen.core.errors import UsageError, VerificationError
from docgen.core.workspace import atomic_write
from docgen.registry import init_schema, open_registry
from docgen.registry.migrations import LATEST_VERSION, latest_pg_sql
from docgen.registry.schema import role_name_problem, roles_sql
from docgen.registry.setup_db import AUDITORS_GROUP, setup_database
from docgen.registry.store import DATABASE_URL_ENV


def _json(data: Any) -> None:
    echo(json.dumps(data, ensure_ascii=False, indent=2))


@click.group("registry")
def registry() -> None:
    """登记簿(透明日志):查看签名检查点、取证明、审计、核对保存的检查点。

    登记簿只能追加:每条文书、签名、证书、吊销、作废和工作记录都写入一棵 Merkle 树,
    每次写入后用登记簿密钥签发新的检查点。审计人员可用 pin 保存检查点,
    以后用 verify-checkpoint 发现回滚、分叉和被删改的条目。

    使用 PostgreSQL 时,建表由所有者账号运行 init,办公室日常使用只能读取和追加的账号
    (roles 打印建立这两个账号的 SQL)。
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
    """从存储的条目重新计算每个叶、树节点和检查点,并检查防篡改触发器是否齐全、未被改写、未被停用。

    审计证明的是登记簿自身一致:树节点和签名检查点与条目相符。持有登记簿密钥的人改写历史后
    重新签名,审计发现不了,要用以前保存的检查点(verify-checkpoint)核对。失败时退出码为 1。
    """
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
                "notes": list(report.notes),
            }
        )
    else:
        for problem in report.problems:
            echo(f"✗ {problem}")
        for note in report.notes:
            echo(f"注意:{note}")
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
    """核对以前保存的检查点 PINNED_FILE:发现登记簿被回滚或分叉时退出码为 1。

    从登记簿中现存的每一条条目重新计算(不采信存储的树节点和检查点):保存时的前若干条的根哈希、
    当前的根哈希和两者之间的一致性证明,并核对最新签名检查点与条目相符。条目被删除、改动、
    重排或私自追加都会被发现。
    """
    try:
        pinned = pinned_file.read_bytes()
    except FileNotFoundError as exc:
        raise UsageError(
            f"找不到保存的检查点文件 {pinned_file}", hint="请先用 docgen registry pin 保存"
        ) from exc
    with open_registry(open_workspace(workspace_path)) as reg:
        result = reg.replay_pinned(pinned)
    if not result.ok:
        if len(result.problems) > 1:
            for problem in result.problems:
                echo(f"✗ {problem}")
        more = f"(共 {len(result.problems)} 个问题,见上)" if len(result.problems) > 1 else ""
        raise VerificationError(
            result.problems[0] + more,
            hint="登记簿的历史被改写、截断或删改过,请立即核查,不要继续写入;"
            "docgen registry audit 可查明第一个出错的条目",
        )
    echo(
        f"✓ 从登记簿现存的 {result.current_size} 条条目重新计算:登记簿(大小 {result.current_size})"
        f"包含保存的检查点(大小 {result.pinned_size}),一致性证明验证通过,"
        "最新签名检查点与条目一致;未发现回滚或分叉"
    )


@registry.command("init")
@workspace_option
@click.option(
    "--grant",
    "grant",
    metavar="账号",
    default=None,
    help="(PostgreSQL)授予该账号读取和追加(SELECT、INSERT)登记簿的权限,别无其他",
)
def init_command(workspace_path: Path | None, grant: str | None) -> None:
    """建立登记簿的表和防篡改触发器(已存在则不改动)。

    使用 PostgreSQL 时由所有者账号(DOCGEN_DATABASE_URL 指向所有者)运行一次;办公室日常使用的
    账号只需读取和追加的权限,不能建表、删改记录或停用触发器。SQLite 登记簿第一次使用时自动建立,
    无需运行本命令。不需要登记簿密钥。
    """
    setup = init_schema(open_workspace(workspace_path), grant=grant)
    if setup.created:
        echo(f"已在 {setup.location} 建立登记簿的表和防篡改触发器")
    else:
        echo(f"{setup.location} 中已有登记簿的表,未作改动")
    if setup.granted is not None:
        echo(f"已授予账号 {setup.granted} 读取和追加(SELECT、INSERT)登记簿的权限")


@registry.command("roles")
@click.option("--owner", default="docgen_owner", show_default=True, help="所有者账号(建表)")
@click.option(
    "--writer", default="docgen_office", show_default=True, help="办公室日常使用的账号(只能追加)"
)
@click.option("--schema", default="docgen", show_default=True, help="登记簿所在的模式")
def roles_command(owner: str, writer: str, schema: str) -> None:
    """打印在 PostgreSQL 中建立所有者账号和只能追加的账号的 SQL。

    所有者建表和触发器;办公室的账号只有 SELECT、INSERT 权限,数据库会拒绝它删除、修改、
    清空记录和停用触发器(ALTER TABLE … DISABLE TRIGGER 只有表的所有者能做)。
    """
    for name in (owner, writer, schema):
        problem = role_name_problem(name)
        if problem:
            raise UsageError(problem, hint="请换一个名称")
    if owner == writer:
        raise UsageError("所有者账号和办公室账号不能相同", hint="只能追加的账号必须不是表的所有者")
    click.echo(
        roles_sql(owner=owner, writer=writer, schema=schema, tables_sql=latest_pg_sql()), nl=False
    )


@registry.command("migrate")
@workspace_option
def migrate_command(workspace_path: Path | None) -> None:
    """把登记簿数据库的结构升级到本程序的版本(在一个事务中完成,已有记录不变)。

    SQLite 登记簿打开时自动升级;PostgreSQL 由所有者账号(DOCGEN_DATABASE_URL 指向所有者,
    search_path 指向该单位的模式)运行。不需要登记簿密钥。
    """
    setup = init_schema(open_workspace(workspace_path))
    if setup.version_before == setup.version_after:
        echo(f"{setup.location} 的结构已是版本 {setup.version_after},无需升级")
    else:
        echo(
            f"已把 {setup.location} 的结构从版本 {setup.version_before} 升级到"
            f" {setup.version_after}"
        )


@registry.command("setup-db")
@click.option("--owner", default="docgen_owner", show_default=True, help="所有者账号(建表、升级)")
@click.option(
    "--office",
    "offices",
    multiple=True,
    metavar="账号",
    help="一个单位的账号,同名模式中是该单位自己的登记簿(可重复)",
)
@click.option(
    "--auditor",
    "auditors",
    multiple=True,
    metavar="账号",
    help=f"只读审计账号,可读所有单位的登记簿(加入组 {AUDITORS_GROUP},可重复)",
)
def setup_db_command(owner: str, offices: tuple[str, ...], auditors: tuple[str, ...]) -> None:
    """在共用的 PostgreSQL 数据库中为每个单位建立自己的登记簿和账号(以超级用户运行)。

    DOCGEN_DATABASE_URL 指向该数据库的超级用户(如 postgres)。每个单位(--office)得到一个同名的
    账号和模式,模式中是该单位自己的登记簿表:该账号只能读取和追加自己的登记簿,不能修改、删除、
    清空记录,不能停用触发器,也看不到其他单位的登记簿。--auditor 的账号只能读取所有单位的登记簿。
    已存在的账号和模式不重复建立,旧结构升级到最新版本;全部在一个事务中完成。账号的口令请另行
    设置(psql 中 \\password 账号)。
    """
    url = os.environ.get(DATABASE_URL_ENV, "")
    if not url.startswith(("postgresql://", "postgres://")):
        raise UsageError(
            f"setup-db 需要环境变量 {DATABASE_URL_ENV} 指向 PostgreSQL 数据库(超级用户账号)",
            hint=f"例如 {DATABASE_URL_ENV}='postgresql://postgres@localhost/docgen'",
        )
    report = setup_database(url, owner=owner, offices=offices, auditors=auditors)
    if report.created_roles:
        echo("已建立账号:" + "、".join(report.created_roles))
    for schema in report.created_schemas:
        echo(f"已建立模式 {schema}(所有者 {owner})")
    for schema, before, after in report.migrated:
        echo(f"模式 {schema} 的登记簿表:结构版本 {before} → {after}")
    for office in report.offices:
        echo(
            f"单位账号 {office}:只能读取和追加模式 {office} 中的登记簿;"
            f"该单位使用 {DATABASE_URL_ENV}='postgresql://{office}@主机/库名?sslmode=require'"
        )
    for auditor in report.auditors:
        echo(f"审计账号 {auditor}:只能读取所有单位的登记簿")
    echo(f"✓ {report.location} 已就绪(结构版本 {LATEST_VERSION});请为新账号设置口令")


registry.add_command(witness)
