"""Signatures judged against the revocation state the registry held when they were recorded.

End to end (``docgen keys revoke``, ``docgen verify``, the archive's verify.sh): a signature made
with a stolen key after its certificate was revoked fails, one made before passes — whatever CRL
file the verifier holds, an old one included, which is reported as stale. Then the rules one by
one on real CRLs signed by a real CA: no CRL registered before a signature, the CRL in force
expired when it was recorded, a revocation a later CRL dropped, CRL numbers going backwards.
"""

from __future__ import annotations

import dataclasses
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from docgen.core.workspace import Workspace, find_workspace
from docgen.registry import open_registry
from docgen.signing.ca import load_ca_certificate, load_ca_key
from docgen.signing.crl import build_crl, crl_record, revoked_entry
from docgen.signing.keyfiles import load_certificate, load_private_key, person_paths
from docgen.signing.sign import sign_as
from docgen.signing.x509util import RevocationReason
from docgen.verify import archive as archive_module
from docgen.verify.archive import build_archive
from docgen.verify.crls import CrlHistory, crl_history, history_checks, judge_signature
from docgen.verify.model import LetterStatus
from tests.helpers import run_docgen
from tests.signed_year import (
    CA_PASSPHRASE,
    GENERATED_AT,
    PERSON_PASSPHRASE,
    SIGNED_AT,
    YEAR,
    build_workspace,
    copy_workspace,
)
from tests.verify.forgery import extract, insider_signature, run_script

BEFORE = "2027-ZR-P001-P002"  # P002 signs it before the revocation
AFTER = "2027-CN-P001-P002"  # the stolen key signs it after
REVOKED_AT = SIGNED_AT + timedelta(days=1)
STOLEN_AT = SIGNED_AT + timedelta(days=2)


