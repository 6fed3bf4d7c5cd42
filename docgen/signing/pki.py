"""The institution's own certificate authority: root CA, personal keys and certificates, CRL.

Layout under the workspace's ``keys/`` directory::

    keys/ca/ca.pem             root certificate (public)
    keys/ca/ca.key             root key, encrypted PKCS#8, 0600, directory 0700
    keys/ca/crl.pem, crl.der   certificate revocation list signed by the root
    keys/people/<id>/cert.pem  the person's current certificate
    keys/people/<id>/key.pem   the person's key, encrypted PKCS#8, 0600, directory 0700
    keys/people/<id>/old/<serial>.pem      certificates replaced by ``rotate`` (kept)
    keys/people/<id>/revoked/<serial>.pem  revoked certificates (kept, never deleted)

Every function takes ``now`` instead of reading the clock, and returns the registry records
(``certificate`` / ``revocation``) for the caller to append; this module never touches the registry.
Private keys are checked for safe file modes each time they are used.
"""

from __future__ import annotations

import functools
import hashlib
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from docgen.core.errors import DocgenError, Location, UsageError, ValidationError
from docgen.core.models import Person, Roster
from docgen.core.workspace import atomic_write
from docgen.signing.passphrase import Passphrase, require_new_strength

SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

CA_DIR = "ca"
PEOPLE_DIR = "people"
CA_CERT_NAME = "ca.pem"
CA_KEY_NAME = "ca.key"
CRL_PEM_NAME = "crl.pem"
CRL_DER_NAME = "crl.der"
CERT_NAME = "cert.pem"
KEY_NAME = "key.pem"
OLD_DIR = "old"
REVOKED_DIR = "revoked"

CA_DAYS_DEFAULT = 3650
CRL_DAYS_DEFAULT = 180
_PRIVATE_DIR_MODE = 0o700
_PRIVATE_FILE_MODE = 0o600
_PUBLIC_FILE_MODE = 0o644


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


class KeyFileError(DocgenError):
    """A private key file is missing or its permissions are unsafe."""


class PassphraseError(DocgenError):
    """The passphrase does not open the private key."""


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


def _second(moment: datetime) -> datetime:
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


def ca_common_name(institution: str) -> str:
    return f"{institution}电子签名根证书"


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


def _check_person_id(person_id: str) -> None:
    bad = (
        not person_id
        or person_id in (".", "..")
        or any(ch in person_id for ch in "/\\")
        or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in person_id)
    )
    if bad:
        raise UsageError(
            f"人员编号“{person_id!r}”不能用作目录名", hint="编号不能为空,不能含 / \\ 或控制字符"
        )


def _validate_days(days: int, what: str) -> None:
    if days <= 0:
        raise UsageError(f"{what}必须大于 0 天(当前为 {days})")


# ---------------------------------------------------------------------------------------------
# paths and file modes


@dataclass(frozen=True)
class CaPaths:
    directory: Path
    cert: Path
    key: Path
    crl_pem: Path
    crl_der: Path


def ca_paths(keys_dir: Path) -> CaPaths:
    directory = keys_dir / CA_DIR
    return CaPaths(
        directory=directory,
        cert=directory / CA_CERT_NAME,
        key=directory / CA_KEY_NAME,
        crl_pem=directory / CRL_PEM_NAME,
        crl_der=directory / CRL_DER_NAME,
    )


@dataclass(frozen=True)
class PersonPaths:
    directory: Path
    cert: Path
    key: Path
    old: Path
    revoked: Path


def person_paths(keys_dir: Path, person_id: str) -> PersonPaths:
    _check_person_id(person_id)
    directory = keys_dir / PEOPLE_DIR / person_id
    return PersonPaths(
        directory=directory,
        cert=directory / CERT_NAME,
        key=directory / KEY_NAME,
        old=directory / OLD_DIR,
        revoked=directory / REVOKED_DIR,
    )


