"""The registry audit: every leaf, node and checkpoint root recomputed from the stored entries.

:class:`Auditor` reads the whole log page by page inside one read transaction and reports, with
the first bad index, every entry that is not canonical JSON or does not match its index columns,
every tree node that differs from the recomputed one, gaps (and, past a gap, every entry whose
stored leaf hash no longer matches it), extra rows, checkpoints whose signature or root is wrong,
and append-only triggers that are missing, rewritten or disabled (:class:`AuditReport`).

What it proves is self-consistency: the stored tree and the signed checkpoints agree with the
entries. Someone holding the registry key can rewrite entries, nodes and checkpoints together and
pass it; only a checkpoint saved before (``docgen registry verify-checkpoint``) shows that.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

import rfc8785

from docgen.core.errors import VerificationError
from docgen.registry import merkle
from docgen.registry.backend import Database
from docgen.registry.entries import RECORD_TYPES, canonical_json
from docgen.registry.note import Checkpoint, Verifier, open_checkpoint
from docgen.registry.rows import PAGE_ROWS, blob, select_nodes

_MAX_PROBLEMS = 50


@dataclass(frozen=True)
class AuditReport:
    """Outcome of recomputing the whole registry from its stored entries."""

    ok: bool
    size: int
    first_bad_index: int | None
    problems: tuple[str, ...]
    checkpoints: int = 0
    notes: tuple[str, ...] = ()
    """What the reader should know that is not a discrepancy (who can get past the triggers)."""


class Auditor:
    """One audit: reads the stored registry once and collects the problems (the first
    ``_MAX_PROBLEMS`` spelt out) and the indices of the entries they concern."""

    def __init__(self, db: Database, verifier: Verifier) -> None:
        self.db = db
        self.verifier = verifier
        self.problems: list[str] = []
        self.extra = 0
        self.bad: set[int] = set()
        self.suspect_ranges: list[tuple[int, int]] = []

    def fail(self, index: int | None, message: str) -> None:
        if index is not None:
            self.bad.add(index)
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(message)
        else:
            self.extra += 1

    def run(self) -> AuditReport:
        with self.db.read():
            for problem in self.db.trigger_problems():
                self.fail(None, problem)
            notes = tuple(self.db.privilege_notes())
            checkpoints = self._checkpoints()
            size = self._entries(checkpoints)
            self._node_counts(size)
            self._checkpoint_chain(checkpoints, size)
        for start, end in self.suspect_ranges:
            if not any(start <= i < end for i in self.bad):
                self.bad.add(start)
        problems = list(self.problems)
        if self.extra:
            problems.append(f"……另有 {self.extra} 个问题未列出")
        first = min(self.bad) if self.bad else None
        ok = not problems
        return AuditReport(ok, size, first, tuple(problems), len(checkpoints), notes)

    def _checkpoints(self) -> list[tuple[int, Checkpoint]]:
        out: list[tuple[int, Checkpoint]] = []
        for size, note in self.db.query(
            "SELECT size, note FROM registry_checkpoints ORDER BY size"
        ):
            try:
                checkpoint = open_checkpoint(blob(note), self.verifier)
            except VerificationError as exc:
                self.fail(None, f"大小为 {size} 的检查点验证失败:{exc.message}")
                self.suspect_ranges.append((0, int(size)))
                continue
            if checkpoint.size != size:
                self.fail(
                    None, f"检查点记录的大小 {size} 与签名内容中的大小 {checkpoint.size} 不符"
                )
                continue
            out.append((int(size), checkpoint))
        if not out:
            self.fail(0, "没有任何有效的签名检查点")
        return out

    def _entries(self, checkpoints: list[tuple[int, Checkpoint]]) -> int:
        """Stream the entries; returns how many are densely indexed from 0.

        Past the first gap the tree cannot be rebuilt (every later leaf would sit at the wrong
        place), but each later entry is still hashed and compared with its stored leaf hash."""
        tree = merkle.CompactRange()
        roots = {size: cp for size, cp in checkpoints}
        previous_good = 0
        pending: list[tuple[int, int, bytes]] = []
        expected = 0
        dense: int | None = None

        def check_roots() -> None:
            nonlocal previous_good
            cp = roots.get(tree.size)
            if cp is None:
                return
            if tree.root() != cp.root:
                self.fail(
                    None,
                    f"大小为 {tree.size} 的签名检查点根哈希与重新计算的不符:索引"
                    f" {previous_good}–{tree.size - 1} 之间的条目被改动过",
                )
                self.suspect_ranges.append((previous_good, tree.size))
            else:
                previous_good = tree.size

        check_roots()
        after = -1
        while True:
            rows = self.db.query(
                f"SELECT idx, data, type, doc_id FROM registry_entries WHERE idx > ?"
                f" ORDER BY idx LIMIT {PAGE_ROWS}",
                (after,),
            )
            for idx, raw, kind, doc_id in rows:
                idx = int(idx)
                if idx != expected:
                    self.fail(
                        expected,
                        f"索引不连续:缺少索引 {expected}"
                        + (f"–{idx - 1}" if idx - 1 > expected else "")
                        + " 的条目(条目被删除)",
                    )
                    if dense is None:
                        dense = expected
                data = blob(raw)
                if not isinstance(raw, bytes | memoryview):
                    self.fail(idx, f"条目 {idx} 的存储类型被改动(应为二进制 BLOB)")
                self._check_entry(idx, data, kind, doc_id)
                leaf = merkle.leaf_hash(data)
                if dense is None:
                    tree.append(leaf, pending)
                    check_roots()
                else:
                    pending.append((0, idx, leaf))
                expected = idx + 1
            self._compare_nodes(pending)
            pending = []
            if len(rows) < PAGE_ROWS:
                break
            after = int(rows[-1][0])
        return expected if dense is None else dense

    def _check_entry(self, idx: int, data: bytes, kind: object, doc_id: object) -> None:
        try:
            record = json.loads(data)
        except (UnicodeDecodeError, ValueError):
            self.fail(idx, f"条目 {idx} 不是有效的 JSON")
            return
        if not isinstance(record, dict):
            self.fail(idx, f"条目 {idx} 不是 JSON 对象")
            return
        try:
            canonical = canonical_json(record)
        except rfc8785.CanonicalizationError:
            canonical = b""
        if canonical != data:
            self.fail(idx, f"条目 {idx} 不是规范 JSON(RFC 8785)")
        if record.get("type") not in RECORD_TYPES or record.get("type") != kind:
            self.fail(idx, f"条目 {idx} 的类型“{record.get('type')}”与索引列“{kind}”不符或未知")
        stored_doc = record.get("doc_id") if isinstance(record.get("doc_id"), str) else None
        if stored_doc != doc_id:
            self.fail(idx, f"条目 {idx} 的 doc_id 与索引列不符")

    def _compare_nodes(self, computed: list[tuple[int, int, bytes]]) -> None:
        by_level: dict[int, dict[int, bytes]] = {}
        for level, idx, h in computed:
            by_level.setdefault(level, {})[idx] = h
        for level, wanted in sorted(by_level.items()):
            low, high = min(wanted), max(wanted)
            stored = {
                int(i): blob(h)
                for i, h in self.db.query(
                    "SELECT idx, hash FROM registry_nodes WHERE level = ? AND idx BETWEEN ? AND ?",
                    (level, low, high),
                )
            }
            for idx, h in sorted(wanted.items()):
                if stored.get(idx) == h:
                    continue
                first = idx << level
                if level == 0:
                    what = (
                        "缺少叶哈希" if idx not in stored else "数据与存储的叶哈希不符(条目被改动)"
                    )
                    self.fail(first, f"条目 {idx}:{what}")
                elif not any(first <= bad < first + (1 << level) for bad in self.bad):
                    # Reported only when no bad entry below it already explains the mismatch.
                    what = "缺失" if idx not in stored else "与重新计算的不符"
                    self.fail(
                        first,
                        f"第 {level} 层第 {idx} 个树节点(条目 {first}–{first + (1 << level) - 1})"
                        f"{what}",
                    )

    def _node_counts(self, size: int) -> None:
        rows = self.db.query(
            "SELECT level, COUNT(*), MIN(idx), MAX(idx) FROM registry_nodes GROUP BY level"
        )
        for level, count, low, high in rows:
            expected = size >> int(level)
            if int(count) > expected or (count and (int(low) < 0 or int(high) >= expected)):
                self.fail(
                    None,
                    f"第 {level} 层有 {count} 个树节点,按 {size} 条记录应为 {expected} 个"
                    "(存在多余的节点)",
                )

    def _checkpoint_chain(self, checkpoints: list[tuple[int, Checkpoint]], size: int) -> None:
        sizes = [s for s, _ in checkpoints]
        if checkpoints and sizes[-1] != size:
            if sizes[-1] > size:
                self.fail(
                    size,
                    f"最新签名检查点有 {sizes[-1]} 条,登记簿只存有 {size} 条连续条目"
                    f"(索引 {size} 起的条目缺失或被截断)",
                )
            else:
                self.fail(
                    sizes[-1],
                    f"索引 {sizes[-1]}–{size - 1} 的条目没有被任何签名检查点覆盖(条目被私自插入)",
                )
        for (old_size, old), (new_size, new) in itertools.pairwise(checkpoints):
            if new_size > size:
                break
            ranges = merkle.consistency_ranges(old_size, new_size)
            needed = merkle.needed_nodes(ranges)
            stored = self._stored_nodes(needed)
            if stored is None:
                self.fail(None, f"无法为检查点 {old_size}→{new_size} 生成一致性证明:树节点缺失")
                continue
            proof = [merkle.range_hash(a, b, stored.__getitem__) for a, b in ranges]
            if not merkle.verify_consistency(old_size, new_size, proof, old.root, new.root):
                self.fail(
                    None,
                    f"签名检查点 {old_size} 与 {new_size} 之间的一致性证明验证失败",
                )
                self.suspect_ranges.append((0, new_size))

    def _stored_nodes(self, wanted: set[merkle.NodeId]) -> dict[merkle.NodeId, bytes] | None:
        if not wanted:
            return {}
        found = select_nodes(self.db, wanted)
        return found if len(found) == len(wanted) else None
