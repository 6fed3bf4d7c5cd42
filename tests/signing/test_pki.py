"""The institution CA: certificates, key files, passphrases, revocation, rotation, refusals."""

from __future__ import annotations

import os
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st
from pki_support import (
    CA_SECRET,
    CERT_DAYS,
    DATA,
    EARLY_REVOCATION,
    EARLY_REVOKED,
    INSTITUTION,
    ISSUED_AT,
    LATE_REVOCATION,
    LATE_REVOKED,
    PERSON_SECRET,
    SHORT_LIVED,
    SIGNED_AT,
    VALID,
    VERIFY_AT,
    Pki,
    ca_passphrase,
    make_roster,
    person_passphrase,
    registered_as_on_file,
)

from docgen.core.errors import DocgenError, UsageError, ValidationError
from docgen.signing import passphrase as passphrases
from docgen.signing.ca import init_ca, load_ca_certificate
from docgen.signing.cades_sign import sign_detached
from docgen.signing.cades_verify import verify_detached
from docgen.signing.certificates import issue_certificates, rotate
from docgen.signing.crl import crl_issued_by, is_revoked, load_crl, revocation_reason
from docgen.signing.keyfiles import (
    KeyFileError,
    PassphraseError,
    ca_paths,
    load_certificate,
    load_private_key,
    person_paths,
)
from docgen.signing.keylist import CertSlot, CertState, list_keys
from docgen.signing.passphrase import Passphrase
from docgen.signing.revocation import publish_crl, revoke
from docgen.signing.revocation_state import checked_workspace_crl
from docgen.signing.signer import Signer, load_signer
from docgen.signing.x509util import (
    Algorithm,
    CertificateRefusedError,
    RevocationReason,
    common_name_of,
    fingerprint,
    issued_by,
    person_id_of,
    same_public_key,
    serial_hex,
)

pytest_plugins = ("pki_fixtures",)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _open(keys_dir: Path, person: str, passphrase: Passphrase, **options: Any) -> Signer:
    """:func:`load_signer` with the keys directory's current CRL taken as the registered one."""
    return load_signer(
        keys_dir, person, passphrase, registered=registered_as_on_file(keys_dir), **options
    )


def _ext(
    cert: x509.Certificate, cls: type[x509.ExtensionType]
) -> x509.Extension[x509.ExtensionType]:
    return cert.extensions.get_extension_for_class(cls)


# ---------------------------------------------------------------------------------------------
# the root CA and the personal certificates


def test_ca_certificate_profile(issued_pki: Pki) -> None:
    ca = issued_pki.ca_cert
    assert ca.subject == ca.issuer
    assert ca.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == INSTITUTION
    assert (
        ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        == "庆城县人民检察院电子签名根证书"
    )
    basic = _ext(ca, x509.BasicConstraints)
    assert basic.critical and basic.value.ca  # type: ignore[attr-defined]
    usage = _ext(ca, x509.KeyUsage)
    assert usage.critical
    assert usage.value.key_cert_sign and usage.value.crl_sign  # type: ignore[attr-defined]
    assert not usage.value.digital_signature  # type: ignore[attr-defined]
    ski = _ext(ca, x509.SubjectKeyIdentifier).value.digest  # type: ignore[attr-defined]
    assert _ext(ca, x509.AuthorityKeyIdentifier).value.key_identifier == ski  # type: ignore[attr-defined]
    ca.verify_directly_issued_by(ca)
    assert ca.not_valid_before_utc == ISSUED_AT
    public = ca.public_key()
    if issued_pki.algorithm is Algorithm.RSA3072:
        assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 3072
    else:
        assert isinstance(public, ec.EllipticCurvePublicKey)
        assert public.curve.name == "secp256r1"