def check_private_file(path: Path) -> None:
    """Refuse a private key that other users could read, or that sits in an open directory."""
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        raise KeyFileError(
            "私钥文件不存在", location=Location(file=str(path)), hint="请先运行 docgen keys issue"
        ) from exc
    if not stat.S_ISREG(info.st_mode):
        raise KeyFileError("私钥路径不是普通文件", location=Location(file=str(path)))
    if info.st_mode & 0o077:
        raise KeyFileError(
            f"私钥文件权限为 {stat.filemode(info.st_mode)},同组或其他用户可以读取,拒绝使用",
            location=Location(file=str(path)),
            hint=f"请运行 chmod 600 '{path}'",
        )
    dir_info = path.parent.stat()
    if dir_info.st_mode & 0o077:
        raise KeyFileError(
            f"私钥所在目录 {path.parent} 的权限为 {stat.filemode(dir_info.st_mode)},"
            "应只允许本人访问(drwx------),拒绝使用",
            location=Location(file=str(path)),
            hint=f"请运行 chmod 700 '{path.parent}'",
        )


def _private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) as 0700 directories and tighten ``path`` itself."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        directory.mkdir(mode=_PRIVATE_DIR_MODE)
        os.chmod(directory, _PRIVATE_DIR_MODE)
    os.chmod(path, _PRIVATE_DIR_MODE)


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    atomic_write(path, data, mode=mode)


# ---------------------------------------------------------------------------------------------
# keys and certificates on disk


def algorithm_of(cert: x509.Certificate) -> Algorithm:
    """The algorithm of a certificate's key; new personal keys default to the CA's."""
    if isinstance(cert.public_key(), rsa.RSAPublicKey):
        return Algorithm.RSA3072
    return Algorithm.ECDSA_P256


def generate_private_key(algorithm: Algorithm) -> SigningKey:
    if algorithm is Algorithm.RSA3072:
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    return ec.generate_private_key(ec.SECP256R1())


def encrypt_private_key(key: SigningKey, passphrase: Passphrase) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.secret),
    )


def load_private_key(path: Path, passphrase: Passphrase) -> SigningKey:
    """Decrypt a key file after checking its permissions; a wrong passphrase is a clear error."""
    check_private_file(path)
    data = path.read_bytes()
    try:
        key = serialization.load_pem_private_key(data, password=passphrase.secret)
    except (ValueError, TypeError) as exc:
        if b"ENCRYPTED" not in data:
            raise KeyFileError(
                "私钥文件没有加密或格式不对,拒绝使用",
                location=Location(file=str(path)),
                hint="请用 docgen keys rotate 重新生成密钥",
            ) from exc
        raise PassphraseError(
            f"口令不正确(来自{passphrase.source}),无法打开私钥",
            location=Location(file=str(path)),
            hint="请检查口令后重试;口令无法找回,遗忘时请用 docgen keys rotate 重新签发",
        ) from exc
    except UnsupportedAlgorithm as exc:
        raise KeyFileError("私钥算法不受支持", location=Location(file=str(path))) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise KeyFileError(
            "私钥类型不受支持(只支持 ECDSA 和 RSA)", location=Location(file=str(path))
        )
    return key


def load_certificate(path: Path) -> x509.Certificate:
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise DocgenError("证书文件不存在", location=Location(file=str(path))) from exc
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except (ValueError, x509.InvalidVersion) as exc:
        raise ValidationError(f"证书文件无法解析:{exc}", location=Location(file=str(path))) from exc


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def same_public_key(key: SigningKey, cert: x509.Certificate) -> bool:
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    return key.public_key().public_bytes(der, spki) == cert.public_key().public_bytes(der, spki)


def _ski(cert: x509.Certificate) -> bytes | None:
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
    aki, ski = _aki(cert), _ski(ca_cert)
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


# ---------------------------------------------------------------------------------------------
# the root CA


