"""The ``keys`` commands' registry side: every issuance, revocation and CRL becomes an entry.

Each function here opens the registry, reads its :class:`RevocationState` once, does the work
with :mod:`docgen.signing.ca`, :mod:`~docgen.signing.certificates` or
:mod:`~docgen.signing.revocation`, and appends the resulting records in one transaction — a
revocation and the CRL that lists it go in together.

Files are written before the registry append, so a process killed in between leaves files the
registry does not know: a revoked certificate whose ``revocation`` record is missing, or a CRL
newer than the newest registered one. Signing refuses such a CRL; the next ``keys`` command that
writes to the registry first appends what is missing (:func:`catch_up`), with the revocation time
and reason taken from the CRL itself, and says so. A CRL is caught up only when it is newer than
every registered CRL and lists every revocation the registry knows: an older file put back, or
one that drops a revocation, is never registered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509

from docgen.core.errors import Location, UsageError
from docgen.core.workspace import Workspace
from docgen.registry import Registry, open_registry
from docgen.signing import ca, revocation
from docgen.signing.ca import load_ca_certificate
from docgen.signing.crl import (
    CrlResult,
    crl_number,
    crl_record,
    crl_sha256,
    load_crl,
    revocation_of,
    revocation_reason,
)
from docgen.signing.keyfiles import PEOPLE_DIR, REVOKED_DIR, ca_paths, load_certificate
from docgen.signing.passphrase import Passphrase
from docgen.signing.revocation import RevocationResult, revocation_record
from docgen.signing.revocation_state import RevocationState, judge_crl, read_revocation_state
from docgen.signing.x509util import Algorithm, RevocationReason, serial_hex


def missing_revocations(ws: Workspace, registry: Registry) -> list[dict[str, Any]]:
    """Revocation records for certificates in the CRL that the registry does not list yet."""
    paths = ca_paths(ws.keys_dir)
    if not paths.crl_pem.exists() or not paths.cert.exists():
        return []
    crl = load_crl(paths.crl_pem, ca_cert=load_ca_certificate(ws.keys_dir))
    known = {e.record.get("serial") for e in registry.entries(type="revocation")}
    records: list[dict[str, Any]] = []
    people = ws.keys_dir / PEOPLE_DIR
    for cert_path in sorted(people.glob(f"*/{REVOKED_DIR}/*.pem")):
        cert = load_certificate(cert_path)
        if serial_hex(cert) in known:
            continue
        entry = revocation_of(crl, cert.serial_number)
        if entry is None:
            continue
        person_id = cert_path.parent.parent.name
        records.append(
            revocation_record(person_id, cert, revocation_reason(entry), entry.revocation_date_utc)
        )
    return records


def missing_crl(
    keys_dir: Path, ca_cert: x509.Certificate, state: RevocationState
) -> dict[str, Any] | None:
    """The ``crl`` record of the workspace CRL when it is safe to register it late: this CA's,
    not registered, numbered above every registered CRL, listing every serial the registry
    knows as revoked. ``None`` otherwise (signing then refuses the file)."""
    path = ca_paths(keys_dir).crl_pem
    if not path.exists():
        return None
    crl = load_crl(path, ca_cert=ca_cert)
    if state.registered(crl_sha256(crl)) is not None or crl_number(crl) <= state.highest_number:
        return None
    listed = {entry.serial_number for entry in crl}
    if not set(state.revoked) <= listed:
        return None
    return crl_record(crl, ca_cert)


@dataclass(frozen=True)
class CatchUp:
    """What an earlier, interrupted command left unregistered and this one appends first."""

    revocations: tuple[dict[str, Any], ...] = ()
    crl: dict[str, Any] | None = None

    @property
    def records(self) -> list[dict[str, Any]]:
        return [*self.revocations, *([self.crl] if self.crl is not None else [])]

    def notes(self) -> list[str]:
        """One Chinese line per kind of record caught up."""
        lines: list[str] = []
        if self.revocations:
            lines.append(f"补记此前中断、未记入登记簿的证书吊销 {len(self.revocations)} 条。")
        if self.crl is not None:
            lines.append(f"补记此前未记入登记簿的吊销列表第 {self.crl['number']} 号。")
        return lines


def catch_up(
    ws: Workspace, registry: Registry, state: RevocationState, ca_cert: x509.Certificate
) -> CatchUp:
    """The records to append before this command's own."""
    revocations = tuple(missing_revocations(ws, registry))
    return CatchUp(revocations, missing_crl(ws.keys_dir, ca_cert, state))


