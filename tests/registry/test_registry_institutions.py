"""Two institutions, one PostgreSQL database, colliding rosters: each has its own log (issue #17).

``docgen registry setup-db`` (run as the superuser) gives each institution a role and a schema of
the same name holding its own registry tables; the institutions' URLs carry no ``search_path``
(PostgreSQL's default ``"$user", public`` finds the schema). Both rosters are the same example
roster, so both years have the same letter ids (``2027-ZR-P001-…``). Everything the first
institution runs — generate, sign, void, ``generate --reissue``, status, audit — leaves the
second's letters, counts and signatures untouched, and the server refuses each institution's role
the other's tables. The auditor role reads every log and writes none.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from helpers import run_docgen
from registry_support import PostgresServer

from docgen.core.workspace import Workspace, find_workspace
from docgen.letters.generate import generate
from docgen.letters.workspace_init import init_workspace
from docgen.records.state import read_year_state
from docgen.registry import open_registry
from docgen.roster.example import example_roster_yaml
from docgen.roster.load import load_roster
from docgen.signing.ca import init_ca
from docgen.signing.certificates import issue_certificates
from tests.signed_year import CA_PASSPHRASE, GENERATED_AT, PERSON_PASSPHRASE, SIGNED_AT, YEAR

pytestmark = pytest.mark.postgres

URL_ENV = "DOCGEN_DATABASE_URL"


@dataclass(frozen=True)
class Shared:
    server: PostgresServer
    database: str
    owner: str
    offices: tuple[str, str]
    auditor: str

    def url(self, user: str, schema: str | None = None) -> str:
        url = f"postgresql://{user}@/{self.database}?host={self.server.socket_dir}"
        url += f"&port={self.server.port}"
        return url + (f"&options=-csearch_path%3D{schema}" if schema else "")


def _env(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv(URL_ENV, url)
    monkeypatch.setenv("DOCGEN_NOW", SIGNED_AT.isoformat())
    monkeypatch.setenv("DOCGEN_PASSPHRASE", "person-test-passphrase")


def _docgen(monkeypatch: pytest.MonkeyPatch, url: str, root: Path | None, *args: str) -> str:
    _env(monkeypatch, url)
    where = ["-w", str(root)] if root is not None else []
    outcome = run_docgen(*args, *where)
    assert outcome.code == 0, outcome.text
    return outcome.out


def _institution(root: Path, institution: str, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A workspace with its own CA, keys and letters, registered in its own log."""
    monkeypatch.setenv(URL_ENV, url)
    init_workspace(
        root, institution=institution, year=YEAR, roster_yaml=example_roster_yaml(institution)
    )
    ws = find_workspace(root)
    ca = init_ca(ws.keys_dir, institution=institution, passphrase=CA_PASSPHRASE, now=GENERATED_AT)
    issued = issue_certificates(
        ws.keys_dir, load_roster(ws.roster_path), None, institution=institution,
        ca_passphrase=CA_PASSPHRASE, passphrase=PERSON_PASSPHRASE, now=GENERATED_AT, days=730,
    )  # fmt: skip
    with open_registry(ws) as registry:
        registry.append([*ca.records, *issued.records], now=GENERATED_AT)
    generate(ws, YEAR, now=GENERATED_AT)


def _state(ws: Workspace, url: str) -> dict[str, tuple[bool, tuple[str, ...]]]:
    with open_registry(ws, database_url=url) as registry:
        state = read_year_state(registry, YEAR)
    return {s.doc_id: (s.voided, tuple(sorted(s.signatures))) for s in state.letters.values()}


