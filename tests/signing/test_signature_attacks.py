"""Attacks on signatures, each carried all the way into a workspace and caught by ``docgen verify``.

The attacker here is an insider who can write files and append to the registry (as anyone holding
the registry key and the database can): each forged signature is given its own registry record,
and the letter's proof bundle is rewritten to include it, so that only the cryptographic and
policy checks stand between the forgery and a "验证通过". Each case must fail at the step that
names the attack, in the CLI (exit 1, JSON report) and in the library alike.

Cases already covered at the level of one CMS file in tests/signing/test_cades.py are not
repeated there; here they are checked end to end.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import algos, cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from docgen.core.workspace import Workspace, find_workspace
from docgen.records.naming import signature_relpath
from docgen.records.proofs import write_letter_proofs
from docgen.records.state import LetterState, read_year_state
from docgen.registry import open_registry
from docgen.signing.ca import load_ca_certificate, load_ca_key
from docgen.signing.cades_sign import sign_detached
from docgen.signing.passphrase import Passphrase
from docgen.signing.revocation import revoke
from docgen.signing.revocation_state import RevocationState, read_revocation_state
from docgen.signing.sign import sign_as
from docgen.signing.signer import Signer, load_signer
from docgen.signing.x509util import RevocationReason, SigningKey, fingerprint, iso_z, serial_hex
from docgen.verify.archive import workspace_trust
from docgen.verify.checklist import verify_letter
from docgen.verify.files import letter_files_from_disk
from docgen.verify.model import LetterStatus
from tests.conftest import NOW, PASSPHRASE
from tests.helpers import run_docgen

YEAR = 2027
LETTER = "2027-ZR-P001-P002"  # 党组书记 P001 (甲方) with 班子成员 P002 (乙方)
OTHER = "2027-CN-P001-P002"  # the same pair's 公开承诺书
SECRET = Passphrase(PASSPHRASE.encode(), "测试")
SIGNED = NOW + timedelta(hours=1)
OPENSSL = shutil.which("openssl")


class Attack:
    """A workspace with one letter, honestly signed by P001, waiting for a forged P002 part."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ws: Workspace = find_workspace(root)
        sign_as(self.ws, "P001", SECRET, year=YEAR, now=SIGNED, doc_id=LETTER)

    def letter(self, doc_id: str = LETTER) -> LetterState:
        with open_registry(self.ws) as registry:
            return read_year_state(registry, YEAR).letters[doc_id]

    def path(self, doc_id: str = LETTER) -> Path:
        return self.ws.year_dir(YEAR) / self.letter(doc_id).record["path"]

    def data(self, doc_id: str = LETTER) -> bytes:
        return self.path(doc_id).read_bytes()

    def signer(self, person: str, at: datetime = SIGNED) -> Signer:
        return load_signer(self.ws.keys_dir, person, SECRET, now=at, registered=self.registered())

    def registered(self) -> RevocationState:
        with open_registry(self.ws) as registry:
            return read_revocation_state(registry, load_ca_certificate(self.ws.keys_dir))

    def ca(self) -> tuple[x509.Certificate, SigningKey]:
        cert = load_ca_certificate(self.ws.keys_dir)
        return cert, load_ca_key(self.ws.keys_dir, SECRET, cert)

    def plant(
        self,
        p7s: bytes,
        cert: x509.Certificate,
        *,
        signer: str = "P002",
        party: str = "subordinate",
        recorded_at: datetime = SIGNED,
        signing_time: datetime = SIGNED,
        doc_id: str = LETTER,
    ) -> Path:
        """Record ``p7s`` as ``signer``'s signature, write the file, refresh the proof bundle."""
        letter = self.letter(doc_id)
        record: dict[str, Any] = {
            "type": "signature",
            "doc_id": doc_id,
            "signer": signer,
            "party": party,
            "cert_fingerprint": fingerprint(cert),
            "cert_serial": serial_hex(cert),
            "p7s_sha256": hashlib.sha256(p7s).hexdigest(),
            "doc_sha256": letter.record["sha256"],
            "signing_time": iso_z(signing_time),
        }
        target = self.ws.year_dir(YEAR) / signature_relpath(letter.record["path"], signer)
        target.write_bytes(p7s)
        with open_registry(self.ws) as registry:
            registry.append([record], now=recorded_at)
            updated = read_year_state(registry, YEAR).letters[doc_id]
            write_letter_proofs(registry, self.ws.year_dir(YEAR), [updated])
            assert registry.audit().ok  # the forgery is a well-formed, registered entry
        return target

    def verify(self, doc_id: str = LETTER) -> dict[str, Any]:
        """Run ``docgen verify --json`` on the letter; the library must agree with the CLI."""
        outcome = run_docgen("verify", "--json", "-w", str(self.root), str(self.path(doc_id)))
        assert "Traceback" not in outcome.text
        report: dict[str, Any] = json.loads(outcome.out)
        (letter,) = report["letters"]
        library = verify_letter(letter_files_from_disk(self.path(doc_id)), workspace_trust(self.ws))
        assert library.status.value == letter["status"]
        assert [s.number for s in library.failed_steps] == [
            s["number"] for s in letter["steps"] if not s["ok"] and not s["skipped"]
        ]
        assert outcome.code == (0 if letter["status"] == "verified" else 1)
        return letter


