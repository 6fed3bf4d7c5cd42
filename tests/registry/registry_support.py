"""Helpers shared by the registry tests: minimal workspaces and the test PostgreSQL server."""

from __future__ import annotations

import glob
import shutil
import socket
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from docgen.core.workspace import CONFIG_NAME, Workspace, config_text, find_workspace
from docgen.registry import Registry


def make_workspace(root: Path, *, registry_name: str | None = None) -> Workspace:
    """A minimal workspace: just ``docgen.toml`` (as ``docgen init`` writes it)."""
    root.mkdir(parents=True, exist_ok=True)
    text = config_text("庆城县人民检察院", 2027)
    if registry_name is not None:
        text = "\n".join(
            f'registry_name = "{registry_name}"' if line.startswith("registry_name") else line
            for line in text.splitlines()
        )
    (root / CONFIG_NAME).write_text(text, encoding="utf-8")
    return find_workspace(root)


def document(i: int, title: str = "党风廉政建设责任书") -> dict[str, Any]:
    return {
        "type": "document",
        "doc_id": f"2027-ZR-{i:04d}",
        "kind": "responsibility",
        "year": 2027,
        "title": title,
        "sha256": f"{i:064x}",
    }


# --- tampering behind docgen's back, as someone who can write the database ---

Statements = list[tuple[str, Sequence[Any]]]

SQLITE_DROP = [
    f"DROP TRIGGER {table}_{op}"
    for table in ("registry_entries", "registry_nodes", "registry_checkpoints")
    for op in ("no_update", "no_delete")
]
PG_DROP = [
    f"DROP TRIGGER {table}_{what} ON {table}"
    for table in ("registry_entries", "registry_nodes", "registry_checkpoints")
    for what in ("no_change", "no_truncate")
]


def tamper(ws: Workspace, url: str | None, statements: Statements) -> None:
    """Run SQL directly on the database, with the append-only triggers dropped."""
    if url:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            for sql in PG_DROP:
                conn.execute(sql)
            for sql, params in statements:
                conn.execute(sql.replace("?", "%s"), tuple(params) or None)
        return
    conn = sqlite3.connect(ws.registry_path, isolation_level=None)
    try:
        for sql in SQLITE_DROP:
            conn.execute(sql)
        for sql, params in statements:
            conn.execute(sql, tuple(params))
    finally:
        conn.close()


def edit(reg: Registry, index: int) -> Statements:
    data = reg.entry(index).data.replace("党风廉政".encode(), "廉政".encode())
    return [("UPDATE registry_entries SET data = ? WHERE idx = ?", (data, index))]


def delete(index: int) -> Statements:
    return [("DELETE FROM registry_entries WHERE idx = ?", (index,))]


def swap(a: int, b: int) -> Statements:
    def column(name: str) -> str:
        return (
            f"{name} = CASE idx WHEN {a} THEN (SELECT {name} FROM registry_entries WHERE idx = {b})"
            f" ELSE (SELECT {name} FROM registry_entries WHERE idx = {a}) END"
        )

    sql = (
        f"UPDATE registry_entries SET {column('data')}, {column('type')}, {column('doc_id')}"
        f" WHERE idx IN ({a}, {b})"
    )
    return [(sql, ())]


TRUNCATE: Statements = [("DELETE FROM registry_entries", ())]


def pg_bin_dir() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists() and Path(candidate, "pg_ctl").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    return None


@dataclass(frozen=True)
class PostgresServer:
    socket_dir: Path
    port: int

    def url(self, schema: str, user: str = "postgres") -> str:
        return (
            f"postgresql://{user}@/postgres?host={self.socket_dir}&port={self.port}"
            f"&options=-csearch_path%3D{schema}"
        )

    def new_database_url(self) -> str:
        """A fresh, empty schema: each test gets its own registry tables."""
        import psycopg

        schema = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url("public"), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        return self.url(schema)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


WORKER_NOW = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)


def append_worker(root: str, url: str, worker: int, rounds: int, start: Any, out: Any) -> None:
    """One process appending ``rounds`` small batches to the registry (concurrency test)."""
    from docgen.registry import open_registry

    start.wait()
    indices: list[int] = []
    with open_registry(find_workspace(Path(root)), database_url=url, busy_timeout=60) as reg:
        for n in range(rounds):
            records = [
                {"type": "activity", "activity_id": f"w{worker}-r{n}-{k}", "kind": "talk"}
                for k in range(1 + (worker + n) % 3)
            ]
            indices += [e.index for e in reg.append(records, now=WORKER_NOW)]
    out.put((worker, indices))
