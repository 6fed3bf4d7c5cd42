"""PostgreSQL roles: an owner that creates the schema, an office role that can only read and append.

Run against the real server of the test session. The server itself must refuse the append-only
role every way of getting past the triggers; docgen must work fully with that role; and what the
owner can still do (disable the triggers, delete rows) must fail ``registry audit`` and
``registry verify-checkpoint`` through the command line.
"""

from __future__ import annotations

import subprocess
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from helpers import run_docgen
from registry_support import PostgresServer, document, make_workspace, pg_bin_dir

from docgen.core.workspace import Workspace, find_workspace
from docgen.registry import open_registry
from docgen.roster.load import load_roster
from tests.signed_year import PERSON_PASSPHRASE, SIGNED_AT, YEAR, build_workspace

pytestmark = pytest.mark.postgres

NOW = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)
URL_ENV = "DOCGEN_DATABASE_URL"


@dataclass(frozen=True)
class Roles:
    owner: str
    writer: str
    schema: str
    server: PostgresServer

    @property
    def owner_url(self) -> str:
        return self.server.url(self.schema, self.owner)

    @property
    def writer_url(self) -> str:
        return self.server.url(self.schema, self.writer)

    @property
    def superuser_url(self) -> str:
        return self.server.url(self.schema)


def psql(server: PostgresServer, script: str) -> None:
    """Run ``script`` as the superuser with psql, as the printed instructions say."""
    bin_dir = pg_bin_dir()
    assert bin_dir is not None
    subprocess.run(
        [str(bin_dir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(server.socket_dir),
         "-p", str(server.port), "-U", "postgres", "-d", "postgres", "-f", "-"],
        input=script, text=True, check=True, capture_output=True,
    )  # fmt: skip


def roles_script(roles: Roles) -> str:
    result = run_docgen(
        "registry", "roles", "--owner", roles.owner, "--writer", roles.writer,
        "--schema", roles.schema,
    )  # fmt: skip
    assert result.code == 0, result.text
    return result.out


@pytest.fixture
def roles(postgres_server: PostgresServer) -> Roles:
    suffix = uuid.uuid4().hex[:8]
    return Roles(f"owner_{suffix}", f"office_{suffix}", f"reg_{suffix}", postgres_server)


@pytest.fixture
def set_up(roles: Roles) -> Roles:
    """Everything ``docgen registry roles`` prints, run with psql as a superuser."""
    psql(roles.server, roles_script(roles))
    return roles


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path / "ws")


def test_the_server_refuses_the_append_only_role_every_way_past_the_triggers(
    set_up: Roles, ws: Workspace
) -> None:
    with open_registry(ws, database_url=set_up.writer_url) as reg:
        reg.append([document(i) for i in range(4)], now=NOW)
    refused = [
        ("ALTER TABLE registry_entries DISABLE TRIGGER registry_entries_no_change", "owner"),
        ("ALTER TABLE registry_nodes DISABLE TRIGGER ALL", "owner"),
        ("DROP TRIGGER registry_entries_no_change ON registry_entries", "owner"),
        ("ALTER TABLE registry_entries ADD COLUMN x int", "owner"),
        ("DELETE FROM registry_entries WHERE idx = 2", "permission denied"),
        ("UPDATE registry_entries SET data = data WHERE idx = 1", "permission denied"),
        ("UPDATE registry_checkpoints SET note = note", "permission denied"),
        ("DELETE FROM registry_nodes", "permission denied"),
        ("TRUNCATE registry_entries", "permission denied"),
        ("CREATE OR REPLACE FUNCTION registry_append_only() RETURNS trigger LANGUAGE plpgsql"
         " AS $$BEGIN RETURN OLD; END$$", "permission denied for schema"),
        ("SET session_replication_role = replica", "permission denied"),
        ("CREATE TABLE registry_shadow (x int)", "permission denied"),
    ]  # fmt: skip
    with psycopg.connect(set_up.writer_url, autocommit=True) as conn:
        for sql, words in refused:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match=words):
                conn.execute(sql)
    with open_registry(ws, database_url=set_up.writer_url) as reg:
        reg.append([document(4)], now=NOW)  # appends still work, under the advisory lock
        report = reg.audit()
    assert report.ok and report.size == 5, report.problems
    assert report.notes == ()  # nothing to warn about: this role cannot get past the triggers


