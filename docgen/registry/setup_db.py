"""``docgen registry setup-db``: one shared PostgreSQL database, one log per institution, and roles.

Design — a schema per institution. Each institution's log is the four registry tables in a
schema of its own, named after the institution's database role. Why a schema each rather than a
``log_id`` column with row-level security:

* isolation is by the server's privileges on whole tables, not by a ``WHERE`` that every query
  must remember: an institution's role has ``USAGE`` on its own schema only, so it cannot even
  name another's tables (``permission denied for schema``) — counting, voiding, re-signing or
  reading another institution's letters is impossible, not merely filtered;
* every query, index, trigger and the append lock (keyed by the schema's own ``registry_entries``)
  stay exactly as for a workspace of its own, so letter ids (``2027-ZR-P001-P002``) may collide
  across institutions harmlessly and two institutions never wait for each other;
* PostgreSQL's default ``search_path`` is ``"$user", public``: an institution's role lands in its
  own schema with no ``options=`` in the URL.

Roles: an *owner* (``NOLOGIN`` by default is not possible — it runs migrations — so ``LOGIN``) owns
every schema, table and trigger; each institution's *append-only* role gets ``USAGE`` on its
schema and ``SELECT, INSERT`` on its tables, nothing else (only an owner can disable or drop a
trigger; without ``UPDATE``, ``DELETE``, ``TRUNCATE`` no row can change); *auditors* are members of
the group role ``docgen_auditors``, which gets ``USAGE`` and ``SELECT`` on every institution's
schema. Roles are created without passwords: the administrator sets them (psql ``\\password``).

Run by a superuser (``postgres``), once and again whenever an institution or auditor is added:
everything is created only if missing, in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from docgen.core.errors import DocgenError, UsageError
from docgen.registry import pg_connect
from docgen.registry.backend import redact_url
from docgen.registry.migrations import LATEST_VERSION, migrate_postgres
from docgen.registry.schema import (
    APPEND_ONLY_PRIVILEGES,
    MIGRATIONS_TABLE,
    TABLES,
    role_name_problem,
)

AUDITORS_GROUP = "docgen_auditors"


@dataclass(frozen=True)
class SetupReport:
    """What :func:`setup_database` found and did."""

    location: str
    created_roles: tuple[str, ...]
    created_schemas: tuple[str, ...]
    migrated: tuple[tuple[str, int, int], ...]  # (schema, from version, to version)
    offices: tuple[str, ...]
    auditors: tuple[str, ...]


def _check_names(owner: str, offices: Sequence[str], auditors: Sequence[str]) -> None:
    for name in (owner, *offices, *auditors):
        problem = role_name_problem(name)
        if problem:
            raise UsageError(problem, hint="请换一个名称")
    names = [owner, *offices, *auditors, AUDITORS_GROUP]
    if len(set(names)) != len(names):
        raise UsageError(
            "所有者、各单位和审计账号的名称不能重复",
            hint=f"每个单位一个账号,审计账号另起名称;{AUDITORS_GROUP} 是 docgen 保留的组名",
        )
    if not offices and not auditors:
        raise UsageError(
            "没有指定任何单位(--office)或审计账号(--auditor)",
            hint="例如 docgen registry setup-db --office qingcheng --auditor jiwei",
        )


def setup_database(
    url: str, *, owner: str, offices: Sequence[str], auditors: Sequence[str]
) -> SetupReport:
    """Create (if missing) the owner, a schema and an append-only role per office, the auditors,
    and bring every office's tables to :data:`LATEST_VERSION` — one transaction."""
    _check_names(owner, offices, auditors)
    try:
        import psycopg
        from psycopg import sql
    except ImportError as exc:
        raise UsageError(
            "DOCGEN_DATABASE_URL 指向 PostgreSQL,但没有安装 psycopg",
            hint="请运行 pip install 'docgen[postgres]'",
        ) from exc
    location = redact_url(url)
    conn = pg_connect.connect(psycopg, url, location)
    created_roles: list[str] = []
    created_schemas: list[str] = []
    migrated: list[tuple[str, int, int]] = []
    try:
        (superuser,) = conn.execute(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        if not superuser:
            raise UsageError(
                f"setup-db 需要以超级用户身份连接({location} 的当前账号不是超级用户)",
                hint="请用 postgres 账号运行,例如 sudo -u postgres env DOCGEN_DATABASE_URL="
                "postgresql:///库名 docgen registry setup-db …",
            )
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(1685021544)")  # one setup at a time

            def role(name: str, login: bool) -> None:
                found = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
                if found.fetchone() is None:
                    conn.execute(
                        sql.SQL("CREATE ROLE {} " + ("LOGIN" if login else "NOLOGIN")).format(
                            sql.Identifier(name)
                        )
                    )
                    created_roles.append(name)

            role(owner, True)
            role(AUDITORS_GROUP, False)
            database = conn.execute("SELECT current_database()").fetchone()[0]
            conn.execute(
                sql.SQL("GRANT CONNECT ON DATABASE {} TO {}, {}").format(
                    sql.Identifier(database), sql.Identifier(owner), sql.Identifier(AUDITORS_GROUP)
                )
            )
            for office in offices:
                role(office, True)
                _office_schema(conn, sql, owner, office, database, created_schemas, migrated)
            for auditor in auditors:
                role(auditor, True)
                conn.execute(
                    sql.SQL("GRANT {} TO {}").format(
                        sql.Identifier(AUDITORS_GROUP), sql.Identifier(auditor)
                    )
                )
    except psycopg.Error as exc:
        raise DocgenError(
            f"在 {location} 中建立账号和登记簿失败:{pg_connect.reason(exc)[0]}",
            hint="没有作任何改动(整个过程在一个事务中);请检查账号权限后重试",
        ) from exc
    finally:
        conn.close()
    return SetupReport(
        location, tuple(created_roles), tuple(created_schemas), tuple(migrated),
        tuple(offices), tuple(auditors),
    )  # fmt: skip


def _office_schema(
    conn: Any,
    sql: Any,
    owner: str,
    office: str,
    database: str,
    created_schemas: list[str],
    migrated: list[tuple[str, int, int]],
) -> None:
    """The office's schema (owned by ``owner``), its tables migrated, and the grants."""
    schema = sql.Identifier(office)
    exists = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (office,)).fetchone()
    if exists is None:
        conn.execute(
            sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(schema, sql.Identifier(owner))
        )
        created_schemas.append(office)
    conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(schema))
    conn.execute(
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
            sql.Identifier(database), sql.Identifier(office)
        )
    )
    conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(owner)))
    conn.execute(sql.SQL("SET LOCAL search_path = {}").format(schema))
    before, after = migrate_postgres(conn)
    if after != before:
        migrated.append((office, before, after))
    tables = sql.SQL(", ").join(sql.Identifier(office, t) for t in TABLES)
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}, {}").format(
        schema, sql.Identifier(office), sql.Identifier(AUDITORS_GROUP)))  # fmt: skip
    conn.execute(
        sql.SQL("GRANT " + APPEND_ONLY_PRIVILEGES + " ON {} TO {}").format(
            tables, sql.Identifier(office)
        )
    )
    versions = sql.Identifier(office, MIGRATIONS_TABLE)  # read, never written, by the office
    conn.execute(
        sql.SQL("GRANT SELECT ON {}, {} TO {}, {}").format(
            tables, versions, sql.Identifier(office), sql.Identifier(AUDITORS_GROUP)
        )
    )
    conn.execute("RESET ROLE")
    conn.execute("RESET search_path")


__all__ = ["AUDITORS_GROUP", "LATEST_VERSION", "SetupReport", "setup_database"]
