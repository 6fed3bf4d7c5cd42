"""Certificate revocation lists: building, writing, reading and checking the CA's CRL.

The CRL is data here: building one needs the CA's key, but deciding what goes in it (revoking a
certificate, re-publishing) is :mod:`docgen.signing.revocation`'s job. The signer and the
verifier read it through :func:`workspace_crl`, :func:`crl_issued_by` and :func:`revocation_of`.

Every CRL the CA issues is also a registry entry: :func:`crl_record` makes it (the whole DER
included, so the log alone carries every CRL) and :func:`crl_from_record` is the one way back,
refusing a record whose DER does not match its digest or its own fields.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from docgen.core.errors import DocgenError, Location, ValidationError
from docgen.signing.keyfiles import PUBLIC_FILE_MODE, CaPaths, ca_paths, write_atomic
from docgen.signing.x509util import (
    RevocationReason,
    SigningKey,
    fingerprint,
    iso_z,
    subject_key_id,
    utc,
    utc_second,
)

CRL_DAYS_DEFAULT = 180


def build_crl(
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
        .last_update(utc_second(now))
        .next_update(utc_second(now) + timedelta(days=days))
        .add_extension(x509.CRLNumber(number), critical=False)
    )
    ski = subject_key_id(ca_cert)
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


def revoked_entry(
    serial: int, revoked_at: datetime, reason: RevocationReason
) -> x509.RevokedCertificate:
    builder = (
        x509.RevokedCertificateBuilder()
        .serial_number(serial)
        .revocation_date(utc_second(revoked_at))
    )
    if reason is not RevocationReason.UNSPECIFIED:
        builder = builder.add_extension(x509.CRLReason(reason.flag), critical=False)
    return builder.build()


def crl_number(crl: x509.CertificateRevocationList) -> int:
    try:
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        return 0


def write_crl(paths: CaPaths, crl: x509.CertificateRevocationList) -> None:
    write_atomic(paths.crl_der, crl.public_bytes(serialization.Encoding.DER), PUBLIC_FILE_MODE)
    write_atomic(paths.crl_pem, crl.public_bytes(serialization.Encoding.PEM), PUBLIC_FILE_MODE)


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


_REASON_BY_FLAG = {reason.flag: reason for reason in RevocationReason}


def revocation_reason(entry: x509.RevokedCertificate) -> RevocationReason:
    try:
        flag = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    except x509.ExtensionNotFound:
        return RevocationReason.UNSPECIFIED
    return _REASON_BY_FLAG.get(flag, RevocationReason.UNSPECIFIED)


@dataclass(frozen=True)
class CrlResult:
    crl: x509.CertificateRevocationList
    pem_path: Path
    der_path: Path
    number: int
    revoked_count: int
    record: dict[str, Any]  # the registry's ``crl`` record (:func:`crl_record`)


def workspace_crl(
    keys_dir: Path, ca_cert: x509.Certificate
) -> x509.CertificateRevocationList | None:
    """The workspace's CRL, checked against the CA; ``None`` when none has been published."""
    path = ca_paths(keys_dir).crl_pem
    if not path.exists():
        return None
    return load_crl(path, ca_cert=ca_cert)


# ---------------------------------------------------------------------------------------------
# the registry's ``crl`` record


def crl_der(crl: x509.CertificateRevocationList) -> bytes:
    return _crl_der(crl)


def crl_sha256(crl: x509.CertificateRevocationList) -> str:
    """SHA-256 of the CRL's DER in lower-case hex (the ``crl`` record's ``sha256``)."""
    return hashlib.sha256(_crl_der(crl)).hexdigest()


def crl_next_update(crl: x509.CertificateRevocationList) -> datetime:
    """nextUpdate; docgen always writes one, a CRL without it is refused where it is read."""
    moment = crl.next_update_utc
    if moment is None:
        raise ValidationError(
            "证书吊销列表没有下次更新时间(nextUpdate),无法判断是否过期",
            hint="请运行 docgen keys crl 重新签发",
        )
    return moment


def _utc_text(moment: datetime) -> str:
    """:func:`iso_z` for the whole-second UTC times a CRL holds, without strftime: a CRL may
    list thousands of entries, and the newest registered one is compared entry by entry with its
    record by every signing command."""
    if moment.microsecond or moment.utcoffset() != timedelta(0):
        return iso_z(moment)
    return moment.replace(tzinfo=None).isoformat() + "Z"


def _revoked_fields(crl: x509.CertificateRevocationList) -> list[dict[str, str]]:
    return [
        {
            "serial": format(entry.serial_number, "x"),
            "revoked_at": _utc_text(entry.revocation_date_utc),
            "reason": revocation_reason(entry).value,
        }
        for entry in crl
    ]


def _crl_fields(crl: x509.CertificateRevocationList) -> dict[str, Any]:
    return {
        "type": "crl",
        "number": crl_number(crl),
        "sha256": crl_sha256(crl),
        "this_update": iso_z(crl.last_update_utc),
        "next_update": iso_z(crl_next_update(crl)),
        "revoked": _revoked_fields(crl),
    }


def crl_record(crl: x509.CertificateRevocationList, ca_cert: x509.Certificate) -> dict[str, Any]:
    """The registry's ``crl`` record of a CRL issued by ``ca_cert`` (the whole DER included)."""
    return {
        **_crl_fields(crl),
        "issuer_fingerprint": fingerprint(ca_cert),
        "der": base64.b64encode(_crl_der(crl)).decode("ascii"),
    }


_RECORD_FIELDS = ("number", "sha256", "this_update", "next_update", "revoked")


def crl_from_record(
    record: Mapping[str, Any],
    *,
    ca_cert: x509.Certificate | None = None,
    index: int | None = None,
) -> x509.CertificateRevocationList:
    """The CRL a ``crl`` record carries, after checking that its DER matches ``sha256`` and every
    field (number, dates, revoked list); with ``ca_cert``, also that ``issuer_fingerprint`` is
    this CA's and that the CA signed it. ``index`` (the entry's) only names it in errors."""
    where = "登记簿中的吊销列表记录" + (f"(第 {index} 条)" if index is not None else "")
    hint = "登记簿可能被改动;请运行 docgen registry audit 查明"

    def refuse(what: str, field: str | None = None) -> ValidationError:
        return ValidationError(f"{where}{what}", location=Location(field=field), hint=hint)

    if record.get("type") != "crl":
        raise refuse("类型不是 crl", "type")
    text = record.get("der")
    if not isinstance(text, str):
        raise refuse("缺少 DER", "der")
    try:
        der = base64.b64decode(text.encode("ascii"), validate=True)
        crl = x509.load_der_x509_crl(der)
    except (ValueError, binascii.Error, UnicodeEncodeError) as exc:
        raise refuse(f"的 DER 无法解析:{exc}", "der") from exc
    if crl.public_bytes(serialization.Encoding.DER) != der:
        raise refuse("的 DER 不是规范编码", "der")
    fields = _crl_fields(crl)
    for name in _RECORD_FIELDS:
        if record.get(name) != fields[name]:
            raise refuse(f"的字段“{name}”与其中的吊销列表不一致", name)
    if ca_cert is not None:
        if record.get("issuer_fingerprint") != fingerprint(ca_cert):
            raise refuse("不是本单位根证书签发的(issuer_fingerprint 不符)", "issuer_fingerprint")
        if not crl_issued_by(crl, ca_cert):
            raise refuse("上的签名不是本单位根证书的", "der")
    return crl
