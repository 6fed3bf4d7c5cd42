"""The institution's root certificate authority: creating it, and opening its certificate and key.

The root is self-signed, lives under ``keys/ca/`` (see :mod:`docgen.signing.keyfiles`) and is
created with an empty CRL, number 1, whose registry record the caller appends (signing refuses a
CRL the registry does not hold). Every function takes ``now`` instead of reading the clock.

The root carries no extendedKeyUsage, certificatePolicies or cRLDistributionPoints: a trust
anchor is not itself validated against a policy or a CRL (RFC 5280 §6.1), and roots made before
the personal certificates got them stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from docgen.core.errors import Location, UsageError
from docgen.signing.crl import CRL_DAYS_DEFAULT, build_crl, crl_record, write_crl
from docgen.signing.keyfiles import (
    PRIVATE_FILE_MODE,
    PUBLIC_FILE_MODE,
    ca_paths,
    certificate_pem,
    encrypt_private_key,
    generate_private_key,
    load_certificate,
    load_private_key,
    make_private_dir,
    write_atomic,
)
from docgen.signing.passphrase import Passphrase, require_new_strength
from docgen.signing.x509util import (
    Algorithm,
    CertificateRefusedError,
    SigningKey,
    fingerprint,
    fit_common_name,
    require_positive_days,
    same_public_key,
    utc_second,
)

CA_DAYS_DEFAULT = 3650


def ca_common_name(institution: str) -> str:
    return f"{institution}电子签名根证书"


@dataclass(frozen=True)
class CaResult:
    cert: x509.Certificate
    cert_path: Path
    key_path: Path
    crl_path: Path
    fingerprint: str
    crl: x509.CertificateRevocationList

    @property
    def records(self) -> tuple[dict[str, Any], ...]:
        """The registry records to append: the first CRL's ``crl`` record."""
        return (crl_record(self.crl, self.cert),)


def init_ca(
    keys_dir: Path,
    *,
    institution: str,
    passphrase: Passphrase,
    now: datetime,
    algorithm: Algorithm = Algorithm.ECDSA_P256,
    days: int = CA_DAYS_DEFAULT,
) -> CaResult:
    """Create the self-signed root CA and an empty CRL; refuse to overwrite an existing CA."""
    paths = ca_paths(keys_dir)
    if paths.cert.exists() or paths.key.exists():
        raise UsageError(
            "根证书已经存在,不会覆盖",
            location=Location(file=str(paths.cert)),
            hint="已签发的证书都依赖这个根证书;确需重建请先把 keys/ca 目录移走备份",
        )
    if not institution.strip():
        raise UsageError("单位名称为空", hint="请在 docgen.toml 中设置 institution")
    require_positive_days(days, "根证书有效期")
    require_new_strength(passphrase, what="根证书口令")
    start = utc_second(now)
    key = generate_private_key(algorithm)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, institution),
            x509.NameAttribute(NameOID.COMMON_NAME, fit_common_name(ca_common_name(institution))),
        ]
    )
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    crl = build_crl(cert, key, entries=(), number=1, now=start, days=CRL_DAYS_DEFAULT)
    make_private_dir(paths.directory)
    write_atomic(paths.key, encrypt_private_key(key, passphrase), PRIVATE_FILE_MODE)
    write_atomic(paths.cert, certificate_pem(cert), PUBLIC_FILE_MODE)
    write_crl(paths, crl)
    return CaResult(
        cert=cert,
        cert_path=paths.cert,
        key_path=paths.key,
        crl_path=paths.crl_pem,
        fingerprint=fingerprint(cert),
        crl=crl,
    )


def load_ca_certificate(keys_dir: Path) -> x509.Certificate:
    path = ca_paths(keys_dir).cert
    if not path.exists():
        raise UsageError(
            "本单位根证书不存在",
            location=Location(file=str(path)),
            hint="请先运行 docgen keys init-ca",
        )
    return load_certificate(path)


def load_ca_key(keys_dir: Path, passphrase: Passphrase, ca_cert: x509.Certificate) -> SigningKey:
    path = ca_paths(keys_dir).key
    key = load_private_key(path, passphrase)
    if not same_public_key(key, ca_cert):
        raise CertificateRefusedError("根证书私钥与根证书不匹配", location=Location(file=str(path)))
    return key
