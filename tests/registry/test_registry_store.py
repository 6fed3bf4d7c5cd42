"""The registry store on real SQLite files and a real PostgreSQL server (parametrised)."""

from __future__ import annotations

import json
import multiprocessing
import os
import queue
import stat
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from registry_support import append_worker, make_workspace

from docgen.core.errors import UsageError, ValidationError, VerificationError, WorkspaceBusyError
from docgen.core.workspace import Workspace
from docgen.registry import Registry, merkle, verify_proof_bundle
from docgen.registry.backend import PG_APPEND_LOCK
from docgen.registry.note import open_checkpoint, parse_verifier_key
from docgen.registry.store import open_registry

NOW = datetime(2027, 1, 5, 9, 30, 15, tzinfo=UTC)
Opener = Callable[..., Registry]


def document(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "type": "document",
        "doc_id": f"2027-ZR-{i:04d}",
        "kind": "responsibility",
        "year": 2027,
        "title": "党风廉政建设责任书",
        "parties": [
            {"party": "superior", "id": "p001", "name": "张建国", "title": "党组书记、检察长"},
            {"party": "subordinate", "id": f"p{i:03d}", "name": "李𠮷·王", "title": "副检察长"},
        ],
        "sha256": f"{i:064x}",
        "path": f"responsibility/2027-ZR-{i:04d}.docx",
        **extra,
    }


def activity(i: int) -> dict[str, Any]:
    return {
        "type": "activity",
        "activity_id": f"A{i:05d}",
        "kind": "heart_to_heart_talk",
        "date": "2027-03-01",
        "actor": "p001",
        "participants": ["p002", "p003"],
        "article": "10.7",
        "note": "谈心谈话 & <记录>",
    }


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path / "ws")


# --- basics ---


def test_extend_records_what_append_records(
    tmp_path: Path, ws: Workspace, open_store: Opener
) -> None:
    other = make_workspace(tmp_path / "other")
    records = [document(1), activity(1), document(2)]
    appended = open_store(ws).append(records, now=NOW)
    extending = open_store(other)
    assert extending.extend(records, now=NOW) is None
    assert [extending.entry(i) for i in range(3)] == appended
    assert extending.root() == open_store(ws).root()
    extending.extend([], now=NOW)
    assert extending.size() == 3


def test_empty_registry_has_a_signed_checkpoint_of_size_zero(
    ws: Workspace, open_store: Opener
) -> None:
    reg = open_store(ws)
    assert reg.size() == 0
    assert reg.root() == merkle.EMPTY_ROOT
    checkpoint = open_checkpoint(reg.checkpoint(), parse_verifier_key(reg.verifier_key))
    assert (checkpoint.origin, checkpoint.size, checkpoint.root) == (
        "庆城县人民检察院/党风廉政建设登记簿",
        0,
        merkle.EMPTY_ROOT,
    )
    assert reg.origin == "庆城县人民检察院/党风廉政建设登记簿"


def test_append_returns_canonical_entries_with_dense_indices(
    ws: Workspace, open_store: Opener
) -> None:
    reg = open_store(ws)
    entries = reg.append([document(1), activity(1)], now=NOW)
    more = reg.append([document(2)], now=NOW)
    assert [e.index for e in entries + more] == [0, 1, 2]
    first = entries[0]
    assert first.record["recorded_at"] == "2027-01-05T09:30:15Z"
    assert first.record["parties"][1]["name"] == "李𠮷·王"
    # RFC 8785: sorted keys, no whitespace, UTF-8 (not \\u escapes).
    assert first.data.startswith(b'{"doc_id":"2027-ZR-0001","kind":"responsibility","parties":')
    assert "李𠮷·王".encode() in first.data
    assert first.leaf_hash == merkle.leaf_hash(first.data)
    assert reg.entry(1) == entries[1]
    assert reg.size() == 3
    assert reg.root() == merkle.root([e.leaf_hash for e in entries + more])


def test_each_append_stores_a_new_signed_checkpoint(ws: Workspace, open_store: Opener) -> None:
    reg = open_store(ws)
    verifier = parse_verifier_key(reg.verifier_key)
    reg.append([document(1), document(2)], now=NOW)
    cp2 = open_checkpoint(reg.checkpoint(), verifier)
    reg.append([document(3)], now=NOW)
    cp3 = open_checkpoint(reg.checkpoint(), verifier)
    assert (cp2.size, cp3.size) == (2, 3)
    assert cp2.root == reg.root(2) and cp3.root == reg.root(3)
    report = reg.audit()
    assert report.ok and report.checkpoints == 3 and report.size == 3