def test_person_certificate_profile(issued_pki: Pki) -> None:
    cert = issued_pki.certs[VALID]
    subject = cert.subject
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "张明远"
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == INSTITUTION
    assert subject.get_attributes_for_oid(NameOID.USER_ID)[0].value == VALID
    assert person_id_of(cert) == VALID
    usage = _ext(cert, x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature and usage.value.content_commitment  # type: ignore[attr-defined]
    assert not usage.value.key_cert_sign  # type: ignore[attr-defined]
    assert not _ext(cert, x509.BasicConstraints).value.ca  # type: ignore[attr-defined]
    ca_ski = _ext(issued_pki.ca_cert, x509.SubjectKeyIdentifier).value.digest  # type: ignore[attr-defined]
    assert _ext(cert, x509.AuthorityKeyIdentifier).value.key_identifier == ca_ski  # type: ignore[attr-defined]
    assert cert.not_valid_before_utc == ISSUED_AT
    assert cert.not_valid_after_utc == ISSUED_AT + timedelta(days=CERT_DAYS)
    assert issued_by(cert, issued_pki.ca_cert) is None


def test_non_bmp_and_middle_dot_names_survive(issued_pki: Pki) -> None:
    cert = issued_pki.certs[SHORT_LIVED]
    assert common_name_of(cert) == "阿依古丽·买买提"


def test_key_files_are_private_and_encrypted(issued_pki: Pki) -> None:
    keys_dir = issued_pki.keys_dir
    ca = ca_paths(keys_dir)
    assert _mode(ca.key) == 0o600
    assert _mode(ca.directory) == 0o700
    assert _mode(ca.cert) == 0o644
    assert _mode(keys_dir / "people") == 0o700
    for pid in (VALID, SHORT_LIVED):
        paths = person_paths(keys_dir, pid)
        assert _mode(paths.key) == 0o600
        assert _mode(paths.directory) == 0o700
        pem = paths.key.read_bytes()
        assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
        with pytest.raises(TypeError):
            serialization.load_pem_private_key(pem, password=None)
    for path in keys_dir.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert PERSON_SECRET.encode() not in content
            assert CA_SECRET.encode() not in content


def test_certificate_record_matches_certificate(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    init_ca(keys_dir, institution=INSTITUTION, passphrase=ca_passphrase(), now=ISSUED_AT)
    result = issue_certificates(
        keys_dir,
        make_roster(),
        [VALID],
        institution=INSTITUTION,
        ca_passphrase=ca_passphrase(),
        passphrase=person_passphrase(),
        now=ISSUED_AT,
        days=CERT_DAYS,
    )
    (item,) = result.issued
    der = item.cert.public_bytes(serialization.Encoding.DER)
    import hashlib

    assert result.records == (
        {
            "type": "certificate",
            "person": VALID,
            "cert_fingerprint": hashlib.sha256(der).hexdigest(),
            "serial": format(item.cert.serial_number, "x"),
            "not_before": "2027-01-04T09:00:00Z",
            "not_after": "2029-01-03T09:00:00Z",
        },
    )


def test_init_ca_refuses_to_overwrite(fresh_keys: Path) -> None:
    before = ca_paths(fresh_keys).cert.read_bytes()
    with pytest.raises(UsageError, match="根证书已经存在"):
        init_ca(fresh_keys, institution=INSTITUTION, passphrase=ca_passphrase(), now=ISSUED_AT)
    assert ca_paths(fresh_keys).cert.read_bytes() == before


def test_short_new_passphrase_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="太短"):
        init_ca(
            tmp_path / "keys",
            institution=INSTITUTION,
            passphrase=Passphrase(b"short", "测试"),
            now=ISSUED_AT,
        )
    assert not (tmp_path / "keys" / "ca" / "ca.key").exists()


def test_issue_named_person_twice_is_refused_all_skips(fresh_keys: Path) -> None:
    common = {
        "institution": INSTITUTION,
        "ca_passphrase": ca_passphrase(),
        "passphrase": person_passphrase(),
        "now": ISSUED_AT,
        "days": CERT_DAYS,
    }
    with pytest.raises(UsageError, match=r"已有证书.*rotate"):
        issue_certificates(fresh_keys, make_roster(), [VALID], **common)  # type: ignore[arg-type]
    result = issue_certificates(fresh_keys, make_roster(), None, **common)  # type: ignore[arg-type]
    assert [i.person_id for i in result.issued] == [LATE_REVOKED, EARLY_REVOKED, SHORT_LIVED]
    assert result.skipped == ((VALID, "已有证书"),)


def test_unknown_person_is_refused(fresh_keys: Path) -> None:
    with pytest.raises(UsageError, match="名册中没有编号为“P999”"):
        issue_certificates(
            fresh_keys,
            make_roster(),
            ["P999"],
            institution=INSTITUTION,
            ca_passphrase=ca_passphrase(),
            passphrase=person_passphrase(),
            now=ISSUED_AT,
            days=CERT_DAYS,
        )


def test_wrong_ca_passphrase_writes_nothing(fresh_keys: Path) -> None:
    with pytest.raises(PassphraseError) as caught:
        issue_certificates(
            fresh_keys,
            make_roster(),
            [LATE_REVOKED],
            institution=INSTITUTION,
            ca_passphrase=Passphrase(b"not the ca passphrase", "测试"),
            passphrase=person_passphrase(),
            now=ISSUED_AT,
            days=CERT_DAYS,
        )
    assert isinstance(caught.value, DocgenError)
    assert "口令不正确" in caught.value.diagnostics()
    assert "ca.key" in caught.value.diagnostics()
    assert not (fresh_keys / "people" / LATE_REVOKED).exists()


def test_validity_capped_by_ca(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    init_ca(keys_dir, institution=INSTITUTION, passphrase=ca_passphrase(), now=ISSUED_AT, days=10)
    result = issue_certificates(
        keys_dir,
        make_roster(),
        [VALID],
        institution=INSTITUTION,
        ca_passphrase=ca_passphrase(),
        passphrase=person_passphrase(),
        now=ISSUED_AT,
        days=CERT_DAYS,
    )
    assert result.issued[0].cert.not_valid_after_utc == ISSUED_AT + timedelta(days=10)


# ---------------------------------------------------------------------------------------------
# load_signer refusals


def test_load_signer_accepts_a_good_key(fresh_keys: Path) -> None:
    signer = _open(fresh_keys, VALID, person_passphrase(), now=SIGNED_AT)
    assert signer.person_id == VALID
    assert same_public_key(signer.key, signer.cert)
    assert signer.fingerprint == fingerprint(signer.cert)


def test_wrong_passphrase_is_a_docgen_error(fresh_keys: Path) -> None:
    before = sorted(p.name for p in fresh_keys.rglob("*"))
    with pytest.raises(PassphraseError) as caught:
        _open(fresh_keys, VALID, Passphrase(b"wrong-passphrase", "测试"), now=SIGNED_AT)
    text = caught.value.diagnostics()
    assert "口令不正确" in text and "key.pem" in text
    assert "wrong-passphrase" not in text
    assert sorted(p.name for p in fresh_keys.rglob("*")) == before


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_readable_key_file_is_refused(fresh_keys: Path, mode: int) -> None:
    key = person_paths(fresh_keys, VALID).key
    os.chmod(key, mode)
    with pytest.raises(KeyFileError) as caught:
        _open(fresh_keys, VALID, person_passphrase(), now=SIGNED_AT)
    text = caught.value.diagnostics()
    assert str(key) in text and f"chmod 600 '{key}'" in text


def test_open_key_directory_is_refused(fresh_keys: Path) -> None:
    directory = person_paths(fresh_keys, VALID).directory
    os.chmod(directory, 0o755)
    with pytest.raises(KeyFileError) as caught:
        _open(fresh_keys, VALID, person_passphrase(), now=SIGNED_AT)
    assert f"chmod 700 '{directory}'" in caught.value.diagnostics()


def test_readable_ca_key_is_refused(fresh_keys: Path) -> None:
    os.chmod(ca_paths(fresh_keys).key, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        publish_crl(
            fresh_keys,
            ca_passphrase=ca_passphrase(),
            now=SIGNED_AT,
            registered=registered_as_on_file(fresh_keys),
        )


def test_expired_and_not_yet_valid_certificates_are_refused(fresh_keys: Path) -> None:
    with pytest.raises(CertificateRefusedError, match="已过期"):
        _open(
            fresh_keys, VALID, person_passphrase(), now=ISSUED_AT + timedelta(days=CERT_DAYS + 1)
        )
    with pytest.raises(CertificateRefusedError, match="尚未生效"):
        _open(fresh_keys, VALID, person_passphrase(), now=ISSUED_AT - timedelta(hours=1))


def test_revoked_certificate_is_refused_whatever_the_clock_says(fresh_keys: Path) -> None:
    # Keep a copy of the key: revocation deletes it, but load_signer must refuse on the CRL alone.
    paths = person_paths(fresh_keys, VALID)
    key_pem, cert_pem = paths.key.read_bytes(), paths.cert.read_bytes()
    revoked_at = ISSUED_AT + timedelta(days=3)
    revoke(
        fresh_keys,
        VALID,
        reason=RevocationReason.KEY_COMPROMISE,
        ca_passphrase=ca_passphrase(),
        now=revoked_at,
        registered=registered_as_on_file(fresh_keys),
    )
    paths.cert.write_bytes(cert_pem)
    fd = os.open(paths.key, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, key_pem)
    os.close(fd)
    with pytest.raises(CertificateRefusedError, match="已于 2027-01-07T09:00:00Z 吊销"):
        _open(fresh_keys, VALID, person_passphrase(), now=revoked_at)
    # A clock set back before the revocation does not help: the registry would refuse such a
    # signature anyway (it takes nothing dated before its last entry), so none is made.
    with pytest.raises(CertificateRefusedError, match="已于 2027-01-07T09:00:00Z 吊销"):
        _open(fresh_keys, VALID, person_passphrase(), now=revoked_at - timedelta(seconds=1))
    # Bulk signing checks the workspace CRL once and hands it in: the same refusal.
    ca_cert = load_ca_certificate(fresh_keys)
    registered = registered_as_on_file(fresh_keys)
    once = checked_workspace_crl(fresh_keys, ca_cert, registered, now=revoked_at)
    with pytest.raises(CertificateRefusedError, match="已于 2027-01-07T09:00:00Z 吊销"):
        load_signer(
            fresh_keys, VALID, person_passphrase(), now=revoked_at, registered=registered,
            ca_cert=ca_cert, workspace_crl=once,
        )  # fmt: skip


def test_key_not_matching_certificate_is_refused(fresh_keys: Path) -> None:
    issue_certificates(
        fresh_keys,
        make_roster(),
        [LATE_REVOKED],
        institution=INSTITUTION,
        ca_passphrase=ca_passphrase(),
        passphrase=person_passphrase(),
        now=ISSUED_AT,
        days=CERT_DAYS,
    )
    mine = person_paths(fresh_keys, VALID).key
    other = person_paths(fresh_keys, LATE_REVOKED).key
    mine.write_bytes(other.read_bytes())
    with pytest.raises(CertificateRefusedError, match="私钥与证书不匹配"):
        _open(fresh_keys, VALID, person_passphrase(), now=SIGNED_AT)


def test_certificate_from_another_ca_is_refused(fresh_keys: Path, foreign_pki: Pki) -> None:
    paths = person_paths(fresh_keys, VALID)
    foreign = person_paths(foreign_pki.keys_dir, VALID)
    paths.cert.write_bytes(foreign.cert.read_bytes())
    paths.key.write_bytes(foreign.key.read_bytes())
    with pytest.raises(CertificateRefusedError, match="不是本单位根证书"):
        _open(fresh_keys, VALID, person_passphrase(), now=SIGNED_AT)


def test_missing_certificate_names_the_fix(fresh_keys: Path) -> None:
    with pytest.raises(UsageError, match="keys issue --person P002"):
        _open(fresh_keys, LATE_REVOKED, person_passphrase(), now=SIGNED_AT)


# ---------------------------------------------------------------------------------------------
# revocation, CRL, rotation


def test_crl_lists_revocations_with_dates_and_reasons(issued_pki: Pki) -> None:
    crl = issued_pki.crl
    assert crl_issued_by(crl, issued_pki.ca_cert)
    early = crl.get_revoked_certificate_by_serial_number(
        issued_pki.certs[EARLY_REVOKED].serial_number
    )
    late = crl.get_revoked_certificate_by_serial_number(
        issued_pki.certs[LATE_REVOKED].serial_number
    )
    assert early is not None and late is not None
    assert early.revocation_date_utc == EARLY_REVOCATION
    assert late.revocation_date_utc == LATE_REVOCATION
    assert revocation_reason(early) is RevocationReason.KEY_COMPROMISE
    assert revocation_reason(late) is RevocationReason.AFFILIATION_CHANGED
    assert (
        crl.get_revoked_certificate_by_serial_number(issued_pki.certs[VALID].serial_number) is None
    )
    der = load_crl(ca_paths(issued_pki.keys_dir).crl_der, ca_cert=issued_pki.ca_cert)
    assert der.public_bytes(serialization.Encoding.DER) == crl.public_bytes(
        serialization.Encoding.DER
    )
    number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    assert number == 3  # initial CRL, then two revocations


def test_is_revoked_depends_on_the_time(issued_pki: Pki) -> None:
    serial = issued_pki.certs[LATE_REVOKED].serial_number
    assert not is_revoked(issued_pki.crl, serial, SIGNED_AT)
    assert is_revoked(issued_pki.crl, serial, LATE_REVOCATION)
    assert is_revoked(issued_pki.crl, serial, VERIFY_AT)
    assert not is_revoked(issued_pki.crl, issued_pki.certs[VALID].serial_number, VERIFY_AT)


def test_revoked_certificates_are_kept_and_keys_deleted(issued_pki: Pki) -> None:
    for pid in (EARLY_REVOKED, LATE_REVOKED):
        paths = person_paths(issued_pki.keys_dir, pid)
        kept = paths.revoked / f"{serial_hex(issued_pki.certs[pid])}.pem"
        assert load_certificate(kept) == issued_pki.certs[pid]
        assert not paths.cert.exists()
        assert not paths.key.exists()


def test_crl_from_another_ca_is_rejected(issued_pki: Pki, foreign_pki: Pki) -> None:
    with pytest.raises(ValidationError, match="不是本单位根证书签发"):
        load_crl(ca_paths(foreign_pki.keys_dir).crl_pem, ca_cert=issued_pki.ca_cert)


def test_publish_crl_keeps_entries_and_counts_up(fresh_keys: Path) -> None:
    revoke(
        fresh_keys,
        VALID,
        reason=RevocationReason.parse("调离或职务变动"),
        ca_passphrase=ca_passphrase(),
        now=SIGNED_AT,
        registered=registered_as_on_file(fresh_keys),
    )
    result = publish_crl(
        fresh_keys,
        ca_passphrase=ca_passphrase(),
        now=VERIFY_AT,
        registered=registered_as_on_file(fresh_keys),
    )
    assert result.number == 3 and result.revoked_count == 1
    reloaded = load_crl(result.pem_path)
    assert reloaded.last_update_utc == VERIFY_AT
    (entry,) = list(reloaded)
    assert entry.revocation_date_utc == SIGNED_AT


def test_revoke_twice_is_refused(fresh_keys: Path) -> None:
    result = revoke(
        fresh_keys,
        VALID,
        reason=RevocationReason.SUPERSEDED,
        ca_passphrase=ca_passphrase(),
        now=SIGNED_AT,
        registered=registered_as_on_file(fresh_keys),
    )
    assert result.record == {
        "type": "revocation",
        "person": VALID,
        "cert_fingerprint": fingerprint(result.cert),
        "serial": serial_hex(result.cert),
        "reason": "superseded",
        "revoked_at": "2027-01-05T10:30:00Z",
    }
    with pytest.raises(UsageError, match="没有在用的证书"):
        revoke(
            fresh_keys,
            VALID,
            reason=RevocationReason.SUPERSEDED,
            ca_passphrase=ca_passphrase(),
            now=SIGNED_AT,
            registered=registered_as_on_file(fresh_keys),
        )


def test_interrupted_revocation_is_completed(fresh_keys: Path) -> None:
    paths = person_paths(fresh_keys, VALID)
    cert_pem = paths.cert.read_bytes()
    first = revoke(
        fresh_keys,
        VALID,
        reason=RevocationReason.KEY_COMPROMISE,
        ca_passphrase=ca_passphrase(),
        now=SIGNED_AT,
        registered=registered_as_on_file(fresh_keys),
    )
    # as if the first run had stopped after publishing the CRL, before moving the certificate
    first.moved_to.unlink()
    paths.cert.write_bytes(cert_pem)
    again = revoke(
        fresh_keys,
        VALID,
        reason=RevocationReason.UNSPECIFIED,
        ca_passphrase=ca_passphrase(),
        now=VERIFY_AT,
        registered=registered_as_on_file(fresh_keys),
    )
    assert again.revoked_at == SIGNED_AT
    assert again.reason is RevocationReason.KEY_COMPROMISE
    assert again.crl.number == first.crl.number + 1  # a new CRL, the same entry in it
    assert [e.revocation_date_utc for e in again.crl.crl] == [SIGNED_AT]
    assert again.record == first.record
    assert again.moved_to.exists() and not paths.cert.exists()


def test_unknown_reason_lists_choices() -> None:
    with pytest.raises(UsageError, match="key_compromise"):
        RevocationReason.parse("不想用了")


def test_rotate_keeps_old_certificate_and_old_signatures_verify(fresh_keys: Path) -> None:
    old = _open(fresh_keys, VALID, person_passphrase(), now=SIGNED_AT)
    old_signature = sign_detached(DATA, old.key, old.cert, signing_time=SIGNED_AT)
    later = SIGNED_AT + timedelta(days=100)
    item = rotate(
        fresh_keys,
        make_roster(),
        VALID,
        institution=INSTITUTION,
        ca_passphrase=ca_passphrase(),
        passphrase=Passphrase(b"a brand new passphrase", "测试"),
        now=later,
        days=CERT_DAYS,
    )
    paths = person_paths(fresh_keys, VALID)
    assert item.replaced_serial == serial_hex(old.cert)
    assert load_certificate(paths.old / f"{item.replaced_serial}.pem") == old.cert
    assert item.cert != old.cert and item.cert.not_valid_before_utc == later
    assert _mode(paths.key) == 0o600
    with pytest.raises(PassphraseError):
        _open(fresh_keys, VALID, person_passphrase(), now=later)
    new = _open(fresh_keys, VALID, Passphrase(b"a brand new passphrase", "测试"), now=later)
    assert new.cert == item.cert
    ca_cert = load_ca_certificate(fresh_keys)
    status = verify_detached(DATA, old_signature, ca_cert=ca_cert, crl=None, at=later)
    assert status.valid, status.failures
    assert status.cert_serial == item.replaced_serial


def test_list_keys_reports_states(issued_pki: Pki) -> None:
    rows = list_keys(issued_pki.keys_dir, now=VERIFY_AT, crl=issued_pki.crl, roster=make_roster())
    by = {(r.person_id, r.slot): r for r in rows}
    assert by[(VALID, CertSlot.CURRENT)].state is CertState.VALID
    assert by[(VALID, CertSlot.CURRENT)].has_key
    assert by[(SHORT_LIVED, CertSlot.CURRENT)].state is CertState.EXPIRED
    late = by[(LATE_REVOKED, CertSlot.REVOKED)]
    assert late.state is CertState.REVOKED and late.revoked_at == LATE_REVOCATION
    assert late.name == "李卫东"
    assert (LATE_REVOKED, CertSlot.CURRENT) not in by
    assert by[(LATE_REVOKED, None)].state is CertState.NONE
    assert not by[(LATE_REVOKED, None)].has_key


def test_person_id_cannot_escape_the_keys_dir(tmp_path: Path) -> None:
    for bad in ("../x", "a/b", "..", "", "a\x00b"):
        with pytest.raises(UsageError):
            person_paths(tmp_path, bad)


# ---------------------------------------------------------------------------------------------
# passphrase sources


def test_passphrase_file_first_line_and_modes(tmp_path: Path) -> None:
    path = tmp_path / "pass.txt"
    path.write_bytes("口令 with spaces\r\nsecond line\n".encode())
    os.chmod(path, 0o600)
    found = passphrases.from_file(path)
    assert found.secret == "口令 with spaces".encode()
    assert "口令 with spaces" not in repr(found) and "口令 with spaces" not in str(found)
    os.chmod(path, 0o644)
    with pytest.raises(UsageError, match="chmod 600"):
        passphrases.from_file(path)
    empty = tmp_path / "empty"
    empty.write_bytes(b"\n")
    os.chmod(empty, 0o600)
    with pytest.raises(UsageError, match="第一行为空"):
        passphrases.from_file(empty)


def test_passphrase_resolution_order(tmp_path: Path) -> None:
    path = tmp_path / "pass.txt"
    path.write_bytes(b"from-file-secret\n")
    os.chmod(path, 0o600)
    env = {"DOCGEN_PASSPHRASE": "from-env-secret"}
    asked: list[str] = []

    def prompt() -> str:
        asked.append("yes")
        return "typed-secret"

    def pick(file: Path | None, environ: dict[str, str]) -> bytes:
        return passphrases.resolve(
            file=file, env_name=passphrases.PERSON_ENV, prompt=prompt, environ=environ
        ).secret

    assert pick(path, env) == b"from-file-secret"
    assert pick(None, env) == b"from-env-secret"
    assert not asked
    assert pick(None, {}) == b"typed-secret"
    assert asked == ["yes"]
    with pytest.raises(UsageError, match="DOCGEN_PASSPHRASE"):
        passphrases.resolve(file=None, env_name=passphrases.PERSON_ENV, prompt=None, environ={})


@settings(max_examples=25, deadline=None)
@given(st.text(min_size=1, max_size=40).filter(lambda s: "\n" not in s and "\r" not in s))
def test_any_passphrase_text_is_hidden_from_repr(secret: str) -> None:
    value = Passphrase(secret.encode(), "测试")
    shown = repr(value) + str(value)
    assert "secret=" not in shown
    assert value.secret == secret.encode()


def test_wrong_passphrase_never_decrypts(fresh_keys: Path) -> None:
    key = person_paths(fresh_keys, VALID).key
    assert isinstance(load_private_key(key, person_passphrase()), ec.EllipticCurvePrivateKey)
    for wrong in (PERSON_SECRET + " ", PERSON_SECRET[:-1], PERSON_SECRET.upper()):
        with pytest.raises(PassphraseError):
            load_private_key(key, Passphrase(wrong.encode(), "测试"))