def register(ws: Workspace, records: Sequence[dict[str, Any]], now: datetime) -> CatchUp:
    """Append ``records`` (issued certificates), after whatever an interrupted command left."""
    with open_registry(ws) as registry:
        ca_cert = load_ca_certificate(ws.keys_dir)
        state = read_revocation_state(registry, ca_cert)
        caught = catch_up(ws, registry, state, ca_cert)
        todo = [*caught.records, *records]
        if todo:
            registry.append(todo, now=now)
    return caught


def init_ca(
    ws: Workspace,
    *,
    passphrase: Passphrase,
    now: datetime,
    algorithm: Algorithm,
    days: int,
) -> ca.CaResult:
    """Create the root CA and register its first CRL."""
    result = ca.init_ca(
        ws.keys_dir,
        institution=ws.config.institution,
        passphrase=passphrase,
        now=now,
        algorithm=algorithm,
        days=days,
    )
    with open_registry(ws) as registry:
        registry.append(list(result.records), now=now)
    return result


def register_existing_ca(ws: Workspace, now: datetime) -> CatchUp:
    """``keys init-ca`` where the root exists: register what the registry lacks (a workspace
    made before CRLs were registered has its current CRL recorded now); refuse when nothing is
    missing, as the root is never overwritten."""
    paths = ca_paths(ws.keys_dir)
    with open_registry(ws) as registry:
        ca_cert = load_ca_certificate(ws.keys_dir)
        state = read_revocation_state(registry, ca_cert)
        caught = catch_up(ws, registry, state, ca_cert)
        if caught.records:
            registry.append(caught.records, now=now)
            return caught
        if paths.crl_pem.exists():
            judge_crl(load_crl(paths.crl_pem, ca_cert=ca_cert), state, paths.crl_pem)
    raise UsageError(
        "根证书已经存在,不会覆盖",
        location=Location(file=str(paths.cert)),
        hint="已签发的证书都依赖这个根证书;确需重建请先把 keys/ca 目录移走备份",
    )


def revoke(
    ws: Workspace,
    person_id: str,
    *,
    reason: RevocationReason,
    ca_passphrase: Passphrase,
    now: datetime,
    serial: str | None = None,
) -> tuple[RevocationResult, CatchUp]:
    """Revoke a certificate, publish the new CRL and register both in one transaction."""
    with open_registry(ws) as registry:
        ca_cert = load_ca_certificate(ws.keys_dir)
        state = read_revocation_state(registry, ca_cert)
        caught = catch_up(ws, registry, state, ca_cert)
        result = revocation.revoke(
            ws.keys_dir,
            person_id,
            reason=reason,
            ca_passphrase=ca_passphrase,
            now=now,
            registered=state,
            serial=serial,
        )
        own = serial_hex(result.cert)
        caught = CatchUp(tuple(r for r in caught.revocations if r["serial"] != own), caught.crl)
        registry.append([*caught.records, *result.records], now=now)
    return result, caught


def publish_crl(
    ws: Workspace, *, ca_passphrase: Passphrase, now: datetime, days: int
) -> tuple[CrlResult, CatchUp]:
    """Issue the next CRL (every known revocation kept) and register it."""
    with open_registry(ws) as registry:
        ca_cert = load_ca_certificate(ws.keys_dir)
        state = read_revocation_state(registry, ca_cert)
        caught = catch_up(ws, registry, state, ca_cert)
        result = revocation.publish_crl(
            ws.keys_dir, ca_passphrase=ca_passphrase, now=now, registered=state, days=days
        )
        registry.append([*caught.records, result.record], now=now)
    return result, caught