@dataclass(frozen=True)
class CaResult:
    cert: x509.Certificate
    cert_path: Path
    key_path: Path
    crl_path: Path
    fingerprint: str


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
    _validate_days(days, "根证书有效期")
    require_new_strength(passphrase, what="根证书口令")
    start = _second(now)
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
    crl = _build_crl(cert, key, entries=(), number=1, now=start, days=CRL_DAYS_DEFAULT)
    _private_dir(paths.directory)
    _write_atomic(paths.key, encrypt_private_key(key, passphrase), _PRIVATE_FILE_MODE)
    _write_atomic(paths.cert, _pem(cert), _PUBLIC_FILE_MODE)
    _write_crl(paths, crl)
    return CaResult(
        cert=cert,
        cert_path=paths.cert,
        key_path=paths.key,
        crl_path=paths.crl_pem,
        fingerprint=fingerprint(cert),
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


# ---------------------------------------------------------------------------------------------
# CRL


def _build_crl(
    ca_cert: x509.Certificate,
    ca_key: SigningKey,
    *,
    entries: Iterable[x509.RevokedCertificate],
    number: int,
    now: datetime,
    days: int,
) -> x509.CertificateRevocationList:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(_second(now))
        .next_update(_second(now) + timedelta(days=days))
        .add_extension(x509.CRLNumber(number), critical=False)
    )
    ski = _ski(ca_cert)
    if ski is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier(
                key_identifier=ski, authority_cert_issuer=None, authority_cert_serial_number=None
            ),
            critical=False,
        )
    for entry in sorted(entries, key=lambda e: e.serial_number):
        builder = builder.add_revoked_certificate(entry)
    return builder.sign(ca_key, hashes.SHA256())


def _revoked_entry(
    serial: int, revoked_at: datetime, reason: RevocationReason
) -> x509.RevokedCertificate:
    builder = (
        x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(_second(revoked_at))
    )
    if reason is not RevocationReason.UNSPECIFIED:
        builder = builder.add_extension(x509.CRLReason(reason.flag), critical=False)
    return builder.build()


def _crl_number(crl: x509.CertificateRevocationList) -> int:
    try:
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        return 0


def _write_crl(paths: CaPaths, crl: x509.CertificateRevocationList) -> None:
    _write_atomic(paths.crl_der, crl.public_bytes(serialization.Encoding.DER), _PUBLIC_FILE_MODE)
    _write_atomic(paths.crl_pem, crl.public_bytes(serialization.Encoding.PEM), _PUBLIC_FILE_MODE)


def load_crl(
    path: Path, *, ca_cert: x509.Certificate | None = None
) -> x509.CertificateRevocationList:
    """Read a CRL (PEM or DER); with ``ca_cert``, also check that this CA signed it."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise DocgenError(
            "证书吊销列表不存在",
            location=Location(file=str(path)),
            hint="请运行 docgen keys crl 重新发布",
        ) from exc
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            crl = x509.load_pem_x509_crl(data)
        else:
            crl = x509.load_der_x509_crl(data)
    except ValueError as exc:
        raise ValidationError(
            f"证书吊销列表无法解析:{exc}", location=Location(file=str(path))
        ) from exc
    if ca_cert is not None and not crl_issued_by(crl, ca_cert):
        raise ValidationError(
            "证书吊销列表不是本单位根证书签发的(签发者或签名不符)",
            location=Location(file=str(path)),
            hint="请运行 docgen keys crl 重新发布",
        )
    return crl


_CRL_CHECKS: dict[tuple[bytes, x509.Certificate], bool] = {}
_CRL_CHECKS_MAX = 64


# The DER of the last few CRL objects seen, by identity: a verification passes the same CRL
# object for every signature. The object itself is kept, so its id cannot be reused meanwhile.
_CRL_DER: dict[int, tuple[x509.CertificateRevocationList, bytes]] = {}


def _crl_der(crl: x509.CertificateRevocationList) -> bytes:
    known = _CRL_DER.get(id(crl))
    if known is not None and known[0] is crl:
        return known[1]
    der = crl.public_bytes(serialization.Encoding.DER)
    if len(_CRL_DER) >= 8:
        _CRL_DER.clear()
    _CRL_DER[id(crl)] = (crl, der)
    return der


def crl_issued_by(crl: x509.CertificateRevocationList, ca_cert: x509.Certificate) -> bool:
    """True when ``ca_cert`` signed ``crl``; remembered per (CRL bytes, CA) in this process."""
    key = (_crl_der(crl), ca_cert)
    known = _CRL_CHECKS.get(key)
    if known is not None:
        return known
    if crl.issuer != ca_cert.subject:
        valid = False
    else:
        public = ca_cert.public_key()
        valid = isinstance(
            public, ec.EllipticCurvePublicKey | rsa.RSAPublicKey
        ) and crl.is_signature_valid(public)
    if len(_CRL_CHECKS) >= _CRL_CHECKS_MAX:
        _CRL_CHECKS.clear()
    _CRL_CHECKS[key] = valid
    return valid


def revocation_of(
    crl: x509.CertificateRevocationList, serial: int
) -> x509.RevokedCertificate | None:
    return crl.get_revoked_certificate_by_serial_number(serial)


def is_revoked(crl: x509.CertificateRevocationList, serial: int, at: datetime) -> bool:
    """True when the CRL lists ``serial`` as revoked at or before ``at``."""
    entry = revocation_of(crl, serial)
    return entry is not None and entry.revocation_date_utc <= utc(at)


def revocation_reason(entry: x509.RevokedCertificate) -> RevocationReason:
    try:
        flag = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    except x509.ExtensionNotFound:
        return RevocationReason.UNSPECIFIED
    for reason, reason_flag in _REASON_FLAGS.items():
        if reason_flag == flag:
            return reason
    return RevocationReason.UNSPECIFIED


@dataclass(frozen=True)
class CrlResult:
    crl: x509.CertificateRevocationList
    pem_path: Path
    der_path: Path
    number: int
    revoked_count: int


def workspace_crl(
    keys_dir: Path, ca_cert: x509.Certificate
) -> x509.CertificateRevocationList | None:
    """The workspace's CRL, checked against the CA; ``None`` when none has been published."""
    return _current_crl(keys_dir, ca_cert)


