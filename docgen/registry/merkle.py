"""Merkle tree hashing and proofs of RFC 9162 §2.1 (the same tree as RFC 6962).

Pure functions: bytes in, bytes out, no I/O. Proof *generation* is expressed as the list of
tree ranges whose hashes make up the proof (:func:`inclusion_ranges`,
:func:`consistency_ranges`), so a store can answer with O(log n) reads of stored subtree hashes
instead of rehashing every leaf. Each range is a node of the RFC's tree, which is always the
concatenation of a few complete, power-of-two aligned subtrees (:func:`full_subtrees`).

Verification follows the RFC's algorithms (§2.1.3.2 and §2.1.4.2) literally, so it is correct
for trees of every size, not only complete ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

# (level, index): the complete subtree over leaves [index << level, (index + 1) << level).
NodeId = tuple[int, int]
# [start, end): a range of leaves.
Range = tuple[int, int]


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n`` > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def full_subtrees(start: int, end: int) -> list[NodeId]:
    """Decompose ``[start, end)`` into complete aligned subtrees, left to right.

    For a range that is a node of the RFC tree (which every range of a proof is), the hash of
    the range is the right fold of these subtree hashes with :func:`node_hash`.
    """
    if not 0 <= start <= end:
        raise ValueError(f"bad range [{start}, {end})")
    nodes: list[NodeId] = []
    while start < end:
        # Largest aligned block at ``start`` that still fits in the range.
        level = (start & -start).bit_length() - 1 if start else (end - start).bit_length() - 1
        while start + (1 << level) > end:
            level -= 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def fold_subtrees(hashes: Sequence[bytes]) -> bytes:
    """Combine complete-subtree hashes (left to right) into the hash of their union."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for left in reversed(hashes[:-1]):
        acc = node_hash(left, acc)
    return acc


def root_nodes(size: int) -> list[NodeId]:
    """The complete subtrees whose fold is the root of a tree of ``size`` leaves."""
    return full_subtrees(0, size)


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges whose hashes form ``PATH(index, D[0:size])`` (RFC 9162 §2.1.3.1), in order."""
    if not 0 <= index < size:
        raise ValueError(f"index {index} is outside a tree of size {size}")
    out: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = _largest_power_of_two_below(end - start)
        if index - start < k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
    out.reverse()
    return out


def consistency_ranges(old_size: int, new_size: int) -> list[Range]:
    """The ranges whose hashes form ``PROOF(old_size, D[0:new_size])`` (RFC 9162 §2.1.4.1)."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"cannot prove size {old_size} consistent with size {new_size}")
    out: list[Range] = []
    if old_size == 0 or old_size == new_size:
        return out
    start, end, m, complete = 0, new_size, old_size, True
    while True:
        n = end - start
        if m == n:
            if not complete:
                out.append((start, end))
            break
        k = _largest_power_of_two_below(n)
        if m <= k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
            m -= k
            complete = False
    out.reverse()
    return out


def range_hash(start: int, end: int, subtree: Callable[[NodeId], bytes]) -> bytes:
    """Hash of the tree node over ``[start, end)``, from complete-subtree hashes."""
    return fold_subtrees([subtree(node) for node in full_subtrees(start, end)])


def needed_nodes(ranges: Iterable[Range]) -> set[NodeId]:
    """Every complete subtree that must be read to hash ``ranges``."""
    return {node for start, end in ranges for node in full_subtrees(start, end)}


# --- in-memory helpers (reference implementation, used by tests and small trees) ---


def _hash_range(leaves: Sequence[bytes], start: int, end: int) -> bytes:
    """MTH(D[start:end]) over leaf hashes, by the RFC's recursive definition."""
    n = end - start
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[start]
    k = _largest_power_of_two_below(n)
    return node_hash(_hash_range(leaves, start, start + k), _hash_range(leaves, start + k, end))


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """Root of the tree whose leaves have these hashes (iterative; O(n) time, O(log n) memory)."""
    stack: list[tuple[int, bytes]] = []
    for count, value in enumerate(leaf_hashes, start=1):
        level, node = 0, value
        while count & (1 << level) == 0:
            node = node_hash(stack.pop()[1], node)
            level += 1
        stack.append((level, node))
    return fold_subtrees([h for _, h in stack])


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Inclusion proof for leaf ``index`` in the tree over all of ``leaf_hashes``."""
    return [_hash_range(leaf_hashes, a, b) for a, b in inclusion_ranges(index, len(leaf_hashes))]


def consistency_proof(old_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Consistency proof from ``old_size`` to the tree over all of ``leaf_hashes``."""
    ranges = consistency_ranges(old_size, len(leaf_hashes))
    return [_hash_range(leaf_hashes, a, b) for a, b in ranges]


class CompactRange:
    """The right edge of a growing tree: one hash per set bit of the size.

    Appending a leaf merges equal-sized subtrees like a binary counter; every subtree completed
    on the way is reported, so a store can persist exactly the nodes that became final.
    """

    __slots__ = ("_stack", "size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        nodes = root_nodes(size)
        if len(nodes) != len(hashes):
            raise ValueError(f"a tree of size {size} needs {len(nodes)} edge hashes")
        self.size = size
        self._stack: list[tuple[int, bytes]] = [
            (level, h) for (level, _), h in zip(nodes, hashes, strict=True)
        ]

    def append(self, value: bytes, completed: list[tuple[int, int, bytes]] | None = None) -> None:
        """Add a leaf hash; push every newly completed ``(level, index, hash)`` to ``completed``."""
        index = self.size
        level, node = 0, value
        if completed is not None:
            completed.append((0, index, node))
        while self._stack and self._stack[-1][0] == level:
            node = node_hash(self._stack.pop()[1], node)
            level += 1
            if completed is not None:
                completed.append((level, index >> level, node))
        self._stack.append((level, node))
        self.size += 1

    def root(self) -> bytes:
        return fold_subtrees([h for _, h in self._stack])


# --- verification (RFC 9162 §2.1.3.2 and §2.1.4.2) ---


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` show ``leaf`` at ``index`` in the tree with this root?"""
    if index < 0 or index >= size:
        return False
    if any(len(p) != HASH_SIZE for p in proof) or len(leaf) != HASH_SIZE:
        return False
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn != 0 and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(
    old_size: int,
    new_size: int,
    proof: Sequence[bytes],
    old_root: bytes,
    new_root: bytes,
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree ``(new_size, new_root)`` an extension of the old one?"""
    if old_size < 0 or old_size > new_size:
        return False
    if any(len(p) != HASH_SIZE for p in proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        # Every tree extends the empty tree; the proof is empty by definition.
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn != 0 and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0
