"""Tampering with the stored registry behind docgen's back: audit must fail and name the index.

The append-only triggers are dropped first (as an attacker with database access would), then
entries are edited, deleted, swapped or truncated directly with sqlite3 / psycopg.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import run_docgen
from registry_support import (
    TRUNCATE,
    delete,
    document,
    edit,
    make_workspace,
    swap,
    tamper,
)

from docgen.core.workspace import Workspace
from docgen.registry import Registry, merkle

NOW = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]
Opener = Callable[..., Registry]


def build(ws: Workspace, open_store: Opener) -> Registry:
    """20 entries in three appends: checkpoints at sizes 0, 5, 12 and 20."""
    reg = open_store(ws)
    for start, end in ((0, 5), (5, 12), (12, 20)):
        reg.append([document(i) for i in range(start, end)], now=NOW)
    assert reg.audit().ok
    return reg


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path / "ws")


def _url(open_store: Opener, ws: Workspace) -> str | None:
    return open_store.urls.get(ws.root)  # type: ignore[attr-defined, no-any-return]


@pytest.mark.parametrize(
    ("case", "first_bad", "words"),
    [
        ("edit", 7, "被改动"),
        ("delete", 9, "缺少索引 9"),
        ("swap", 3, "被改动"),
        ("truncate", 0, "截断"),
    ],
)
def test_audit_names_the_first_bad_index(
    ws: Workspace, open_store: Opener, case: str, first_bad: int, words: str
) -> None:
    reg = build(ws, open_store)
    statements = {
        "edit": lambda: edit(reg, 7),
        "delete": lambda: delete(9),
        "swap": lambda: swap(3, 11),
        "truncate": lambda: TRUNCATE,
    }[case]()
    tamper(ws, _url(open_store, ws), statements)
    report = reg.audit()
    assert not report.ok
    assert report.first_bad_index == first_bad
    assert any(words in p for p in report.problems), report.problems


def test_edit_with_recomputed_tree_is_caught_by_the_signed_checkpoints(
    ws: Workspace, open_store: Opener
) -> None:
    """An attacker who also rewrites every stored node still cannot re-sign the checkpoints."""
    reg = build(ws, open_store)
    statements = edit(reg, 7)
    data = statements[0][1][0]
    leaves = [e.leaf_hash for e in reg.entries()]
    leaves[7] = merkle.leaf_hash(data)
    tree = merkle.CompactRange()
    completed: list[tuple[int, int, bytes]] = []
    for leaf in leaves:
        tree.append(leaf, completed)
    statements += [
        ("UPDATE registry_nodes SET hash = ? WHERE level = ? AND idx = ?", (h, level, idx))
        for level, idx, h in completed
    ]
    tamper(ws, _url(open_store, ws), statements)
    report = reg.audit()
    assert not report.ok
    # The checkpoint at 5 still matches, the one at 12 does not: the change is in 5–11.
    assert report.first_bad_index == 5
    assert any("5–11" in p for p in report.problems), report.problems


def test_inserted_entry_without_checkpoint_is_caught(ws: Workspace, open_store: Opener) -> None:
    reg = build(ws, open_store)
    data = reg.entry(0).data
    # INSERT is not blocked by a trigger; only a new signed checkpoint can make it legitimate.
    tamper(
        ws,
        _url(open_store, ws),
        [("INSERT INTO registry_entries (idx, data, type, doc_id) VALUES (20, ?, 'document', ?)",
          (data, "2027-ZR-0000"))],
    )  # fmt: skip
    report = reg.audit()
    assert not report.ok and report.first_bad_index == 20
    with pytest.raises(Exception, match="已损坏"):
        reg.append([document(99)], now=NOW)


def test_tampered_node_is_named(ws: Workspace, open_store: Opener) -> None:
    reg = build(ws, open_store)
    tamper(
        ws,
        _url(open_store, ws),
        [("UPDATE registry_nodes SET hash = ? WHERE level = 2 AND idx = 2", (b"\x00" * 32,))],
    )
    report = reg.audit()
    assert not report.ok and report.first_bad_index == 8
    assert any("第 2 层第 2 个树节点" in p for p in report.problems), report.problems
    # Proofs that need the node no longer verify; the registry refuses to hand them out as good.
    with pytest.raises(Exception, match="包含证明"):
        reg.proof_bundle(13)


def test_deleted_checkpoint_and_forged_checkpoint(ws: Workspace, open_store: Opener) -> None:
    reg = build(ws, open_store)
    forged = reg.checkpoint().replace(b"\n20\n", b"\n21\n")
    tamper(
        ws,
        _url(open_store, ws),
        [
            ("DELETE FROM registry_checkpoints WHERE size = 12", ()),
            ("INSERT INTO registry_checkpoints (size, note) VALUES (21, ?)", (forged,)),
        ],
    )
    report = reg.audit()
    assert not report.ok
    assert any("大小为 21 的检查点验证失败" in p for p in report.problems), report.problems


# --- the same through the command line (SQLite file) ---


def test_cli_audit_passes_on_an_untouched_registry(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    from docgen.registry import open_registry

    with open_registry(ws, database_url="") as reg:
        reg.append([document(i) for i in range(3)], now=NOW)
    result = run_docgen("registry", "audit", "--workspace", str(ws.root))
    assert result.code == 0, result.text
    assert "✓ 登记簿审计通过:3 条记录,2 个签名检查点均一致" in result.out


@pytest.mark.parametrize(
    ("case", "first_bad"), [("edit", 7), ("delete", 9), ("swap", 3), ("truncate", 0)]
)
def test_cli_audit_fails_and_names_the_index(tmp_path: Path, case: str, first_bad: int) -> None:
    from docgen.registry import open_registry

    ws = make_workspace(tmp_path / "ws")
    with open_registry(ws, database_url="") as reg:
        for start, end in ((0, 5), (5, 12), (12, 20)):
            reg.append([document(i) for i in range(start, end)], now=NOW)
        statements = {
            "edit": lambda: edit(reg, 7),
            "delete": lambda: delete(9),
            "swap": lambda: swap(3, 11),
            "truncate": lambda: TRUNCATE,
        }[case]()
    tamper(ws, None, statements)

    result = run_docgen("registry", "audit", "-w", str(ws.root))
    assert result.code == 1
    assert f"登记簿审计未通过:第一个有问题的索引为 {first_bad}" in result.err
    assert "✗ " in result.out

    as_json = run_docgen("registry", "audit", "--json", "-w", str(ws.root))
    assert as_json.code == 1
    assert f'"first_bad_index": {first_bad}' in as_json.out

    proc = subprocess.run(
        [sys.executable, "-m", "docgen", "registry", "audit", "--workspace", str(ws.root)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    assert f"第一个有问题的索引为 {first_bad}" in proc.stderr


def test_dropped_trigger_alone_fails_the_audit(ws: Workspace, open_store: Opener) -> None:
    reg = build(ws, open_store)
    tamper(ws, _url(open_store, ws), [])
    report = reg.audit()
    assert not report.ok
    assert report.first_bad_index is None
    assert any("缺少防篡改触发器" in p and "registry_entries" in p for p in report.problems)


@pytest.mark.parametrize(
    ("statements", "words"),
    [
        (["DROP TRIGGER registry_entries_no_delete",
          "CREATE TRIGGER registry_entries_no_delete BEFORE DELETE ON registry_entries"
          " WHEN 0 BEGIN SELECT RAISE(ABORT, 'docgen registry is append-only'); END"],
         "防篡改触发器 registry_entries_no_delete 的定义与 docgen 建立的不同"),
        (["DROP TRIGGER registry_nodes_no_update",
          "CREATE TRIGGER registry_nodes_no_update BEFORE UPDATE OF level ON registry_nodes"
          " BEGIN SELECT RAISE(ABORT, 'docgen registry is append-only'); END"],
         "防篡改触发器 registry_nodes_no_update 的定义与 docgen 建立的不同"),
        (["DROP TRIGGER registry_meta_no_update"],
         "数据库中缺少防篡改触发器 registry_meta_no_update"),
    ],
)  # fmt: skip
def test_cli_audit_names_triggers_that_no_longer_protect(
    tmp_path: Path, statements: list[str], words: str
) -> None:
    """A trigger of the same name that lets everything through is as good as none."""
    import sqlite3

    from docgen.registry import open_registry

    ws = make_workspace(tmp_path / "ws")
    with open_registry(ws, database_url="") as reg:
        reg.append([document(i) for i in range(3)], now=NOW)
    conn = sqlite3.connect(ws.registry_path, isolation_level=None)
    try:
        for sql in statements:
            conn.execute(sql)
    finally:
        conn.close()
    result = run_docgen("registry", "audit", "-w", str(ws.root))
    assert result.code == 1
    assert words in result.out
    assert "登记簿审计未通过:发现的问题见上" in result.err


def test_a_database_missing_a_table_is_not_silently_rebuilt(tmp_path: Path) -> None:
    """Recreating a dropped table would hide the rows it held: refuse instead."""
    import sqlite3

    from docgen.registry import open_registry

    ws = make_workspace(tmp_path / "ws")
    with open_registry(ws, database_url="") as reg:
        reg.append([document(i) for i in range(3)], now=NOW)
    conn = sqlite3.connect(ws.registry_path, isolation_level=None)
    conn.execute("DROP TABLE registry_checkpoints")
    conn.close()
    result = run_docgen("registry", "audit", "-w", str(ws.root))
    assert result.code == 1
    assert "只有部分登记簿表,缺少 registry_checkpoints" in result.err
    conn = sqlite3.connect(ws.registry_path)
    tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert "registry_checkpoints" not in tables