@pytest.fixture
def shared(postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> Shared:
    suffix = uuid.uuid4().hex[:8]
    database = f"shared_{suffix}"
    with psycopg.connect(postgres_server.url("public"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {database}")
    shared = Shared(
        postgres_server, database, f"owner_{suffix}",
        (f"qingcheng_{suffix}", f"huanxian_{suffix}"), f"jiwei_{suffix}",
    )  # fmt: skip
    out = _docgen(
        monkeypatch, shared.url("postgres"), None, "registry", "setup-db",
        "--owner", shared.owner, "--office", shared.offices[0], "--office", shared.offices[1],
        "--auditor", shared.auditor,
    )  # fmt: skip
    assert f"已建立模式 {shared.offices[0]}" in out and "✓" in out
    return shared


def test_two_institutions_with_colliding_rosters_keep_apart(
    shared: Shared, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a_url, b_url = (shared.url(office) for office in shared.offices)
    a_root, b_root = tmp_path / "qingcheng", tmp_path / "huanxian"
    _institution(a_root, "庆城县人民检察院", a_url, monkeypatch)
    _institution(b_root, "环县人民检察院", b_url, monkeypatch)
    a_ws, b_ws = find_workspace(a_root), find_workspace(b_root)
    b_before = _state(b_ws, b_url)
    assert set(b_before) == set(_state(a_ws, a_url))  # the same letter ids in both
    with open_registry(a_ws, database_url=a_url) as a, open_registry(b_ws, database_url=b_url) as b:
        assert a.origin != b.origin and a.verifier_key != b.verifier_key  # own name, own key
        a_size, b_size = a.size(), b.size()

    # A signs, voids and reissues; B's log does not move.
    signed = _docgen(monkeypatch, a_url, a_root, "sign", "--as", "P001")
    assert "P001 本次签署" in signed
    doc_id = sorted(d for d in b_before if "P001" in d)[0]
    _docgen(monkeypatch, a_url, a_root, "void", doc_id, "--reason", "人员调离")
    _docgen(monkeypatch, a_url, a_root, "generate", "--reissue")
    a_after = _state(a_ws, a_url)
    assert a_after[doc_id][0] is True
    assert _state(b_ws, b_url) == b_before
    with open_registry(b_ws, database_url=b_url) as b:
        assert b.size() == b_size

    # B's P001 has all their own letters still to sign, and signs them.
    b_signed = _docgen(monkeypatch, b_url, b_root, "sign", "--as", "P001")
    assert "P001 本次签署" in b_signed and "已签署过全部" not in b_signed
    b_after = _state(b_ws, b_url)
    assert b_after[doc_id] == (False, ("P001",))

    # status and audit of each see only their own log.
    _env(monkeypatch, a_url)
    a_status = json.loads(run_docgen("status", "--json", "-w", str(a_root)).out)
    _env(monkeypatch, b_url)
    b_status = json.loads(run_docgen("status", "--json", "-w", str(b_root)).out)
    assert a_status != b_status
    for url, root in ((a_url, a_root), (b_url, b_root)):
        audited = _docgen(monkeypatch, url, root, "registry", "audit")
        assert "✓ 登记簿审计通过" in audited
    with open_registry(a_ws, database_url=a_url) as a:
        assert a.size() > a_size

    # The server refuses each institution's role the other's tables, whatever it asks.
    with psycopg.connect(a_url, autocommit=True) as conn:
        for sql in (
            f"SELECT count(*) FROM {shared.offices[1]}.registry_entries",
            f"INSERT INTO {shared.offices[1]}.registry_meta VALUES ('x', 'y')",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
                conn.execute(sql)
        for sql in (
            "UPDATE registry_entries SET data = data",
            "DELETE FROM registry_entries",
            "TRUNCATE registry_entries",
            "ALTER TABLE registry_entries DISABLE TRIGGER ALL",
            "DROP TRIGGER registry_entries_no_change ON registry_entries",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
    # docgen run as A pointed at B's schema: refused in one line, nothing written.
    _env(monkeypatch, shared.url(shared.offices[0], shared.offices[1]))
    crossed = run_docgen("sign", "--as", "P002", "-w", str(a_root))
    assert crossed.code == 2 and "当前账号可以使用的模式" in crossed.err, crossed.text
    assert len(crossed.err.strip().splitlines()) == 1
    assert _state(b_ws, b_url) == b_after

    # The auditor reads both logs, and writes neither.
    for office in shared.offices:
        with psycopg.connect(shared.url(shared.auditor, office), autocommit=True) as conn:
            count = conn.execute("SELECT count(*) FROM registry_entries").fetchone()
            assert count is not None and count[0] > 0
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("INSERT INTO registry_meta VALUES ('x', 'y')")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("DELETE FROM registry_entries")


def test_setup_db_again_changes_nothing_and_needs_a_superuser(
    shared: Shared, monkeypatch: pytest.MonkeyPatch
) -> None:
    again = _docgen(
        monkeypatch, shared.url("postgres"), None, "registry", "setup-db",
        "--owner", shared.owner, "--office", shared.offices[0],
    )  # fmt: skip
    assert "已建立" not in again and "✓" in again
    _env(monkeypatch, shared.url(shared.offices[0]))
    refused = run_docgen("registry", "setup-db", "--office", "other_x")
    assert refused.code == 2 and "超级用户" in refused.err
