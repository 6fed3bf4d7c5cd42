"""``keys reset``: a forgotten PIN (or a key that may be known to someone) gets a new key.

A PIN cannot be recovered — nobody but the person knows it, and the key file is encrypted with
it. So the office revokes the person's certificate (superseded for a forgotten PIN: the key is
lost, not exposed; key compromise when someone else may hold it or the PIN), publishes and
registers the CRL that lists it (:func:`docgen.signing.keyring.revoke`), issues a new key and
certificate encrypted with a fresh activation code (:func:`docgen.signing.activation.issue_pending`)
and records a ``key_reset`` entry (who, old and new certificate, the reason as typed). Signatures
made with the old key before the revocation stay valid; one made after it is refused by
``sign import`` and by ``verify`` (revocation is judged at the time the registry records a
signature, not at the time a signature claims).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from docgen.core.errors import Location, UsageError
from docgen.core.lock import workspace_lock
from docgen.core.workspace import Workspace
from docgen.signing import keyring
from docgen.signing.activation import MARKER_NAME, ActivationSheet, issue_pending
from docgen.signing.keyfiles import load_certificate, person_paths
from docgen.signing.passphrase import Passphrase
from docgen.signing.x509util import RevocationReason, fingerprint, iso_z, serial_hex

MAX_REASON_CHARS = 200


@dataclass(frozen=True)
class ResetOutcome:
    """What ``keys reset`` did besides the new sheet: the old certificate and the CRL."""

    sheet: ActivationSheet
    old_serial: str
    revocation: RevocationReason
    crl_number: int


def reset_record(
    person_id: str, old: dict[str, str], new: dict[str, str], reason: str,
    revocation: RevocationReason, now: datetime,
) -> dict[str, Any]:  # fmt: skip
    """The registry's ``key_reset`` record (no secret in it)."""
    return {
        "type": "key_reset",
        "person": person_id,
        "old_serial": old["serial"],
        "old_cert_fingerprint": old["fingerprint"],
        "new_serial": new["serial"],
        "cert_fingerprint": new["fingerprint"],
        "reason": reason,
        "revocation_reason": revocation.value,
        "reset_at": iso_z(now),
    }


def reset(
    ws: Workspace,
    person_id: str,
    ca_passphrase: Passphrase,
    *,
    now: datetime,
    reason: str,
    compromised: bool = False,
) -> ResetOutcome:
    """:func:`reset_key` with what the CLI reports besides the sheet."""
    text = reason.strip()
    if not text or len(text) > MAX_REASON_CHARS:
        raise UsageError(
            f"请写明重新签发的原因(1 至 {MAX_REASON_CHARS} 个字)",
            hint="例如:--reason 忘记PIN",
        )
    revocation = RevocationReason.KEY_COMPROMISE if compromised else RevocationReason.SUPERSEDED
    paths = person_paths(ws.keys_dir, person_id)
    with workspace_lock(ws.root):
        if not paths.cert.exists():
            raise UsageError(
                f"人员 {person_id} 没有在用的证书,无需重新签发",
                location=Location(file=str(paths.cert)),
                hint=f"请用 docgen keys issue --person {person_id} 签发",
            )
        old_cert = load_certificate(paths.cert)
        old = {"serial": serial_hex(old_cert), "fingerprint": fingerprint(old_cert)}
        result, _caught = keyring.revoke(
            ws, person_id, reason=revocation, ca_passphrase=ca_passphrase, now=now
        )
        (paths.directory / MARKER_NAME).unlink(missing_ok=True)  # an unused code dies too
        sheets, _skipped = issue_pending(ws, [person_id], ca_passphrase, now=now)
        sheet = sheets[0]
        new_cert = load_certificate(paths.cert)
        new = {"serial": serial_hex(new_cert), "fingerprint": fingerprint(new_cert)}
        keyring.register(ws, [reset_record(person_id, old, new, text, revocation, now)], now)
    return ResetOutcome(sheet, old["serial"], revocation, result.crl.number)


def reset_key(
    ws: Workspace, person_id: str, ca_passphrase: Passphrase, *, now: datetime, reason: str
) -> ActivationSheet:
    """A forgotten PIN: revoke the person's certificate (superseded), publish and register the
    CRL, issue a new key and certificate pending activation, register a ``key_reset`` entry;
    returns the new activation sheet. Takes the workspace lock."""
    return reset(ws, person_id, ca_passphrase, now=now, reason=reason).sheet