def _current_crl(
    keys_dir: Path, ca_cert: x509.Certificate
) -> x509.CertificateRevocationList | None:
    path = ca_paths(keys_dir).crl_pem
    if not path.exists():
        return None
    return load_crl(path, ca_cert=ca_cert)


def publish_crl(
    keys_dir: Path,
    *,
    ca_passphrase: Passphrase,
    now: datetime,
    days: int = CRL_DAYS_DEFAULT,
) -> CrlResult:
    """Re-sign the CRL with a fresh date and the next CRL number, keeping every entry."""
    _validate_days(days, "吊销列表有效期")
    ca_cert = load_ca_certificate(keys_dir)
    ca_key = load_ca_key(keys_dir, ca_passphrase, ca_cert)
    current = _current_crl(keys_dir, ca_cert)
    entries: list[x509.RevokedCertificate] = list(current) if current is not None else []
    number = (_crl_number(current) if current is not None else 0) + 1
    crl = _build_crl(ca_cert, ca_key, entries=entries, number=number, now=now, days=days)
    paths = ca_paths(keys_dir)
    _write_crl(paths, crl)
    return CrlResult(crl, paths.crl_pem, paths.crl_der, number, len(entries))


# ---------------------------------------------------------------------------------------------
# personal certificates


def certificate_record(person_id: str, cert: x509.Certificate) -> dict[str, Any]:
    """The registry's ``certificate`` record for a newly issued certificate."""
    return {
        "type": "certificate",
        "person": person_id,
        "cert_fingerprint": fingerprint(cert),
        "serial": serial_hex(cert),
        "not_before": iso_z(cert.not_valid_before_utc),
        "not_after": iso_z(cert.not_valid_after_utc),
    }


def revocation_record(
    person_id: str, cert: x509.Certificate, reason: RevocationReason, revoked_at: datetime
) -> dict[str, Any]:
    """The registry's ``revocation`` record."""
    return {
        "type": "revocation",
        "person": person_id,
        "cert_fingerprint": fingerprint(cert),
        "serial": serial_hex(cert),
        "reason": reason.value,
        "revoked_at": iso_z(revoked_at),
    }


@dataclass(frozen=True)
class IssuedCertificate:
    person_id: str
    name: str
    cert: x509.Certificate
    cert_path: Path
    key_path: Path
    record: dict[str, Any]
    replaced_serial: str | None = None  # set by rotate: the serial moved to old/

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.cert)

    @property
    def serial(self) -> str:
        return serial_hex(self.cert)


@dataclass(frozen=True)
class IssueResult:
    issued: tuple[IssuedCertificate, ...]
    skipped: tuple[tuple[str, str], ...]  # (person id, reason in Chinese)

    @property
    def records(self) -> tuple[dict[str, Any], ...]:
        return tuple(item.record for item in self.issued)


