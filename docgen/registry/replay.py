"""A pinned checkpoint checked against the entries themselves, not what is stored beside them.

Whoever can write the database can delete, change or reorder entry rows and leave the stored tree
nodes and checkpoints as they were; a check that reads those (as :meth:`Registry.check_pinned`
does, to answer one letter quickly) then still passes. ``docgen registry verify-checkpoint``
therefore replays the log: it streams the entries in index order, hashes every leaf from the stored
bytes and, from those leaves alone, computes the root at the pinned size, the root at the current
size and the RFC 9162 consistency proof between them. The latest signed checkpoint, the state the
registry claims to be in, must then be the root of the entries it holds.

Memory stays O(log n) whatever the size of the log: the right edge of the tree
(:class:`merkle.CompactRange`), the O(log n) subtrees the consistency proof needs, and one root per
stored checkpoint size. The stored checkpoints are read only to name where a change lies; what is
proved rests on the pinned checkpoint and the entries.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from docgen.core.errors import VerificationError
from docgen.registry import merkle
from docgen.registry.backend import Database
from docgen.registry.note import Checkpoint, Verifier, open_checkpoint
from docgen.registry.rows import PAGE_ROWS, blob


def _span(first: int, last: int) -> str:
    return f"索引 {first}" if first == last else f"索引 {first}–{last}"


@dataclass(frozen=True)
class PinnedReplay:
    """Outcome of replaying the log against a checkpoint saved earlier."""

    pinned_size: int
    current_size: int
    """Entries densely indexed from 0 (the size of the tree that could be recomputed)."""
    signed_size: int | None
    """Size of the latest signed checkpoint stored in the registry."""
    proof: tuple[bytes, ...]
    """Consistency proof from the pinned size to the current size, from the entries' leaves."""
    problems: tuple[str, ...]
    first_bad_index: int | None

    @property
    def ok(self) -> bool:
        return not self.problems


