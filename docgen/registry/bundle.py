"""Proof bundles checked offline: a checkpoint's signature, then an entry's inclusion proof.

A bundle (:data:`PROOF_FORMAT`, written by :meth:`docgen.registry.store.Registry.proof_bundle`)
holds everything needed to check one entry without the registry: the entry's bytes, its
inclusion proof and the signed checkpoint it is proved against. Checkpoint signatures are
remembered per process, as most bundles of a run share one checkpoint.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from docgen.core.errors import VerificationError
from docgen.registry import merkle
from docgen.registry.entries import Entry
from docgen.registry.note import Checkpoint, Verifier, open_checkpoint, parse_verifier_key

PROOF_FORMAT = "docgen-proof-v1"


@functools.lru_cache(maxsize=8)
def _verifier(verifier_key: str) -> Verifier:
    return parse_verifier_key(verifier_key)


@functools.lru_cache(maxsize=64)
def verified_checkpoint(note: bytes, verifier_key: str) -> Checkpoint:
    """:func:`open_checkpoint` remembered per process: a letter's bundles, and a whole run's
    letters, mostly share one checkpoint, so its signature is checked once. Failures (raised)
    are not remembered."""
    return open_checkpoint(note, _verifier(verifier_key))


def verify_proof_bundle(
    bundle: Mapping[str, Any], verifier_key: str, *, entry_data: bytes | None = None
) -> Entry:
    """Check a proof bundle offline: checkpoint signature, then the entry's inclusion proof."""
    _verifier(verifier_key)
    if bundle.get("format") != PROOF_FORMAT:
        raise VerificationError(f"证明文件格式“{bundle.get('format')}”不是 {PROOF_FORMAT}")
    try:
        note = str(bundle["checkpoint"]).encode("utf-8")
        data = str(bundle["entry"]).encode("utf-8")
        index = bundle["index"]
        tree_size = bundle["tree_size"]
        proof = [bytes.fromhex(str(h)) for h in bundle["inclusion_proof"]]
        claimed_leaf = bytes.fromhex(str(bundle["leaf_hash"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise VerificationError(f"证明文件缺少字段或字段格式错误:{exc}") from exc
    if any(not isinstance(v, int) or isinstance(v, bool) for v in (index, tree_size)):
        raise VerificationError("证明文件中的 index 或 tree_size 不是整数")
    checkpoint = verified_checkpoint(note, verifier_key)
    if checkpoint.size != tree_size:
        raise VerificationError(
            f"证明文件的 tree_size {tree_size} 与签名检查点的大小 {checkpoint.size} 不符"
        )
    if entry_data is not None and entry_data != data:
        raise VerificationError("证明文件中的登记条目与登记簿中的条目不一致")
    leaf = merkle.leaf_hash(data)
    if leaf != claimed_leaf:
        raise VerificationError("证明文件中的叶哈希与登记条目内容不符")
    if not merkle.verify_inclusion(leaf, index, tree_size, proof, checkpoint.root):
        raise VerificationError(
            f"包含证明验证失败:条目 {index} 不在签名检查点(大小 {tree_size})所代表的登记簿中"
        )
    try:
        record = json.loads(data)
    except ValueError as exc:
        raise VerificationError("证明文件中的登记条目不是有效的 JSON") from exc
    if not isinstance(record, dict):
        raise VerificationError("证明文件中的登记条目不是 JSON 对象")
    return Entry(index, data, record, leaf)