def _person_certificate(
    person: Person,
    key: SigningKey,
    *,
    institution: str,
    ca_cert: x509.Certificate,
    ca_key: SigningKey,
    now: datetime,
    days: int,
) -> x509.Certificate:
    start = _second(now)
    end = min(start + timedelta(days=days), ca_cert.not_valid_after_utc)
    if end <= start:
        raise CertificateRefusedError(
            f"根证书已于 {iso_z(ca_cert.not_valid_after_utc)} 到期,不能再签发证书",
            hint="请重建根证书(docgen keys init-ca)",
        )
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, institution),
            x509.NameAttribute(NameOID.COMMON_NAME, fit_common_name(person.name)),
            x509.NameAttribute(NameOID.USER_ID, person.id),
        ]
    )
    ski = _ski(ca_cert)
    aki = (
        x509.AuthorityKeyIdentifier(
            key_identifier=ski, authority_cert_issuer=None, authority_cert_serial_number=None
        )
        if ski is not None
        else x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
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
        .add_extension(aki, critical=False)
        .sign(ca_key, hashes.SHA256())
    )


@dataclass(frozen=True)
class _CaMaterial:
    cert: x509.Certificate
    key: SigningKey


def _open_ca(keys_dir: Path, ca_passphrase: Passphrase, now: datetime) -> _CaMaterial:
    ca_cert = load_ca_certificate(keys_dir)
    problem = validity_problem(ca_cert, now)
    if problem is not None:
        raise CertificateRefusedError(
            f"根证书不可用:{problem}", location=Location(file=str(ca_paths(keys_dir).cert))
        )
    return _CaMaterial(ca_cert, load_ca_key(keys_dir, ca_passphrase, ca_cert))


def _roster_person(roster: Roster, person_id: str) -> Person:
    try:
        return roster.person(person_id)
    except KeyError as exc:
        raise UsageError(
            f"名册中没有编号为“{person_id}”的人员",
            location=Location(file=roster.source) if roster.source else None,
            hint="请用 docgen keys list 或查看名册核对编号",
        ) from exc


def issue_certificates(
    keys_dir: Path,
    roster: Roster,
    person_ids: Sequence[str] | None,
    *,
    institution: str,
    ca_passphrase: Passphrase,
    passphrase: Passphrase,
    now: datetime,
    days: int,
    algorithm: Algorithm | None = None,
) -> IssueResult:
    """Give each person (``None``: everyone in the roster) a key pair and a certificate.

    A person named explicitly who already has a certificate is refused (use :func:`rotate`);
    with ``None``, such people are skipped and listed in ``skipped``. Nothing is written for
    anyone when the CA passphrase is wrong.
    """
    _validate_days(days, "证书有效期")
    explicit = person_ids is not None
    people = (
        [_roster_person(roster, pid) for pid in person_ids]
        if person_ids is not None
        else list(roster.people)
    )
    todo: list[Person] = []
    skipped: list[tuple[str, str]] = []
    for person in people:
        paths = person_paths(keys_dir, person.id)
        if paths.cert.exists() or paths.key.exists():
            if explicit:
                raise UsageError(
                    f"{person.name}({person.id})已有证书",
                    location=Location(file=str(paths.cert)),
                    hint=f"要换新密钥请用 docgen keys rotate --person {person.id}",
                )
            skipped.append((person.id, "已有证书"))
            continue
        todo.append(person)
    if not todo:
        return IssueResult((), tuple(skipped))
    require_new_strength(passphrase)
    ca = _open_ca(keys_dir, ca_passphrase, now)
    issued = [
        _issue_one(keys_dir, person, ca, institution, passphrase, now, days, algorithm, None)
        for person in todo
    ]
    return IssueResult(tuple(issued), tuple(skipped))


def _issue_one(
    keys_dir: Path,
    person: Person,
    ca: _CaMaterial,
    institution: str,
    passphrase: Passphrase,
    now: datetime,
    days: int,
    algorithm: Algorithm | None,
    replaced: x509.Certificate | None,
) -> IssuedCertificate:
    paths = person_paths(keys_dir, person.id)
    key = generate_private_key(algorithm or algorithm_of(ca.cert))
    cert = _person_certificate(
        person, key, institution=institution, ca_cert=ca.cert, ca_key=ca.key, now=now, days=days
    )
    key_pem = encrypt_private_key(key, passphrase)
    _private_dir(paths.directory.parent)
    _private_dir(paths.directory)
    if replaced is not None:
        _private_dir(paths.old)
        _write_atomic(paths.old / f"{serial_hex(replaced)}.pem", _pem(replaced), _PUBLIC_FILE_MODE)
    _write_atomic(paths.key, key_pem, _PRIVATE_FILE_MODE)
    _write_atomic(paths.cert, _pem(cert), _PUBLIC_FILE_MODE)
    return IssuedCertificate(
        person_id=person.id,
        name=person.name,
        cert=cert,
        cert_path=paths.cert,
        key_path=paths.key,
        record=certificate_record(person.id, cert),
        replaced_serial=serial_hex(replaced) if replaced is not None else None,
    )