def _failed(letter: dict[str, Any]) -> dict[int, str]:
    return {
        s["number"]: f"{s['file']}: {s['detail']}"
        for s in letter["steps"]
        if not s["ok"] and not s["skipped"]
    }


def _caught(letter: dict[str, Any], step: int, *phrases: str, file: Path | None = None) -> None:
    failed = _failed(letter)
    assert letter["status"] == "failed", failed
    assert step in failed, failed
    for phrase in phrases:
        assert phrase in failed[step], failed[step]
    if file is not None:
        assert file.name in failed[step], failed[step]


def _certificate(
    subject_of: x509.Certificate,
    issuer_cert: x509.Certificate,
    issuer_key: SigningKey,
    *,
    not_before: datetime,
    not_after: datetime,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A personal certificate with the same subject as ``subject_of``, issued by ``issuer``."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject_of.subject)
        .issuer_name(issuer_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .sign(issuer_key, hashes.SHA256())
    )
    return cert, key


def _resigned(p7s: bytes, data: bytes, key: SigningKey, *, digest: str) -> bytes:
    """The same CMS with another digest algorithm, messageDigest recomputed and re-signed:
    a signature that is valid in itself, but over a digest the verifier must not accept."""
    info = cms.ContentInfo.load(p7s)
    signed_data = info["content"]
    signer_info = signed_data["signer_infos"][0]
    algorithm = algos.DigestAlgorithm({"algorithm": digest})
    signed_data["digest_algorithms"] = [algorithm]
    signer_info["digest_algorithm"] = algorithm
    attrs = [
        cms.CMSAttribute({"type": "message_digest", "values": [hashlib.new(digest, data).digest()]})
        if attr["type"].native == "message_digest"
        else attr
        for attr in signer_info["signed_attrs"]
    ]
    signer_info["signed_attrs"] = cms.CMSAttributes(attrs)
    to_be_signed = b"\x31" + bytes(signer_info["signed_attrs"].dump(force=True))[1:]
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    signer_info["signature"] = key.sign(to_be_signed, ec.ECDSA(hashes.SHA256()))
    return bytes(info.dump(force=True))


@pytest.fixture
def attack(keyed_workspace: Path) -> Attack:
    return Attack(keyed_workspace)


# --------------------------------------------------------------------------------------------


def test_honest_signatures_verify(attack: Attack) -> None:
    """The control: the same letter signed honestly by P002 passes every step."""
    sign_as(attack.ws, "P002", SECRET, year=YEAR, now=SIGNED, doc_id=LETTER)
    letter = attack.verify()
    assert letter["status"] == "verified", _failed(letter)


def test_replayed_signature_from_another_letter(attack: Attack) -> None:
    """P002's genuine signature of the 公开承诺书, recorded as their signature of the 责任书."""
    sign_as(attack.ws, "P002", SECRET, year=YEAR, now=SIGNED, doc_id=OTHER)
    source = attack.path(OTHER).with_name(attack.path(OTHER).name + ".P002.p7s")
    signer = attack.signer("P002")
    planted = attack.plant(source.read_bytes(), signer.cert)
    _caught(attack.verify(), 3, "文件摘要", "签名不属于这个文件", file=planted)


def test_signature_by_someone_who_is_not_a_party(attack: Attack) -> None:
    outsider = attack.signer("P008")
    p7s = sign_detached(attack.data(), outsider.key, outsider.cert, signing_time=SIGNED)
    planted = attack.plant(p7s, outsider.cert, signer="P008")
    _caught(attack.verify(), 4, "P008 不是本文书的签订方", file=planted)


def test_signature_by_another_person_filed_as_the_party(attack: Attack) -> None:
    """P008 signs, and the record says P002 signed with P008's certificate."""
    outsider = attack.signer("P008")
    p7s = sign_detached(attack.data(), outsider.key, outsider.cert, signing_time=SIGNED)
    planted = attack.plant(p7s, outsider.cert, signer="P002")
    _caught(attack.verify(), 4, "签名证书中的人员编号为 P008,不是 P002", file=planted)


def test_signature_by_another_person_with_the_party_certificate_in_the_record(
    attack: Attack,
) -> None:
    """P008 signs; the record claims P002's certificate fingerprint."""
    outsider = attack.signer("P008")
    p7s = sign_detached(attack.data(), outsider.key, outsider.cert, signing_time=SIGNED)
    letter = attack.letter()
    record_cert = attack.signer("P002").cert
    planted = attack.plant(p7s, record_cert)
    assert letter.doc_id == LETTER
    _caught(attack.verify(), 4, "与应签人的证书指纹", file=planted)


def test_certificate_revoked_before_the_registry_time(attack: Attack) -> None:
    """A stolen key used after its certificate was revoked for key compromise."""
    thief = attack.signer("P002")  # the key, as stolen before the revocation
    revoked_at = SIGNED + timedelta(days=1)
    revoke(
        attack.ws.keys_dir,
        "P002",
        reason=RevocationReason.KEY_COMPROMISE,
        ca_passphrase=SECRET,
        now=revoked_at,
        registered=attack.registered(),
    )
    used_at = revoked_at + timedelta(hours=2)
    p7s = sign_detached(attack.data(), thief.key, thief.cert, signing_time=used_at)
    planted = attack.plant(p7s, thief.cert, recorded_at=used_at, signing_time=used_at)
    _caught(attack.verify(), 6, "吊销", "私钥泄露", file=planted)


def test_backdated_signature_with_a_revoked_key(attack: Attack) -> None:
    """The thief sets signingTime before the revocation; the registry time gives it away."""
    thief = attack.signer("P002")
    revoked_at = SIGNED + timedelta(days=1)
    revoke(
        attack.ws.keys_dir,
        "P002",
        reason=RevocationReason.KEY_COMPROMISE,
        ca_passphrase=SECRET,
        now=revoked_at,
        registered=attack.registered(),
    )
    claimed = revoked_at - timedelta(hours=1)
    p7s = sign_detached(attack.data(), thief.key, thief.cert, signing_time=claimed)
    planted = attack.plant(
        p7s, thief.cert, recorded_at=revoked_at + timedelta(hours=2), signing_time=claimed
    )
    _caught(attack.verify(), 6, "吊销", "超过允许的 600 秒", file=planted)


def test_revocation_after_the_registry_time_keeps_the_signature_valid(attack: Attack) -> None:
    sign_as(attack.ws, "P002", SECRET, year=YEAR, now=SIGNED, doc_id=LETTER)
    revoke(
        attack.ws.keys_dir,
        "P002",
        reason=RevocationReason.KEY_COMPROMISE,
        ca_passphrase=SECRET,
        now=SIGNED + timedelta(days=3),
        registered=attack.registered(),
    )
    letter = attack.verify()
    assert letter["status"] == "verified", _failed(letter)
    step6 = next(s for s in letter["steps"] if s["number"] == 6)
    assert step6["ok"]


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "phrase"),
    [
        (NOW - timedelta(days=60), NOW - timedelta(days=1), "证书已过期"),
        (NOW + timedelta(days=30), NOW + timedelta(days=400), "证书尚未生效"),
    ],
    ids=["expired", "not-yet-valid"],
)
def test_certificate_not_valid_at_signing_time(
    attack: Attack, valid_from: datetime, valid_to: datetime, phrase: str
) -> None:
    ca_cert, ca_key = attack.ca()
    genuine = attack.signer("P002").cert
    cert, key = _certificate(genuine, ca_cert, ca_key, not_before=valid_from, not_after=valid_to)
    p7s = sign_detached(attack.data(), key, cert, signing_time=SIGNED)
    planted = attack.plant(p7s, cert)
    _caught(attack.verify(), 5, phrase, file=planted)


