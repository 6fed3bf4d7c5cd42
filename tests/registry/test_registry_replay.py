"""``docgen registry verify-checkpoint`` recomputes the tree from the entries themselves.

Each attack is made as an insider who can write the database file would make it — triggers dropped
and put back exactly as docgen created them, or switched off for one sqlite3 connection — leaving
the stored tree nodes and checkpoints as they were (or recomputing them, or even re-signing them
with the registry key). A pinned checkpoint must catch every one; what ``registry audit`` alone can
and cannot see is stated beside it.
"""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import run_docgen
from registry_support import Statements, delete, document, edit, make_workspace, swap, tamper

from docgen.core.workspace import Workspace
from docgen.registry import Registry, merkle, open_registry
from docgen.registry.note import Checkpoint, sign_checkpoint
from docgen.registry.schema import SQLITE_TRIGGERS
from docgen.registry.signing_key import registry_signer

NOW = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)
Opener = Callable[..., Registry]


def build(reg: Registry) -> None:
    """20 entries in three appends: signed checkpoints at sizes 0, 5, 12 and 20."""
    for start, end in ((0, 5), (5, 12), (12, 20)):
        reg.append([document(i) for i in range(start, end)], now=NOW)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    ws = make_workspace(tmp_path / "ws")
    with open_registry(ws, database_url="") as reg:
        build(reg)
    return ws


def pin(ws: Workspace, tmp_path: Path) -> Path:
    pinned = tmp_path / "纪检组" / "pinned.txt"
    result = run_docgen("registry", "pin", str(pinned), "-w", str(ws.root))
    assert result.code == 0, result.text
    return pinned


def insider(ws: Workspace, statements: Statements) -> None:
    """Drop the append-only triggers, run ``statements``, put the triggers back as they were."""
    conn = sqlite3.connect(ws.registry_path, isolation_level=None)
    try:
        for name in SQLITE_TRIGGERS:
            conn.execute(f"DROP TRIGGER {name}")
        for sql, params in statements:
            conn.execute(sql, tuple(params))
        for _table, sql in SQLITE_TRIGGERS.values():
            conn.execute(sql)
    finally:
        conn.close()


def verify_checkpoint(ws: Workspace, pinned: Path) -> tuple[int, str, str]:
    result = run_docgen("registry", "verify-checkpoint", str(pinned), "-w", str(ws.root))
    return result.code, result.out, result.err


def audit(ws: Workspace) -> tuple[int, str, str]:
    result = run_docgen("registry", "audit", "-w", str(ws.root))
    return result.code, result.out, result.err


def rebuilt_nodes(leaves: list[bytes]) -> Statements:
    """UPDATEs that make every stored tree node the one of ``leaves``."""
    tree = merkle.CompactRange()
    completed: list[tuple[int, int, bytes]] = []
    for leaf in leaves:
        tree.append(leaf, completed)
    return [
        ("UPDATE registry_nodes SET hash = ? WHERE level = ? AND idx = ?", (h, level, idx))
        for level, idx, h in completed
    ]


def edited_with_tree(ws: Workspace, index: int) -> tuple[Statements, list[bytes]]:
    """Entry ``index`` changed and every stored node recomputed to match it."""
    with open_registry(ws, database_url="") as reg:
        statements = edit(reg, index)
        leaves = [e.leaf_hash for e in reg.entries()]
    leaves[index] = merkle.leaf_hash(statements[0][1][0])
    return statements + rebuilt_nodes(leaves), leaves


# --- honest registries pass ---


