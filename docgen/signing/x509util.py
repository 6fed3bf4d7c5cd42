"""Facts about certificates and keys that the CA, the signer and the CAdES verifier all need.

Pure functions of a certificate (fingerprint, serial, names, issuer and validity checks), the key
algorithms and revocation reasons the CA knows, and UTC time stamps as the registry writes them.
Nothing here reads or writes a file.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import UTC, datetime
from enum import StrEnum

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from docgen.core.errors import DocgenError, UsageError

SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


class Algorithm(StrEnum):
    """Key algorithms the CA issues; ECDSA P-256 is the default (DESIGN §4)."""

    ECDSA_P256 = "ecdsa-p256"
    RSA3072 = "rsa3072"

    @property
    def label(self) -> str:
        return "ECDSA P-256" if self is Algorithm.ECDSA_P256 else "RSA-3072"


class RevocationReason(StrEnum):
    """CRL reason codes (RFC 5280 §5.3.1) that make sense in an office."""

    UNSPECIFIED = "unspecified"
    KEY_COMPROMISE = "key_compromise"
    AFFILIATION_CHANGED = "affiliation_changed"
    SUPERSEDED = "superseded"
    CESSATION_OF_OPERATION = "cessation_of_operation"

    @property
    def label(self) -> str:
        return _REASON_LABELS[self]

    @property
    def flag(self) -> x509.ReasonFlags:
        return _REASON_FLAGS[self]

    @classmethod
    def parse(cls, text: str) -> RevocationReason:
        """Accept the code (``key_compromise``) or the Chinese label (``私钥泄露``)."""
        cleaned = text.strip()
        for reason in cls:
            if cleaned in (reason.value, reason.label):
                return reason
        choices = "、".join(f"{r.value}({r.label})" for r in cls)
        raise UsageError(f"不认识的吊销原因“{text}”", hint=f"可选:{choices}")


_REASON_LABELS: dict[RevocationReason, str] = {
    RevocationReason.UNSPECIFIED: "未说明",
    RevocationReason.KEY_COMPROMISE: "私钥泄露",
    RevocationReason.AFFILIATION_CHANGED: "调离或职务变动",
    RevocationReason.SUPERSEDED: "已被新证书替换",
    RevocationReason.CESSATION_OF_OPERATION: "停止使用",
}
_REASON_FLAGS: dict[RevocationReason, x509.ReasonFlags] = {
    RevocationReason.UNSPECIFIED: x509.ReasonFlags.unspecified,
    RevocationReason.KEY_COMPROMISE: x509.ReasonFlags.key_compromise,
    RevocationReason.AFFILIATION_CHANGED: x509.ReasonFlags.affiliation_changed,
    RevocationReason.SUPERSEDED: x509.ReasonFlags.superseded,
    RevocationReason.CESSATION_OF_OPERATION: x509.ReasonFlags.cessation_of_operation,
}


class CertificateRefusedError(DocgenError):
    """A certificate cannot be used: revoked, expired, not yet valid, foreign, or not matching."""


# ---------------------------------------------------------------------------------------------
# small helpers


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER encoding in lower-case hex (registry cert_fingerprint)."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def serial_hex(cert: x509.Certificate) -> str:
    """The serial number as lower-case hex without prefix (the registry's serial / cert_serial)."""
    return format(cert.serial_number, "x")


def iso_z(moment: datetime) -> str:
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive datetime is a programming error, not a user error."""
    if moment.tzinfo is None:
        raise ValueError("datetime must be timezone-aware")
    return moment.astimezone(UTC)


def utc_second(moment: datetime) -> datetime:
    """``moment`` in UTC to the whole second, as certificates and CRLs record it."""
    return utc(moment).replace(microsecond=0)


def subject_value(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    if not values:
        return None
    value = values[0].value
    return value if isinstance(value, str) else value.decode("utf-8", errors="replace")


def person_id_of(cert: x509.Certificate) -> str | None:
    """The person id carried in the subject (UID, or serialNumber as written by other tools)."""
    return subject_value(cert.subject, NameOID.USER_ID) or subject_value(
        cert.subject, NameOID.SERIAL_NUMBER
    )


def common_name_of(cert: x509.Certificate) -> str | None:
    return subject_value(cert.subject, NameOID.COMMON_NAME)


COMMON_NAME_MAX_BYTES = 64  # X.520 ub-common-name, as cryptography counts it (UTF-8 bytes)


def fit_common_name(text: str) -> str:
    """``text`` cut to fit a certificate's commonName (64 UTF-8 bytes), ending in "…" if cut.

    A long institution or personal name (21 Chinese characters and more) must not stop the CA
    from issuing; the person id in the subject's UID, not the name, identifies the signer.
    """
    if len(text.encode("utf-8")) <= COMMON_NAME_MAX_BYTES:
        return text
    room = COMMON_NAME_MAX_BYTES - len("…".encode())
    cut = text
    while len(cut.encode("utf-8")) > room:
        cut = cut[:-1]
    return cut + "…"


def require_positive_days(days: int, what: str) -> None:
    """Refuse a validity period (of a certificate or a CRL) of zero or fewer days."""
    if days <= 0:
        raise UsageError(f"{what}必须大于 0 天(当前为 {days})")


# ---------------------------------------------------------------------------------------------
# keys and issuers


def algorithm_of(cert: x509.Certificate) -> Algorithm:
    """The algorithm of a certificate's key; new personal keys default to the CA's."""
    if isinstance(cert.public_key(), rsa.RSAPublicKey):
        return Algorithm.RSA3072
    return Algorithm.ECDSA_P256


def same_public_key(key: SigningKey, cert: x509.Certificate) -> bool:
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    return key.public_key().public_bytes(der, spki) == cert.public_key().public_bytes(der, spki)


def subject_key_id(cert: x509.Certificate) -> bytes | None:
    """The certificate's subjectKeyIdentifier, or ``None`` when it has none."""
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return None


def _aki(cert: x509.Certificate) -> bytes | None:
    try:
        ext = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    except x509.ExtensionNotFound:
        return None
    return ext.value.key_identifier


def issued_by(cert: x509.Certificate, ca_cert: x509.Certificate) -> str | None:
    """``None`` when ``ca_cert`` issued ``cert``; otherwise the reason in Chinese."""
    return _issued_by(cert, ca_cert)


# A certificate compares and hashes by its DER, so the answer for a pair never changes; a bulk
# verification meets the same signer certificates many times and checks each signature once.
@functools.lru_cache(maxsize=4096)
def _issued_by(cert: x509.Certificate, ca_cert: x509.Certificate) -> str | None:
    if cert.issuer != ca_cert.subject:
        return (
            f"证书的签发者“{cert.issuer.rfc4514_string()}”不是本单位根证书"
            f"“{ca_cert.subject.rfc4514_string()}”"
        )
    aki, ski = _aki(cert), subject_key_id(ca_cert)
    if aki is not None and ski is not None and aki != ski:
        return "证书不是本单位根证书签发的:颁发机构密钥标识(AKI)与根证书的密钥标识(SKI)不一致"
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return "证书上的根证书签名验证失败,证书不是本单位根证书签发的"
    return None


def validity_problem(cert: x509.Certificate, at: datetime) -> str | None:
    """``None`` when ``cert`` is valid at ``at``; otherwise the reason in Chinese."""
    moment = utc(at)
    if moment < cert.not_valid_before_utc:
        return f"证书尚未生效(生效时间 {iso_z(cert.not_valid_before_utc)},检查时间 {iso_z(moment)})"
    if moment > cert.not_valid_after_utc:
        return f"证书已过期(到期时间 {iso_z(cert.not_valid_after_utc)},检查时间 {iso_z(moment)})"
    return None
