"""The two databases behind the registry: SQLite (default) and PostgreSQL (shared registry).

Both hold the same four tables, and both refuse UPDATE, DELETE (and, on PostgreSQL, TRUNCATE) of
entries, tree nodes, checkpoints and metadata with triggers, so a mistake in code or by hand
cannot rewrite history without first dropping a trigger — which ``registry audit`` then catches
through the signed checkpoints.

``registry_entries``      idx, data (canonical JSON), type, doc_id
``registry_nodes``        level, idx, hash — every complete subtree (level 0 = leaf hashes)
``registry_checkpoints``  size, note (signed checkpoint for that tree size)
``registry_meta``         key, value (schema version, origin, verifier key)

Queries are written with ``?`` placeholders; the PostgreSQL backend rewrites them to ``%s``.
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from docgen.core.errors import DocgenError, UsageError, WorkspaceBusyError

SCHEMA_VERSION = "1"
APPEND_ONLY_MESSAGE = "docgen registry is append-only"
TABLES = ("registry_entries", "registry_nodes", "registry_checkpoints", "registry_meta")
_TABLE_LIST = "(" + ", ".join(f"'{t}'" for t in TABLES) + ")"

Row = tuple[Any, ...]


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
    def ensure_schema(self) -> None: ...

    @abstractmethod
    def missing_triggers(self) -> list[str]:
        """Append-only triggers that should exist but do not (someone dropped them)."""

    @abstractmethod
    def close(self) -> None: ...


_SQLITE_SCHEMA = """
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
""" + "".join(
    f"""
CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}
BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}: UPDATE on {table} rejected'); END;
CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table}
BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}: DELETE on {table} rejected'); END;
"""
    for table in TABLES
)


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

    def ensure_schema(self) -> None:
        present = self.query(
            f"SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN {_TABLE_LIST}"
        )[0][0]
        if present == len(TABLES):
            return
        try:
            with self._errors():
                self._conn.executescript(f"BEGIN IMMEDIATE;\n{_SQLITE_SCHEMA}\nCOMMIT;")
        finally:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")

    def missing_triggers(self) -> list[str]:
        present = {
            str(name)
            for (name,) in self.query("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        }
        wanted = [f"{t}_{op}" for t in TABLES for op in ("no_update", "no_delete")]
        return [name for name in wanted if name not in present]

    def close(self) -> None:
        self._conn.close()


_PG_SCHEMA = f"""
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
CREATE OR REPLACE FUNCTION registry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}: % on % rejected', TG_OP, TG_TABLE_NAME;
END
$$;
""" + "".join(
    f"""
CREATE OR REPLACE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION registry_append_only();
CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION registry_append_only();
"""
    for table in TABLES
)

# Any constant: serialises schema creation by several processes on an empty database.
_SCHEMA_LOCK_KEY = 0x646F6367656E


def redact_url(url: str) -> str:
    """The database URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = (parts.username or "") + ":***"
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc[-1]}"))


class PostgresDatabase(Database):
    """PostgreSQL via psycopg 3; appends hold ``LOCK TABLE ... IN EXCLUSIVE MODE``."""

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
        try:
            self._conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise UsageError(
                f"无法连接 PostgreSQL 登记簿 {self.location}:{exc}".strip(),
                hint="请检查 DOCGEN_DATABASE_URL、数据库服务和账号权限",
            ) from exc
        self._in_transaction = False

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
        except self._psycopg.Error as exc:
            raise DocgenError(
                f"读写 PostgreSQL 登记簿 {self.location} 失败:{exc}".strip(),
                hint="请运行 docgen registry audit 检查登记簿",
            ) from exc

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._errors():
            return self._conn.execute(self._sql(sql), tuple(params) or None).fetchall()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self._errors():
            self._conn.execute(self._sql(sql), tuple(params) or None)

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
        return self._transaction(
            self._lock_timeout(), "LOCK TABLE registry_entries IN EXCLUSIVE MODE"
        )

    def read(self) -> AbstractContextManager[None]:
        return self._transaction("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def ensure_schema(self) -> None:
        present = self.query(
            "SELECT COUNT(*) FROM information_schema.tables "
            f"WHERE table_schema = current_schema() AND table_name IN {_TABLE_LIST}"
        )[0][0]
        if present == len(TABLES):
            return
        lock = f"SELECT pg_advisory_xact_lock({_SCHEMA_LOCK_KEY})"
        with self._transaction(self._lock_timeout(), lock), self._errors():
            self._conn.execute(_PG_SCHEMA)

    def missing_triggers(self) -> list[str]:
        present = {
            str(name)
            for (name,) in self.query(
                "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                " WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal"
            )
        }
        wanted = [f"{t}_{what}" for t in TABLES for what in ("no_change", "no_truncate")]
        return [name for name in wanted if name not in present]

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
