"""``docgen registry witness``: C2SP cosignature/v1 and a witness that refuses forks and rollbacks.

The attacks come first: a log operator (who holds the registry key) forks the log — two different
trees with one origin, at the same or a larger size — or restores an older backup; the witness
must refuse to cosign, exit 1, and name both sizes and roots. Then the honest case: a log that
only grows is cosigned again and again, and the cosignature verifies by the spec's bytes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from helpers import run_docgen
from registry_support import document, make_workspace

from docgen.core.errors import VerificationError
from docgen.core.workspace import Workspace
from docgen.registry import open_registry
from docgen.registry.note import Checkpoint as Cp
from docgen.registry.note import Signer, open_checkpoint, parse_note, sign_checkpoint
from docgen.registry.witness import (
    CosignatureMissing,
    WitnessSigner,
    cosign_note,
    cosigned_message,
    cosigner_key_id,
    find_cosignature,
    parse_cosigner_key,
)

NOW = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)
PASS = "见证方口令-2027"
NAME = "庆阳市人民检察院/见证"


def _append(ws: Workspace, first: int, count: int, minutes: int = 1) -> None:
    with open_registry(ws, database_url="") as reg:
        reg.append(
            [document(i) for i in range(first, first + count)],
            now=NOW + timedelta(minutes=minutes),
        )


def _vkey(ws: Workspace) -> str:
    return (ws.keys_dir / "registry" / "registry.vkey").read_text(encoding="utf-8").strip()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCGEN_WITNESS_PASSPHRASE", PASS)
    monkeypatch.setenv("DOCGEN_NOW", "2027-01-06T10:00:00+00:00")


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    ws = make_workspace(tmp_path / "ws")
    _append(ws, 0, 6)
    return ws


@pytest.fixture
def witness_dir(tmp_path: Path, env: None) -> Path:
    directory = tmp_path / "witness"
    result = run_docgen("registry", "witness", "init", "--name", NAME, "--dir", str(directory))
    assert result.code == 0, result.text
    return directory


def _cosign(witness_dir: Path, ws: Workspace, *extra: str) -> object:
    return run_docgen(
        "registry", "witness", "cosign", "--dir", str(witness_dir), "--log", str(ws.root), *extra
    )


# --- the format (c2sp.org/tlog-cosignature) ---------------------------------------------


def test_key_id_vkey_and_signed_message_follow_the_spec() -> None:
    key = Ed25519PrivateKey.generate()
    signer = WitnessSigner.create("witness.example.com/w1", key)
    public = key.public_key().public_bytes_raw()
    expected_id = hashlib.sha256(b"witness.example.com/w1\n\x04" + public).digest()[:4]
    assert cosigner_key_id("witness.example.com/w1", key.public_key()) == expected_id
    vkey = signer.cosigner.encode()
    name, hex_id, encoded = vkey.split("+", 2)
    assert (name, hex_id) == ("witness.example.com/w1", expected_id.hex())
    assert base64.b64decode(encoded) == b"\x04" + public
    assert parse_cosigner_key(vkey) == signer.cosigner
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    assert cosigned_message(body, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\n" + body.encode()
    )
    line = signer.signature_line(body, 1679315147)
    assert line.startswith("— witness.example.com/w1 ")
    raw = base64.b64decode(line.split(" ")[2])
    assert raw[:4] == expected_id and int.from_bytes(raw[4:12], "big") == 1679315147
    key.public_key().verify(raw[12:], b"cosignature/v1\ntime 1679315147\n" + body.encode())


def test_a_log_key_is_not_a_witness_key() -> None:
    log_vkey = Signer.from_private_key("log", Ed25519PrivateKey.generate()).verifier.encode()
    with pytest.raises(VerificationError, match="见证方公钥格式错误"):
        parse_cosigner_key(log_vkey)  # type 0x01, not 0x04


def _log_note(size: int = 3) -> tuple[bytes, Signer]:
    log = Signer.from_private_key("example.org/log", Ed25519PrivateKey.generate())
    return sign_checkpoint(Cp("example.org/log", size, bytes(range(32))), log), log


def test_forged_cosignatures_are_rejected() -> None:
    note, log = _log_note()
    witness = WitnessSigner.create(NAME, Ed25519PrivateKey.generate())
    cosigned = cosign_note(note, witness, 1_800_000_000)
    open_checkpoint(cosigned, log.verifier)  # still a valid checkpoint for the log's key
    assert find_cosignature(parse_note(cosigned), witness.cosigner).timestamp == 1_800_000_000
    # wrong key: a cosignature by another key under the witness's name is no cosignature of it
    other = WitnessSigner.create(NAME, Ed25519PrivateKey.generate())
    with pytest.raises(CosignatureMissing, match="没有见证方"):
        find_cosignature(parse_note(cosign_note(note, other, 1_800_000_000)), witness.cosigner)
    # wrong time: the 8-byte timestamp changed, the signature kept
    text, _, line = cosigned.decode().rpartition("— ")
    raw = bytearray(base64.b64decode(line.split(" ")[1]))
    raw[11] ^= 1
    forged = (text + "— " + f"{NAME} {base64.b64encode(bytes(raw)).decode()}\n").encode()
    with pytest.raises(VerificationError, match="副署无效"):
        find_cosignature(parse_note(forged), witness.cosigner)
    # changed body: another root under the same cosignature line
    changed = cosigned.replace(base64.b64encode(bytes(range(32))), base64.b64encode(bytes(32)))
    with pytest.raises(VerificationError, match="副署无效"):
        find_cosignature(parse_note(changed), witness.cosigner)


# --- the witness through the CLI ----------------------------------------------------------


def test_init_prints_the_vkey_and_keeps_the_key_encrypted(tmp_path: Path, env: None) -> None:
    directory = tmp_path / "w"
    result = run_docgen("registry", "witness", "init", "--name", NAME, "--dir", str(directory))
    assert result.code == 0, result.text
    vkey = (directory / "witness.vkey").read_text(encoding="utf-8").strip()
    assert vkey in result.out.splitlines()
    assert parse_cosigner_key(vkey).name == NAME
    key = directory / "witness.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert b"ENCRYPTED PRIVATE KEY" in key.read_bytes()
    assert "PRIVATE" not in result.text
    again = run_docgen("registry", "witness", "init", "--name", NAME, "--dir", str(directory))
    assert again.code == 2 and "已经存在" in again.err


def test_first_cosign_needs_the_log_key(ws: Workspace, witness_dir: Path) -> None:
    result = _cosign(witness_dir, ws)
    assert result.code == 2 and "--log-key" in result.err  # type: ignore[attr-defined]


def test_witnessing_never_creates_a_registry(
    tmp_path: Path, witness_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOCGEN_DATABASE_URL", raising=False)
    empty = make_workspace(tmp_path / "empty")
    result = _cosign(witness_dir, empty, "--log-key", "x+00000000+AA==")
    assert result.code == 2 and "没有登记簿" in result.err  # type: ignore[attr-defined]
    assert not empty.registry_path.exists()
    assert not (empty.keys_dir / "registry").exists()


def test_honest_log_is_cosigned_each_time_it_grows(ws: Workspace, witness_dir: Path) -> None:
    first = _cosign(witness_dir, ws, "--log-key", _vkey(ws))
    assert first.code == 0, first.text  # type: ignore[attr-defined]
    assert "大小 6" in first.out and "首次副署" in first.out  # type: ignore[attr-defined]
    _append(ws, 6, 4, minutes=2)
    second = _cosign(witness_dir, ws)
    assert second.code == 0, second.text  # type: ignore[attr-defined]
    assert "大小 10" in second.out and "上次副署的检查点(大小 6)" in second.out  # type: ignore[attr-defined]
    stored = ws.root / "cosigned" / "10.checkpoint"
    note = parse_note(stored.read_bytes())
    witness = parse_cosigner_key((witness_dir / "witness.vkey").read_text())
    cosignature = find_cosignature(note, witness)
    assert cosignature.timestamp == int(datetime(2027, 1, 6, 10, tzinfo=UTC).timestamp())
    with open_registry(ws, database_url="") as reg:
        assert open_checkpoint(stored.read_bytes(), reg._verifier).size == 10
    # the same checkpoint again: still consistent (same size, same root)
    assert _cosign(witness_dir, ws).code == 0  # type: ignore[attr-defined]


def _fork(ws: Workspace, tmp_path: Path) -> Workspace:
    """A copy of the workspace — same origin, same registry key — to grow differently."""
    shutil.copytree(ws.root, tmp_path / "fork")
    return make_workspace_at(tmp_path / "fork")


def make_workspace_at(root: Path) -> Workspace:
    from docgen.core.workspace import find_workspace

    return find_workspace(root)


@pytest.mark.parametrize("extra", [0, 3], ids=["same-size", "larger"])
def test_forked_log_is_refused(
    ws: Workspace, witness_dir: Path, tmp_path: Path, extra: int
) -> None:
    fork = _fork(ws, tmp_path)
    _append(ws, 6, 2, minutes=2)
    assert _cosign(witness_dir, ws, "--log-key", _vkey(ws)).code == 0  # type: ignore[attr-defined]
    with open_registry(fork, database_url="") as reg:  # other entries after the shared 6
        reg.append(
            [document(100 + i, "伪造的责任书") for i in range(2 + extra)],
            now=NOW + timedelta(minutes=3),
        )
    before = (witness_dir / "logs").rglob("checkpoint").__next__().read_bytes()
    result = _cosign(witness_dir, fork)
    assert result.code == 1, result.text  # type: ignore[attr-defined]
    assert "发现分叉" in result.err and "已副署的检查点大小 8" in result.err  # type: ignore[attr-defined]
    assert f"现在的检查点大小 {8 + extra}" in result.err  # type: ignore[attr-defined]
    assert "根哈希" in result.err and "未副署" in result.err  # type: ignore[attr-defined]
    assert not (fork.root / "cosigned").exists()
    after = (witness_dir / "logs").rglob("checkpoint").__next__().read_bytes()
    assert after == before  # the witness still stands on the checkpoint it cosigned


def test_rolled_back_log_is_refused(ws: Workspace, witness_dir: Path, tmp_path: Path) -> None:
    backup = tmp_path / "registry-backup.db"
    shutil.copy(ws.registry_path, backup)  # 6 entries
    _append(ws, 6, 4, minutes=2)
    assert _cosign(witness_dir, ws, "--log-key", _vkey(ws)).code == 0  # type: ignore[attr-defined]
    shutil.copy(backup, ws.registry_path)  # the operator restores the old backup
    result = _cosign(witness_dir, ws)
    assert result.code == 1, result.text  # type: ignore[attr-defined]
    assert "发现回滚" in result.err  # type: ignore[attr-defined]
    assert "已副署的检查点大小 10" in result.err and "现在的检查点大小 6" in result.err  # type: ignore[attr-defined]


def test_another_log_key_under_the_same_origin_is_refused(
    ws: Workspace, witness_dir: Path, tmp_path: Path
) -> None:
    assert _cosign(witness_dir, ws, "--log-key", _vkey(ws)).code == 0  # type: ignore[attr-defined]
    impostor = make_workspace(tmp_path / "impostor")  # same registry name, its own key
    _append(impostor, 0, 7)
    result = _cosign(witness_dir, impostor, "--log-key", _vkey(impostor))
    assert result.code == 1 and "首次副署时固定的不同" in result.err  # type: ignore[attr-defined]


def test_cosign_from_a_consistency_proof_file(
    ws: Workspace, witness_dir: Path, tmp_path: Path
) -> None:
    """The witness need not open the workspace: the operator hands over
    ``docgen registry consistency --from <size>`` and stores the cosigned note it gets back."""
    assert _cosign(witness_dir, ws, "--log-key", _vkey(ws)).code == 0  # type: ignore[attr-defined]
    _append(ws, 6, 5, minutes=2)
    wrong = run_docgen("registry", "consistency", "--from", "2", "-w", str(ws.root))
    (tmp_path / "wrong.json").write_text(wrong.out, encoding="utf-8")
    args = ("registry", "witness", "cosign", "--dir", str(witness_dir))
    refused = run_docgen(*args, "--proof", str(tmp_path / "wrong.json"))
    assert refused.code == 2 and "--from 6" in refused.err
    good = run_docgen("registry", "consistency", "--from", "6", "-w", str(ws.root))
    assert json.loads(good.out)["old_size"] == 6
    (tmp_path / "proof.json").write_text(good.out, encoding="utf-8")
    out = tmp_path / "cosigned.txt"
    result = run_docgen(*args, "--proof", str(tmp_path / "proof.json"), "--out", str(out))
    assert result.code == 0, result.text
    witness = parse_cosigner_key((witness_dir / "witness.vkey").read_text())
    assert find_cosignature(parse_note(out.read_bytes()), witness).timestamp > 0
    # the operator stores what the witness handed back
    stored = run_docgen("registry", "witness", "store", "-w", str(ws.root), str(out))
    assert stored.code == 0 and NAME in stored.out, stored.text
    assert (ws.root / "cosigned" / "11.checkpoint").read_bytes().count("— ".encode()) == 2
    bare = tmp_path / "bare.txt"
    bare.write_bytes(json.loads(good.out)["checkpoint"].encode())
    refused = run_docgen("registry", "witness", "store", "-w", str(ws.root), str(bare))
    assert refused.code == 2 and "没有见证方的副署行" in refused.err


# --- chaining a letter's checkpoint to the witnessed one (docgen.registry.witness_check) --------


def _log(tmp_path: Path, sizes: tuple[int, ...]) -> tuple[Signer, list[bytes], dict[int, bytes]]:
    from docgen.registry import merkle

    log = Signer.from_private_key("example.org/log", Ed25519PrivateKey.generate())
    leaves = [merkle.leaf_hash(f"entry {i}".encode()) for i in range(max(sizes))]
    notes = {
        n: sign_checkpoint(Cp("example.org/log", n, merkle.root(leaves[:n])), log) for n in sizes
    }
    return log, leaves, notes


def test_letter_newer_than_the_witness_or_unprovable_is_never_passed(tmp_path: Path) -> None:
    from docgen.registry import merkle
    from docgen.registry.witness_check import check_witness, store_cosigned

    log, leaves, notes = _log(tmp_path, (3, 5))
    witness = WitnessSigner.create(NAME, Ed25519PrivateKey.generate())
    store = tmp_path / "cosigned"
    store_cosigned(store, cosign_note(notes[3], witness, 1_800_000_000), log.verifier)

    def proofs(old: int, new: int) -> list[bytes]:
        return merkle.consistency_proof(old, leaves[:new])

    newer = check_witness(witness.cosigner, [notes[5].decode()], log.verifier, store, proofs)
    assert not newer.ok and "晚于" in newer.detail and "大小 3" in newer.detail
    store_cosigned(store, cosign_note(notes[5], witness, 1_800_000_100), log.verifier)
    older = [notes[3].decode()]
    assert check_witness(witness.cosigner, older, log.verifier, store, proofs).ok
    unproved = check_witness(witness.cosigner, older, log.verifier, store, None)
    assert not unproved.ok and unproved.unknown and "无法证明" in unproved.detail
    nothing = check_witness(witness.cosigner, [], log.verifier, store, proofs)
    assert not nothing.ok and nothing.unknown
