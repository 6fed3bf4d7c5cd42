"""Keep the registry's ``revocation`` records in step with the CA's revocation list.

``keys revoke`` publishes the CRL first and records the revocation in the registry after; a process
killed in between would leave a revocation the registry does not know. Every ``keys`` command that
writes to the registry first appends any such missing record, with the revocation time and reason
taken from the CRL itself, so nothing is lost.
"""

from __future__ import annotations

from typing import Any

from docgen.core.workspace import Workspace
from docgen.registry import Registry
from docgen.signing.ca import load_ca_certificate
from docgen.signing.crl import load_crl, revocation_of, revocation_reason
from docgen.signing.keyfiles import PEOPLE_DIR, REVOKED_DIR, ca_paths, load_certificate
from docgen.signing.revocation import revocation_record
from docgen.signing.x509util import serial_hex


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