def test_certificate_from_a_look_alike_ca(attack: Attack) -> None:
    """A second CA with exactly the institution CA's name issues P002 a certificate."""
    ca_cert, _ = attack.ca()
    fake_key = ec.generate_private_key(ec.SECP256R1())
    fake_ca = (
        x509.CertificateBuilder()
        .subject_name(ca_cert.subject)
        .issuer_name(ca_cert.subject)
        .public_key(fake_key.public_key())
        .serial_number(ca_cert.serial_number)
        .not_valid_before(ca_cert.not_valid_before_utc)
        .not_valid_after(ca_cert.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(fake_key.public_key()), critical=False
        )
        .sign(fake_key, hashes.SHA256())
    )
    assert fake_ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    genuine = attack.signer("P002").cert
    cert, key = _certificate(
        genuine,
        fake_ca,
        fake_key,
        not_before=genuine.not_valid_before_utc,
        not_after=genuine.not_valid_after_utc,
    )
    p7s = sign_detached(attack.data(), key, cert, signing_time=SIGNED)
    planted = attack.plant(p7s, cert)
    _caught(attack.verify(), 5, "不是本单位根证书签发的", file=planted)


@pytest.mark.parametrize("digest", ["sha1", "md5"])
def test_weak_digest_is_refused(attack: Attack, digest: str) -> None:
    signer = attack.signer("P002")
    data = attack.data()
    honest = sign_detached(data, signer.key, signer.cert, signing_time=SIGNED)
    p7s = _resigned(honest, data, signer.key, digest=digest)
    planted = attack.plant(p7s, signer.cert)
    _caught(attack.verify(), 3, "摘要算法", digest, "不安全", file=planted)