def test_an_honest_registry_extends_its_pinned_checkpoints(ws: Workspace, tmp_path: Path) -> None:
    at_20 = pin(ws, tmp_path)
    code, out, err = verify_checkpoint(ws, at_20)
    assert code == 0, err
    assert "从登记簿现存的 20 条条目重新计算" in out and "未发现回滚或分叉" in out
    with open_registry(ws, database_url="") as reg:
        reg.append([document(i) for i in range(20, 33)], now=NOW)
        leaves = [e.leaf_hash for e in reg.entries()]
        replay = reg.replay_pinned(at_20.read_bytes())
    assert replay.ok and (replay.pinned_size, replay.current_size) == (20, 33)
    assert replay.signed_size == 33 and replay.first_bad_index is None
    # The proof computed from the entries is RFC 9162's, and verifies.
    assert list(replay.proof) == merkle.consistency_proof(20, leaves)
    code, out, err = verify_checkpoint(ws, at_20)
    assert code == 0, err
    assert "登记簿(大小 33)包含保存的检查点(大小 20)" in out
    assert audit(ws)[0] == 0


# --- rows deleted ---


def test_a_row_deleted_with_the_triggers_put_back_is_found(ws: Workspace, tmp_path: Path) -> None:
    pinned = pin(ws, tmp_path)
    insider(ws, delete(9))

    code, _out, err = verify_checkpoint(ws, pinned)
    assert code == 1
    assert "缺少索引 9 的条目(条目被删除)" in err
    code, out, err = audit(ws)
    assert code == 1
    assert "第一个有问题的索引为 9" in err
    assert "防篡改触发器" not in out  # the triggers are as docgen made them: the entries told


def test_rows_deleted_with_triggers_off_for_one_connection_are_found(
    ws: Workspace, tmp_path: Path
) -> None:
    """SQLite can switch triggers off for one connection; nothing in the file shows it."""
    pinned = pin(ws, tmp_path)
    subprocess.run(
        [
            "sqlite3",
            str(ws.registry_path),
            ".dbconfig enable_trigger off",
            "DELETE FROM registry_entries WHERE idx IN (3, 4)",
        ],
        check=True,
        capture_output=True,
    )
    with open_registry(ws, database_url="") as reg:
        assert reg.entry_bytes([3, 4]) == {}
        assert reg.size() == 20  # the stored checkpoints and nodes are untouched

    code, _out, err = verify_checkpoint(ws, pinned)
    assert code == 1 and "缺少索引 3–4 的条目" in err
    code, out, err = audit(ws)
    assert code == 1 and "第一个有问题的索引为 3" in err
    assert "触发器只防误操作" in out  # the audit says what it could not see


def test_the_last_rows_deleted_under_an_older_pin_are_found(ws: Workspace, tmp_path: Path) -> None:
    """Pinned at 12; entries 18 and 19 later deleted, their nodes and checkpoint left in place
    (the stored tree still extends the pin, which is all the old check looked at)."""
    with open_registry(ws, database_url="") as reg:
        at_12 = tmp_path / "at-12.txt"
        conn = sqlite3.connect(ws.registry_path)
        (note,) = conn.execute("SELECT note FROM registry_checkpoints WHERE size = 12").fetchone()
        conn.close()
        at_12.write_bytes(note)
        assert reg.check_pinned(note).pinned_size == 12
    insider(ws, [("DELETE FROM registry_entries WHERE idx >= 18", ())])

    code, _out, err = verify_checkpoint(ws, at_12)
    assert code == 1
    assert "最新签名检查点有 20 条,登记簿只存有 18 条(索引 18 起的条目被删除)" in err


def test_rows_deleted_up_to_the_pin_are_a_rollback(ws: Workspace, tmp_path: Path) -> None:
    pinned = pin(ws, tmp_path)
    insider(ws, [("DELETE FROM registry_entries WHERE idx >= 15", ())])
    code, _out, err = verify_checkpoint(ws, pinned)
    assert code == 1
    assert "发现回滚:保存的检查点有 20 条,登记簿现在只有 15 条" in err


# --- rows changed or reordered ---