def test_the_append_only_role_meets_an_empty_schema_then_the_owner_runs_init(
    roles: Roles, ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_part = roles_script(roles).split("-- 第二部分")[0]
    psql(roles.server, first_part)  # roles and schema, no tables yet

    monkeypatch.setenv(URL_ENV, roles.writer_url)
    refused = run_docgen("registry", "checkpoint", "-w", str(ws.root))
    assert refused.code == 2
    assert f"还没有登记簿表,当前账号 {roles.writer} 无权建表" in refused.err
    assert f"docgen registry init --grant {roles.writer}" in refused.err
    assert len(refused.err.strip().splitlines()) == 1

    # The database owner, in a workspace of their own: no registry key is needed or made.
    dba = make_workspace(ws.root.parent / "dba")
    monkeypatch.setenv(URL_ENV, roles.owner_url)
    made = run_docgen("registry", "init", "--grant", roles.writer, "-w", str(dba.root))
    assert made.code == 0, made.text
    assert "建立登记簿的表和防篡改触发器" in made.out
    assert f"已授予账号 {roles.writer} 读取和追加" in made.out
    again = run_docgen("registry", "init", "-w", str(dba.root))
    assert again.code == 0 and "已有登记簿的表,未作改动" in again.out
    assert not (dba.keys_dir / "registry").exists()

    monkeypatch.setenv(URL_ENV, roles.writer_url)
    with open_registry(find_workspace(ws.root)) as reg:
        reg.append([document(0)], now=NOW)
    audit = run_docgen("registry", "audit", "-w", str(ws.root))
    assert audit.code == 0, audit.text
    assert "✓ 登记簿审计通过:1 条记录" in audit.out and "注意" not in audit.out
    with psycopg.connect(roles.writer_url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM registry_entries")
        owner = conn.execute(
            "SELECT tableowner FROM pg_tables WHERE tablename = 'registry_entries'"
            " AND schemaname = current_schema()"
        ).fetchone()
    assert owner == (roles.owner,)


def test_the_owner_disabling_triggers_and_deleting_rows_fails_both_checks(
    set_up: Roles, ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(URL_ENV, set_up.writer_url)
    with open_registry(ws) as reg:
        for start, end in ((0, 5), (5, 12), (12, 20)):
            reg.append([document(i) for i in range(start, end)], now=NOW)
    pinned = tmp_path / "pinned.txt"
    assert run_docgen("registry", "pin", str(pinned), "-w", str(ws.root)).code == 0
    assert run_docgen("registry", "verify-checkpoint", str(pinned), "-w", str(ws.root)).code == 0

    with psycopg.connect(set_up.owner_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE registry_entries DISABLE TRIGGER registry_entries_no_change")
        conn.execute("DELETE FROM registry_entries WHERE idx = 9")

    audit = run_docgen("registry", "audit", "-w", str(ws.root))
    assert audit.code == 1
    assert "防篡改触发器 registry_entries_no_change 已被停用" in audit.out
    assert "缺少索引 9 的条目" in audit.out
    assert "第一个有问题的索引为 9" in audit.err
    check = run_docgen("registry", "verify-checkpoint", str(pinned), "-w", str(ws.root))
    assert check.code == 1 and "缺少索引 9 的条目(条目被删除)" in check.err

    # Triggers switched back on afterwards: nothing left to see in them, the entries still tell.
    with psycopg.connect(set_up.owner_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE registry_entries ENABLE TRIGGER registry_entries_no_change")
    audit = run_docgen("registry", "audit", "-w", str(ws.root))
    assert audit.code == 1 and "防篡改触发器" not in audit.out
    assert "第一个有问题的索引为 9" in audit.err
    assert run_docgen("registry", "verify-checkpoint", str(pinned), "-w", str(ws.root)).code == 1


def test_a_clean_rollback_by_the_owner_is_seen_in_the_triggers_and_by_the_pin(
    set_up: Roles, ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The review's attack: triggers disabled, then the last append removed whole — entries,
    the tree nodes over them and their checkpoint — which leaves a registry consistent in itself."""
    monkeypatch.setenv(URL_ENV, set_up.writer_url)
    with open_registry(ws) as reg:
        for start, end in ((0, 5), (5, 12), (12, 20)):
            reg.append([document(i) for i in range(start, end)], now=NOW)
    pinned = tmp_path / "pinned.txt"
    assert run_docgen("registry", "pin", str(pinned), "-w", str(ws.root)).code == 0
    tables = ("registry_entries", "registry_nodes", "registry_checkpoints")
    with psycopg.connect(set_up.owner_url, autocommit=True) as conn:
        for table in tables:
            conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
        conn.execute("DELETE FROM registry_entries WHERE idx >= 12")
        conn.execute("DELETE FROM registry_nodes WHERE (idx + 1) * (1 << level) > 12")
        conn.execute("DELETE FROM registry_checkpoints WHERE size > 12")

    audit = run_docgen("registry", "audit", "-w", str(ws.root))
    assert audit.code == 1, audit.text
    assert "registry_entries_no_change、registry_entries_no_truncate" in audit.out
    assert "已被停用(ALTER TABLE … DISABLE TRIGGER)" in audit.out
    assert "索引" not in audit.out  # the data itself is consistent: only the triggers tell
    check = run_docgen("registry", "verify-checkpoint", str(pinned), "-w", str(ws.root))
    assert check.code == 1
    assert "发现回滚:保存的检查点有 20 条,登记簿现在只有 12 条" in check.err

    with psycopg.connect(set_up.owner_url, autocommit=True) as conn:
        for table in tables:
            conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER ALL")
    # Triggers back on: the audit proves self-consistency only, and this registry is consistent.
    assert run_docgen("registry", "audit", "-w", str(ws.root)).code == 0
    assert run_docgen("registry", "verify-checkpoint", str(pinned), "-w", str(ws.root)).code == 1


@pytest.mark.parametrize(
    ("sql", "words"),
    [
        ("ALTER TABLE registry_nodes DISABLE TRIGGER ALL",
         "registry_nodes_no_change、registry_nodes_no_truncate 已被停用"),
        ("ALTER TABLE registry_checkpoints ENABLE REPLICA TRIGGER registry_checkpoints_no_change",
         "registry_checkpoints_no_change 被设为只在复制模式下触发"),
        ("CREATE OR REPLACE FUNCTION registry_append_only() RETURNS trigger LANGUAGE plpgsql"
         " AS $$BEGIN RETURN OLD; END$$",
         "调用的函数不是 docgen 建立的 registry_append_only"),
        ("CREATE OR REPLACE TRIGGER registry_entries_no_change BEFORE UPDATE OR DELETE"
         " ON registry_entries FOR EACH ROW WHEN (false) EXECUTE FUNCTION registry_append_only()",
         "registry_entries_no_change 的定义(表、触发时机或条件)与 docgen 建立的不同"),
        ("CREATE OR REPLACE TRIGGER registry_meta_no_change BEFORE UPDATE OF value"
         " ON registry_meta FOR EACH ROW EXECUTE FUNCTION registry_append_only()",
         "registry_meta_no_change 的定义"),
    ],
)  # fmt: skip
def test_triggers_that_exist_but_no_longer_protect_are_named(
    set_up: Roles, ws: Workspace, monkeypatch: pytest.MonkeyPatch, sql: str, words: str
) -> None:
    monkeypatch.setenv(URL_ENV, set_up.writer_url)
    with open_registry(ws) as reg:
        reg.append([document(i) for i in range(3)], now=NOW)
    with psycopg.connect(set_up.owner_url, autocommit=True) as conn:
        conn.execute(sql)
    audit = run_docgen("registry", "audit", "-w", str(ws.root))
    assert audit.code == 1, audit.text
    assert words in audit.out
    assert "登记簿审计未通过:发现的问题见上" in audit.err


def test_the_whole_year_works_with_the_append_only_role(
    set_up: Roles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys, generate and sign write the registry; verify --online and audit read it — all as
    the role that can only read and append."""
    monkeypatch.setenv(URL_ENV, set_up.writer_url)
    ws = build_workspace(tmp_path / "ws", sign=False)
    monkeypatch.setenv("DOCGEN_PASSPHRASE", PERSON_PASSPHRASE.secret.decode())
    monkeypatch.setenv("DOCGEN_NOW", SIGNED_AT.isoformat())
    for person in load_roster(ws.roster_path).people:
        result = run_docgen("sign", "--as", person.id, "-w", str(ws.root))
        assert result.code == 0, result.text
    generate = run_docgen("generate", "--year", str(YEAR), "-w", str(ws.root))
    assert generate.code == 0, generate.text
    verify = run_docgen("verify", "--online", str(ws.year_dir(YEAR)), "-w", str(ws.root))
    assert verify.code == 0, verify.text
    audit = run_docgen("registry", "audit", "-w", str(ws.root))
    assert audit.code == 0 and "注意" not in audit.out, audit.text
    assert not ws.registry_path.exists()  # everything went to PostgreSQL
    with psycopg.connect(set_up.superuser_url, autocommit=True) as conn:
        count = conn.execute("SELECT COUNT(*) FROM registry_entries").fetchone()
    assert count is not None and count[0] > 11 * 3  # certificates, letters, two signatures each
