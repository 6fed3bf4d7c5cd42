"""Helpers shared by the registry tests: minimal workspaces and the test PostgreSQL server."""

from __future__ import annotations

import glob
import shutil
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from docgen.core.workspace import CONFIG_NAME, Workspace, config_text, find_workspace


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

    def url(self, schema: str) -> str:
        return (
            f"postgresql://postgres@/postgres?host={self.socket_dir}&port={self.port}"
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
