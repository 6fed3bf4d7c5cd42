"""``docgen registry ...`` as a user runs it, on a real SQLite registry in a workspace."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from helpers import run_docgen
from registry_support import make_workspace

from docgen.core.workspace import Workspace
from docgen.registry import merkle, open_registry, verify_proof_bundle

NOW = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)


def document(i: int, title: str = "党风廉政建设责任书") -> dict[str, Any]:
    return {"type": "document", "doc_id": f"2027-ZR-{i:04d}", "title": title, "year": 2027}


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    ws = make_workspace(tmp_path / "ws")
    with open_registry(ws, database_url="") as reg:
        reg.append([document(i) for i in range(6)], now=NOW)
        reg.append([document(i) for i in range(6, 10)], now=NOW)
    return ws


def test_help_is_in_chinese() -> None:
    result = run_docgen("registry", "--help")
    assert result.code == 0
    assert "登记簿" in result.out
    for command in (
        "checkpoint", "pin", "proof", "consistency", "audit", "verify-checkpoint", "init", "roles"
    ):  # fmt: skip
        assert command in result.out
    sub = run_docgen("registry", "verify-checkpoint", "--help")
    assert sub.code == 0 and "回滚或分叉" in sub.out and "--workspace" in sub.out


def test_checkpoint_prints_the_signed_note_verbatim(ws: Workspace) -> None:
    result = run_docgen("registry", "checkpoint", "-w", str(ws.root))
    assert result.code == 0
    with open_registry(ws, database_url="") as reg:
        assert result.out == reg.checkpoint().decode("utf-8")
    lines = result.out.split("\n")
    assert lines[0] == "庆城县人民检察院/党风廉政建设登记簿"
    assert lines[1] == "10"
    assert lines[4].startswith("— 庆城县人民检察院/党风廉政建设登记簿 ")


def test_proof_prints_a_bundle_that_verifies(ws: Workspace) -> None:
    result = run_docgen("registry", "proof", "2027-ZR-0007", "-w", str(ws.root))
    assert result.code == 0, result.text
    bundle = json.loads(result.out)
    assert bundle["index"] == 7 and bundle["tree_size"] == 10
    vkey = (ws.keys_dir / "registry" / "registry.vkey").read_text(encoding="utf-8").strip()
    entry = verify_proof_bundle(bundle, vkey)
    assert entry.record["doc_id"] == "2027-ZR-0007"


def test_proof_of_unknown_document_is_a_usage_error(ws: Workspace) -> None:
    result = run_docgen("registry", "proof", "2027-ZR-9999", "-w", str(ws.root))
    assert result.code == 2
    assert "没有文书编号为 2027-ZR-9999 的文书" in result.err


def test_consistency_prints_a_proof_that_verifies(ws: Workspace) -> None:
    result = run_docgen("registry", "consistency", "--from", "3", "--to", "9", "-w", str(ws.root))
    assert result.code == 0, result.text
    data = json.loads(result.out)
    assert (data["old_size"], data["new_size"]) == (3, 9)
    assert merkle.verify_consistency(
        3,
        9,
        [bytes.fromhex(h) for h in data["consistency_proof"]],
        bytes.fromhex(data["old_root"]),
        bytes.fromhex(data["new_root"]),
    )
    latest = run_docgen("registry", "consistency", "--from", "6", "-w", str(ws.root))
    assert json.loads(latest.out)["new_size"] == 10
    bad = run_docgen("registry", "consistency", "--from", "11", "-w", str(ws.root))
    assert bad.code == 2 and "旧树大小 11 无效" in bad.err


def test_pin_then_verify_checkpoint(ws: Workspace, tmp_path: Path) -> None:
    pinned = tmp_path / "auditor" / "pinned.txt"
    result = run_docgen("registry", "pin", str(pinned), "-w", str(ws.root))
    assert result.code == 0 and "大小 10" in result.out
    with open_registry(ws, database_url="") as reg:
        assert pinned.read_bytes() == reg.checkpoint()
        reg.append([document(10)], now=NOW)
    check = run_docgen("registry", "verify-checkpoint", str(pinned), "-w", str(ws.root))
    assert check.code == 0, check.text
    assert "大小 11" in check.out and "未发现回滚或分叉" in check.out


def test_verify_checkpoint_detects_a_restored_old_backup(ws: Workspace, tmp_path: Path) -> None:
    backup = tmp_path / "backup.db"
    shutil.copy(ws.registry_path, backup)
    with open_registry(ws, database_url="") as reg:
        reg.append([document(i) for i in range(10, 15)], now=NOW)
    pinned = tmp_path / "pinned.txt"
    assert run_docgen("registry", "pin", str(pinned), "-w", str(ws.root)).code == 0
    shutil.copy(backup, ws.registry_path)

    result = run_docgen("registry", "verify-checkpoint", str(pinned), "-w", str(ws.root))
    assert result.code == 1
    assert "发现回滚:保存的检查点有 15 条,登记簿现在只有 10 条" in result.err


def test_verify_checkpoint_detects_a_fork(ws: Workspace, tmp_path: Path) -> None:
    backup = tmp_path / "backup.db"
    shutil.copy(ws.registry_path, backup)
    with open_registry(ws, database_url="") as reg:
        reg.append([document(i) for i in range(10, 15)], now=NOW)
    pinned = tmp_path / "pinned.txt"
    assert run_docgen("registry", "pin", str(pinned), "-w", str(ws.root)).code == 0
    # History rewritten from the backup: same size, different entries, same registry key.
    shutil.copy(backup, ws.registry_path)
    with open_registry(ws, database_url="") as reg:
        reg.append([document(i, title="改写") for i in range(10, 15)], now=NOW)
        assert reg.size() == 15

    result = run_docgen("registry", "verify-checkpoint", str(pinned), "-w", str(ws.root))
    assert result.code == 1
    assert "发现分叉" in result.err


def test_verify_checkpoint_rejects_an_edited_pin(ws: Workspace, tmp_path: Path) -> None:
    pinned = tmp_path / "pinned.txt"
    assert run_docgen("registry", "pin", str(pinned), "-w", str(ws.root)).code == 0
    pinned.write_bytes(pinned.read_bytes().replace(b"\n10\n", b"\n9\n"))
    result = run_docgen("registry", "verify-checkpoint", str(pinned), "-w", str(ws.root))
    assert result.code == 1 and "签名无效" in result.err
    absent = str(tmp_path / "nope")
    missing = run_docgen("registry", "verify-checkpoint", absent, "-w", str(ws.root))
    assert missing.code == 2 and "找不到保存的检查点文件" in missing.err


def test_audit_flags_an_entry_rewritten_as_text(ws: Workspace) -> None:
    conn = sqlite3.connect(ws.registry_path)
    conn.execute("DROP TRIGGER registry_entries_no_update")
    conn.execute("UPDATE registry_entries SET data = replace(data, '党风', '廉政') WHERE idx = 4")
    conn.commit()
    conn.close()
    result = run_docgen("registry", "audit", "-w", str(ws.root))
    assert result.code == 1
    assert "条目 4:数据与存储的叶哈希不符" in result.out
    assert "第一个有问题的索引为 4" in result.err


def test_invalid_registry_name_is_explained(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "bad", registry_name="庆城县 检察院+登记簿")
    result = run_docgen("registry", "checkpoint", "-w", str(ws.root))
    assert result.code == 1
    assert "registry_name" in result.err and "不能用作签名检查点的密钥名称" in result.err


def test_not_a_workspace_is_a_usage_error(tmp_path: Path) -> None:
    result = run_docgen("registry", "audit", "-w", str(tmp_path))
    assert result.code == 2 and "不是 docgen 工作目录" in result.err


def test_init_creates_the_tables_once_without_a_registry_key(tmp_path: Path) -> None:
    fresh = make_workspace(tmp_path / "fresh")
    made = run_docgen("registry", "init", "-w", str(fresh.root))
    assert made.code == 0, made.text
    assert f"已在 {fresh.registry_path} 建立登记簿的表和防篡改触发器" in made.out
    assert not (fresh.keys_dir / "registry").exists()
    again = run_docgen("registry", "init", "-w", str(fresh.root))
    assert again.code == 0 and "已有登记簿的表,未作改动" in again.out
    grant = run_docgen("registry", "init", "--grant", "office", "-w", str(fresh.root))
    assert grant.code == 2 and "--grant 只用于 PostgreSQL" in grant.err
    with open_registry(fresh, database_url="") as reg:  # first use by the office: meta, key
        reg.append([document(0)], now=NOW)
    assert run_docgen("registry", "audit", "-w", str(fresh.root)).code == 0


def test_roles_prints_the_sql_of_the_two_roles() -> None:
    result = run_docgen("registry", "roles", "--owner", "reg_owner", "--writer", "reg_office")
    assert result.code == 0, result.text
    sql = result.out
    assert "CREATE ROLE reg_owner LOGIN;" in sql and "CREATE ROLE reg_office LOGIN;" in sql
    assert "CREATE SCHEMA docgen AUTHORIZATION reg_owner;" in sql
    assert "GRANT SELECT, INSERT ON registry_entries, registry_nodes, registry_checkpoints," in sql
    assert "DELETE" not in sql.split("GRANT SELECT")[1].split(";")[0]
    assert "docgen registry init --grant reg_office" in sql
    bad = run_docgen("registry", "roles", "--writer", "Office; DROP")
    assert bad.code == 2 and "不能用作 PostgreSQL 账号或模式名称" in bad.err
    same = run_docgen("registry", "roles", "--owner", "x", "--writer", "x")
    assert same.code == 2 and "不能相同" in same.err