def test_a_changed_entry_with_its_tree_recomputed_is_a_fork(ws: Workspace, tmp_path: Path) -> None:
    """Without the registry key the signed checkpoints cannot follow: both checks see it."""
    pinned = pin(ws, tmp_path)
    statements, _leaves = edited_with_tree(ws, 7)
    insider(ws, statements)

    code, _out, err = verify_checkpoint(ws, pinned)
    assert code == 1
    assert "发现分叉" in err
    assert "最后一个与现存条目一致的签名检查点大小为 5" in err and "索引 5–19" in err
    code, out, _err = audit(ws)
    assert code == 1 and "签名检查点根哈希与重新计算的不符" in out


def test_a_history_re_signed_with_the_registry_key_passes_the_audit_not_the_pin(
    ws: Workspace, tmp_path: Path
) -> None:
    """Whoever holds the registry key can make the stored registry consistent again; the audit
    proves only self-consistency. The checkpoint pinned before is what exposes it."""
    pinned = pin(ws, tmp_path)
    statements, leaves = edited_with_tree(ws, 7)
    signer = registry_signer(ws)
    for size in (12, 20):
        note = sign_checkpoint(Checkpoint(signer.name, size, merkle.root(leaves[:size])), signer)
        statements.append(("UPDATE registry_checkpoints SET note = ? WHERE size = ?", (note, size)))
    insider(ws, statements)

    assert audit(ws)[0] == 0  # the limit of an audit, stated in docs/SECURITY.md
    code, _out, err = verify_checkpoint(ws, pinned)
    assert code == 1
    assert "发现分叉" in err and "两者都带有效的登记簿签名" in err


def test_reordered_entries_are_a_fork(ws: Workspace, tmp_path: Path) -> None:
    pinned = pin(ws, tmp_path)
    insider(ws, swap(3, 11))
    code, _out, err = verify_checkpoint(ws, pinned)
    assert code == 1 and "发现分叉" in err and "索引 0–19" in err


# --- rows appended behind docgen's back ---


def test_a_row_appended_without_a_checkpoint_is_found(ws: Workspace, tmp_path: Path) -> None:
    pinned = pin(ws, tmp_path)
    with open_registry(ws, database_url="") as reg:
        data = reg.entry(0).data
    # INSERT is what the triggers allow; only a new signed checkpoint would make it legitimate.
    insider(
        ws,
        [("INSERT INTO registry_entries (idx, data, type, doc_id) VALUES (20, ?, 'document', ?)",
          (data, "2027-ZR-0000"))],
    )  # fmt: skip
    code, _out, err = verify_checkpoint(ws, pinned)
    assert code == 1 and "索引 20 的条目没有被任何签名检查点覆盖" in err


def test_a_row_appended_out_of_order_is_found(ws: Workspace, tmp_path: Path) -> None:
    pinned = pin(ws, tmp_path)
    insider(
        ws,
        [("INSERT INTO registry_entries (idx, data, type, doc_id) VALUES (25, ?, 'document', ?)",
          (b'{"type":"document"}', "x"))],
    )  # fmt: skip
    code, _out, err = verify_checkpoint(ws, pinned)
    assert code == 1 and "缺少索引 20–24 的条目" in err


# --- the same checks on both databases, through the library ---


def test_replay_on_both_databases(tmp_path: Path, open_store: Opener) -> None:
    ws = make_workspace(tmp_path / "ws")
    reg = open_store(ws)
    build(reg)
    pinned = reg.checkpoint()
    reg.append([document(20)], now=NOW)
    honest = reg.replay_pinned(pinned)
    assert honest.ok and honest.current_size == 21, honest.problems

    tamper(ws, open_store.urls.get(ws.root), delete(9))  # type: ignore[attr-defined]
    assert reg.check_pinned(pinned).current_size == 21  # the stored tree alone still agrees
    replay = reg.replay_pinned(pinned)
    assert not replay.ok and replay.first_bad_index == 9
    assert replay.current_size == 9
    assert any("缺少索引 9 的条目" in p for p in replay.problems), replay.problems
