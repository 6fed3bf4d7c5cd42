"""The witness on a PostgreSQL registry: the database owner drops the triggers and deletes the
newest rows and checkpoint (the log rolled back to an older, validly signed state); the witness
refuses to cosign."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import run_docgen
from registry_support import PostgresServer, document, make_workspace, tamper

from docgen.registry import open_registry

NOW = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)


def test_witness_refuses_a_postgres_log_rolled_back_by_its_owner(
    postgres_server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = postgres_server.new_database_url()
    monkeypatch.setenv("DOCGEN_DATABASE_URL", url)
    monkeypatch.setenv("DOCGEN_WITNESS_PASSPHRASE", "见证方口令-2027")
    monkeypatch.setenv("DOCGEN_NOW", "2027-01-06T10:00:00+00:00")
    ws = make_workspace(tmp_path / "ws")
    with open_registry(ws) as reg:
        reg.append([document(i) for i in range(5)], now=NOW)
    witness = tmp_path / "witness"
    assert (
        run_docgen("registry", "witness", "init", "--name", "市院/见证", "--dir", str(witness)).code
        == 0
    )
    vkey = (ws.keys_dir / "registry" / "registry.vkey").read_text(encoding="utf-8").strip()
    args = ("registry", "witness", "cosign", "--dir", str(witness), "--log", str(ws.root))
    first = run_docgen(*args, "--log-key", vkey)
    assert first.code == 0, first.text
    with open_registry(ws) as reg:
        reg.append([document(i) for i in range(5, 9)], now=NOW + timedelta(minutes=1))
    second = run_docgen(*args)
    assert second.code == 0 and "大小 9" in second.out, second.text
    tamper(
        ws,
        url,
        [
            ("DELETE FROM registry_entries WHERE idx >= ?", (5,)),
            ("DELETE FROM registry_checkpoints WHERE size > ?", (5,)),
        ],
    )
    with open_registry(ws) as reg:
        assert reg.size() == 5
    result = run_docgen(*args)
    assert result.code == 1, result.text
    assert "发现回滚" in result.err and "已副署的检查点大小 9" in result.err
