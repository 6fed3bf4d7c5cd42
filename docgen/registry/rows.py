"""Reading the registry's tables, as the store and its audit both do.

Stored BLOBs as bytes (whatever a hand edit stored), stored tree nodes in one query, and the
number of rows read per page when a query walks the whole log.
"""

from __future__ import annotations

from docgen.registry import merkle
from docgen.registry.backend import Database

PAGE_ROWS = 5000
"""Rows per page when the entries are read in index order."""


def blob(value: object) -> bytes:
    """A stored BLOB as bytes; SQLite lets a hand edit store TEXT, which the audit then flags."""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode("utf-8")


def select_nodes(db: Database, wanted: set[merkle.NodeId]) -> dict[merkle.NodeId, bytes]:
    """Stored node hashes in one query; an OR of primary-key lookups, which both databases
    answer with one index probe per node (a row-value ``IN (VALUES ...)`` scans in SQLite)."""
    ordered = sorted(wanted)
    where = " OR ".join("(level = ? AND idx = ?)" for _ in ordered)
    rows = db.query(
        f"SELECT level, idx, hash FROM registry_nodes WHERE {where}",
        [v for node in ordered for v in node],
    )
    return {(int(level), int(idx)): blob(h) for level, idx, h in rows}
