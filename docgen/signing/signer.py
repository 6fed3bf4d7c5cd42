"""Opening a person's key for signing, with every check that keeps a bad signature from being made.

Nothing is written. Checked in this order: the workspace CRL is the newest one the registry holds
(not an older file put back, not an unregistered or altered one); the certificate's issuer and
owner; that no registered ``crl`` or ``revocation`` entry, nor the workspace CRL, lists it; its
validity; that the CRL has not expired; the key file's mode, the passphrase and the key's match
with the certificate.
A key still waiting for its owner's PIN (:mod:`docgen.signing.activation`) signs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from cryptography import x509

from docgen.core.errors import Location, UsageError
from docgen.signing.activation import require_active
from docgen.signing.ca import load_ca_certificate
from docgen.signing.crl import revocation_of, revocation_reason
from docgen.signing.keyfiles import load_certificate, load_private_key, person_paths
from docgen.signing.passphrase import Passphrase
from docgen.signing.revocation_state import (
    CheckedCrl,
    RevocationState,
    checked_workspace_crl,
    require_fresh,
)
from docgen.signing.x509util import (
    CertificateRefusedError,
    SigningKey,
    fingerprint,
    iso_z,
    issued_by,
    person_id_of,
    same_public_key,
    serial_hex,
    validity_problem,
)


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
    registered: RevocationState,
    ca_cert: x509.Certificate | None = None,
    crl: x509.CertificateRevocationList | None = None,
    workspace_crl: CheckedCrl | Literal["read"] = "read",
) -> Signer:
    """Open a person's key for signing, refusing anything that would make a bad signature.

    Refused with a Chinese message: a workspace CRL (``keys/ca/crl.pem``) that is missing, not
    the newest CRL in the registry (``registered``, read once per command with
    :func:`docgen.signing.revocation_state.read_revocation_state`) or expired at ``now``; a
    certificate from another CA, of another person, revoked in the registry, the workspace CRL
    or ``crl`` (whatever the time: the registry would not take a signature dated before an entry
    it holds), not yet valid or expired at ``now``; unsafe key file modes, a wrong passphrase, a
    key that does not match the certificate. Nothing is written. ``ca_cert`` defaults to
    ``keys/ca/ca.pem``; a caller that opens many keys under the workspace lock checks the CRL
    once with :func:`~docgen.signing.revocation_state.checked_workspace_crl` and passes it as
    ``workspace_crl``.
    """
    if ca_cert is None:
        ca_cert = load_ca_certificate(ws_keys_dir)
    checked = (
        checked_workspace_crl(ws_keys_dir, ca_cert, registered, now=None)
        if workspace_crl == "read"
        else workspace_crl
    )
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
    revoked = _revocation(cert, registered, [checked.crl, *([crl] if crl is not None else [])])
    if revoked is not None:
        raise CertificateRefusedError(
            f"证书(序列号 {serial_hex(cert)})已于 {revoked[0]} 吊销({revoked[1]}),拒绝签名",
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
    require_fresh(checked.crl, checked.path, now)
    require_active(ws_keys_dir, person_id)  # a key still under its activation code
    key = load_private_key(paths.key, passphrase)
    if not same_public_key(key, cert):
        raise CertificateRefusedError(
            "私钥与证书不匹配,拒绝签名",
            location=Location(file=str(paths.key)),
            hint=f"请重新生成密钥和证书:docgen keys rotate --person {person_id}",
        )
    return Signer(key=key, cert=cert, person_id=person_id)


def _revocation(
    cert: x509.Certificate,
    registered: RevocationState,
    crls: list[x509.CertificateRevocationList],
) -> tuple[str, str] | None:
    """When and why ``cert`` was revoked, as the registry (first) or a CRL says; else ``None``."""
    known = registered.revocation(cert.serial_number)
    if known is not None:
        return iso_z(known.revoked_at), f"{known.reason.label},见{known.source}"
    for revocations in crls:
        entry = revocation_of(revocations, cert.serial_number)
        if entry is not None:
            return iso_z(entry.revocation_date_utc), revocation_reason(entry).label
    return None
