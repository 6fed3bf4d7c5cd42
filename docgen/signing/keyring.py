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
from docgen.signing import pki


def missing_revocations(ws: Workspace, registry: Registry) -> list[dict[str, Any]]:
    """Revocation records for certificates in the CRL that the registry does not list yet."""
    paths = pki.ca_paths(ws.keys_dir)
    if not paths.crl_pem.exists() or not paths.cert.exists():
        return []
    crl = pki.load_crl(paths.crl_pem, ca_cert=pki.load_ca_certificate(ws.keys_dir))
    known = {e.record.get("serial") for e in registry.entries(type="revocation")}
    records: list[dict[str, Any]] = []
    people = ws.keys_dir / pki.PEOPLE_DIR
    for cert_path in sorted(people.glob(f"*/{pki.REVOKED_DIR}/*.pem")):
        cert = pki.load_certificate(cert_path)
        if pki.serial_hex(cert) in known:
            continue
        entry = pki.revocation_of(crl, cert.serial_number)
        if entry is None:
            continue
        person_id = cert_path.parent.parent.name
        records.append(
            pki.revocation_record(
                person_id, cert, pki.revocation_reason(entry), entry.revocation_date_utc
            )
        )
    return records
