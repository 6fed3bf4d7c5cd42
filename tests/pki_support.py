"""Test PKI builder and helpers: root CA, people, revocations, signatures (fixtures: pki_fixtures).

Timeline (all UTC):
- ISSUED_AT: CA created, certificates issued (P001–P003 for 730 days, P004 for 1 day).
- EARLY_REVOCATION: P003's certificate revoked (key compromise) — before the signing time.
- SIGNED_AT: every person's key signs ``DATA``; P004's certificate has expired by then.
- LATE_REVOCATION: P002's certificate revoked (affiliation changed) — after the signing time.

A second, unrelated CA with the same institution name (``foreign``) shows that names prove nothing.
Keys are made with the library itself (the same code the CLI calls); nothing is committed.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from docgen.core.glossary import Role
from docgen.core.models import Person, Roster
from docgen.signing.ca import init_ca, load_ca_certificate
from docgen.signing.cades_sign import sign_detached
from docgen.signing.certificates import issue_certificates
from docgen.signing.crl import crl_record, load_crl
from docgen.signing.keyfiles import ca_paths
from docgen.signing.passphrase import Passphrase
from docgen.signing.revocation import revoke
from docgen.signing.revocation_state import RevocationState, revocation_state
from docgen.signing.signer import load_signer
from docgen.signing.x509util import Algorithm, RevocationReason

INSTITUTION = "庆城县人民检察院"
ISSUED_AT = datetime(2027, 1, 4, 9, 0, 0, tzinfo=UTC)
EARLY_REVOCATION = ISSUED_AT + timedelta(hours=2)
SIGNED_AT = datetime(2027, 1, 5, 10, 30, 0, tzinfo=UTC)
LATE_REVOCATION = SIGNED_AT + timedelta(days=5)
VERIFY_AT = SIGNED_AT + timedelta(days=30)
CERT_DAYS = 730
CA_SECRET = "根证书-口令-2027-ca"
PERSON_SECRET = "个人口令-Zx9-2027"
DATA = b"PK\x03\x04 not really a docx, but exact bytes matter \x00\xff" * 40

VALID, LATE_REVOKED, EARLY_REVOKED, SHORT_LIVED = "P001", "P002", "P003", "P004"


def ca_passphrase() -> Passphrase:
    return Passphrase(CA_SECRET.encode(), "测试")


def person_passphrase() -> Passphrase:
    return Passphrase(PERSON_SECRET.encode(), "测试")


def registered_as_on_file(keys_dir: Path) -> RevocationState:
    """For a keys directory without a registry: the registry's state as if the CA's current CRL
    (``keys/ca/crl.pem``) had been registered, as ``docgen keys`` does."""
    ca_cert = load_ca_certificate(keys_dir)
    crl = load_crl(ca_paths(keys_dir).crl_pem, ca_cert=ca_cert)
    return revocation_state([(0, crl_record(crl, ca_cert))], ca_cert)


def make_roster() -> Roster:
    people = (
        Person(VALID, "张明远", "党组书记、检察长", Role.PARTY_SECRETARY),
        Person(LATE_REVOKED, "李卫东", "副检察长", Role.LEADER),
        Person(EARLY_REVOKED, "王建华", "副检察长", Role.LEADER),
        Person(SHORT_LIVED, "阿依古丽·买买提", "科员", Role.STAFF),
    )
    return Roster(institution=INSTITUTION, people=people, departments=())


@dataclass(frozen=True)
class Pki:
    algorithm: Algorithm
    keys_dir: Path
    ca_cert: x509.Certificate
    crl: x509.CertificateRevocationList
    certs: dict[str, x509.Certificate]
    signatures: dict[str, bytes]  # person id -> .p7s over DATA at SIGNED_AT
    data_path: Path  # DATA written to disk, for openssl

    @property
    def ca_pem(self) -> Path:
        return ca_paths(self.keys_dir).cert

    def p7s_path(self, person_id: str) -> Path:
        path = self.data_path.parent / f"{person_id}.p7s"
        if not path.exists():
            path.write_bytes(self.signatures[person_id])
        return path


def build_pki(root: Path, algorithm: Algorithm) -> Pki:
    keys_dir = root / "keys"
    keys_dir.mkdir(parents=True, mode=0o700)
    roster = make_roster()
    init_ca(
        keys_dir,
        institution=INSTITUTION,
        passphrase=ca_passphrase(),
        now=ISSUED_AT,
        algorithm=algorithm,
    )
    common = {
        "institution": INSTITUTION,
        "ca_passphrase": ca_passphrase(),
        "passphrase": person_passphrase(),
        "now": ISSUED_AT,
        "algorithm": algorithm,
    }
    issue_certificates(
        keys_dir, roster, [VALID, LATE_REVOKED, EARLY_REVOKED], days=CERT_DAYS, **common
    )  # type: ignore[arg-type]
    issue_certificates(keys_dir, roster, [SHORT_LIVED], days=1, **common)  # type: ignore[arg-type]
    ca_cert = load_ca_certificate(keys_dir)
    signers = {
        pid: load_signer(
            keys_dir,
            pid,
            person_passphrase(),
            now=ISSUED_AT + timedelta(hours=1),
            registered=registered_as_on_file(keys_dir),
        )
        for pid in (VALID, LATE_REVOKED, EARLY_REVOKED, SHORT_LIVED)
    }
    revoke(
        keys_dir,
        EARLY_REVOKED,
        reason=RevocationReason.KEY_COMPROMISE,
        ca_passphrase=ca_passphrase(),
        now=EARLY_REVOCATION,
        registered=registered_as_on_file(keys_dir),
    )
    signatures = {
        pid: sign_detached(DATA, s.key, s.cert, signing_time=SIGNED_AT)
        for pid, s in signers.items()
    }
    revoke(
        keys_dir,
        LATE_REVOKED,
        reason=RevocationReason.AFFILIATION_CHANGED,
        ca_passphrase=ca_passphrase(),
        now=LATE_REVOCATION,
        registered=registered_as_on_file(keys_dir),
    )
    crl = load_crl(ca_paths(keys_dir).crl_pem, ca_cert=ca_cert)
    data_path = root / "letter.docx"
    data_path.write_bytes(DATA)
    return Pki(
        algorithm=algorithm,
        keys_dir=keys_dir,
        ca_cert=ca_cert,
        crl=crl,
        certs={pid: s.cert for pid, s in signers.items()},
        signatures=signatures,
        data_path=data_path,
    )


OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="openssl 命令不可用,跳过互操作检查")


def openssl_cms_verify(
    content: Path, p7s: Path, ca_pem: Path, at: datetime, *, purpose_any: bool = True
) -> subprocess.CompletedProcess[str]:
    if OPENSSL is None:
        raise RuntimeError("openssl is not installed")
    args = [
        OPENSSL,
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-content",
        str(content),
        "-in",
        str(p7s),
        "-CAfile",
        str(ca_pem),
        "-attime",
        str(int(at.timestamp())),
        "-out",
        "/dev/null",
    ]
    if purpose_any:
        args[args.index("-attime") : args.index("-attime")] = ["-purpose", "any"]
    return subprocess.run(args, capture_output=True, text=True, check=False, timeout=60)
