"""The registry's tables and append-only triggers as SQL, and what an audit expects to find of them.

One place for the schema text of both databases, because three readers need the very same words:
the backends that create it, the audit that compares what the database holds now against it (a
trigger that exists but was disabled, rewritten to do nothing, or given a ``WHEN`` clause protects
nothing), and ``docgen registry roles``, which prints it for a database administrator who sets up
the PostgreSQL roles by hand.

PostgreSQL roles: an *owner* role creates the tables and triggers (``docgen registry init``); the
office's *append-only* role gets ``SELECT`` and ``INSERT`` only. Only a table's owner (or a
superuser) can ``ALTER TABLE … DISABLE TRIGGER`` or drop a trigger, and without ``UPDATE``,
``DELETE`` and ``TRUNCATE`` the append-only role cannot change a row whatever the triggers do.
"""

from __future__ import annotations

import re

SCHEMA_VERSION = "1"
APPEND_ONLY_MESSAGE = "docgen registry is append-only"
TABLES = ("registry_entries", "registry_nodes", "registry_checkpoints", "registry_meta")
MIGRATIONS_TABLE = "registry_migrations"  # since version 2 (docgen.registry.migrations)
GUARDED = (*TABLES, MIGRATIONS_TABLE)
"""Every table whose rows the append-only triggers protect (what an audit checks)."""
APPEND_ONLY_PRIVILEGES = "SELECT, INSERT"

# --- SQLite ---

_SQLITE_TABLES = """
CREATE TABLE IF NOT EXISTS registry_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS registry_entries (
    idx INTEGER PRIMARY KEY CHECK (idx >= 0),
    data BLOB NOT NULL,
    type TEXT NOT NULL,
    doc_id TEXT
);
CREATE INDEX IF NOT EXISTS registry_entries_type ON registry_entries (type);
CREATE INDEX IF NOT EXISTS registry_entries_doc_id ON registry_entries (doc_id);
CREATE TABLE IF NOT EXISTS registry_nodes (
    level INTEGER NOT NULL CHECK (level >= 0),
    idx INTEGER NOT NULL CHECK (idx >= 0),
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS registry_checkpoints (
    size INTEGER PRIMARY KEY CHECK (size >= 0),
    note BLOB NOT NULL
);
"""


def sqlite_trigger(table: str, operation: str) -> str:
    """A trigger's ``CREATE TRIGGER`` text as SQLite stores it in ``sqlite_master.sql``."""
    return (
        f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table}\n"
        f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}: {operation} on {table} rejected');"
        " END"
    )


SQLITE_TRIGGERS: dict[str, tuple[str, str]] = {
    f"{table}_no_{operation.lower()}": (table, sqlite_trigger(table, operation))
    for table in GUARDED
    for operation in ("UPDATE", "DELETE")
}
"""Trigger name → (its table, its SQL as stored)."""

SQLITE_SCHEMA = _SQLITE_TABLES + "".join(
    sql.replace("CREATE TRIGGER ", "CREATE TRIGGER IF NOT EXISTS ", 1) + ";\n"
    for table, sql in SQLITE_TRIGGERS.values()
    if table in TABLES
)

# --- PostgreSQL ---

PG_FUNCTION = "registry_append_only"
PG_FUNCTION_BODY = f"""
BEGIN
    RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}: % on % rejected', TG_OP, TG_TABLE_NAME;
END
"""

# pg_trigger.tgtype bits (PostgreSQL's include/catalog/pg_trigger.h).
_ROW, _BEFORE, _DELETE, _UPDATE, _TRUNCATE = 1, 2, 8, 16, 32

PG_TRIGGERS: dict[str, tuple[str, int]] = {
    name: (table, tgtype)
    for table in GUARDED
    for name, tgtype in (
        (f"{table}_no_change", _ROW | _BEFORE | _DELETE | _UPDATE),
        (f"{table}_no_truncate", _BEFORE | _TRUNCATE),
    )
}
"""Trigger name → (its table, its ``pg_trigger.tgtype``)."""

PG_ENABLED = frozenset({"O", "A"})
"""``pg_trigger.tgenabled`` values of a trigger that fires in ordinary sessions."""

PG_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS registry_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS registry_entries (
    idx BIGINT PRIMARY KEY CHECK (idx >= 0),
    data BYTEA NOT NULL,
    type TEXT NOT NULL,
    doc_id TEXT
);
CREATE INDEX IF NOT EXISTS registry_entries_type ON registry_entries (type, idx);
CREATE INDEX IF NOT EXISTS registry_entries_doc_id ON registry_entries (doc_id, idx);
CREATE TABLE IF NOT EXISTS registry_nodes (
    level SMALLINT NOT NULL CHECK (level >= 0),
    idx BIGINT NOT NULL CHECK (idx >= 0),
    hash BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);
CREATE TABLE IF NOT EXISTS registry_checkpoints (
    size BIGINT PRIMARY KEY CHECK (size >= 0),
    note BYTEA NOT NULL
);
CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql
    AS $${PG_FUNCTION_BODY}$$;
""" + "".join(
    f"""
CREATE OR REPLACE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}();
CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}();
"""
    for table in TABLES
)


def same_sql(stored: str, expected: str) -> bool:
    """Equal up to whitespace (how a statement was laid out does not change what it does)."""
    return stored.split() == expected.split()


_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def role_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be used unquoted as a PostgreSQL role or schema name, or None."""
    if _ROLE_NAME.fullmatch(name):
        return None
    return f"“{name}”不能用作 PostgreSQL 账号或模式名称(只能用小写字母、数字和下划线,不以数字开头)"


def roles_sql(*, owner: str, writer: str, schema: str, tables_sql: str = PG_SCHEMA) -> str:
    """The SQL that sets up an owner role and an append-only role for one registry schema.

    A database administrator runs all of it as a superuser (``psql -f``); or only the first part,
    and the owner then runs ``docgen registry init --grant`` for the second. ``tables_sql``: the
    tables at the latest version (:func:`docgen.registry.migrations.latest_pg_sql`)."""
    tables = ", ".join(TABLES)
    return f"""-- docgen 登记簿的 PostgreSQL 账号,由数据库管理员以超级用户身份运行(psql -f 本文件)。
-- {owner}:所有者,只用来建表和授权,平时不用;
-- {writer}:办公室日常使用的账号,只能读取和追加(SELECT、INSERT),
--     不能删除、修改、清空记录,也不能停用或删除触发器。
-- 口令另行设置:ALTER ROLE 账号 PASSWORD '…'。

-- 第一部分:账号和模式
CREATE ROLE {owner} LOGIN;
CREATE ROLE {writer} LOGIN;
CREATE SCHEMA {schema} AUTHORIZATION {owner};
REVOKE ALL ON SCHEMA {schema} FROM PUBLIC;
GRANT USAGE ON SCHEMA {schema} TO {writer};

-- 第二部分:以所有者身份建表、授权。也可以不运行这一部分,改由所有者运行
--   DOCGEN_DATABASE_URL='postgresql://{owner}@主机/库名?options=-csearch_path%3D{schema}' \\
--       docgen registry init --grant {writer}
SET ROLE {owner};
SET search_path = {schema};
{tables_sql.strip()}
GRANT {APPEND_ONLY_PRIVILEGES} ON {tables} TO {writer};
GRANT SELECT ON {MIGRATIONS_TABLE} TO {writer};
RESET ROLE;

-- 办公室的 docgen 从此使用只能追加的账号:
--   DOCGEN_DATABASE_URL='postgresql://{writer}@主机/库名?options=-csearch_path%3D{schema}'
"""
