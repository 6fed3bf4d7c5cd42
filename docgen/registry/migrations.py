"""Numbered changes to the registry's tables, applied in order, each database in one transaction.

Version 1 is the four tables and their append-only triggers as docgen first made them (a
database without ``registry_migrations`` that has them is at version 1). Version 2 adds
``registry_migrations`` itself — append-only like the rest — which from then on records every
version applied and when. A database older than this program is upgraded where the connection may
change the tables (SQLite: always; PostgreSQL: the owner, ``docgen registry migrate`` or
``setup-db``) and refused with a Chinese message naming the command otherwise (an institution's
append-only role); a database newer than this program is refused (use a newer docgen).
"""

from __future__ import annotations

from typing import Any

from docgen.registry.schema import (
    APPEND_ONLY_MESSAGE,
    MIGRATIONS_TABLE,
    PG_FUNCTION,
    PG_SCHEMA,
    sqlite_trigger,
)

LATEST_VERSION = 2

_PG_V2 = f"""
CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (
    version INTEGER PRIMARY KEY CHECK (version > 0),
    name TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
CREATE OR REPLACE TRIGGER {MIGRATIONS_TABLE}_no_change BEFORE UPDATE OR DELETE ON {MIGRATIONS_TABLE}
    FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}();
CREATE OR REPLACE TRIGGER {MIGRATIONS_TABLE}_no_truncate BEFORE TRUNCATE ON {MIGRATIONS_TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}();
"""

_SQLITE_V2 = f"""
CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (
    version INTEGER PRIMARY KEY CHECK (version > 0),
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
""" + "".join(
    sqlite_trigger(MIGRATIONS_TABLE, op).replace("CREATE TRIGGER ", "CREATE TRIGGER IF NOT EXISTS ")
    + ";\n"
    for op in ("UPDATE", "DELETE")
)

NAMES = {1: "登记簿的表和防篡改触发器", 2: "结构版本表 registry_migrations"}
"""What each version brought (recorded in ``registry_migrations.name``)."""

PG_STEPS = {1: PG_SCHEMA, 2: _PG_V2}
SQLITE_STEPS = {2: _SQLITE_V2}  # SQLite's version 1 is created by the backend itself

assert APPEND_ONLY_MESSAGE  # the triggers' message, shared with the base tables


def record_sql(version: int) -> str:
    """Insert the row saying ``version`` is applied (``?`` placeholders)."""
    return f"INSERT INTO {MIGRATIONS_TABLE} (version, name) VALUES ({version}, ?)"


def latest_pg_sql() -> str:
    """Every step from an empty schema to :data:`LATEST_VERSION`, with the rows recording them
    (for the SQL that ``docgen registry roles`` prints)."""
    steps = [PG_STEPS[v].strip() for v in range(1, LATEST_VERSION + 1)]
    rows = [
        record_sql(v).replace("?", "'" + NAMES[v].replace("'", "''") + "'") + ";"
        for v in range(1, LATEST_VERSION + 1)
    ]
    return "\n".join([*steps, *rows])


def migrate_sqlite(conn: Any, before: int) -> None:
    """The SQLite steps after ``before`` (inside the caller's ``BEGIN IMMEDIATE``)."""
    for version in range(max(before, 1) + 1, LATEST_VERSION + 1):
        for statement in SQLITE_STEPS[version].split(";\n"):
            if statement.strip():
                conn.execute(statement)
    first = before + 1 if before >= 2 else 1  # the table is new: record every version
    for version in range(first, LATEST_VERSION + 1):
        conn.execute(record_sql(version), (NAMES[version],))


def migrate_postgres(conn: Any) -> tuple[int, int]:
    """Bring the tables of the current schema to :data:`LATEST_VERSION` on a raw psycopg
    connection inside the caller's transaction (``setup-db``, as the owner); (before, after)."""
    has_base = conn.execute(
        "SELECT count(*) FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
        " AND relname = 'registry_entries'"
    ).fetchone()[0]
    has_log = conn.execute(
        "SELECT count(*) FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
        f" AND relname = '{MIGRATIONS_TABLE}'"
    ).fetchone()[0]
    if has_log:
        before = int(conn.execute(f"SELECT COALESCE(MAX(version), 0) FROM {MIGRATIONS_TABLE}")
                     .fetchone()[0])  # fmt: skip
    else:
        before = 1 if has_base else 0
    if before > LATEST_VERSION:
        return before, before
    for version in range(before + 1, LATEST_VERSION + 1):
        conn.execute(PG_STEPS[version])
    if before < LATEST_VERSION:
        for version in range(max(before, 0) + 1 if has_log else 1, LATEST_VERSION + 1):
            conn.execute(record_sql(version).replace("?", "%s"), (NAMES[version],))
    return before, LATEST_VERSION
