"""The two databases behind the registry: SQLite (default) and PostgreSQL (shared registry).

Both hold the same four tables, and both refuse UPDATE, DELETE (and, on PostgreSQL, TRUNCATE) of
entries, tree nodes, checkpoints and metadata with triggers, so a mistake in code or by hand
cannot rewrite history without first getting past a trigger — which ``registry audit`` then
catches by recomputing the tree from the entries, and reports of the triggers themselves (missing,
rewritten or disabled). The schema text is :mod:`docgen.registry.schema`.

Appends on PostgreSQL are serialised by a transaction-level advisory lock rather than
``LOCK TABLE``: an EXCLUSIVE table lock needs UPDATE, DELETE or TRUNCATE privilege, which the
office's append-only role must not have.

``registry_entries``      idx, data (canonical JSON), type, doc_id
``registry_nodes``        level, idx, hash — every complete subtree (level 0 = leaf hashes)
``registry_checkpoints``  size, note (signed checkpoint for that tree size)
``registry_meta``         key, value (schema version, origin, verifier key)

Queries are written with ``?`` placeholders; the PostgreSQL backend rewrites them to ``%s``.
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from docgen.core.errors import DocgenError, UsageError, VerificationError, WorkspaceBusyError
from docgen.registry import pg_connect
from docgen.registry.clock import local_now, to_second
from docgen.registry.migrations import LATEST_VERSION, migrate_postgres, migrate_sqlite
from docgen.registry.schema import (
    APPEND_ONLY_PRIVILEGES,
    MIGRATIONS_TABLE,
    PG_ENABLED,
    PG_FUNCTION,
    PG_FUNCTION_BODY,
    PG_SCHEMA,
    PG_TRIGGERS,
    SQLITE_SCHEMA,
    SQLITE_TRIGGERS,
    TABLES,
    same_sql,
)

_TABLE_LIST = "(" + ", ".join(f"'{t}'" for t in TABLES) + ")"
ROLES_HINT = "建立所有者账号和只能追加的账号的 SQL 见 docgen registry roles"

Row = tuple[Any, ...]
T = TypeVar("T")


def busy_error(where: str, seconds: float) -> WorkspaceBusyError:
    return WorkspaceBusyError(
        f"工作目录正被另一个 docgen 进程使用:登记簿 {where} 在 {seconds:g} 秒内一直被占用",
        hint="请等另一个 docgen 命令结束后再试;如确认没有其他进程在运行,请检查数据库连接",
    )


class Database(ABC):
    """A connection to the registry tables, with one exclusive append transaction at a time."""

    location: str

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    @abstractmethod
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Insert many rows (inside :meth:`write`)."""
        marks = ", ".join("?" for _ in columns)
        self.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    @abstractmethod
    def write(self) -> AbstractContextManager[None]:
        """The exclusive append transaction; waits for other writers up to the busy timeout."""

    @abstractmethod
    def read(self) -> AbstractContextManager[None]:
        """A read transaction: every query inside sees one snapshot."""

    @abstractmethod
    def clock(self) -> datetime:
        """The registry's clock now (UTC, whole seconds): the server's on PostgreSQL — one clock
        for every office sharing it — and this machine's on SQLite."""

    def ensure_schema(self) -> None:
        """Create the tables and triggers on first use (where this connection may)."""
        self.create_schema()

    def create_schema(self) -> bool:
        """Create the tables and triggers unless all exist; True when created now.

        Some tables but not all means someone dropped one: creating it anew would hide the
        rows it held, so that is an error, not a repair."""
        present = self._present_tables()
        if len(present) == len(TABLES):
            return False
        if present:
            missing = "、".join(t for t in TABLES if t not in present)
            raise VerificationError(
                f"登记簿数据库 {self.location} 只有部分登记簿表,缺少 {missing}(数据库结构被改动过)",
                hint="请从备份恢复数据库并追查原因;docgen 不会重建缺少的表,以免掩盖被删除的记录",
            )
        self._create_schema()
        return True

    def schema_version(self) -> int:
        """The tables' version (:mod:`docgen.registry.migrations`): 0 without tables, 1 with the
        first four and no ``registry_migrations``, else the highest version it records."""
        if not self._present_tables():
            return 0
        if not self._has_table(MIGRATIONS_TABLE):
            return 1
        return int(self.query(f"SELECT COALESCE(MAX(version), 0) FROM {MIGRATIONS_TABLE}")[0][0])

    def upgrade(self) -> tuple[int, int]:
        """Bring the tables to :data:`LATEST_VERSION` where this connection may change them;
        refuse a newer database, or an older one this connection may not upgrade."""
        version = self.schema_version()
        if version > LATEST_VERSION:
            raise DocgenError(
                f"登记簿数据库 {self.location} 的结构版本为 {version},"
                f"比本程序支持的 {LATEST_VERSION} 新",
                hint="请改用更新版本的 docgen;旧版本不能安全地写入新结构的登记簿",
            )
        if version == LATEST_VERSION:
            return version, version
        who = self._cannot_migrate()
        if who is not None:
            raise DocgenError(
                f"登记簿数据库 {self.location} 的结构版本为 {version},本程序需要 {LATEST_VERSION},"
                f"{who}无权升级",
                hint="请由数据库所有者运行 docgen registry migrate(或 docgen registry setup-db)"
                "升级后再试;升级在一个事务中完成,已有记录不变",
            )
        self._migrate()
        return version, LATEST_VERSION

    def _cannot_migrate(self) -> str | None:
        """Who this connection is, when it may not change the tables (None: it may)."""
        return None

    @abstractmethod
    def _migrate(self) -> None:
        """Apply the missing versions in one transaction (re-reading the version under the
        lock, so two processes opening an old database migrate it once)."""

    @abstractmethod
    def _has_table(self, name: str) -> bool: ...

    @abstractmethod
    def _present_tables(self) -> set[str]:
        """Which of the registry's tables exist."""

    @abstractmethod
    def _create_schema(self) -> None: ...

    @abstractmethod
    def grant_append_only(self, role: str) -> None:
        """Let ``role`` read and append, and nothing else (PostgreSQL only)."""

    @abstractmethod
    def trigger_problems(self) -> list[str]:
        """What is wrong with the append-only triggers now: missing, not the SQL docgen created,
        or disabled (in Chinese, naming the triggers); empty when all are as created."""

    @abstractmethod
    def privilege_notes(self) -> list[str]:
        """What the audit's reader should know about who can get past the triggers."""

    @abstractmethod
    def reconnect(self) -> None:
        """Open the connection again after it was lost."""

    @abstractmethod
    def close(self) -> None: ...