def rotate(
    keys_dir: Path,
    roster: Roster,
    person_id: str,
    *,
    institution: str,
    ca_passphrase: Passphrase,
    passphrase: Passphrase,
    now: datetime,
    days: int,
    algorithm: Algorithm | None = None,
) -> IssuedCertificate:
    """Issue a new key and certificate; the old certificate moves to ``old/<serial>.pem``.

    The old certificate is not revoked, so signatures made with it stay verifiable; its key file is
    replaced, so it can sign nothing more.
    """
    _validate_days(days, "证书有效期")
    person = _roster_person(roster, person_id)
    paths = person_paths(keys_dir, person.id)
    if not paths.cert.exists():
        raise UsageError(
            f"{person.name}({person.id})还没有证书,无需更换",
            location=Location(file=str(paths.cert)),
            hint=f"请用 docgen keys issue --person {person.id}",
        )
    old = load_certificate(paths.cert)
    require_new_strength(passphrase)
    ca = _open_ca(keys_dir, ca_passphrase, now)
    return _issue_one(keys_dir, person, ca, institution, passphrase, now, days, algorithm, old)


# ---------------------------------------------------------------------------------------------
# revocation


@dataclass(frozen=True)
class RevocationResult:
    person_id: str
    cert: x509.Certificate
    reason: RevocationReason
    revoked_at: datetime
    moved_to: Path
    crl: CrlResult
    record: dict[str, Any]


def revoke(
    keys_dir: Path,
    person_id: str,
    *,
    reason: RevocationReason,
    ca_passphrase: Passphrase,
    now: datetime,
    serial: str | None = None,
) -> RevocationResult:
    """Revoke a person's current certificate (or an old one by ``serial``) and publish the CRL.

    The certificate is kept under ``revoked/<serial>.pem``; a revoked current key is deleted, since
    no signature made with it after ``now`` would be accepted.
    """
    paths = person_paths(keys_dir, person_id)
    source = _find_certificate(paths, serial)
    cert = load_certificate(source)
    ca_cert = load_ca_certificate(keys_dir)
    if issued_by(cert, ca_cert) is not None:
        raise CertificateRefusedError(
            "这张证书不是本单位根证书签发的,不能吊销", location=Location(file=str(source))
        )
    ca_key = load_ca_key(keys_dir, ca_passphrase, ca_cert)
    current = _current_crl(keys_dir, ca_cert)
    entries: list[x509.RevokedCertificate] = list(current) if current is not None else []
    cpaths = ca_paths(keys_dir)
    listed = revocation_of(current, cert.serial_number) if current is not None else None
    if current is not None and listed is not None:
        # Already on the CRL (an earlier run stopped before moving the files): finish the move,
        # keeping the recorded date and reason.
        crl, number = current, _crl_number(current)
        revoked_at, reason = listed.revocation_date_utc, revocation_reason(listed)
    else:
        revoked_at = _second(now)
        entries.append(_revoked_entry(cert.serial_number, revoked_at, reason))
        number = (_crl_number(current) if current is not None else 0) + 1
        crl = _build_crl(
            ca_cert, ca_key, entries=entries, number=number, now=now, days=CRL_DAYS_DEFAULT
        )
        _write_crl(cpaths, crl)
    _private_dir(paths.revoked)
    target = paths.revoked / f"{serial_hex(cert)}.pem"
    _write_atomic(target, _pem(cert), _PUBLIC_FILE_MODE)
    source.unlink()
    if source == paths.cert:
        paths.key.unlink(missing_ok=True)
    return RevocationResult(
        person_id=person_id,
        cert=cert,
        reason=reason,
        revoked_at=revoked_at,
        moved_to=target,
        crl=CrlResult(crl, cpaths.crl_pem, cpaths.crl_der, number, len(entries)),
        record=revocation_record(person_id, cert, reason, revoked_at),
    )


