"""Detached CAdES-BES signatures: our signatures, OpenSSL's, and every way a signature goes bad."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from hypothesis import given, settings
from hypothesis import strategies as st
from pki_support import (
    DATA,
    EARLY_REVOKED,
    INSTITUTION,
    ISSUED_AT,
    LATE_REVOCATION,
    LATE_REVOKED,
    OPENSSL,
    PERSON_SECRET,
    SHORT_LIVED,
    SIGNED_AT,
    VALID,
    VERIFY_AT,
    Pki,
    ca_passphrase,
    make_roster,
    needs_openssl,
    openssl_cms_verify,
    person_passphrase,
)

from docgen.signing import cades_sign, cades_verify
from docgen.signing.ca import init_ca, load_ca_certificate, load_ca_key
from docgen.signing.cades_sign import sign_detached
from docgen.signing.cades_verify import SignatureStatus, verify_detached
from docgen.signing.certificates import issue_certificates
from docgen.signing.keyfiles import load_private_key, person_paths
from docgen.signing.x509util import Algorithm, SigningKey, fingerprint

pytest_plugins = ("pki_fixtures",)

CMS_DIR = Path(__file__).resolve().parents[1] / "data" / "cms"
# The OpenSSL samples were signed on 2026-11-24; verify them at a fixed later moment.
SAMPLE_AT = ISSUED_AT


def _verify(p: Pki, p7s: bytes, data: bytes = DATA, **kwargs: object) -> SignatureStatus:
    options: dict[str, object] = {"ca_cert": p.ca_cert, "crl": p.crl, "at": VERIFY_AT}
    options.update(kwargs)
    return verify_detached(data, p7s, **options)  # type: ignore[arg-type]


def _failed(status: SignatureStatus) -> set[str]:
    return {c.name for c in status.checks if not c.ok}


def _flip(blob: bytes, index: int, mask: int = 0x01) -> bytes:
    return blob[:index] + bytes([blob[index] ^ mask]) + blob[index + 1 :]


def _signer_key(p: Pki, person_id: str) -> SigningKey:
    """The key of a person whose certificate is still current (P001, P004) in the test PKI."""
    return load_private_key(person_paths(p.keys_dir, person_id).key, person_passphrase())


def _resign(p7s: bytes, key: SigningKey, change: Callable[[list[cms.CMSAttribute]], None]) -> bytes:
    """Change the signed attributes and sign them again, as a (malicious) signer could."""
    info = cms.ContentInfo.load(p7s)
    signer_info = info["content"]["signer_infos"][0]
    attrs = list(signer_info["signed_attrs"])
    change(attrs)
    new_attrs = cms.CMSAttributes(attrs)
    tbs = new_attrs.dump()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(tbs, ec.ECDSA(cades_sign.HASHES["sha256"]()))
    else:
        signature = key.sign(tbs, padding.PKCS1v15(), cades_sign.HASHES["sha256"]())
    signer_info["signed_attrs"] = new_attrs
    signer_info["signature"] = signature
    return bytes(info.dump(force=True))


# ---------------------------------------------------------------------------------------------
# good signatures


def test_our_signature_verifies(issued_pki: Pki) -> None:
    status = _verify(issued_pki, issued_pki.signatures[VALID])
    assert status.valid, status.failures
    assert status.signer_name == "张明远"
    assert status.signer_id == VALID
    assert status.signing_time == SIGNED_AT
    cert = issued_pki.certs[VALID]
    der = cert.public_bytes(serialization.Encoding.DER)
    assert status.cert_fingerprint == hashlib.sha256(der).hexdigest()
    assert status.cert_serial == format(cert.serial_number, "x")
    assert status.failures == ()
    names = [c.name for c in status.checks]
    assert names == [
        "签名文件结构",
        "内容类型",
        "摘要算法",
        "文件摘要",
        "签名证书",
        "签名值",
        "签名证书属性",
        "证书链",
        "证书有效期",
        "密钥用途",
        "吊销状态",
        "签名时间",
    ]
    assert "✓ 文件摘要" in status.describe()
    with pytest.raises(dataclasses.FrozenInstanceError):
        status.valid = False  # type: ignore[misc]


def test_signature_structure(issued_pki: Pki) -> None:
    info = cms.ContentInfo.load(issued_pki.signatures[VALID])
    signed_data = info["content"]
    assert info["content_type"].native == "signed_data"
    assert signed_data["encap_content_info"]["content"].native is None  # detached
    signer_info = signed_data["signer_infos"][0]
    assert signer_info["sid"].name == "issuer_and_serial_number"
    assert signer_info["digest_algorithm"]["algorithm"].native == "sha256"
    expected_algo = (
        "sha256_ecdsa" if issued_pki.algorithm is Algorithm.ECDSA_P256 else "rsassa_pkcs1v15"
    )
    assert signer_info["signature_algorithm"]["algorithm"].native == expected_algo
    attrs = {a["type"].native: a["values"][0] for a in signer_info["signed_attrs"]}
    assert set(attrs) == {
        "content_type",
        "message_digest",
        "signing_time",
        "signing_certificate_v2",
    }
    assert attrs["message_digest"].native == hashlib.sha256(DATA).digest()
    cert_der = issued_pki.certs[VALID].public_bytes(serialization.Encoding.DER)
    ess = attrs["signing_certificate_v2"]["certs"][0]
    assert ess["cert_hash"].native == hashlib.sha256(cert_der).digest()
    assert ess["issuer_serial"]["serial_number"].native == issued_pki.certs[VALID].serial_number
    (embedded,) = signed_data["certificates"]
    assert embedded.chosen.dump() == cert_der


@needs_openssl
@pytest.mark.parametrize("purpose_any", [True, False], ids=["purpose-any", "default-purpose"])
def test_openssl_accepts_our_signature(issued_pki: Pki, purpose_any: bool) -> None:
    result = openssl_cms_verify(
        issued_pki.data_path,
        issued_pki.p7s_path(VALID),
        issued_pki.ca_pem,
        SIGNED_AT,
        purpose_any=purpose_any,
    )
    assert result.returncode == 0, result.stderr
    assert "Verification successful" in result.stderr


@pytest.mark.parametrize("digest", ["sha384", "sha512"])
def test_stronger_digests_verify(issued_pki: Pki, digest: str, tmp_path: Path) -> None:
    key = _signer_key(issued_pki, VALID)
    p7s = sign_detached(
        DATA, key, issued_pki.certs[VALID], signing_time=SIGNED_AT, digest_algorithm=digest
    )
    status = _verify(issued_pki, p7s)
    assert status.valid, status.failures
    if OPENSSL is not None:
        (tmp_path / "x.p7s").write_bytes(p7s)
        result = openssl_cms_verify(
            issued_pki.data_path, tmp_path / "x.p7s", issued_pki.ca_pem, SIGNED_AT
        )
        assert result.returncode == 0, result.stderr


def test_sign_refuses_weak_digest_and_foreign_key(issued_pki: Pki) -> None:
    key = _signer_key(issued_pki, VALID)
    with pytest.raises(ValueError):
        sign_detached(
            DATA, key, issued_pki.certs[VALID], signing_time=SIGNED_AT, digest_algorithm="sha1"
        )
    with pytest.raises(ValueError):
        sign_detached(DATA, key, issued_pki.certs[SHORT_LIVED], signing_time=SIGNED_AT)


# ---------------------------------------------------------------------------------------------
# OpenSSL's signatures (tests/data/cms, see its README)


@pytest.mark.parametrize("alg", ["ec", "rsa"])
def test_openssl_samples_valid_with_own_ca(alg: str) -> None:
    ca = x509.load_pem_x509_certificate((CMS_DIR / f"ca-{alg}.pem").read_bytes())
    status = verify_detached(
        (CMS_DIR / "sample.docx").read_bytes(),
        (CMS_DIR / f"sample.docx.openssl-{alg}.p7s").read_bytes(),
        ca_cert=ca,
        crl=None,
        at=SAMPLE_AT,
    )
    assert status.valid, status.failures
    assert status.signer_name == "张明远"
    signer = x509.load_pem_x509_certificate((CMS_DIR / f"signer-{alg}.pem").read_bytes())
    assert status.cert_fingerprint == fingerprint(signer)


@pytest.mark.parametrize("alg", ["ec", "rsa"])
def test_openssl_samples_tampered_docx_invalid(alg: str) -> None:
    ca = x509.load_pem_x509_certificate((CMS_DIR / f"ca-{alg}.pem").read_bytes())
    status = verify_detached(
        (CMS_DIR / "sample-tampered.docx").read_bytes(),
        (CMS_DIR / f"sample.docx.openssl-{alg}.p7s").read_bytes(),
        ca_cert=ca,
        crl=None,
        at=SAMPLE_AT,
    )
    assert not status.valid
    assert _failed(status) == {"文件摘要"}


@pytest.mark.parametrize(("alg", "other"), [("ec", "rsa"), ("rsa", "ec")])
def test_openssl_samples_cross_ca_invalid(alg: str, other: str) -> None:
    ca = x509.load_pem_x509_certificate((CMS_DIR / f"ca-{other}.pem").read_bytes())
    status = verify_detached(
        (CMS_DIR / "sample.docx").read_bytes(),
        (CMS_DIR / f"sample.docx.openssl-{alg}.p7s").read_bytes(),
        ca_cert=ca,
        crl=None,
        at=SAMPLE_AT,
    )
    assert not status.valid
    assert _failed(status) == {"证书链"}
    assert any("不是本单位根证书签发" in f for f in status.failures)


@needs_openssl
@pytest.mark.parametrize("algorithm", list(Algorithm), ids=lambda a: a.value)
def test_openssl_signature_with_our_key_verifies_and_sha1_is_rejected(
    algorithm: Algorithm, tmp_path: Path
) -> None:
    # OpenSSL stamps the real clock as signingTime, so this PKI is valid from 2020 for a century.
    start = datetime(2020, 1, 1, tzinfo=UTC)
    keys_dir = tmp_path / "keys"
    init_ca(
        keys_dir,
        institution=INSTITUTION,
        passphrase=ca_passphrase(),
        now=start,
        algorithm=algorithm,
        days=36500,
    )
    issue_certificates(
        keys_dir,
        make_roster(),
        [VALID],
        institution=INSTITUTION,
        ca_passphrase=ca_passphrase(),
        passphrase=person_passphrase(),
        now=start,
        days=36500,
        algorithm=algorithm,
    )
    ca_cert = load_ca_certificate(keys_dir)
    paths = person_paths(keys_dir, VALID)
    pass_file = tmp_path / "pass"
    pass_file.write_text(PERSON_SECRET + "\n", encoding="utf-8")
    os.chmod(pass_file, 0o600)
    content = tmp_path / "letter.docx"
    content.write_bytes(DATA)
    results: dict[str, SignatureStatus] = {}
    for md in ("sha256", "sha1"):
        out = tmp_path / f"{md}.p7s"
        assert OPENSSL is not None
        made = subprocess.run(
            [
                OPENSSL,
                "cms",
                "-sign",
                "-binary",
                "-cades",
                "-md",
                md,
                "-in",
                str(content),
                "-signer",
                str(paths.cert),
                "-inkey",
                str(paths.key),
                "-passin",
                f"file:{pass_file}",
                "-outform",
                "DER",
                "-out",
                str(out),
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert made.returncode == 0, made.stderr
        results[md] = verify_detached(
            DATA, out.read_bytes(), ca_cert=ca_cert, crl=None, at=datetime(2100, 1, 1, tzinfo=UTC)
        )
    assert results["sha256"].valid, results["sha256"].failures
    assert not results["sha1"].valid
    assert "摘要算法" in _failed(results["sha1"])
    assert any("sha1" in f for f in results["sha1"].failures)


# ---------------------------------------------------------------------------------------------
# tampering


def test_flipped_data_byte_fails_here_and_in_openssl(issued_pki: Pki, tmp_path: Path) -> None:
    tampered = _flip(DATA, len(DATA) // 2)
    status = _verify(issued_pki, issued_pki.signatures[VALID], data=tampered)
    assert not status.valid
    assert _failed(status) == {"文件摘要"}
    if OPENSSL is not None:
        path = tmp_path / "tampered.docx"
        path.write_bytes(tampered)
        result = openssl_cms_verify(path, issued_pki.p7s_path(VALID), issued_pki.ca_pem, SIGNED_AT)
        assert result.returncode != 0


def test_flipped_signature_byte_fails_here_and_in_openssl(issued_pki: Pki, tmp_path: Path) -> None:
    p7s = issued_pki.signatures[VALID]
    tampered = _flip(p7s, len(p7s) - 1)  # the last byte belongs to the signature value
    status = _verify(issued_pki, tampered)
    assert not status.valid
    assert "签名值" in _failed(status)
    if OPENSSL is not None:
        path = tmp_path / "tampered.p7s"
        path.write_bytes(tampered)
        result = openssl_cms_verify(issued_pki.data_path, path, issued_pki.ca_pem, SIGNED_AT)
        assert result.returncode != 0


def test_every_single_bit_flip_in_the_signature_is_caught(issued_pki: Pki) -> None:
    p7s = issued_pki.signatures[VALID]
    survivors = [
        i
        for i in range(len(p7s))
        for mask in (0x01, 0x80)
        if _verify(issued_pki, _flip(p7s, i, mask)).valid
    ]
    assert survivors == []


@pytest.mark.parametrize("alg", ["ec", "rsa"])
def test_every_single_bit_flip_in_an_openssl_signature_is_caught(alg: str) -> None:
    ca = x509.load_pem_x509_certificate((CMS_DIR / f"ca-{alg}.pem").read_bytes())
    p7s = (CMS_DIR / f"sample.docx.openssl-{alg}.p7s").read_bytes()
    sample = (CMS_DIR / "sample.docx").read_bytes()
    assert verify_detached(sample, p7s, ca_cert=ca, crl=None, at=SAMPLE_AT).valid
    survivors = [
        i
        for i in range(len(p7s))
        for mask in (0x01, 0x80)
        if verify_detached(sample, _flip(p7s, i, mask), ca_cert=ca, crl=None, at=SAMPLE_AT).valid
    ]
    assert survivors == []


def test_signature_next_to_other_data_fails(issued_pki: Pki) -> None:
    status = _verify(issued_pki, issued_pki.signatures[VALID], data=DATA + b"\n")
    assert not status.valid and _failed(status) == {"文件摘要"}
    status = _verify(issued_pki, issued_pki.signatures[VALID], data=b"")
    assert not status.valid and _failed(status) == {"文件摘要"}


def test_altered_signed_attribute_fails_here_and_in_openssl(
    issued_pki: Pki, tmp_path: Path
) -> None:
    info = cms.ContentInfo.load(issued_pki.signatures[VALID])
    signer_info = info["content"]["signer_infos"][0]
    attrs = list(signer_info["signed_attrs"])
    for i, attr in enumerate(attrs):
        if attr["type"].native == "signing_time":
            attrs[i] = cms.CMSAttribute(
                {
                    "type": "signing_time",
                    "values": [cms.Time({"utc_time": SIGNED_AT - timedelta(days=1)})],
                }
            )
    signer_info["signed_attrs"] = cms.CMSAttributes(attrs)
    tampered = bytes(info.dump(force=True))
    status = _verify(issued_pki, tampered)
    assert not status.valid
    assert _failed(status) == {"签名值"}
    assert status.signing_time == SIGNED_AT - timedelta(days=1)
    if OPENSSL is not None:
        path = tmp_path / "attrs.p7s"
        path.write_bytes(tampered)
        result = openssl_cms_verify(issued_pki.data_path, path, issued_pki.ca_pem, SIGNED_AT)
        assert result.returncode != 0


def test_missing_signing_certificate_attribute_fails(issued_pki: Pki) -> None:
    key = _signer_key(issued_pki, VALID)

    def drop(attrs: list[cms.CMSAttribute]) -> None:
        attrs[:] = [a for a in attrs if a["type"].native != "signing_certificate_v2"]

    status = _verify(issued_pki, _resign(issued_pki.signatures[VALID], key, drop))
    assert _failed(status) == {"签名证书属性"}
    assert any("缺少签名属性 signingCertificateV2" in f for f in status.failures)


def test_signing_certificate_attribute_naming_another_cert_fails(issued_pki: Pki) -> None:
    key = _signer_key(issued_pki, VALID)
    other = sign_detached(
        DATA,
        _signer_key(issued_pki, SHORT_LIVED),
        issued_pki.certs[SHORT_LIVED],
        signing_time=SIGNED_AT,
    )
    other_ess = next(
        a
        for a in cms.ContentInfo.load(other)["content"]["signer_infos"][0]["signed_attrs"]
        if a["type"].native == "signing_certificate_v2"
    )

    def swap(attrs: list[cms.CMSAttribute]) -> None:
        attrs[:] = [a for a in attrs if a["type"].native != "signing_certificate_v2"]
        attrs.append(cms.CMSAttribute.load(other_ess.dump()))

    status = _verify(issued_pki, _resign(issued_pki.signatures[VALID], key, swap))
    assert _failed(status) == {"签名证书属性"}


def test_duplicate_message_digest_attribute_fails(issued_pki: Pki) -> None:
    key = _signer_key(issued_pki, VALID)

    def duplicate(attrs: list[cms.CMSAttribute]) -> None:
        attrs.append(
            cms.CMSAttribute({"type": "message_digest", "values": [hashlib.sha256(b"x").digest()]})
        )

    status = _verify(issued_pki, _resign(issued_pki.signatures[VALID], key, duplicate))
    assert not status.valid
    assert _failed(status) == {"签名文件结构"}


# ---------------------------------------------------------------------------------------------
# certificates: foreign CA, validity, revocation, expected signer


def test_certificate_from_second_ca_fails(issued_pki: Pki, foreign_pki: Pki) -> None:
    status = _verify(issued_pki, foreign_pki.signatures[VALID])
    assert not status.valid
    assert "证书链" in _failed(status)
    if OPENSSL is not None:
        result = openssl_cms_verify(
            foreign_pki.data_path, foreign_pki.p7s_path(VALID), issued_pki.ca_pem, SIGNED_AT
        )
        assert result.returncode != 0


def test_revoked_before_registry_time_fails(issued_pki: Pki) -> None:
    status = _verify(issued_pki, issued_pki.signatures[EARLY_REVOKED], registry_time=SIGNED_AT)
    assert not status.valid
    assert _failed(status) == {"吊销状态"}
    assert any("已于 2027-01-04T11:00:00Z 吊销" in f for f in status.failures)


def test_revoked_after_registry_time_stays_valid(issued_pki: Pki) -> None:
    status = _verify(
        issued_pki,
        issued_pki.signatures[LATE_REVOKED],
        registry_time=SIGNED_AT + timedelta(minutes=3),
    )
    assert status.valid, status.failures
    revocation = next(c for c in status.checks if c.name == "吊销状态")
    assert "晚于登记时间" in revocation.detail


def test_registry_time_after_revocation_fails_even_with_an_old_signing_time(
    issued_pki: Pki,
) -> None:
    status = _verify(
        issued_pki,
        issued_pki.signatures[LATE_REVOKED],
        registry_time=LATE_REVOCATION + timedelta(hours=1),
    )
    assert not status.valid
    assert _failed(status) == {"吊销状态", "签名时间"}


def test_signing_time_far_from_registry_time_fails(issued_pki: Pki) -> None:
    status = _verify(
        issued_pki, issued_pki.signatures[VALID], registry_time=SIGNED_AT + timedelta(minutes=11)
    )
    assert _failed(status) == {"签名时间"}
    status = _verify(
        issued_pki,
        issued_pki.signatures[VALID],
        registry_time=SIGNED_AT + timedelta(minutes=11),
        tolerance=timedelta(minutes=15),
    )
    assert status.valid, status.failures


def test_without_registry_time_revocation_is_judged_at_signing_time(issued_pki: Pki) -> None:
    later = _verify(issued_pki, issued_pki.signatures[LATE_REVOKED])
    assert later.valid, later.failures
    compromised = _verify(issued_pki, issued_pki.signatures[EARLY_REVOKED])
    assert _failed(compromised) == {"吊销状态"}


def test_no_crl_is_reported_not_hidden(issued_pki: Pki) -> None:
    status = _verify(issued_pki, issued_pki.signatures[EARLY_REVOKED], crl=None)
    revocation = next(c for c in status.checks if c.name == "吊销状态")
    assert revocation.ok and "未提供证书吊销列表" in revocation.detail


def test_crl_from_another_ca_fails(issued_pki: Pki, foreign_pki: Pki) -> None:
    status = _verify(issued_pki, issued_pki.signatures[VALID], crl=foreign_pki.crl)
    assert _failed(status) == {"吊销状态"}


def test_expired_certificate_fails(issued_pki: Pki) -> None:
    status = _verify(issued_pki, issued_pki.signatures[SHORT_LIVED])
    assert _failed(status) == {"证书有效期"}
    assert any("已过期" in f for f in status.failures)
    if OPENSSL is not None:
        result = openssl_cms_verify(
            issued_pki.data_path, issued_pki.p7s_path(SHORT_LIVED), issued_pki.ca_pem, SIGNED_AT
        )
        assert result.returncode != 0


def test_not_yet_valid_certificate_fails(issued_pki: Pki) -> None:
    key = _signer_key(issued_pki, VALID)
    early = ISSUED_AT - timedelta(days=1)
    p7s = sign_detached(DATA, key, issued_pki.certs[VALID], signing_time=early)
    status = _verify(issued_pki, p7s)
    assert "证书有效期" in _failed(status)
    assert any("尚未生效" in f for f in status.failures)


def test_signing_time_in_the_future_fails(issued_pki: Pki) -> None:
    key = _signer_key(issued_pki, VALID)
    p7s = sign_detached(
        DATA, key, issued_pki.certs[VALID], signing_time=VERIFY_AT + timedelta(hours=1)
    )
    assert _failed(_verify(issued_pki, p7s)) == {"签名时间"}


def test_ca_certificate_cannot_sign_letters(issued_pki: Pki) -> None:
    ca_key = load_ca_key(issued_pki.keys_dir, ca_passphrase(), issued_pki.ca_cert)
    p7s = sign_detached(DATA, ca_key, issued_pki.ca_cert, signing_time=SIGNED_AT)
    status = _verify(issued_pki, p7s)
    assert _failed(status) == {"密钥用途"}


def test_expected_signer(issued_pki: Pki) -> None:
    right = fingerprint(issued_pki.certs[VALID])
    wrong = fingerprint(issued_pki.certs[SHORT_LIVED])
    ok = _verify(issued_pki, issued_pki.signatures[VALID], expected_signer_fingerprint=right)
    assert ok.valid and ok.checks[-1].name == "签名人"
    bad = _verify(issued_pki, issued_pki.signatures[VALID], expected_signer_fingerprint=wrong)
    assert _failed(bad) == {"签名人"}


# ---------------------------------------------------------------------------------------------
# malformed input never raises


def test_oversized_signature_is_refused(issued_pki: Pki) -> None:
    status = _verify(issued_pki, b"\x30" * (cades_verify.MAX_SIGNATURE_BYTES + 1))
    assert not status.valid
    assert _failed(status) == {"签名文件结构"}
    assert "过大" in status.failures[0]


@pytest.mark.parametrize(
    "blob", [b"", b"\x00", b"not a signature", (CMS_DIR / "sample.docx").read_bytes()[:2000]]
)
def test_garbage_is_a_failed_check(issued_pki: Pki, blob: bytes) -> None:
    status = _verify(issued_pki, blob)
    assert not status.valid
    assert _failed(status) == {"签名文件结构"}
    assert status.cert_fingerprint is None


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_never_raise(blob: bytes) -> None:
    ca = x509.load_pem_x509_certificate((CMS_DIR / "ca-ec.pem").read_bytes())
    status = verify_detached(DATA, blob, ca_cert=ca, crl=None, at=SAMPLE_AT)
    assert not status.valid


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_truncated_or_extended_signature_never_valid(data: st.DataObject) -> None:
    p7s = (CMS_DIR / "sample.docx.openssl-ec.p7s").read_bytes()
    cut = data.draw(st.integers(min_value=0, max_value=len(p7s) - 1))
    extra = data.draw(st.binary(min_size=1, max_size=16))
    ca = x509.load_pem_x509_certificate((CMS_DIR / "ca-ec.pem").read_bytes())
    sample = (CMS_DIR / "sample.docx").read_bytes()
    for blob in (p7s[:cut], p7s + extra):
        assert not verify_detached(sample, blob, ca_cert=ca, crl=None, at=SAMPLE_AT).valid