@pytest.mark.skipif(OPENSSL is None, reason="openssl command not installed")
def test_sha1_signature_made_by_openssl_is_refused(attack: Attack, tmp_path: Path) -> None:
    signer = attack.signer("P002")
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(
        signer.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    os.chmod(key_file, 0o600)
    cert_file = tmp_path / "cert.pem"
    cert_file.write_bytes(signer.cert.public_bytes(serialization.Encoding.PEM))
    out = tmp_path / "sha1.p7s"
    assert OPENSSL is not None
    made = subprocess.run(
        [
            OPENSSL,
            "cms",
            "-sign",
            "-binary",
            "-cades",
            "-md",
            "sha1",
            "-in",
            str(attack.path()),
            "-signer",
            str(cert_file),
            "-inkey",
            str(key_file),
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
    key_file.unlink()
    assert made.returncode == 0, made.stderr
    planted = attack.plant(out.read_bytes(), signer.cert)
    _caught(attack.verify(), 3, "摘要算法 sha1 不安全", file=planted)


def test_altered_signed_attributes(attack: Attack) -> None:
    """signingTime moved a day on inside a genuine signature, the record adjusted to match.

    (Moving it back is impossible to register at all: the registry refuses an earlier time.)
    """
    signer = attack.signer("P002")
    honest = sign_detached(attack.data(), signer.key, signer.cert, signing_time=SIGNED)
    info = cms.ContentInfo.load(honest)
    signer_info = info["content"]["signer_infos"][0]
    moved = SIGNED + timedelta(days=1)
    signer_info["signed_attrs"] = cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "signing_time", "values": [cms.Time({"utc_time": moved})]})
            if attr["type"].native == "signing_time"
            else attr
            for attr in signer_info["signed_attrs"]
        ]
    )
    tampered = bytes(info.dump(force=True))
    planted = attack.plant(tampered, signer.cert, recorded_at=moved, signing_time=moved)
    _caught(attack.verify(), 3, "签名值验证失败", file=planted)


def test_signing_time_far_from_the_registry_time(attack: Attack) -> None:
    """A signature made at one time and registered two hours later (a held-back signature)."""
    signer = attack.signer("P002")
    p7s = sign_detached(attack.data(), signer.key, signer.cert, signing_time=SIGNED)
    planted = attack.plant(
        p7s, signer.cert, recorded_at=SIGNED + timedelta(hours=2), signing_time=SIGNED
    )
    _caught(attack.verify(), 6, "相差 7200 秒,超过允许的 600 秒", file=planted)


def test_registry_signing_time_that_disagrees_with_the_signature(attack: Attack) -> None:
    """The record's signing_time is moved to match the registry, the CMS says otherwise."""
    signer = attack.signer("P002")
    p7s = sign_detached(attack.data(), signer.key, signer.cert, signing_time=SIGNED)
    later = SIGNED + timedelta(hours=2)
    planted = attack.plant(p7s, signer.cert, recorded_at=later, signing_time=later)
    _caught(attack.verify(), 6, "签名文件中的签名时间与登记记录的签名时间不一致", file=planted)


def test_every_attack_leaves_other_letters_verifiable(attack: Attack) -> None:
    """A forgery on one letter does not spill over: the honestly signed ones still verify."""
    sign_as(attack.ws, "P002", SECRET, year=YEAR, now=SIGNED, doc_id=OTHER)
    sign_as(attack.ws, "P001", SECRET, year=YEAR, now=SIGNED, doc_id=OTHER)
    outsider = attack.signer("P008")
    attack.plant(
        sign_detached(attack.data(), outsider.key, outsider.cert, signing_time=SIGNED),
        outsider.cert,
        signer="P008",
    )
    assert attack.verify()["status"] == "failed"
    assert attack.verify(OTHER)["status"] == LetterStatus.VERIFIED.value