def _find_certificate(paths: PersonPaths, serial: str | None) -> Path:
    if serial is None:
        if not paths.cert.exists():
            raise UsageError(
                "此人没有在用的证书",
                location=Location(file=str(paths.cert)),
                hint="用 docgen keys list 查看各人证书",
            )
        return paths.cert
    wanted = serial.lower().removeprefix("0x")
    if paths.cert.exists() and serial_hex(load_certificate(paths.cert)) == wanted:
        return paths.cert
    candidate = paths.old / f"{wanted}.pem"
    if candidate.exists():
        return candidate
    raise UsageError(
        f"找不到序列号为 {serial} 的证书",
        location=Location(file=str(paths.directory)),
        hint="用 docgen keys list --history 查看序列号",
    )


# ---------------------------------------------------------------------------------------------
# listing


class CertState(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    REVOKED = "revoked"
    NONE = "none"

    @property
    def label(self) -> str:
        return {
            CertState.VALID: "有效",
            CertState.EXPIRED: "已过期",
            CertState.NOT_YET_VALID: "尚未生效",
            CertState.REVOKED: "已吊销",
            CertState.NONE: "无证书",
        }[self]


class CertSlot(StrEnum):
    CURRENT = "current"
    OLD = "old"
    REVOKED = "revoked"

    @property
    def label(self) -> str:
        return {CertSlot.CURRENT: "在用", CertSlot.OLD: "已更换", CertSlot.REVOKED: "已吊销"}[self]


@dataclass(frozen=True)
class KeyListing:
    person_id: str
    name: str | None
    slot: CertSlot | None
    state: CertState
    serial: str | None = None
    fingerprint: str | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    revoked_at: datetime | None = None
    has_key: bool = False
    in_roster: bool = True


def list_keys(
    keys_dir: Path,
    *,
    now: datetime,
    crl: x509.CertificateRevocationList | None,
    roster: Roster | None = None,
) -> tuple[KeyListing, ...]:
    """Everyone's certificates (current, replaced, revoked).

    A person without a current certificate gets one row with ``slot=None`` (state ``none``).
    """
    people_dir = keys_dir / PEOPLE_DIR
    on_disk = (
        sorted(p.name for p in people_dir.iterdir() if p.is_dir()) if people_dir.is_dir() else []
    )
    names = {p.id: p.name for p in roster.people} if roster is not None else {}
    order = [p.id for p in roster.people] if roster is not None else []
    order += [pid for pid in on_disk if pid not in names]
    rows: list[KeyListing] = []
    for pid in order:
        paths = person_paths(keys_dir, pid)
        found: list[tuple[CertSlot, Path]] = []
        if paths.cert.exists():
            found.append((CertSlot.CURRENT, paths.cert))
        for slot, folder in ((CertSlot.OLD, paths.old), (CertSlot.REVOKED, paths.revoked)):
            if folder.is_dir():
                found.extend((slot, f) for f in sorted(folder.glob("*.pem")))
        if not paths.cert.exists():
            # the "no current certificate" row; replaced or revoked ones follow it
            name = names.get(pid)
            if name is None and found:
                name = common_name_of(load_certificate(found[0][1]))
            rows.append(KeyListing(pid, name, None, CertState.NONE, in_roster=pid in names))
        for slot, path in found:
            cert = load_certificate(path)
            entry = revocation_of(crl, cert.serial_number) if crl is not None else None
            revoked_at = entry.revocation_date_utc if entry is not None else None
            if slot is CertSlot.REVOKED or (revoked_at is not None and revoked_at <= utc(now)):
                state = CertState.REVOKED
            elif utc(now) < cert.not_valid_before_utc:
                state = CertState.NOT_YET_VALID
            elif utc(now) > cert.not_valid_after_utc:
                state = CertState.EXPIRED
            else:
                state = CertState.VALID
            rows.append(
                KeyListing(
                    person_id=pid,
                    name=names.get(pid) or common_name_of(cert),
                    slot=slot,
                    state=state,
                    serial=serial_hex(cert),
                    fingerprint=fingerprint(cert),
                    not_before=cert.not_valid_before_utc,
                    not_after=cert.not_valid_after_utc,
                    revoked_at=revoked_at,
                    has_key=slot is CertSlot.CURRENT and paths.key.exists(),
                    in_roster=pid in names,
                )
            )
    return tuple(rows)


# ---------------------------------------------------------------------------------------------
# the signer


@dataclass(frozen=True)
class Signer:
    key: SigningKey
    cert: x509.Certificate
    person_id: str

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.cert)


