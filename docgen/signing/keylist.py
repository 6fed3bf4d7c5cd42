"""``keys list``: everyone's certificates, current, replaced and revoked, with their state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from cryptography import x509

from docgen.core.models import Roster
from docgen.signing.crl import revocation_of
from docgen.signing.keyfiles import PEOPLE_DIR, load_certificate, person_paths
from docgen.signing.x509util import common_name_of, fingerprint, serial_hex, utc


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
