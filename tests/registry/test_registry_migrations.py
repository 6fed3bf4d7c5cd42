"""Numbered schema migrations: an old database is upgraded in one transaction where the connection
may change the tables, refused with the command to run where it may not, and a newer database is
refused (issue #17)."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from helpers import run_docgen
from registry_support import PostgresServer, document, make_workspace
from test_registry_roles import psql

from docgen.core.errors import DocgenError
from docgen.registry import migrations, open_registry
from docgen.registry.schema import roles_sql

NOW = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)


def _version_rows(path: Path) -> list[tuple[int, str]]:
    conn = sqlite3.connect(path)
    try:
        return [(int(v), str(n)) for v, n in conn.execute(
            "SELECT version, name FROM registry_migrations ORDER BY version")]  # fmt: skip
    finally:
        conn.close()


def _as_version_1(path: Path) -> None:
    """The registry as docgen wrote it before migrations existed: no registry_migrations."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("DROP TABLE registry_migrations")  # its triggers go with it
    finally:
        conn.close()


def test_an_old_sqlite_registry_is_upgraded_on_opening(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    with open_registry(ws) as registry:
        registry.append([document(i) for i in range(3)], now=NOW)
        before = [e.data for e in registry.entries()]
    assert [v for v, _ in _version_rows(ws.registry_path)] == [1, 2]
    _as_version_1(ws.registry_path)
    with open_registry(ws) as registry:
        assert [e.data for e in registry.entries()] == before
        report = registry.audit()
    assert report.ok, report.problems  # the new table's triggers are there too
    assert [v for v, _ in _version_rows(ws.registry_path)] == [1, 2]


def test_a_failing_migration_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = make_workspace(tmp_path / "ws")
    with open_registry(ws) as registry:
        registry.append([document(0)], now=NOW)
    _as_version_1(ws.registry_path)
    broken = migrations.SQLITE_STEPS[2] + "CREATE TABLE registry_meta (x INTEGER);\n"
    monkeypatch.setitem(migrations.SQLITE_STEPS, 2, broken)
    with pytest.raises(DocgenError):
        open_registry(ws)
    conn = sqlite3.connect(ws.registry_path)
    try:
        names = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()
    assert "registry_migrations" not in names  # rolled back whole
    monkeypatch.undo()
    with open_registry(ws) as registry:
        assert registry.size() == 1 and registry.audit().ok


def test_a_newer_registry_is_refused(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    with open_registry(ws) as registry:
        registry.append([document(0)], now=NOW)
    conn = sqlite3.connect(ws.registry_path, isolation_level=None)
    try:
        conn.execute("INSERT INTO registry_migrations (version, name) VALUES (3, 'future')")
    finally:
        conn.close()
    outcome = run_docgen("registry", "audit", "-w", str(ws.root))
    assert outcome.code == 1
    assert "结构版本为 3,比本程序支持的 2 新" in outcome.err
    assert len(outcome.err.strip().splitlines()) == 1


@pytest.mark.postgres
def test_an_old_postgres_registry_is_refused_to_the_office_and_upgraded_by_the_owner(
    postgres_server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suffix = uuid.uuid4().hex[:8]
    owner, writer, schema = f"owner_{suffix}", f"office_{suffix}", f"reg_{suffix}"
    # The roles and version-1 tables as the SQL of an earlier docgen made them.
    psql(postgres_server, roles_sql(owner=owner, writer=writer, schema=schema).replace(
        "GRANT SELECT ON registry_migrations", "-- (none yet)"))  # fmt: skip
    ws = make_workspace(tmp_path / "ws")
    writer_url = postgres_server.url(schema, writer)
    monkeypatch.setenv("DOCGEN_DATABASE_URL", writer_url)
    refused = run_docgen("registry", "checkpoint", "-w", str(ws.root))
    assert refused.code == 1, refused.text
    assert "结构版本为 1,本程序需要 2" in refused.err
    assert "docgen registry migrate" in refused.err
    assert len(refused.err.strip().splitlines()) == 1

    dba = make_workspace(tmp_path / "dba")
    monkeypatch.setenv("DOCGEN_DATABASE_URL", postgres_server.url(schema, owner))
    upgraded = run_docgen("registry", "migrate", "-w", str(dba.root))
    assert upgraded.code == 0, upgraded.text
    assert "从版本 1 升级到 2" in upgraded.out
    with psycopg.connect(postgres_server.url(schema), autocommit=True) as conn:
        conn.execute(f"GRANT SELECT ON registry_migrations TO {writer}")
    again = run_docgen("registry", "migrate", "-w", str(dba.root))
    assert "无需升级" in again.out

    with open_registry(ws, database_url=writer_url) as registry:
        registry.append([document(1)], now=NOW)
        report = registry.audit()
    assert report.ok, report.problems
