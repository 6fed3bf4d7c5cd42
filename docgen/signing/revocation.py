"""Revoking a certificate and re-publishing the CRL: the two ways the CA changes its CRL.

Both take ``now`` instead of reading the clock; :func:`revoke` returns the registry's
``revocation`` record for the caller to append, and this module never touches the registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509

from docgen.core.errors import Location, UsageError
from docgen.signing.ca import load_ca_certificate, load_ca_key
from docgen.signing.crl import (
    CRL_DAYS_DEFAULT,
    CrlResult,
    build_crl,
    crl_number,
    revocation_of,
    revocation_reason,
    revoked_entry,
    workspace_crl,
    write_crl,
)
from docgen.signing.keyfiles import (
    PUBLIC_FILE_MODE,
    PersonPaths,
    ca_paths,
    certificate_pem,
    load_certificate,
    make_private_dir,
    person_paths,
    write_atomic,
)
from docgen.signing.passphrase import Passphrase
from docgen.signing.x509util import (
    CertificateRefusedError,
    RevocationReason,
    fingerprint,
    iso_z,
    issued_by,
    require_positive_days,
    serial_hex,
    utc_second,
)


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
    current = workspace_crl(keys_dir, ca_cert)
    entries: list[x509.RevokedCertificate] = list(current) if current is not None else []
    cpaths = ca_paths(keys_dir)
    listed = revocation_of(current, cert.serial_number) if current is not None else None
    if current is not None and listed is not None:
        # Already on the CRL (an earlier run stopped before moving the files): finish the move,
        # keeping the recorded date and reason.
        crl, number = current, crl_number(current)
        revoked_at, reason = listed.revocation_date_utc, revocation_reason(listed)
    else:
        revoked_at = utc_second(now)
        entries.append(revoked_entry(cert.serial_number, revoked_at, reason))
        number = (crl_number(current) if current is not None else 0) + 1
        crl = build_crl(
            ca_cert, ca_key, entries=entries, number=number, now=now, days=CRL_DAYS_DEFAULT
        )
        write_crl(cpaths, crl)
    make_private_dir(paths.revoked)
    target = paths.revoked / f"{serial_hex(cert)}.pem"
    write_atomic(target, certificate_pem(cert), PUBLIC_FILE_MODE)
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


def publish_crl(
    keys_dir: Path,
    *,
    ca_passphrase: Passphrase,
    now: datetime,
    days: int = CRL_DAYS_DEFAULT,
) -> CrlResult:
    """Re-sign the CRL with a fresh date and the next CRL number, keeping every entry."""
    require_positive_days(days, "吊销列表有效期")
    ca_cert = load_ca_certificate(keys_dir)
    ca_key = load_ca_key(keys_dir, ca_passphrase, ca_cert)
    current = workspace_crl(keys_dir, ca_cert)
    entries: list[x509.RevokedCertificate] = list(current) if current is not None else []
    number = (crl_number(current) if current is not None else 0) + 1
    crl = build_crl(ca_cert, ca_key, entries=entries, number=number, now=now, days=days)
    paths = ca_paths(keys_dir)
    write_crl(paths, crl)
    return CrlResult(crl, paths.crl_pem, paths.crl_der, number, len(entries))
