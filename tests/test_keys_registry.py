"""Issuing, rotating and revoking certificates is recorded in the registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from docgen.registry import open_registry
from docgen.workspace import find_workspace
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