class SQLiteDatabase(Database):
    """SQLite in WAL mode; appends take the write lock up front with ``BEGIN IMMEDIATE``."""

    def __init__(self, path: Path, *, busy_timeout: float) -> None:
        self.location = str(path)
        self._timeout = busy_timeout
        try:
            self._conn = sqlite3.connect(
                str(path), timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise DocgenError(
                f"无法打开登记簿数据库 {path}:{exc}", hint="请检查文件是否存在、权限是否正确"
            ) from exc
        self._in_transaction = False
        with self._errors():
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._conn.execute("PRAGMA synchronous = FULL")
            mode = self._conn.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                self._conn.execute("PRAGMA journal_mode = WAL")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            name = getattr(exc, "sqlite_errorname", "")
            if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in str(exc):
                raise busy_error(self.location, self._timeout) from exc
            raise DocgenError(
                f"读写登记簿数据库 {self.location} 失败:{exc}",
                hint="请运行 docgen registry audit 检查登记簿",
            ) from exc
        except sqlite3.DatabaseError as exc:
            raise DocgenError(
                f"登记簿数据库 {self.location} 出错:{exc}",
                hint="数据库可能已损坏或被改动,请运行 docgen registry audit",
            ) from exc

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._errors():
            return self._conn.execute(sql, tuple(params)).fetchall()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self._errors():
            self._conn.execute(sql, tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._errors():
            self._conn.executemany(sql, rows)

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[None]:
        if self._in_transaction:
            yield
            return
        with self._errors():
            self._conn.execute(begin)
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self._in_transaction = False
            self._conn.execute("ROLLBACK")
            raise
        self._in_transaction = False
        with self._errors():
            self._conn.execute("COMMIT")

    def write(self) -> AbstractContextManager[None]:
        return self._transaction("BEGIN IMMEDIATE")

    def read(self) -> AbstractContextManager[None]:
        return self._transaction("BEGIN DEFERRED")

    def clock(self) -> datetime:
        return local_now()

    def _present_tables(self) -> set[str]:
        return {
            str(name)
            for (name,) in self.query(
                f"SELECT name FROM sqlite_master WHERE type = 'table' AND name IN {_TABLE_LIST}"
            )
        }

    def _has_table(self, name: str) -> bool:
        return bool(
            self.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
        )

    def _migrate(self) -> None:
        with self.write(), self._errors():
            before = self.schema_version()
            if before < LATEST_VERSION:
                migrate_sqlite(self._conn, before)

    def _create_schema(self) -> None:
        try:
            with self._errors():
                self._conn.executescript(f"BEGIN IMMEDIATE;\n{SQLITE_SCHEMA}\nCOMMIT;")
        finally:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")

    def grant_append_only(self, role: str) -> None:
        raise UsageError(
            "SQLite 登记簿没有数据库账号,--grant 只用于 PostgreSQL",
            hint="SQLite 登记簿的访问由文件权限控制",
        )

    def trigger_problems(self) -> list[str]:
        stored = {
            str(name): (str(table), str(sql))
            for name, table, sql in self.query(
                "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'"
            )
        }
        missing, changed = [], []
        for name, (table, sql) in SQLITE_TRIGGERS.items():
            if name not in stored:
                missing.append(name)
            elif stored[name][0] != table or not same_sql(stored[name][1], sql):
                changed.append(name)
        problems = []
        if missing:
            problems.append(
                "数据库中缺少防篡改触发器 "
                + "、".join(missing)
                + "(有人绕过 docgen 直接改过数据库结构)"
            )
        if changed:
            problems.append(
                "防篡改触发器 "
                + "、".join(changed)
                + " 的定义与 docgen 建立的不同,可能已不再拒绝修改(有人改写过触发器)"
            )
        return problems

    def reconnect(self) -> None:
        return None  # a file does not go away: SQLite never reports a lost connection

    def privilege_notes(self) -> list[str]:
        return [
            "SQLite 登记簿的触发器只防误操作:能写数据库文件的人可以绕过它们(例如 sqlite3 的"
            " .dbconfig enable_trigger off),这种改动从触发器上看不出来;以上结论来自从条目重新计算"
        ]

    def close(self) -> None:
        self._conn.close()


# Any constant: serialises schema creation by several processes on an empty database.
_SCHEMA_LOCK_KEY = 0x646F6367656E
# Appends: the two-key advisory lock (a key space apart from the one-key lock above), keyed by the
# entries table, so registries in different schemas of one database do not wait for each other.
PG_APPEND_LOCK = "SELECT pg_advisory_xact_lock(1685021543, 'registry_entries'::regclass::oid::int4)"


def redact_url(url: str) -> str:
    """The database URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = (parts.username or "") + ":***"
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc[-1]}"))


class PostgresDatabase(Database):
    """PostgreSQL via psycopg 3; appends hold a transaction-level advisory lock."""

    def __init__(self, url: str, *, busy_timeout: float) -> None:
        try:
            import psycopg
        except ImportError as exc:
            raise UsageError(
                "DOCGEN_DATABASE_URL 指向 PostgreSQL,但没有安装 psycopg",
                hint="请运行 pip install 'docgen[postgres]'",
            ) from exc
        self._psycopg = psycopg
        self.location = redact_url(url)
        self._timeout = busy_timeout
        self._url = url
        self._conn = pg_connect.connect(psycopg, url, self.location)
        self._in_transaction = False

    def reconnect(self) -> None:
        """Open the connection again (after it was lost), with the same bounded retries."""
        self._conn.close()  # psycopg closes a broken connection without raising
        self._in_transaction = False
        self._conn = pg_connect.connect(self._psycopg, self._url, self.location)

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("?", "%s")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        errors = self._psycopg.errors
        try:
            yield
        except (errors.LockNotAvailable, errors.QueryCanceled) as exc:
            raise busy_error(self.location, self._timeout) from exc
        except self._psycopg.OperationalError as exc:
            if self._conn.broken or self._conn.closed:
                raise pg_connect.lost(self.location, exc) from exc
            raise DocgenError(
                f"读写 PostgreSQL 登记簿 {self.location} 失败:{pg_connect.reason(exc)[0]}",
                hint="请运行 docgen registry audit 检查登记簿",
            ) from exc
        except errors.InsufficientPrivilege as exc:
            raise DocgenError(
                f"PostgreSQL 登记簿 {self.location}:当前数据库账号无权执行此操作:{exc}".strip(),
                hint="办公室的账号需要登记簿表的 SELECT、INSERT 权限,由所有者运行"
                f" docgen registry init --grant 账号 授予;{ROLES_HINT}",
            ) from exc
        except self._psycopg.Error as exc:
            raise DocgenError(
                f"读写 PostgreSQL 登记簿 {self.location} 失败:{exc}".strip(),
                hint="请运行 docgen registry audit 检查登记簿",
            ) from exc

    def _again(self, run: Callable[[], T]) -> T:
        """``run``; outside a transaction, once more on a new connection if the old one was
        lost (inside one, the registry redoes the whole transaction)."""
        try:
            return run()
        except pg_connect.RegistryUnavailable:
            if self._in_transaction:
                raise
            self.reconnect()
            return run()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        def run() -> list[Row]:
            with self._errors():
                rows: list[Row] = self._conn.execute(
                    self._sql(sql), tuple(params) or None
                ).fetchall()
                return rows

        return self._again(run)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        def run() -> None:
            with self._errors():
                self._conn.execute(self._sql(sql), tuple(params) or None)

        self._again(run)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._errors(), self._conn.cursor() as cur:
            cur.executemany(self._sql(sql), rows)

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """``COPY ... FROM STDIN``: several times faster than row-by-row INSERT."""
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with self._errors(), self._conn.cursor() as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)

    @contextmanager
    def _transaction(self, *statements: str) -> Iterator[None]:
        if self._in_transaction:
            yield
            return
        with self._errors(), self._conn.transaction():
            self._in_transaction = True
            try:
                for statement in statements:
                    self._conn.execute(statement)
                yield
            finally:
                self._in_transaction = False

    def _lock_timeout(self) -> str:
        return f"SET LOCAL lock_timeout = '{int(self._timeout * 1000)}ms'"

    def write(self) -> AbstractContextManager[None]:
        return self._transaction(self._lock_timeout(), PG_APPEND_LOCK)

    def read(self) -> AbstractContextManager[None]:
        return self._transaction("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def clock(self) -> datetime:
        # clock_timestamp(), not now(): now() is the start of the transaction, which began
        # before the append lock was granted.
        moment = self.query("SELECT clock_timestamp()")[0][0]
        return to_second(moment)

    def _present_tables(self) -> set[str]:
        return {
            str(name)
            for (name,) in self.query(
                "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
                f" AND relkind IN ('r', 'p') AND relname IN {_TABLE_LIST}"
            )
        }

    def _has_table(self, name: str) -> bool:
        return bool(
            self.query(
                "SELECT 1 FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
                " AND relkind IN ('r', 'p') AND relname = ?",
                (name,),
            )
        )

    def _cannot_migrate(self) -> str | None:
        (user, owner) = self.query(
            "SELECT current_user, COALESCE(bool_and(pg_has_role(relowner, 'USAGE')), false)"
            " FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
            f" AND relname IN {_TABLE_LIST}"
        )[0]
        return None if owner else f"当前账号 {user} 不是登记簿表的所有者,"

    def _migrate(self) -> None:
        lock = f"SELECT pg_advisory_xact_lock({_SCHEMA_LOCK_KEY})"
        with self._transaction(self._lock_timeout(), lock), self._errors():
            migrate_postgres(self._conn)

    def _create_schema(self) -> None:
        (schema, user, allowed) = self.query(
            "SELECT current_schema(), current_user,"
            " COALESCE(has_schema_privilege(current_schema(), 'CREATE'), false)"
        )[0]
        if schema is None:
            raise UsageError(
                f"PostgreSQL 登记簿 {self.location}:search_path 中没有存在的、"
                f"当前账号可以使用的模式(别的单位的模式无权使用)",
                hint="请在 DOCGEN_DATABASE_URL 中用 options=-csearch_path%3D模式名"
                " 指定已建立的模式",
            )
        if not allowed:
            raise UsageError(
                f"PostgreSQL 登记簿 {self.location} 的模式 {schema} 中还没有登记簿表,"
                f"当前账号 {user} 无权建表",
                hint=(
                    "这是 PostgreSQL 15 起的默认设置(public 模式不许普通账号建表)。"
                    f"共用数据库时请由超级用户运行 docgen registry setup-db --office {user},"
                    "为该单位建立同名的模式"
                    if schema == "public"
                    else f"请由所有者账号运行 docgen registry init --grant {user} 建表并授权;"
                    + ROLES_HINT
                ),
            )
        lock = f"SELECT pg_advisory_xact_lock({_SCHEMA_LOCK_KEY})"
        with self._transaction(self._lock_timeout(), lock), self._errors():
            self._conn.execute(PG_SCHEMA)

    def grant_append_only(self, role: str) -> None:
        sql = self._psycopg.sql
        schema = self.query("SELECT current_schema()")[0][0]
        tables = sql.SQL(", ").join(sql.Identifier(t) for t in TABLES)
        who = sql.Identifier(role)
        with self._transaction(), self._errors():
            self._conn.execute(
                sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), who)
            )
            self._conn.execute(
                sql.SQL("GRANT " + APPEND_ONLY_PRIVILEGES + " ON {} TO {}").format(tables, who)
            )
            self._conn.execute(
                sql.SQL("GRANT SELECT ON {} TO {}").format(sql.Identifier(MIGRATIONS_TABLE), who)
            )

    def trigger_problems(self) -> list[str]:
        rows = self.query(
            "SELECT t.tgname, c.relname, t.tgenabled, t.tgtype,"
            " t.tgqual IS NULL AND cardinality(t.tgattr::int2[]) = 0,"
            " p.proname, p.pronamespace = c.relnamespace, l.lanname, p.prosrc"
            " FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_language l ON l.oid = p.prolang"
            " WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal"
        )
        found = {str(row[0]): row for row in rows}
        missing, changed, function, disabled, replica = [], [], [], [], []
        for name, (table, tgtype) in PG_TRIGGERS.items():
            row = found.get(name)
            if row is None:
                missing.append(name)
                continue
            _name, relname, enabled, kind, plain, proname, same_schema, language, body = row
            if relname != table or int(kind) != tgtype or not plain:
                changed.append(name)
            if not (
                proname == PG_FUNCTION
                and same_schema
                and language == "plpgsql"
                and same_sql(str(body), PG_FUNCTION_BODY)
            ):
                function.append(name)
            if str(enabled) == "D":
                disabled.append(name)
            elif str(enabled) not in PG_ENABLED:
                replica.append(name)
        problems = []
        if missing:
            problems.append(
                "数据库中缺少防篡改触发器 "
                + "、".join(missing)
                + "(有人绕过 docgen 直接改过数据库结构)"
            )
        if disabled:
            problems.append(
                "防篡改触发器 "
                + "、".join(disabled)
                + " 已被停用(ALTER TABLE … DISABLE TRIGGER),登记簿可以被删改"
            )
        if replica:
            problems.append(
                "防篡改触发器 "
                + "、".join(replica)
                + " 被设为只在复制模式下触发(ENABLE REPLICA),平时不起作用"
            )
        if changed:
            problems.append(
                "防篡改触发器 "
                + "、".join(changed)
                + " 的定义(表、触发时机或条件)与 docgen 建立的不同(有人改写过触发器)"
            )
        if function:
            problems.append(
                "防篡改触发器 "
                + "、".join(function)
                + f" 调用的函数不是 docgen 建立的 {PG_FUNCTION}(有人改写过触发器函数),"
                "可能已不再拒绝修改"
            )
        return problems

    def privilege_notes(self) -> list[str]:
        rows = self.query(
            "SELECT current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),"
            " COALESCE(bool_or(pg_has_role(relowner, 'MEMBER')), false),"
            " COALESCE(bool_or(has_table_privilege(oid, 'UPDATE')"
            " OR has_table_privilege(oid, 'DELETE')"
            " OR has_table_privilege(oid, 'TRUNCATE')), false)"
            " FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
            f" AND relname IN {_TABLE_LIST}"
        )
        user, superuser, owner, changes = rows[0]
        if superuser:
            what = "是超级用户"
        elif owner:
            what = "是登记簿表的所有者"
        elif changes:
            what = "对登记簿表有 UPDATE、DELETE 或 TRUNCATE 权限"
        else:
            return []
        return [
            f"当前数据库账号 {user} {what},可以停用触发器、删改登记簿;"
            f"办公室日常请改用只能读取和追加的账号({ROLES_HINT})"
        ]

    def close(self) -> None:
        self._conn.close()


def connect(*, sqlite_path: Path, database_url: str | None, busy_timeout: float) -> Database:
    """PostgreSQL when ``database_url`` is a ``postgresql://`` URL, else the SQLite file."""
    if database_url:
        if not database_url.startswith(("postgresql://", "postgres://")):
            raise UsageError(
                f"DOCGEN_DATABASE_URL 只支持 postgresql:// 地址,当前为 {redact_url(database_url)}",
                hint="不设置该变量即使用工作目录中的 registry.db",
            )
        return PostgresDatabase(database_url, busy_timeout=busy_timeout)
    return SQLiteDatabase(sqlite_path, busy_timeout=busy_timeout)
