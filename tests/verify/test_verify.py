"""``docgen verify``: the step-by-step report, statuses, trust anchors, revocation, bad input."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docgen.core.workspace import Workspace, find_workspace
from docgen.registry import open_registry
from docgen.signing.ca import load_ca_certificate
from docgen.signing.certificates import rotate
from docgen.signing.revocation import revoke
from docgen.signing.revocation_state import RevocationState, read_revocation_state
from docgen.signing.x509util import RevocationReason
from docgen.verify.archive import workspace_trust
from docgen.verify.checklist import STEP_NAMES, verify_letter
from docgen.verify.files import letter_files_from_disk
from docgen.verify.model import MAX_LETTER_BYTES, MAX_PROOF_BYTES, Blob, LetterFiles, LetterStatus
from docgen.verify.paths import verify_paths
from tests.helpers import run_docgen
from tests.signed_year import (
    CA_PASSPHRASE,
    LETTERS,
    SIGNED_AT,
    YEAR,
    build_workspace,
    copy_workspace,
    letters_of,
)

ALL_PASS = f"共 {LETTERS} 份:验证通过 {LETTERS} 份,失败 0 份,签名不全 0 份"


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("verify") / "ws"
    build_workspace(root)
    return root


def _letter(root: Path) -> Path:
    return letters_of(find_workspace(root))[0]


def test_directory_all_verified(signed: Path) -> None:
    outcome = run_docgen("verify", "-w", str(signed), str(signed / "output" / str(YEAR)))
    assert outcome.code == 0, outcome.text
    assert outcome.out.splitlines()[-1] == ALL_PASS
    assert outcome.out.count("✓ 验证通过") == LETTERS
    for number, name in STEP_NAMES.items():
        expected = LETTERS if number <= 7 else 0
        assert outcome.out.count(f"✓ {number}. {name}") == expected


def test_single_letter_and_json(signed: Path) -> None:
    letter = _letter(signed)
    outcome = run_docgen("verify", "--json", "-w", str(signed), str(letter))
    assert outcome.code == 0, outcome.text
    data = json.loads(outcome.out)
    assert data["ok"] is True
    assert data["counts"] == {"total": 1, "verified": 1, "failed": 0, "incomplete": 0, "voided": 0}
    (only,) = data["letters"]
    assert only["doc_id"] == letter.name.split("_")[0]
    assert [s["number"] for s in only["steps"]] == [1, 2, 3, 4, 5, 6, 7]
    assert all(s["ok"] for s in only["steps"])
    assert {s["signer"] for s in only["signatures"]} == {"P001", "P002"}


def test_offline_with_explicit_anchors_outside_a_workspace(
    signed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    letter = _letter(signed)
    missing = run_docgen("verify", str(letter))
    assert missing.code == 2
    assert "--ca、--crl、--verifier-key" in missing.err
    keys = signed / "keys"
    outcome = run_docgen(
        "verify",
        "--ca", str(keys / "ca" / "ca.pem"),
        "--crl", str(keys / "ca" / "crl.pem"),
        "--verifier-key", str(keys / "registry" / "registry.vkey"),
        str(letter),
    )
    assert outcome.code == 0, outcome.text
    only_ca = run_docgen("verify", "--ca", str(keys / "ca" / "ca.pem"), str(letter))
    assert only_ca.code == 2 and "须同时指定" in only_ca.err


def test_wrong_ca_fails_chain_step(signed: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    build_workspace(other, sign=False)
    keys = signed / "keys"
    outcome = run_docgen(
        "verify",
        "--ca", str(other / "keys" / "ca" / "ca.pem"),
        "--crl", str(other / "keys" / "ca" / "crl.pem"),
        "--verifier-key", str(keys / "registry" / "registry.vkey"),
        str(_letter(signed)),
    )
    assert outcome.code == 1
    assert "✗ 5. 证书由本单位根证书签发" in outcome.out


def test_incomplete_letters(tmp_path: Path) -> None:
    ws = build_workspace(tmp_path / "ws", sign="P001")
    outcome = run_docgen("verify", "-w", str(ws.root), str(ws.year_dir(YEAR)))
    assert outcome.code == 1
    last = outcome.out.splitlines()[-1]
    assert last.startswith(f"共 {LETTERS} 份:验证通过 0 份,失败 0 份,签名不全 {LETTERS} 份")
    assert "✗ 7. 签名齐全:尚缺 李卫东(P002,乙方) 的签名" in outcome.out


def test_voided_letter_is_reported_not_failed(signed: Path, tmp_path: Path) -> None:
    from docgen.records.status import void_letter

    ws = copy_workspace(signed, tmp_path / "ws")
    letter = letters_of(ws)[0]
    void_letter(ws, letter.name.split("_")[0], "人员调离", now=SIGNED_AT)
    with open_registry(ws) as registry:  # a year folder is proved complete against it
        report = verify_paths(
            [ws.year_dir(YEAR)], workspace_trust(ws), registry=registry, workspace=ws
        )
    assert report.count(LetterStatus.VOIDED) == 1
    assert report.ok
    voided = next(x for x in report.letters if x.status is LetterStatus.VOIDED)
    assert "已作废" in voided.steps[6].detail and "人员调离" in voided.steps[6].detail
    assert report.summary().endswith(",已作废 1 份")


def _registered(ws: Workspace) -> RevocationState:
    with open_registry(ws) as registry:
        return read_revocation_state(registry, load_ca_certificate(ws.keys_dir))


def test_revocation_after_registration_keeps_signatures_valid(
    signed: Path, tmp_path: Path
) -> None:
    ws = copy_workspace(signed, tmp_path / "ws")
    revoke(
        ws.keys_dir, "P002", reason=RevocationReason.AFFILIATION_CHANGED,
        ca_passphrase=CA_PASSPHRASE, now=SIGNED_AT + timedelta(days=30),
        registered=_registered(ws),
    )
    outcome = run_docgen("verify", "-w", str(ws.root), str(ws.year_dir(YEAR)))
    assert outcome.code == 0, outcome.text
    assert outcome.out.splitlines()[-1] == ALL_PASS


def test_revocation_before_registration_fails_step_6(signed: Path, tmp_path: Path) -> None:
    ws = copy_workspace(signed, tmp_path / "ws")
    revoke(
        ws.keys_dir, "P002", reason=RevocationReason.KEY_COMPROMISE,
        ca_passphrase=CA_PASSPHRASE, now=SIGNED_AT - timedelta(hours=1),
        registered=_registered(ws),
    )
    report = verify_paths([ws.year_dir(YEAR)], workspace_trust(ws))
    failed = [x for x in report.letters if x.status is LetterStatus.FAILED]
    assert failed and all(any(p.id == "P002" for p in x.parties) for x in failed)
    for letter in failed:
        assert [s.number for s in letter.failed_steps] == [6]
        assert ".P002.p7s" in (letter.failed_steps[0].file or "")
        assert "吊销" in letter.failed_steps[0].detail


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)


@pytest.mark.parametrize(
    ("target", "change", "step", "message"),
    [
        ("docx", lambda d: d[: len(d) // 2], 1, "文件在登记后被改动过"),
        ("docx", lambda _d: b"", 1, "文件在登记后被改动过"),
        ("p7s", lambda d: d[:40], 3, "不是有效的 CMS 签名文件"),
        ("p7s", lambda _d: b"", 3, "签名文件为空"),
        ("proof", lambda d: d[: len(d) // 2], 1, "证明文件不是有效的 JSON"),
        ("proof", lambda _d: b"[1, 2]", 1, "证明文件格式不对"),
        ("proof", lambda _d: b"\xff\xfe", 1, "证明文件不是有效的 JSON"),
        ("proof", lambda _d: b" " * (MAX_PROOF_BYTES + 1), 1, "过大"),
        ("checkpoint", lambda d: d, 2, "检查点"),
    ],
)
def test_malformed_inputs_give_a_failed_step_not_a_traceback(
    signed: Path,
    tmp_path: Path,
    target: str,
    change: Callable[[bytes], bytes],
    step: int,
    message: str,
) -> None:
    ws = copy_workspace(signed, tmp_path / "ws")
    letter = letters_of(ws)[1]
    paths = {
        "docx": letter,
        "p7s": Path(f"{letter}.P001.p7s"),
        "proof": Path(f"{letter}.proof.json"),
    }
    if target == "checkpoint":
        proof = paths["proof"]
        data = json.loads(proof.read_text(encoding="utf-8"))
        data["checkpoint"] = "garbage\n\n— nobody AAAA\n"
        for entry in data["entries"]:
            entry["checkpoint"] = data["checkpoint"]
        proof.write_text(json.dumps(data))
    else:
        _write(paths[target], change(paths[target].read_bytes()))
    outcome = run_docgen("verify", "-w", str(ws.root), str(letter))
    assert outcome.code == 1
    assert "Traceback" not in outcome.text
    failing = [
        line for line in outcome.out.splitlines() if line.strip().startswith(f"✗ {step}.")
    ]
    assert failing, outcome.out
    assert message in outcome.out


def test_oversized_letter_is_not_read(signed: Path, tmp_path: Path) -> None:
    ws = copy_workspace(signed, tmp_path / "ws")
    letter = letters_of(ws)[2]
    with letter.open("r+b") as fh:
        fh.truncate(MAX_LETTER_BYTES + 1)  # sparse: cheap to make, refused by its size
    files = letter_files_from_disk(letter)
    assert files.docx.data is None and files.docx.problem and "过大" in files.docx.problem
    report = verify_letter(files, workspace_trust(ws))
    assert report.status is LetterStatus.FAILED
    assert not report.steps[0].ok and "过大" in report.steps[0].detail


def test_deleted_letter_listed_in_manifest_is_reported(signed: Path, tmp_path: Path) -> None:
    ws = copy_workspace(signed, tmp_path / "ws")
    letter = letters_of(ws)[3]
    for path in letter.parent.glob(letter.name + "*"):
        os.remove(path)
    outcome = run_docgen("verify", "-w", str(ws.root), str(ws.year_dir(YEAR)))
    assert outcome.code == 1
    assert "✗ 验证失败" in outcome.out and letter.name in outcome.out
    assert "文书文件不存在" in outcome.out


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(proof=st.binary(max_size=2000), p7s=st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(signed: Path, proof: bytes, p7s: bytes) -> None:
    letter = _letter(signed)
    trust = workspace_trust(find_workspace(signed))
    files = LetterFiles(
        path=str(letter),
        docx=Blob(str(letter), letter.read_bytes()),
        proof=Blob(f"{letter}.proof.json", proof),
        signatures=(("P001", Blob(f"{letter}.P001.p7s", p7s)),),
    )
    report = verify_letter(files, trust)
    assert report.status is LetterStatus.FAILED
    genuine = letter_files_from_disk(letter)
    mixed = LetterFiles(genuine.path, genuine.docx, genuine.proof,
                        (("P001", Blob(f"{letter}.P001.p7s", p7s)),))
    assert verify_letter(mixed, trust).status is LetterStatus.FAILED


def test_online_check_passes_after_the_registry_grew(signed: Path, tmp_path: Path) -> None:
    """Older proofs stay valid: the live checkpoint is proved to extend theirs."""
    from docgen.records.status import void_letter

    ws = copy_workspace(signed, tmp_path / "ws")
    letters = letters_of(ws)
    with open_registry(ws) as registry:
        size = registry.size()  # the checkpoint in every proof bundle
    void_letter(ws, letters[-1].name.split("_")[0], "人员调离", now=SIGNED_AT)
    outcome = run_docgen("verify", "--online", "-w", str(ws.root), str(letters[0]))
    assert outcome.code == 0, outcome.text
    assert "✓ 8. 与在线登记簿一致" in outcome.out
    assert f"是证明文件检查点(大小 {size})的延续" in outcome.out
    assert "✓ 在线登记簿自检" in outcome.out


def test_online_check_requires_a_registered_certificate(tmp_path: Path) -> None:
    """A certificate the office issued without recording it (e.g. made by hand with the CA key)."""
    from docgen.roster.load import load_roster
    from docgen.signing.sign import sign_as
    from tests.signed_year import (
        CA_PASSPHRASE,
        INSTITUTION,
        PERSON_PASSPHRASE,
        SIGNED_AT,
        build_workspace,
    )

    ws = build_workspace(tmp_path / "ws", sign=False)
    rotate(  # library call: nothing goes into the registry
        ws.keys_dir,
        load_roster(ws.roster_path),
        "P001",
        institution=INSTITUTION,
        ca_passphrase=CA_PASSPHRASE,
        passphrase=PERSON_PASSPHRASE,
        now=SIGNED_AT,
        days=730,
    )
    signed = sign_as(ws, "P001", PERSON_PASSPHRASE, year=2027, now=SIGNED_AT)
    letter = ws.year_dir(2027) / signed.signed[0].letter_path
    offline = run_docgen("verify", "-w", str(ws.root), str(letter))
    assert "✓ 3. 数字签名有效" in offline.out  # the signature itself is fine
    online = run_docgen("verify", "--online", "-w", str(ws.root), str(letter))
    assert online.code == 1
    assert "✗ 8. 与在线登记簿一致" in online.out
    assert "在登记簿中没有签发记录" in online.out
