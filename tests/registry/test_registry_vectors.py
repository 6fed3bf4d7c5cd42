"""Conformance: every vector of tests/data/tlog-vectors.json (RFC 9162 trees, C2SP notes)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from docgen.core.errors import ValidationError, VerificationError
from docgen.registry import merkle, note

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "data" / "tlog-vectors.json").read_text(encoding="utf-8")
)
LEAVES = [merkle.leaf_hash(bytes.fromhex(h)) for h in VECTORS["ct_leaves_hex"]]


def _h(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


def _vector_bytes(vector: dict[str, str], prefix: str) -> bytes:
    if f"{prefix}_hex" in vector:
        return bytes.fromhex(vector[f"{prefix}_hex"])
    return vector[f"{prefix}_ascii"].encode("ascii")


@pytest.mark.parametrize("vector", VECTORS["hashing"]["vectors"], ids=lambda v: v["kind"])
def test_hashing_vectors(vector: dict[str, str]) -> None:
    if vector["kind"] == "leaf":
        got = merkle.leaf_hash(_vector_bytes(vector, "data"))
    else:
        got = merkle.node_hash(_vector_bytes(vector, "left"), _vector_bytes(vector, "right"))
    assert got.hex() == vector["hash"]


def test_empty_tree_is_sha256_of_nothing() -> None:
    assert merkle.EMPTY_ROOT.hex() == VECTORS["roots_by_size"]["0"]
    assert merkle.root([]) == merkle.EMPTY_ROOT


@pytest.mark.parametrize("size", sorted(int(s) for s in VECTORS["roots_by_size"]))
def test_roots_by_size(size: int) -> None:
    expected = VECTORS["roots_by_size"][str(size)]
    assert merkle.root(LEAVES[:size]).hex() == expected
    # The same root composed from complete subtrees, as the store computes it.
    tree = merkle.CompactRange()
    for leaf in LEAVES[:size]:
        tree.append(leaf)
    assert tree.root().hex() == expected


@pytest.mark.parametrize(
    "vector", VECTORS["inclusion_proofs"], ids=lambda v: f"{v['index']}-of-{v['size']}"
)
def test_inclusion_proofs(vector: dict[str, Any]) -> None:
    index, size = vector["index"], vector["size"]
    proof = merkle.inclusion_proof(index, LEAVES[:size])
    assert [p.hex() for p in proof] == vector["proof"]
    assert merkle.verify_inclusion(
        LEAVES[index], index, size, _h(vector["proof"]), bytes.fromhex(vector["root"])
    )


@pytest.mark.parametrize(
    "vector",
    VECTORS["consistency_proofs"],
    ids=lambda v: f"{v['old_size']}-to-{v['new_size']}",
)
def test_consistency_proofs(vector: dict[str, Any]) -> None:
    old, new = vector["old_size"], vector["new_size"]
    proof = merkle.consistency_proof(old, LEAVES[:new])
    assert [p.hex() for p in proof] == vector["proof"]
    assert merkle.verify_consistency(
        old,
        new,
        _h(vector["proof"]),
        bytes.fromhex(vector["old_root"]),
        bytes.fromhex(vector["new_root"]),
    )


@pytest.mark.parametrize(
    "probe",
    VECTORS["inclusion_must_fail"],
    ids=[f"{i}-{p['why']}" for i, p in enumerate(VECTORS["inclusion_must_fail"])],
)
def test_inclusion_must_fail(probe: dict[str, Any]) -> None:
    assert not merkle.verify_inclusion(
        bytes.fromhex(probe["leaf_hash"]),
        probe["index"],
        probe["size"],
        _h(probe["proof"]),
        bytes.fromhex(probe["root"]),
    )


def test_every_consistency_vector_fails_when_changed() -> None:
    for vector in VECTORS["consistency_proofs"]:
        old, new = vector["old_size"], vector["new_size"]
        old_root, new_root = bytes.fromhex(vector["old_root"]), bytes.fromhex(vector["new_root"])
        proof = _h(vector["proof"])
        for i in range(len(proof)):
            changed = list(proof)
            changed[i] = bytes([changed[i][0] ^ 1]) + changed[i][1:]
            assert not merkle.verify_consistency(old, new, changed, old_root, new_root)
        if old != new:
            assert not merkle.verify_consistency(old, new, proof, new_root, new_root)
            assert not merkle.verify_consistency(old, new, [*proof, old_root], old_root, new_root)


@pytest.mark.parametrize("size", sorted(int(s) for s in VECTORS["large_trees"]["roots_base64"]))
def test_large_tree_roots(size: int) -> None:
    tree = merkle.CompactRange()
    for i in range(size):
        tree.append(merkle.leaf_hash(bytes([i & 0xFF, (i >> 8) & 0xFF])))
    expected = VECTORS["large_trees"]["roots_base64"][str(size)]
    assert base64.b64encode(tree.root()).decode() == expected


def test_exhaustive_small_trees_against_reference() -> None:
    """Range-based proofs equal the RFC's recursive definition and verify, for sizes 1–40."""
    for n in range(1, 41):
        leaves = [merkle.leaf_hash(i.to_bytes(2, "big")) for i in range(n)]
        root = merkle.root(leaves)
        for i in range(n):
            proof = merkle.inclusion_proof(i, leaves)
            assert merkle.verify_inclusion(leaves[i], i, n, proof, root)
            if n > 1:
                assert not merkle.verify_inclusion(leaves[i], (i + 1) % n, n, proof, root)
        for m in range(n + 1):
            proof = merkle.consistency_proof(m, leaves)
            assert merkle.verify_consistency(m, n, proof, merkle.root(leaves[:m]), root)