@pytest.fixture(scope="module")
def half(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Only P001 has signed; P002 signs one letter, then their key is stolen and revoked."""
    root = tmp_path_factory.mktemp("crls") / "ws"
    ws = build_workspace(root, sign="P001")
    sign_as(ws, "P002", PERSON_PASSPHRASE, year=YEAR, now=SIGNED_AT, doc_id=BEFORE)
    return root


def _path(ws: Workspace, doc_id: str) -> Path:
    return next(ws.year_dir(YEAR).rglob(f"{doc_id}_*.docx"))


def _steal_and_revoke(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path]:
    """Copy P002's key and certificate (the thief), keep the CRL in force (number 1), revoke
    P002 through the CLI (CRL number 2, registered), then sign with the stolen key and register
    it behind the office's back. Returns (old CRL copy, new CRL)."""
    paths = person_paths(ws.keys_dir, "P002")
    key = load_private_key(paths.key, PERSON_PASSPHRASE)
    cert = load_certificate(paths.cert)
    old_crl = tmp_path / "crl-1.pem"
    shutil.copy(ws.keys_dir / "ca" / "crl.pem", old_crl)
    monkeypatch.setenv("DOCGEN_CA_PASSPHRASE", CA_PASSPHRASE.secret.decode())
    monkeypatch.setenv("DOCGEN_NOW", REVOKED_AT.isoformat())
    revoked = run_docgen(
        "keys", "revoke", "-w", str(ws.root), "--person", "P002", "--reason", "key_compromise"
    )
    assert revoked.code == 0, revoked.text
    monkeypatch.delenv("DOCGEN_NOW")
    insider_signature(ws, AFTER, "P002", key, cert, STOLEN_AT)
    return old_crl, ws.keys_dir / "ca" / "crl.pem"


def test_a_signature_after_revocation_fails_one_before_passes(
    half: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = copy_workspace(half, tmp_path / "ws")
    old_crl, _new = _steal_and_revoke(ws, tmp_path, monkeypatch)
    before, after = _path(ws, BEFORE), _path(ws, AFTER)

    outcome = run_docgen("verify", "-w", str(ws.root), str(before), str(after))
    assert outcome.code == 1, outcome.text
    assert f"✓ 验证通过  {BEFORE}" in outcome.out
    assert f"✗ 验证失败  {AFTER}" in outcome.out
    assert "✗ 6. 登记签名时证书未吊销" in outcome.out
    assert "已于 2027-01-07T09:00:00Z 被吊销(第 2 号吊销列表(登记簿第" in outcome.out

    # offline, with nothing but the files and the OLD CRL (number 1, which does not list P002):
    # the proof bundle carries the CRL in force when the signature was recorded, number 2
    monkeypatch.chdir(tmp_path)
    keys = ws.keys_dir
    offline = run_docgen(
        "verify", "--ca", str(keys / "ca" / "ca.pem"), "--crl", str(old_crl),
        "--verifier-key", str(keys / "registry" / "registry.vkey"), str(before), str(after),
    )  # fmt: skip
    assert offline.code == 1, offline.text
    assert f"✓ 验证通过  {BEFORE}" in offline.out
    assert f"✗ 验证失败  {AFTER}" in offline.out
    assert "证明文件所附的登记条目" in offline.out
    assert "已于 2027-01-07T09:00:00Z 被吊销" in offline.out
    assert "给出的吊销列表是第 1 号,早于登记该签名时已登记的第 2 号吊销列表" in offline.out


def test_a_stale_crl_given_with_crl_is_reported(
    half: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = copy_workspace(half, tmp_path / "ws")
    old_crl = tmp_path / "crl-1.pem"
    shutil.copy(ws.keys_dir / "ca" / "crl.pem", old_crl)
    monkeypatch.setenv("DOCGEN_CA_PASSPHRASE", CA_PASSPHRASE.secret.decode())
    monkeypatch.setenv("DOCGEN_NOW", REVOKED_AT.isoformat())
    assert run_docgen("keys", "crl", "-w", str(ws.root)).code == 0
    keys = ws.keys_dir
    pinned = ["--ca", str(keys / "ca" / "ca.pem"), "--verifier-key",
              str(keys / "registry" / "registry.vkey")]  # fmt: skip
    before = _path(ws, BEFORE)

    stale = run_docgen("verify", "-w", str(ws.root), *pinned, "--crl", str(old_crl), str(before))
    assert stale.code == 1, stale.text
    assert f"✓ 验证通过  {BEFORE}" in stale.out  # the letter itself is fine; the CRL is not
    assert (
        f"✗ 吊销列表是否最新:[{old_crl}] 给出的吊销列表是第 1 号,早于登记簿中最新的第 2 号"
        in stale.out
    )
    crl = keys / "ca" / "crl.pem"
    fresh = run_docgen("verify", "-w", str(ws.root), *pinned, "--crl", str(crl), str(before))
    assert fresh.code == 0, fresh.text
    assert f"✓ 吊销列表是否最新:[{crl}] 给出的吊销列表就是登记簿中最新的第 2 号" in fresh.out

    archive = build_archive(ws, YEAR, partial=True).path
    for given, ok in ((old_crl, False), (keys / "ca" / "crl.pem", True)):
        checked = run_docgen("verify", *pinned, "--crl", str(given), str(archive))
        line = next(x for x in checked.out.splitlines() if f"吊销列表是否最新:[{given}]" in x)
        assert line.strip().startswith("✓" if ok else "✗"), checked.out
        if not ok:
            assert "早于归档的登记簿条目中最新的第 2 号吊销列表" in line


def test_an_expired_crl_is_a_warning_at_verification_time(
    half: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = copy_workspace(half, tmp_path / "ws")
    monkeypatch.setenv("DOCGEN_NOW", (GENERATED_AT + timedelta(days=400)).isoformat())
    outcome = run_docgen("verify", "-w", str(ws.root), str(_path(ws, BEFORE)))
    assert outcome.code == 0, outcome.text  # a warning, not a failure
    assert "! 吊销列表有效期:最新的吊销列表" in outcome.out and "已于 2027-07-04" in outcome.out


def test_an_expired_crl_in_an_archive_is_a_warning_not_a_tick(
    half: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New-user report item 5: an archive checked after its newest CRL expired showed
    "✓ 吊销列表有效期 … 已过期" (the archive's checks lost their warning mark). The letter still
    passes: its signature is judged by the CRL in force when it was registered."""
    ws = copy_workspace(half, tmp_path / "ws")
    archive = build_archive(ws, YEAR, partial=True).path
    monkeypatch.setenv("DOCGEN_NOW", (GENERATED_AT + timedelta(days=400)).isoformat())
    outcome = run_docgen("verify", str(archive))
    line = next(x for x in outcome.out.splitlines() if "吊销列表有效期" in x)
    assert line.strip().startswith("! 吊销列表有效期"), outcome.out
    assert "已于 2027-07-04" in line and "docgen keys crl" in line
    assert any(x.startswith(f"✓ 验证通过  {BEFORE}") for x in outcome.out.splitlines()), outcome.out


@pytest.mark.skipif(
    not all(shutil.which(t) for t in ("bash", "openssl", "awk")), reason="需要 bash、openssl、awk"
)
def test_verify_sh_judges_each_signature_by_the_crl_in_force(
    half: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = copy_workspace(half, tmp_path / "ws")
    _steal_and_revoke(ws, tmp_path, monkeypatch)
    real = archive_module.verify_letter

    def packed_anyway(*args: object, **kwargs: object) -> object:
        """The builder refuses a failing letter; the forger packs it all the same."""
        report = real(*args, **kwargs)  # type: ignore[arg-type]
        return dataclasses.replace(report, status=LetterStatus.VERIFIED)

    monkeypatch.setattr(archive_module, "verify_letter", packed_anyway)
    archive = build_archive(ws, YEAR, partial=True).path
    result = run_script(extract(archive.read_bytes(), tmp_path / "archive"))
    assert result.returncode == 1
    before = _path(ws, BEFORE).relative_to(ws.year_dir(YEAR)).as_posix()
    after = _path(ws, AFTER).relative_to(ws.year_dir(YEAR)).as_posix()
    lines = result.stdout.splitlines()
    assert f"✓ {before}.P002.p7s" in lines
    assert any(
        line.startswith(f"✗ {after}.P002.p7s:签名无效") and "certificate revoked" in line
        for line in lines
    ), result.stdout
    assert "✓ 吊销列表 crls/crl-1.pem(第 1 号" in result.stdout
    assert "✓ 吊销列表 crls/crl-2.pem(第 2 号" in result.stdout


@pytest.mark.skipif(
    not all(shutil.which(t) for t in ("bash", "openssl", "awk")), reason="需要 bash、openssl、awk"
)
def test_a_signature_recorded_after_the_crl_in_force_expired_fails(
    half: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """P002's key still good, but the only CRL (180 days) had expired when the signature was
    registered: docgen sign refuses that; an insider registering it anyway is caught."""
    ws = copy_workspace(half, tmp_path / "ws")
    paths = person_paths(ws.keys_dir, "P002")
    key = load_private_key(paths.key, PERSON_PASSPHRASE)
    late = GENERATED_AT + timedelta(days=200)
    insider_signature(ws, AFTER, "P002", key, load_certificate(paths.cert), late)
    outcome = run_docgen("verify", "-w", str(ws.root), str(_path(ws, AFTER)))
    assert outcome.code == 1
    assert "✗ 6. 登记签名时证书未吊销" in outcome.out
    assert "有效的第 1 号吊销列表(登记簿第 0 条)已于 2027-07-04T09:00:00Z 过期" in outcome.out

    real = archive_module.verify_letter
    monkeypatch.setattr(
        archive_module,
        "verify_letter",
        lambda *a, **k: dataclasses.replace(real(*a, **k), status=LetterStatus.VERIFIED),
    )
    archive = build_archive(ws, YEAR, partial=True).path
    result = run_script(extract(archive.read_bytes(), tmp_path / "archive"))
    after = _path(ws, AFTER).relative_to(ws.year_dir(YEAR)).as_posix()
    assert any(
        line.startswith(f"✗ {after}.P002.p7s:签名无效") and "CRL has expired" in line
        for line in result.stdout.splitlines()
    ), result.stdout


def test_no_crl_registered_before_a_signature_fails(tmp_path: Path) -> None:
    """A registry whose first CRL was never registered (as before CRLs were entries)."""
    ws = build_workspace(tmp_path / "ws", sign=False)
    with open_registry(ws) as registry:
        first_crl = next(e.index for e in registry.entries(type="crl"))
    assert first_crl == 0
    # the same year, in a registry that starts after that entry: rebuilt without it
    legacy = _without_crl_entries(tmp_path, ws)
    for pid in ("P001", "P002"):
        paths = person_paths(legacy.keys_dir, pid)
        key = load_private_key(paths.key, PERSON_PASSPHRASE)
        insider_signature(legacy, BEFORE, pid, key, load_certificate(paths.cert), SIGNED_AT)
    outcome = run_docgen("verify", "-w", str(legacy.root), str(_path(legacy, BEFORE)))
    assert outcome.code == 1
    assert "之前,登记簿中没有本单位根证书的吊销列表,无法判断当时证书是否已吊销" in outcome.out
    assert "✗ 登记的吊销列表:" in outcome.out


def _without_crl_entries(tmp_path: Path, ws: Workspace) -> Workspace:
    """A fresh registry holding the workspace's entries except its ``crl`` entries."""
    legacy = copy_workspace(ws.root, tmp_path / "legacy")
    legacy.registry_path.unlink()
    with open_registry(ws) as source:
        records = [
            {k: v for k, v in e.record.items() if k != "recorded_at"}
            for e in source.entries()
            if e.record.get("type") != "crl"
        ]
    with open_registry(legacy) as target:
        target.append(records, now=GENERATED_AT)
    from docgen.records.views import refresh_year

    with open_registry(legacy) as registry:
        refresh_year(legacy, registry, YEAR, rewrite=None, jobs=1)
    return find_workspace(legacy.root)


def test_crl_numbers_going_backwards_in_the_registry_fail(half: Path, tmp_path: Path) -> None:
    ws = copy_workspace(half, tmp_path / "ws")
    ca_cert = load_ca_certificate(ws.keys_dir)
    ca_key = load_ca_key(ws.keys_dir, CA_PASSPHRASE, ca_cert)
    later = SIGNED_AT + timedelta(hours=1)
    backwards = [
        build_crl(ca_cert, ca_key, entries=[], number=n, now=later, days=180) for n in (5, 3)
    ]
    with open_registry(ws) as registry:  # an insider with the CA key and the registry
        registry.append([crl_record(c, ca_cert) for c in backwards], now=later)
    outcome = run_docgen("verify", "-w", str(ws.root), str(_path(ws, BEFORE)))
    assert outcome.code == 1
    assert "✗ 登记的吊销列表:" in outcome.out
    assert "编号 3 不大于此前登记的第 5 号" in outcome.out and "编号倒退" in outcome.out


# ---------------------------------------------------------------------------------------------
# the rules, on real CRLs of a real CA (no registry needed)


@pytest.fixture(scope="module")
def ca(half: Path) -> tuple[x509.Certificate, object]:
    ws = find_workspace(half)
    cert = load_ca_certificate(ws.keys_dir)
    return cert, load_ca_key(ws.keys_dir, CA_PASSPHRASE, cert)


T0 = datetime(2027, 1, 1, tzinfo=UTC)


def _crl(
    ca: tuple[x509.Certificate, object],
    number: int,
    at: datetime,
    revoked: dict[int, datetime] | None = None,
    days: int = 30,
) -> dict[str, object]:
    cert, key = ca
    entries = [
        revoked_entry(serial, when, RevocationReason.KEY_COMPROMISE)
        for serial, when in (revoked or {}).items()
    ]
    crl = build_crl(cert, key, entries=entries, number=number, now=at, days=days)  # type: ignore[arg-type]
    return crl_record(crl, cert)


def _history(
    ca: tuple[x509.Certificate, object], *crls: tuple[int, dict[str, object]]
) -> CrlHistory:
    return crl_history(list(crls), [], ca[0])


def test_rules_on_real_crls(ca: tuple[x509.Certificate, object]) -> None:
    serial = 0xABC
    one = _crl(ca, 1, T0)
    two = _crl(ca, 2, T0 + timedelta(days=10), {serial: T0 + timedelta(days=10)})
    dropped = _crl(ca, 3, T0 + timedelta(days=20))  # the revocation left out
    history = _history(ca, (0, one), (10, two), (20, dropped))
    assert history_checks(history, None)[0].ok

    nothing = judge_signature(_history(ca), 5, T0, serial)
    assert nothing and "没有本单位根证书的吊销列表" in nothing[0]
    assert judge_signature(history, 5, T0 + timedelta(days=5), serial) == []  # before: valid
    after = judge_signature(history, 15, T0 + timedelta(days=12), serial)
    assert len(after) == 1 and "被吊销(第 2 号吊销列表(登记簿第 10 条))" in after[0]
    # CRL number 3 dropped the revocation; number 2, registered earlier, still counts
    later = judge_signature(history, 25, T0 + timedelta(days=22), serial)
    assert len(later) == 1 and "第 2 号吊销列表" in later[0]
    # revoked only after the signature was recorded: not held against it
    assert judge_signature(history, 15, T0 + timedelta(days=9), serial) == []
    expired = judge_signature(history, 25, T0 + timedelta(days=60), 0x1)
    assert len(expired) == 1 and "第 3 号吊销列表(登记簿第 20 条)已于" in expired[0]

    backwards = _history(ca, (0, one), (10, _crl(ca, 1, T0 + timedelta(days=1))))
    check = history_checks(backwards, None)[0]
    assert not check.ok and "编号倒退" in check.detail

    tampered = dict(two, number=7)
    broken = _history(ca, (0, one), (10, tampered))
    assert not history_checks(broken, None)[0].ok
    refused = judge_signature(broken, 15, T0 + timedelta(days=12), 0x1)
    assert refused and "无法使用" in refused[0]