def test_entries_filtered_by_type_and_doc_id(ws: Workspace, open_store: Opener) -> None:
    reg = open_store(ws)
    reg.append([document(1), activity(1), document(2)], now=NOW)
    reg.append(
        [{"type": "void", "doc_id": "2027-ZR-0001", "reason": "人员调整", "replaced_by": None}],
        now=NOW,
    )
    assert [e.index for e in reg.entries(type="document")] == [0, 2]
    assert [e.index for e in reg.entries(doc_id="2027-ZR-0001")] == [0, 3]
    assert [e.index for e in reg.entries(type="void", doc_id="2027-ZR-0001")] == [3]
    assert [e.index for e in reg.entries()] == [0, 1, 2, 3]
    assert reg.document_entry("2027-ZR-0002").index == 2


def test_entries_iterate_past_one_page(ws: Workspace, open_store: Opener) -> None:
    reg = open_store(ws)
    reg.append([activity(i) for i in range(12_000)], now=NOW)
    indices = [e.index for e in reg.entries(type="activity")]
    assert indices == list(range(12_000))


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"doc_id": "x"}, "type"),
        ({"type": "memo", "doc_id": "x"}, "type"),
        ({"type": "document", "title": "无编号"}, "doc_id"),
        ({"type": "activity", "activity_id": ""}, "activity_id"),
        ({"type": "signature", "doc_id": "x", "when": datetime(2027, 1, 1)}, None),
        ({"type": "document", "doc_id": "x", "n": 2**60}, None),
    ],
)
def test_invalid_records_are_rejected_and_nothing_is_written(
    ws: Workspace, open_store: Opener, record: dict[str, Any], field: str | None
) -> None:
    reg = open_store(ws)
    with pytest.raises(ValidationError) as info:
        reg.append([document(1), record], now=NOW)
    if field is not None:
        assert info.value.location is not None and info.value.location.field == field
        assert info.value.location.row == 2
    assert reg.size() == 0
    assert reg.audit().ok


def test_out_of_range_requests_are_usage_errors(ws: Workspace, open_store: Opener) -> None:
    reg = open_store(ws)
    reg.append([document(1), document(2)], now=NOW)
    with pytest.raises(UsageError):
        reg.entry(2)
    with pytest.raises(UsageError):
        reg.inclusion_proof(2)
    with pytest.raises(UsageError):
        reg.inclusion_proof(0, 3)
    with pytest.raises(UsageError):
        reg.consistency_proof(3)
    with pytest.raises(UsageError):
        reg.document_entry("2027-ZR-9999")


# --- proofs from the store ---


def test_proof_bundle_verifies_offline(ws: Workspace, open_store: Opener) -> None:
    reg = open_store(ws)
    reg.append([document(i) for i in range(7)], now=NOW)
    bundle = reg.proof_bundle(5)
    assert bundle["format"] == "docgen-proof-v1"
    assert bundle["tree_size"] == 7 and bundle["index"] == 5
    assert bundle["verifier_key"] == reg.verifier_key
    # A round trip through JSON, as the .proof.json file on disk.
    bundle = json.loads(json.dumps(bundle, ensure_ascii=False))
    entry = verify_proof_bundle(bundle, reg.verifier_key, entry_data=reg.entry(5).data)
    assert entry.record["doc_id"] == "2027-ZR-0005"

    tampered_entry = dict(bundle, entry=bundle["entry"].replace("0005", "0006"))
    with pytest.raises(VerificationError, match="叶哈希"):
        verify_proof_bundle(tampered_entry, reg.verifier_key)
    with pytest.raises(VerificationError, match="不一致"):
        verify_proof_bundle(bundle, reg.verifier_key, entry_data=reg.entry(4).data)
    wrong_index = dict(bundle, index=4)
    with pytest.raises(VerificationError, match="包含证明"):
        verify_proof_bundle(wrong_index, reg.verifier_key)
    other = open_registry(make_workspace(ws.root.parent / "other"), database_url="")
    with pytest.raises(VerificationError):
        verify_proof_bundle(bundle, other.verifier_key)
    other.close()