# --- signed notes ---

SIGNED = VECTORS["signed_note"]


def test_signer_key_parses_and_gives_the_verifier_key() -> None:
    signer = note.parse_signer_key(SIGNED["signer_key"])
    assert signer.name == "PeterNeumann"
    assert signer.verifier.encode() == SIGNED["verifier_key"]


def test_note_is_reproduced_byte_for_byte() -> None:
    signer = note.parse_signer_key(SIGNED["signer_key"])
    signed = note.sign_note(SIGNED["text"], signer)
    assert signed == SIGNED["note"].encode("utf-8")


def test_note_opens_with_the_verifier_key() -> None:
    verifier = note.parse_verifier_key(SIGNED["verifier_key"])
    opened = note.open_note(SIGNED["note"].encode("utf-8"), verifier)
    assert opened.text == SIGNED["text"]


@pytest.mark.parametrize("case", sorted(SIGNED["must_fail"]))
def test_note_must_fail(case: str) -> None:
    verifier = note.parse_verifier_key(SIGNED["verifier_key"])
    with pytest.raises(VerificationError):
        note.open_note(SIGNED["must_fail"][case].encode("utf-8"), verifier)


@pytest.mark.parametrize(
    "key",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # key id
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # hex case
        "PeterNeumanm+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # name
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",  # base64
        "PeterNeumann+c74f20a3+AhpC2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # algorithm
        "PeterNeumann+c74f20a3",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_bad_verifier_keys_are_rejected(key: str) -> None:
    with pytest.raises(VerificationError):
        note.parse_verifier_key(key)


def test_unknown_extra_signatures_are_ignored_but_a_bad_one_of_ours_is_not() -> None:
    signer = note.parse_signer_key(SIGNED["signer_key"])
    other = note.Signer.from_private_key("另一个见证者", Ed25519PrivateKey.generate())
    ours = note.sign_note(SIGNED["text"], signer).decode()
    witness = note.sign_note(SIGNED["text"], other).decode().split("\n\n")[1]
    cosigned = (ours + witness).encode()
    assert note.open_note(cosigned, signer.verifier).text == SIGNED["text"]
    # Witness key opens it too, and Chinese names work in key ids and lines.
    assert note.open_note(cosigned, other.verifier).text == SIGNED["text"]
    forged = ours.replace("x08go", "x08gp").encode()
    with pytest.raises(VerificationError):
        note.open_note(forged, signer.verifier)


# --- checkpoints ---


def test_checkpoint_example_text() -> None:
    root = bytes.fromhex(VECTORS["roots_by_size"]["8"])
    checkpoint = note.Checkpoint("example.org/registry", 8, root)
    assert checkpoint.text() == VECTORS["checkpoint"]["example_text_size_8"]
    assert note.parse_checkpoint(VECTORS["checkpoint"]["example_text_size_8"]) == checkpoint


def test_checkpoint_signed_and_opened_with_chinese_origin() -> None:
    signer = note.Signer.from_private_key(
        "庆城县人民检察院/党风廉政建设登记簿", Ed25519PrivateKey.generate()
    )
    checkpoint = note.Checkpoint(signer.name, 8, bytes.fromhex(VECTORS["roots_by_size"]["8"]))
    signed = note.sign_checkpoint(checkpoint, signer)
    assert signed.decode().startswith("庆城县人民检察院/党风廉政建设登记簿\n8\nXcnaeac")
    assert "\n\n— 庆城县人民检察院/党风廉政建设登记簿 " in signed.decode()
    verifier = note.parse_verifier_key(signer.verifier.encode())
    assert note.open_checkpoint(signed, verifier) == checkpoint


@pytest.mark.parametrize(
    "text",
    [
        "example.org/registry\n08\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "example.org/registry\n-8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "example.org/registry\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg\n",
        "example.org/registry\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQ==\n",
        "example.org/registry\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
        "example.org/registry\r\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "example.org/registry\n8\n",
        "example.org/registry\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n",
    ],
)
def test_malformed_checkpoints_are_rejected(text: str) -> None:
    with pytest.raises(VerificationError):
        note.parse_checkpoint(text)


def test_checkpoint_from_another_origin_is_rejected() -> None:
    signer = note.Signer.from_private_key("a.example/log", Ed25519PrivateKey.generate())
    signed = note.sign_checkpoint(note.Checkpoint("b.example/log", 0, merkle.EMPTY_ROOT), signer)
    with pytest.raises(VerificationError, match="不一致"):
        note.open_checkpoint(signed, signer.verifier)


@pytest.mark.parametrize("name", ["", "有 空格", "a+b", "tab\there", "全角\u3000空格", "换行\n"])
def test_invalid_key_names_raise_a_chinese_error(name: str) -> None:
    with pytest.raises(ValidationError, match="名称"):
        note.Signer.from_private_key(name, Ed25519PrivateKey.generate())