def load_signer(
    ws_keys_dir: Path,
    person_id: str,
    passphrase: Passphrase,
    *,
    now: datetime,
    ca_cert: x509.Certificate | None = None,
    crl: x509.CertificateRevocationList | None = None,
    workspace_crl: x509.CertificateRevocationList | Literal["read"] | None = "read",
) -> Signer:
    """Open a person's key for signing, refusing anything that would make a bad signature.

    Refused with a Chinese message: unsafe key file modes, a certificate from another CA, not yet
    valid, expired or revoked at ``now``, a wrong passphrase, a key that does not match the
    certificate. Nothing is written. ``ca_cert`` defaults to ``keys/ca/ca.pem``; the workspace's
    CRL (``keys/ca/crl.pem``, checked against the CA) is always consulted when it exists, in
    addition to ``crl`` when one is given; a caller that opens many keys under the workspace lock
    reads it once with :func:`workspace_crl` and passes it as ``workspace_crl``.
    """
    if ca_cert is None:
        ca_cert = load_ca_certificate(ws_keys_dir)
    crls = [crl] if crl is not None else []
    if workspace_crl == "read":
        workspace_crl = _current_crl(ws_keys_dir, ca_cert)
    if workspace_crl is not None:
        crls.append(workspace_crl)
    paths = person_paths(ws_keys_dir, person_id)
    if not paths.cert.exists():
        raise UsageError(
            f"人员 {person_id} 没有在用的证书",
            location=Location(file=str(paths.cert)),
            hint=f"请先运行 docgen keys issue --person {person_id}",
        )
    cert = load_certificate(paths.cert)
    where = Location(file=str(paths.cert))
    foreign = issued_by(cert, ca_cert)
    if foreign is not None:
        raise CertificateRefusedError(
            f"{foreign},拒绝签名",
            location=where,
            hint="请用本单位根证书重新签发(docgen keys rotate)",
        )
    cert_person = person_id_of(cert)
    if cert_person is not None and cert_person != person_id:
        raise CertificateRefusedError(
            f"证书属于人员 {cert_person},不是 {person_id},拒绝签名", location=where
        )
    for revocations in crls:
        entry = revocation_of(revocations, cert.serial_number)
        if entry is not None and entry.revocation_date_utc <= utc(now):
            raise CertificateRefusedError(
                f"证书(序列号 {serial_hex(cert)})已于 {iso_z(entry.revocation_date_utc)} 吊销"
                f"({revocation_reason(entry).label}),拒绝签名",
                location=where,
                hint=f"请重新签发证书:docgen keys issue --person {person_id}",
            )
    problem = validity_problem(cert, now)
    if problem is not None:
        raise CertificateRefusedError(
            f"{problem},拒绝签名",
            location=where,
            hint=f"请更换证书:docgen keys rotate --person {person_id}",
        )
    key = load_private_key(paths.key, passphrase)
    if not same_public_key(key, cert):
        raise CertificateRefusedError(
            "私钥与证书不匹配,拒绝签名",
            location=Location(file=str(paths.key)),
            hint=f"请重新生成密钥和证书:docgen keys rotate --person {person_id}",
        )
    return Signer(key=key, cert=cert, person_id=person_id)


__all__ = [
    "Algorithm",
    "CaResult",
    "CertSlot",
    "CertState",
    "CertificateRefusedError",
    "CrlResult",
    "IssueResult",
    "IssuedCertificate",
    "KeyFileError",
    "KeyListing",
    "PassphraseError",
    "RevocationReason",
    "RevocationResult",
    "Signer",
    "SigningKey",
    "ca_paths",
    "certificate_record",
    "check_private_file",
    "fingerprint",
    "init_ca",
    "is_revoked",
    "issue_certificates",
    "list_keys",
    "load_ca_certificate",
    "load_ca_key",
    "load_certificate",
    "load_crl",
    "load_private_key",
    "load_signer",
    "person_paths",
    "publish_crl",
    "revocation_record",
    "revoke",
    "rotate",
    "serial_hex",
]