class _Replay:
    """One pass over the entries, and a second one up to the change when there is one."""

    def __init__(self, db: Database, verifier: Verifier, pinned: Checkpoint) -> None:
        self.db = db
        self.verifier = verifier
        self.pinned = pinned
        self.problems: list[str] = []
        self.first_bad: int | None = None
        self.gap: int | None = None
        self.pinned_root: bytes | None = merkle.EMPTY_ROOT if pinned.size == 0 else None
        self.captured: dict[merkle.NodeId, bytes] = {}

    def fail(self, index: int | None, message: str) -> None:
        self.problems.append(message)
        if index is not None and (self.first_bad is None or index < self.first_bad):
            self.first_bad = index

    def run(self) -> PinnedReplay:
        with self.db.read():
            count, end = self.db.query(
                "SELECT COUNT(*), COALESCE(MAX(idx) + 1, 0) FROM registry_entries"
            )[0]
            wanted: set[merkle.NodeId] = set()
            if int(count) == int(end) and self.pinned.size <= int(end):
                ranges = merkle.consistency_ranges(self.pinned.size, int(end))
                wanted = merkle.needed_nodes(ranges)
            tree = self._replay(wanted)
            current, root = tree.size, tree.root()
            proof = self._check_pinned(current, root)
            signed = self._check_signed(current, root)
        return PinnedReplay(
            self.pinned.size, current, signed, proof, tuple(self.problems), self.first_bad
        )

    def _leaves(self) -> Iterator[tuple[int, bytes]]:
        """``(index, leaf hash)`` of the stored entries in index order, a page at a time."""
        after = -1
        while True:
            rows = self.db.query(
                f"SELECT idx, data FROM registry_entries WHERE idx > ? ORDER BY idx"
                f" LIMIT {PAGE_ROWS}",
                (after,),
            )
            for idx, data in rows:
                yield int(idx), merkle.leaf_hash(blob(data))
            if len(rows) < PAGE_ROWS:
                return
            after = int(rows[-1][0])

    def _replay(self, wanted: set[merkle.NodeId]) -> merkle.CompactRange:
        """The tree of the entries densely indexed from 0; keeps the root at the pinned size and
        the ``wanted`` subtrees, and reports the first gap."""
        tree, pinned_size = merkle.CompactRange(), self.pinned.size
        completed: list[tuple[int, int, bytes]] = []
        for idx, leaf in self._leaves():
            if idx != tree.size:
                self.gap = tree.size
                self.fail(
                    tree.size,
                    f"索引不连续:缺少{_span(tree.size, idx - 1)} 的条目(条目被删除),"
                    "从这里起无法重新计算",
                )
                break
            tree.append(leaf, completed)
            if tree.size == pinned_size:
                self.pinned_root = tree.root()
            if len(completed) >= 2 * PAGE_ROWS:
                self._capture(completed, wanted)
        self._capture(completed, wanted)
        return tree

    def _capture(self, completed: list[tuple[int, int, bytes]], wanted: set[merkle.NodeId]) -> None:
        if wanted:
            self.captured.update(
                ((level, index), h) for level, index, h in completed if (level, index) in wanted
            )
        completed.clear()

    def _check_pinned(self, current: int, root: bytes) -> tuple[bytes, ...]:
        m = self.pinned.size
        if self.pinned_root is None:
            if self.gap is None:
                self.fail(
                    current,
                    f"发现回滚:保存的检查点有 {m} 条,登记簿现在只有 {current} 条"
                    f"(索引 {current} 起的条目不存在:登记簿被截断或换成了旧备份)",
                )
            return ()
        if self.pinned_root != self.pinned.root:
            self._fork(m)
            return ()
        ranges = merkle.consistency_ranges(m, current)
        if self.gap is not None or not merkle.needed_nodes(ranges) <= self.captured.keys():
            return ()  # past a gap there is no current tree to prove against (reported above)
        proof = [merkle.range_hash(a, b, self.captured.__getitem__) for a, b in ranges]
        if not merkle.verify_consistency(m, current, proof, self.pinned.root, root):
            self.fail(None, f"发现分叉:从条目计算的一致性证明(大小 {m} → {current})验证失败")
            return ()
        return tuple(proof)

    def _fork(self, m: int) -> None:
        good = self._last_matching_checkpoint(m)
        if good == m:
            self.fail(
                None,
                f"发现分叉:登记簿中大小为 {m} 的签名检查点与保存的检查点根哈希不同,两者都带有效的"
                "登记簿签名——有人用登记簿密钥为改写后的历史签了名;按现存条目重新计算,"
                f"前 {m} 条中有条目被改动、替换或重排",
            )
            return
        where = (
            f"最后一个与现存条目一致的签名检查点大小为 {good};若登记簿密钥未泄露,"
            f"改动在{_span(good, m - 1)} 范围内"
            if good
            else f"改动在{_span(0, m - 1)} 范围内"
        )
        self.fail(
            good,
            f"发现分叉:按登记簿现存的条目重新计算,前 {m} 条的根哈希与保存的检查点不符"
            f"(有条目被改动、替换或重排;{where})",
        )

    def _last_matching_checkpoint(self, limit: int) -> int:
        """The largest stored, validly signed checkpoint size ≤ ``limit`` whose root is the one
        recomputed from the entries (0 if none): a second pass, made only when something failed,
        so an honest registry is read once."""
        sizes = {
            int(s)
            for (s,) in self.db.query(
                "SELECT size FROM registry_checkpoints WHERE size <= ?", (limit,)
            )
        }
        roots = {0: merkle.EMPTY_ROOT}
        tree = merkle.CompactRange()
        for idx, leaf in self._leaves():
            if idx != tree.size or tree.size >= limit:
                break
            tree.append(leaf)
            if tree.size in sizes:
                roots[tree.size] = tree.root()
        for size in sorted(roots, reverse=True):
            rows = self.db.query("SELECT note FROM registry_checkpoints WHERE size = ?", (size,))
            if not rows:
                continue
            try:
                checkpoint = open_checkpoint(blob(rows[0][0]), self.verifier)
            except VerificationError:
                continue
            if checkpoint.size == size and checkpoint.root == roots[size]:
                return size
        return 0

    def _check_signed(self, current: int, root: bytes) -> int | None:
        """The latest stored checkpoint must be signed and be the root of the entries."""
        rows = self.db.query(
            "SELECT size, note FROM registry_checkpoints ORDER BY size DESC LIMIT 1"
        )
        if not rows:
            self.fail(None, "登记簿中没有任何签名检查点")
            return None
        size, note = int(rows[0][0]), blob(rows[0][1])
        try:
            latest = open_checkpoint(note, self.verifier)
        except VerificationError as exc:
            self.fail(None, f"登记簿中最新的(大小为 {size} 的)检查点验证失败:{exc.message}")
            return None
        if latest.size != size:
            self.fail(None, f"检查点记录的大小 {size} 与签名内容中的大小 {latest.size} 不符")
            return None
        if current > size:
            self.fail(
                size,
                f"{_span(size, current - 1)} 的条目没有被任何签名检查点覆盖"
                "(条目被绕过 docgen 私自追加)",
            )
        elif current < size and self.gap is None:
            self.fail(
                current,
                f"最新签名检查点有 {size} 条,登记簿只存有 {current} 条"
                f"(索引 {current} 起的条目被删除)",
            )
        elif current == size and root != latest.root:
            good = self._last_matching_checkpoint(size)
            self.fail(
                good,
                f"最新签名检查点(大小 {size})的根哈希与从条目重新计算的不符:"
                f"{_span(good, size - 1)} 范围内有条目被改动、替换或重排",
            )
        return size


def replay_pinned(db: Database, verifier: Verifier, pinned_note: bytes) -> PinnedReplay:
    """Check that the entries stored now extend the checkpoint ``pinned_note`` (saved earlier and
    signed by the registry key) and are what the latest signed checkpoint says."""
    pinned = open_checkpoint(pinned_note, verifier)
    return _Replay(db, verifier, pinned).run()
