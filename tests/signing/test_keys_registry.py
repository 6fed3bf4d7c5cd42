"""Issuing, rotating and revoking certificates is recorded in the registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from docgen.core.workspace import find_workspace
from docgen.registry import open_registry
from tests.helpers import run_docgen

SECRET = "registry-test-passphrase"


def test_issue_rotate_revoke_are_registered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCGEN_PASSPHRASE", SECRET)
    monkeypatch.setenv("DOCGEN_CA_PASSPHRASE", SECRET)
    monkeypatch.setenv("DOCGEN_NOW", "2027-01-05T09:00:00+00:00")
    root = tmp_path / "ws"
    assert run_docgen("init", str(root)).code == 0
    assert run_docgen("keys", "init-ca", "-w", str(root)).code == 0
    out = run_docgen("keys", "issue", "-w", str(root), "--person", "P001")
    assert out.code == 0, out.err
    monkeypatch.setenv("DOCGEN_NOW", "2027-02-01T09:00:00+00:00")
    assert run_docgen("keys", "rotate", "-w", str(root), "--person", "P001").code == 0
    monkeypatch.setenv("DOCGEN_NOW", "2027-03-01T09:00:00+00:00")
    out = run_docgen(
        "keys", "revoke", "-w", str(root), "--person", "P001", "--reason", "key_compromise"
    )
    assert out.code == 0, out.err
    with open_registry(find_workspace(root)) as registry:
        certs = [e.record for e in registry.entries(type="certificate")]
        revocations = [e.record for e in registry.entries(type="revocation")]
        assert registry.audit().ok
    assert [c["person"] for c in certs] == ["P001", "P001"]
    assert certs[0]["recorded_at"] == "2027-01-05T09:00:00Z"
    assert certs[1]["recorded_at"] == "2027-02-01T09:00:00Z"
    assert len(revocations) == 1
    assert revocations[0]["cert_fingerprint"] == certs[1]["cert_fingerprint"]
    assert revocations[0]["recorded_at"] == "2027-03-01T09:00:00Z"
    for text in (out.out, out.err):
        assert SECRET not in text


def test_a_revocation_left_unrecorded_by_a_crash_is_recorded_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``keys revoke`` killed after the CRL was published, before the registry append."""
    from datetime import UTC, datetime

    from docgen.signing.ca import load_ca_certificate
    from docgen.signing.passphrase import Passphrase
    from docgen.signing.revocation import revoke
    from docgen.signing.revocation_state import read_revocation_state
    from docgen.signing.x509util import RevocationReason

    monkeypatch.setenv("DOCGEN_PASSPHRASE", SECRET)
    monkeypatch.setenv("DOCGEN_CA_PASSPHRASE", SECRET)
    monkeypatch.setenv("DOCGEN_NOW", "2027-01-05T09:00:00+00:00")
    root = tmp_path / "ws"
    assert run_docgen("init", str(root)).code == 0
    assert run_docgen("keys", "init-ca", "-w", str(root)).code == 0
    assert run_docgen("keys", "issue", "-w", str(root), "--person", "P001").code == 0
    ws = find_workspace(root)
    with open_registry(ws) as registry:
        registered = read_revocation_state(registry, load_ca_certificate(ws.keys_dir))
    # What an interrupted `keys revoke` leaves: the CRL and files changed, no registry record.
    revoke(
        ws.keys_dir,
        "P001",
        reason=RevocationReason.KEY_COMPROMISE,
        ca_passphrase=Passphrase(SECRET.encode(), "测试"),
        now=datetime(2027, 1, 6, 9, 0, tzinfo=UTC),
        registered=registered,
    )
    monkeypatch.setenv("DOCGEN_NOW", "2027-01-07T09:00:00+00:00")
    out = run_docgen("keys", "issue", "-w", str(root), "--person", "P002")
    assert out.code == 0, out.err
    assert "补记此前中断、未记入登记簿的证书吊销 1 条" in out.err
    with open_registry(ws) as registry:
        revocations = [e.record for e in registry.entries(type="revocation")]
    assert len(revocations) == 1
    assert revocations[0]["person"] == "P001"
    assert revocations[0]["revoked_at"] == "2027-01-06T09:00:00Z"
    assert revocations[0]["reason"] == "key_compromise"
    # A normal revocation says nothing about 补记 and is recorded once.
    out = run_docgen(
        "keys", "revoke", "-w", str(root), "--person", "P002", "--reason", "superseded"
    )
    assert out.code == 0, out.err
    assert "补记" not in out.err
    with open_registry(ws) as registry:
        assert len(list(registry.entries(type="revocation"))) == 2
