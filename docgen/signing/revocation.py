"""Revoking a certificate and re-publishing the CRL: the two ways the CA changes its CRL.

Both take ``now`` instead of reading the clock and the registry's :class:`RevocationState` instead
of reading the registry: a new CRL's number is one more than the highest ever registered (or than
the file's, if an unregistered newer file exists), and it lists every serial revoked in the
registry or in the file, so a stale ``crl.pem`` put back can neither lower the number nor drop a
revocation. They return the registry records (``revocation``, ``crl``) for the caller to append;
this module never touches the registry.
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
    crl_record,
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
from docgen.signing.revocation_state import RevocationState
from docgen.signing.x509util import (
    CertificateRefusedError,
    RevocationReason,
    SigningKey,
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
    record: dict[str, Any]  # the ``revocation`` record
    records: tuple[dict[str, Any], ...]  # what to append: ``revocation`` unless known, ``crl``


# (revocation time, reason) of each revoked serial
_Listing = dict[int, tuple[datetime, RevocationReason]]


def _listing(
    registered: RevocationState, current: x509.CertificateRevocationList | None
) -> _Listing:
    """Every serial revoked in the registry or in the workspace CRL, at the earliest time any
    of them gives."""
    found: _Listing = {s: (r.revoked_at, r.reason) for s, r in registered.revoked.items()}
    for entry in current if current is not None else ():
        known = found.get(entry.serial_number)
        if known is None or entry.revocation_date_utc < known[0]:
            found[entry.serial_number] = (entry.revocation_date_utc, revocation_reason(entry))
    return found


def _next_number(
    registered: RevocationState, current: x509.CertificateRevocationList | None
) -> int:
    """One more than the highest CRL number registered or in the workspace file (a newer file
    left unregistered by an interrupted command may have been seen by someone already)."""
    on_file = crl_number(current) if current is not None else 0
    return max(registered.highest_number, on_file) + 1


def _issue(
    keys_dir: Path,
    ca_cert: x509.Certificate,
    ca_key: SigningKey,
    listing: _Listing,
    number: int,
    *,
    now: datetime,
    days: int,
) -> CrlResult:
    entries = [revoked_entry(serial, at, reason) for serial, (at, reason) in listing.items()]
    crl = build_crl(ca_cert, ca_key, entries=entries, number=number, now=now, days=days)
    paths = ca_paths(keys_dir)
    write_crl(paths, crl)
    return CrlResult(
        crl, paths.crl_pem, paths.crl_der, number, len(entries), crl_record(crl, ca_cert)
    )


def revoke(
    keys_dir: Path,
    person_id: str,
    *,
    reason: RevocationReason,
    ca_passphrase: Passphrase,
    now: datetime,
    registered: RevocationState,
    serial: str | None = None,
) -> RevocationResult:
    """Revoke a person's current certificate (or an old one by ``serial``) and publish the CRL.

    The certificate is kept under ``revoked/<serial>.pem``; a revoked current key is deleted, since
    no signature made with it after ``now`` would be accepted. A certificate already revoked (in
    the registry or the workspace CRL: an earlier run stopped before moving the files) keeps its
    recorded time and reason. A new CRL is issued either way.
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
    listing = _listing(registered, current)
    revoked_at, reason = listing.setdefault(cert.serial_number, (utc_second(now), reason))
    result = _issue(
        keys_dir,
        ca_cert,
        ca_key,
        listing,
        _next_number(registered, current),
        now=now,
        days=CRL_DAYS_DEFAULT,
    )
    make_private_dir(paths.revoked)
    target = paths.revoked / f"{serial_hex(cert)}.pem"
    write_atomic(target, certificate_pem(cert), PUBLIC_FILE_MODE)
    source.unlink()
    if source == paths.cert:
        paths.key.unlink(missing_ok=True)
    record = revocation_record(person_id, cert, reason, revoked_at)
    known = cert.serial_number in registered.recorded
    return RevocationResult(
        person_id=person_id,
        cert=cert,
        reason=reason,
        revoked_at=revoked_at,
        moved_to=target,
        crl=result,
        record=record,
        records=(result.record,) if known else (record, result.record),
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
    registered: RevocationState,
    days: int = CRL_DAYS_DEFAULT,
) -> CrlResult:
    """Re-sign the CRL with a fresh date and the next CRL number, keeping every revocation
    the registry or the workspace CRL knows; the result's ``record`` is to be appended."""
    require_positive_days(days, "吊销列表有效期")
    ca_cert = load_ca_certificate(keys_dir)
    ca_key = load_ca_key(keys_dir, ca_passphrase, ca_cert)
    current = workspace_crl(keys_dir, ca_cert)
    return _issue(
        keys_dir,
        ca_cert,
        ca_key,
        _listing(registered, current),
        _next_number(registered, current),
        now=now,
        days=days,
    )