BOUNDED = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _flip(proof: list[bytes], position: int, bit: int) -> list[bytes]:
    changed = list(proof)
    element = bytearray(changed[position])
    element[bit // 8] ^= 1 << (bit % 8)
    changed[position] = bytes(element)
    return changed


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def grown(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Registry, list[bytes]]]:
    """A registry of 600 entries appended in irregular batches, with the reference leaves."""
    url = ""
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_server").new_database_url()
    ws = make_workspace(tmp_path_factory.mktemp("grown") / "ws")
    reg = open_registry(ws, database_url=url)
    leaves: list[bytes] = []
    batch, i = 1, 0
    while i < 600:
        size = min(batch, 600 - i)
        leaves += [
            e.leaf_hash for e in reg.append([activity(j) for j in range(i, i + size)], now=NOW)
        ]
        i += size
        batch = batch * 3 % 37 + 1
    yield reg, leaves
    reg.close()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_inclusion_proofs_from_the_store_verify(
    grown: tuple[Registry, list[bytes]], data: st.DataObject
) -> None:
    reg, leaves = grown
    size = data.draw(st.integers(1, len(leaves)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = reg.inclusion_proof(index, size)
    root = reg.root(size)
    assert root == merkle.root(leaves[:size])
    assert proof == merkle.inclusion_proof(index, leaves[:size])
    assert merkle.verify_inclusion(leaves[index], index, size, proof, root)
    if proof:
        position = data.draw(st.integers(0, len(proof) - 1), label="position")
        bit = data.draw(st.integers(0, 255), label="bit")
        assert not merkle.verify_inclusion(
            leaves[index], index, size, _flip(proof, position, bit), root
        )
        assert not merkle.verify_inclusion(leaves[index], index, size, proof[:-1], root)
        swapped = data.draw(st.integers(0, len(leaves) - 1), label="other leaf")
        if leaves[swapped] != leaves[index]:
            assert not merkle.verify_inclusion(leaves[swapped], index, size, proof, root)
    assert not merkle.verify_inclusion(leaves[index], index, size, [*proof, root], root)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_consistency_proofs_from_the_store_verify(
    grown: tuple[Registry, list[bytes]], data: st.DataObject
) -> None:
    reg, leaves = grown
    new = data.draw(st.integers(0, len(leaves)), label="new")
    old = data.draw(st.integers(0, new), label="old")
    proof = reg.consistency_proof(old, new)
    old_root, new_root = reg.root(old), reg.root(new)
    assert proof == merkle.consistency_proof(old, leaves[:new])
    assert merkle.verify_consistency(old, new, proof, old_root, new_root)
    if proof:
        position = data.draw(st.integers(0, len(proof) - 1), label="position")
        bit = data.draw(st.integers(0, 255), label="bit")
        assert not merkle.verify_consistency(
            old, new, _flip(proof, position, bit), old_root, new_root
        )
        assert not merkle.verify_consistency(old, new, proof[1:], old_root, new_root)
    if 0 < old < new:
        wrong = merkle.leaf_hash(b"fork")
        assert not merkle.verify_consistency(old, new, proof, wrong, new_root)
        assert not merkle.verify_consistency(old, new, proof, old_root, wrong)


def test_proofs_read_few_nodes() -> None:
    """A proof needs O(log n) stored nodes, whatever the size."""
    for size in (1_000_000, 1_048_575, 1_048_577):
        for index in (0, size // 3, size - 1):
            nodes = merkle.needed_nodes(merkle.inclusion_ranges(index, size))
            assert len(nodes) <= 2 * size.bit_length()
        for old in (1, size // 2, size - 1):
            nodes = merkle.needed_nodes(merkle.consistency_ranges(old, size))
            assert len(nodes) <= 3 * size.bit_length()


# --- append-only triggers ---


def _raw_execute(ws: Workspace, open_store: Opener, sql: str) -> None:
    url = open_store.urls.get(ws.root)  # type: ignore[attr-defined]
    if url:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql)
    else:
        import sqlite3

        conn = sqlite3.connect(ws.registry_path, isolation_level=None)
        try:
            conn.execute(sql)
        finally:
            conn.close()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE registry_entries SET data = data || 'x' WHERE idx = 1",
        "DELETE FROM registry_entries WHERE idx = 2",
        "DELETE FROM registry_entries",
        "UPDATE registry_nodes SET hash = hash WHERE level = 0",
        "DELETE FROM registry_nodes WHERE level = 1",
        "UPDATE registry_checkpoints SET size = size + 100",
        "DELETE FROM registry_checkpoints",
        "UPDATE registry_meta SET value = 'x'",
    ],
)
def test_triggers_reject_update_and_delete(ws: Workspace, open_store: Opener, sql: str) -> None:
    reg = open_store(ws)
    reg.append([document(i) for i in range(4)], now=NOW)
    with pytest.raises(Exception, match="append-only"):
        _raw_execute(ws, open_store, sql)
    assert reg.audit().ok
    assert reg.size() == 4


def test_truncate_is_rejected_on_postgres(tmp_path: Path, postgres_server: Any) -> None:
    import psycopg

    url = postgres_server.new_database_url()
    ws = make_workspace(tmp_path / "ws")
    with open_registry(ws, database_url=url) as reg:
        reg.append([document(1)], now=NOW)
    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("registry_entries", "registry_nodes", "registry_checkpoints"):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(f"TRUNCATE {table}")


# --- rollback and fork ---


def _twin(ws: Workspace, name: str) -> Workspace:
    """Another workspace holding the same registry key (a restored backup, a forked copy)."""
    twin = make_workspace(ws.root.parent / name)
    (twin.keys_dir / "registry").mkdir(parents=True, mode=0o700)
    for file in ("registry.key", "registry.vkey"):
        src = ws.keys_dir / "registry" / file
        dst = twin.keys_dir / "registry" / file
        dst.write_bytes(src.read_bytes())
        os.chmod(dst, stat.S_IMODE(src.stat().st_mode))
    return twin


def test_pinned_checkpoint_still_extended(ws: Workspace, open_store: Opener) -> None:
    reg = open_store(ws)
    reg.append([document(i) for i in range(5)], now=NOW)
    pinned = reg.checkpoint()
    reg.append([document(i) for i in range(5, 13)], now=NOW)
    check = reg.check_pinned(pinned)
    assert (check.pinned_size, check.current_size) == (5, 13)
    assert reg.check_pinned(reg.checkpoint()).proof == ()


def test_rollback_is_detected(ws: Workspace, open_store: Opener) -> None:
    reg = open_store(ws)
    reg.append([document(i) for i in range(10)], now=NOW)
    pinned = reg.checkpoint()
    # The store as it was before the last entries: same key, a prefix of the history.
    old = open_store(_twin(ws, "restored"))
    old.append([document(i) for i in range(6)], now=NOW)
    assert old.root(6) == reg.root(6)
    with pytest.raises(VerificationError, match="回滚"):
        old.check_pinned(pinned)


@pytest.mark.parametrize("extra", [0, 7])
def test_fork_is_detected(ws: Workspace, open_store: Opener, extra: int) -> None:
    reg = open_store(ws)
    reg.append([document(i) for i in range(9)], now=NOW)
    pinned = reg.checkpoint()
    forked = open_store(_twin(ws, "forked"))
    forked.append([document(i, title="改写过的责任书") for i in range(9 + extra)], now=NOW)
    with pytest.raises(VerificationError, match="分叉"):
        forked.check_pinned(pinned)


def test_checkpoint_of_another_registry_is_rejected(ws: Workspace, open_store: Opener) -> None:
    reg = open_store(ws)
    stranger = open_store(make_workspace(ws.root.parent / "stranger"))
    stranger.append([document(1)], now=NOW)
    with pytest.raises(VerificationError, match="签名"):
        reg.check_pinned(stranger.checkpoint())


# --- keys, names, reopening ---


def test_key_files_and_modes(ws: Workspace, open_store: Opener) -> None:
    reg = open_store(ws)
    key_dir = ws.keys_dir / "registry"
    assert stat.S_IMODE(key_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((key_dir / "registry.key").stat().st_mode) == 0o600
    assert (key_dir / "registry.key").read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    vkey = key_dir / "registry.vkey"
    assert stat.S_IMODE(vkey.stat().st_mode) == 0o644
    assert vkey.read_text(encoding="utf-8") == reg.verifier_key + "\n"
    assert reg.verifier_key.startswith("庆城县人民检察院/党风廉政建设登记簿+")
    # Reopening uses the same key and sees the same data.
    reg.append([document(1)], now=NOW)
    again = open_store(ws)
    assert again.verifier_key == reg.verifier_key
    assert again.checkpoint() == reg.checkpoint()


def test_readable_private_key_is_refused(ws: Workspace, open_store: Opener) -> None:
    open_store(ws)
    os.chmod(ws.keys_dir / "registry" / "registry.key", 0o644)
    with pytest.raises(ValidationError, match="权限过宽") as info:
        open_store(ws)
    assert "chmod 600" in info.value.diagnostics()


def test_replaced_key_is_refused(ws: Workspace, open_store: Opener) -> None:
    open_store(ws)
    (ws.keys_dir / "registry" / "registry.key").unlink()
    with pytest.raises(VerificationError, match="签名密钥不一致"):
        open_store(ws)


@pytest.mark.parametrize("name", ["庆城县 人民检察院/登记簿", "qingcheng+docgen", ""])
def test_invalid_registry_name_gives_a_chinese_error(tmp_path: Path, name: str) -> None:
    ws = make_workspace(tmp_path / "ws", registry_name=name)
    with pytest.raises(ValidationError) as info:
        open_registry(ws, database_url="")
    text = info.value.diagnostics()
    assert "registry_name" in text and "docgen.toml" in text and "登记簿名称" in text
    assert not ws.registry_path.exists()


def test_changed_registry_name_is_refused(ws: Workspace, open_store: Opener) -> None:
    open_store(ws)
    renamed = make_workspace(ws.root, registry_name="qingcheng.example/另一个名称")
    with pytest.raises(ValidationError, match="registry_name"):
        open_store(renamed)


# --- busy database ---


def test_busy_database_waits_then_gives_a_clear_message(ws: Workspace, open_store: Opener) -> None:
    reg = open_store(ws, busy_timeout=0.3)
    reg.append([document(1)], now=NOW)
    url = open_store.urls[ws.root]  # type: ignore[attr-defined]
    if url:
        import psycopg

        holder = psycopg.connect(url)
        holder.execute(PG_APPEND_LOCK)  # another docgen process in its append transaction
    else:
        import sqlite3

        holder = sqlite3.connect(ws.registry_path, isolation_level=None)  # type: ignore[assignment]
        holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(WorkspaceBusyError, match="工作目录正被另一个 docgen 进程使用"):
            reg.append([document(2)], now=NOW)
        assert reg.size() == 1  # readers are not blocked
    finally:
        holder.rollback()
        holder.close()
    reg.append([document(2)], now=NOW)
    assert reg.size() == 2


# --- concurrency ---


def test_concurrent_appenders_get_dense_indices(
    ws: Workspace, open_store: Opener, database_url_factory: Callable[[], str | None]
) -> None:
    # The workers race to create the key, the schema and the first checkpoint, too.
    url = database_url_factory() or ""
    open_store.urls[ws.root] = url or None  # type: ignore[attr-defined]
    ctx = multiprocessing.get_context("spawn")  # no state inherited by fork
    start, out = ctx.Event(), ctx.Queue()
    workers, rounds = 4, 12
    procs = [
        ctx.Process(target=append_worker, args=(str(ws.root), url, w, rounds, start, out))
        for w in range(workers)
    ]
    for p in procs:
        p.start()
    start.set()
    results: dict[int, list[int]] = {}
    deadline = time.monotonic() + 180
    while len(results) < workers and time.monotonic() < deadline:
        try:
            worker, indices = out.get(timeout=0.5)
            results[worker] = indices
        except queue.Empty:
            failed = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
            assert not failed, f"appender processes failed: {failed}"
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    expected_total = sum(1 + (w + n) % 3 for w in range(workers) for n in range(rounds))
    all_indices = sorted(i for idx in results.values() for i in idx)
    assert all_indices == list(range(expected_total))

    reg = open_store(ws)
    assert reg.size() == expected_total
    ids = [e.record["activity_id"] for e in reg.entries()]
    assert len(set(ids)) == expected_total
    for worker, indices in results.items():
        mine = [reg.entry(i).record["activity_id"] for i in indices]
        assert all(a.startswith(f"w{worker}-") for a in mine)
    report = reg.audit()
    assert report.ok, report.problems
    assert report.checkpoints == workers * rounds + 1
