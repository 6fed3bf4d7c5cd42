"""The append-only registry: canonical JSON entries in a Merkle tree with signed checkpoints.

Every complete subtree hash is stored (``registry_nodes``), so the root of any size and any
inclusion or consistency proof is read from O(log n) stored rows, and an append writes only the
nodes it completes. Each append is one exclusive transaction that ends with a new signed
checkpoint; concurrent appenders from several processes therefore get dense indices.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from docgen.core.errors import (
    DocgenError,
    Location,
    UsageError,
    ValidationError,
    VerificationError,
)
from docgen.core.workspace import CONFIG_NAME, Workspace, atomic_write
from docgen.registry import merkle
from docgen.registry.backend import SCHEMA_VERSION, Database, connect
from docgen.registry.note import (
    Checkpoint,
    Signer,
    Verifier,
    key_name_problem,
    open_checkpoint,
    parse_verifier_key,
    sign_checkpoint,
)

DATABASE_URL_ENV = "DOCGEN_DATABASE_URL"
DEFAULT_BUSY_TIMEOUT = 30.0
PROOF_FORMAT = "docgen-proof-v1"

# Record types and the field that identifies each record (also the indexed doc_id column).
RECORD_TYPES: dict[str, str] = {
    "document": "doc_id",
    "signature": "doc_id",
    "certificate": "cert_fingerprint",
    "revocation": "cert_fingerprint",
    "void": "doc_id",
    "activity": "activity_id",
}
_PAGE = 5000
APPEND_CHUNK = 10_000  # entries per append transaction, for the commands that append many
_BATCH_ROWS = 400  # rows per IN (...) query; two parameters per tree node
_MAX_PROBLEMS = 50


@dataclass(frozen=True)
class Entry:
    """One registry entry: its index, the exact bytes that were hashed, and their meaning."""

    index: int
    data: bytes
    record: dict[str, Any]
    leaf_hash: bytes


@dataclass(frozen=True)
class AuditReport:
    """Outcome of recomputing the whole registry from its stored entries."""

    ok: bool
    size: int
    first_bad_index: int | None
    problems: tuple[str, ...]
    checkpoints: int = 0


@dataclass(frozen=True)
class PinnedCheck:
    """A previously saved checkpoint that the registry still extends."""

    pinned_size: int
    current_size: int
    proof: tuple[bytes, ...]


def _recorded_at(now: datetime) -> str:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_SAFE_INT = 2**53 - 1


def _plain_json(value: object) -> bool:
    """True when ``value`` uses only the JSON subset on which the standard library's
    sorted, compact ``json.dumps`` output is exactly RFC 8785: strings, safe integers, booleans,
    null, lists and objects whose keys are in the Basic Multilingual Plane (there, sorting by
    code point equals RFC 8785's sorting by UTF-16 code unit). No floats."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or item is None or kind is bool:
            continue
        if kind is int:
            if not -_SAFE_INT <= item <= _SAFE_INT:  # type: ignore[operator]
                return False
        elif kind is dict:
            for key, child in item.items():  # type: ignore[attr-defined]
                if type(key) is not str or (not key.isascii() and max(key) > "\uffff"):
                    return False
                stack.append(child)
        elif kind is list:
            stack.extend(item)  # type: ignore[arg-type]
        else:
            return False
    return True


def canonical_json(value: object) -> bytes:
    """RFC 8785 canonical JSON of ``value``.

    The ``rfc8785`` package is the reference; it is pure Python and costs ~25 µs per record, so
    records in the plain subset (all that docgen writes) take the C ``json`` encoder, which gives
    identical bytes there (checked against ``rfc8785`` by a property test). Anything else — floats,
    non-BMP keys, lone surrogates, subclasses of str — goes to ``rfc8785``.
    """
    if _plain_json(value):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: let rfc8785 report it
    return rfc8785.dumps(value)  # type: ignore[arg-type]


def canonical_entry(record: Mapping[str, Any], *, position: int | None = None) -> bytes:
    """Check a record's type and identifying field, and return its RFC 8785 bytes."""
    row = position + 1 if position is not None else None
    kind = record.get("type")
    if kind not in RECORD_TYPES:
        raise ValidationError(
            f"登记记录的类型“{kind}”未知",
            location=Location(row=row, field="type"),
            hint="type 应为 " + "、".join(RECORD_TYPES),
        )
    key = RECORD_TYPES[str(kind)]
    if not isinstance(record.get(key), str) or not record[key]:
        raise ValidationError(
            f"{kind} 记录缺少“{key}”",
            location=Location(row=row, field=key),
            hint=f"{kind} 记录必须有非空字符串字段 {key}",
        )
    try:
        return canonical_json(dict(record))
    except rfc8785.CanonicalizationError as exc:
        raise ValidationError(
            f"{kind} 记录不能转换为规范 JSON(RFC 8785):{exc}",
            location=Location(row=row),
            hint="字段值只能是字符串、整数(绝对值小于 2^53)、布尔值、null、列表或对象",
        ) from exc


def _blob(value: object) -> bytes:
    """A stored BLOB as bytes; SQLite lets a hand edit store TEXT, which the audit then flags."""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode("utf-8")


def _select_nodes(db: Database, wanted: set[merkle.NodeId]) -> dict[merkle.NodeId, bytes]:
    """Stored node hashes in one query; an OR of primary-key lookups, which both databases
    answer with one index probe per node (a row-value ``IN (VALUES ...)`` scans in SQLite)."""
    ordered = sorted(wanted)
    where = " OR ".join("(level = ? AND idx = ?)" for _ in ordered)
    rows = db.query(
        f"SELECT level, idx, hash FROM registry_nodes WHERE {where}",
        [v for node in ordered for v in node],
    )
    return {(int(level), int(idx)): _blob(h) for level, idx, h in rows}


def _like_escape(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern with ``ESCAPE '\\'``."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _entry(index: int, data: bytes) -> Entry:
    record = json.loads(data)
    return Entry(index, data, record, merkle.leaf_hash(data))


class Registry:
    """The registry of one workspace (or one shared PostgreSQL database)."""

    def __init__(self, db: Database, signer: Signer) -> None:
        self._db = db
        self._signer = signer
        self._verifier: Verifier = signer.verifier
        self.origin: str = signer.name
        self.verifier_key: str = self._verifier.encode()

    # --- lifecycle ---

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    @property
    def location(self) -> str:
        """Where the registry lives (file path or database URL without password)."""
        return self._db.location

    def _initialise(self, *, sqlite_file: Path | None) -> None:
        self._db.ensure_schema()
        meta: dict[str, str] = dict(self._db.query("SELECT key, value FROM registry_meta"))
        if not meta:
            with self._db.write():
                meta = dict(self._db.query("SELECT key, value FROM registry_meta"))
                if not meta:
                    meta = {
                        "schema_version": SCHEMA_VERSION,
                        "origin": self.origin,
                        "verifier_key": self.verifier_key,
                    }
                    self._db.executemany(
                        "INSERT INTO registry_meta (key, value) VALUES (?, ?)",
                        sorted(meta.items()),
                    )
                    empty = Checkpoint(self.origin, 0, merkle.EMPTY_ROOT)
                    self._db.execute(
                        "INSERT INTO registry_checkpoints (size, note) VALUES (?, ?)",
                        (0, sign_checkpoint(empty, self._signer)),
                    )
        where = Location(file=str(sqlite_file) if sqlite_file else self.location)
        if meta.get("schema_version") != SCHEMA_VERSION:
            raise DocgenError(
                f"登记簿数据库的结构版本为 {meta.get('schema_version')},"
                f"本程序只支持 {SCHEMA_VERSION}",
                location=where,
                hint="请使用与该登记簿相同版本的 docgen",
            )
        if meta.get("origin") != self.origin:
            raise ValidationError(
                f"登记簿名称为“{meta.get('origin')}”,与 {CONFIG_NAME} 中的"
                f" registry_name“{self.origin}”不一致",
                location=where,
                hint=f"登记簿名称创建后不能更改,请把 {CONFIG_NAME} 的 registry_name 改回原值",
            )
        if meta.get("verifier_key") != self.verifier_key:
            raise VerificationError(
                "keys/registry/registry.key 与登记簿创建时使用的签名密钥不一致"
                f"(登记簿记录的验证公钥为 {meta.get('verifier_key')})",
                location=where,
                hint="请恢复原来的登记簿签名私钥;换用新密钥会使以前的检查点无法验证",
            )

    # --- appending ---

    def append(self, records: Sequence[Mapping[str, Any]], *, now: datetime) -> list[Entry]:
        """Append ``records`` in one transaction and sign a checkpoint for the new size."""
        size, datas, leaves = self._append(records, now=now)
        return [
            Entry(size + i, d, json.loads(d), leaf)
            for i, (d, leaf) in enumerate(zip(datas, leaves, strict=True))
        ]

    def extend(self, records: Sequence[Mapping[str, Any]], *, now: datetime) -> None:
        """:meth:`append` for bulk callers that do not need the entries back."""
        self._append(records, now=now)

    def _append(
        self, records: Sequence[Mapping[str, Any]], *, now: datetime
    ) -> tuple[int, list[bytes], list[bytes]]:
        """Append; return the index of the first new entry, their bytes and leaf hashes."""
        recorded_at = _recorded_at(now)
        datas: list[bytes] = []
        prepared: list[tuple[bytes, str, str | None]] = []
        for position, record in enumerate(records):
            stamped = {**record, "recorded_at": recorded_at}
            data = canonical_entry(stamped, position=position if len(records) > 1 else None)
            doc_id = stamped.get("doc_id")
            datas.append(data)
            prepared.append(
                (data, str(stamped["type"]), doc_id if isinstance(doc_id, str) else None)
            )
        if not prepared:
            return self.size(), [], []
        leaves = [merkle.leaf_hash(d) for d in datas]
        with self._db.write():
            size, edge = self._tip()
            if size:
                latest = str(self.entry(size - 1).record.get("recorded_at", ""))
                if recorded_at < latest:
                    raise ValidationError(
                        f"登记时间 {recorded_at} 早于登记簿最后一条记录的时间 {latest},拒绝登记",
                        hint="登记簿只能按时间顺序追加;请检查本机时钟(或 DOCGEN_NOW)",
                    )
            tree = merkle.CompactRange(size, edge)
            completed: list[tuple[int, int, bytes]] = []
            for leaf in leaves:
                tree.append(leaf, completed)
            self._db.insert_rows(
                "registry_entries",
                ("idx", "data", "type", "doc_id"),
                [(size + i, d, t, doc) for i, (d, t, doc) in enumerate(prepared)],
            )
            self._db.insert_rows("registry_nodes", ("level", "idx", "hash"), completed)
            checkpoint = Checkpoint(self.origin, tree.size, tree.root())
            self._db.execute(
                "INSERT INTO registry_checkpoints (size, note) VALUES (?, ?)",
                (tree.size, sign_checkpoint(checkpoint, self._signer)),
            )
        return size, datas, leaves

    def _tip(self) -> tuple[int, list[bytes]]:
        """Current size and right-edge subtree hashes, checked against the latest checkpoint."""
        latest = self._latest_checkpoint()
        count = self._db.query("SELECT COALESCE(MAX(idx) + 1, 0) FROM registry_entries")[0][0]
        if count != latest.size:
            raise self._damaged(f"登记簿有 {count} 条记录,但最新签名检查点的大小是 {latest.size}")
        nodes = merkle.root_nodes(latest.size)
        stored = self._nodes(set(nodes))
        edge = [stored[n] for n in nodes]
        if merkle.fold_subtrees(edge) != latest.root:
            raise self._damaged("存储的树节点与最新签名检查点的根哈希不符")
        return latest.size, edge

    def _damaged(self, what: str) -> VerificationError:
        return VerificationError(
            f"登记簿 {self.location} 已损坏:{what}",
            hint="已拒绝写入。请运行 docgen registry audit 查明第一个出错的条目",
        )

    # --- reading ---

    def size(self) -> int:
        """Number of entries covered by the latest signed checkpoint."""
        return self._latest_checkpoint().size

    def entry(self, index: int) -> Entry:
        rows = self._db.query("SELECT data FROM registry_entries WHERE idx = ?", (index,))
        if not rows:
            raise UsageError(
                f"登记簿中没有索引为 {index} 的条目(共 {self.size()} 条)",
                hint="索引从 0 开始",
            )
        return _entry(index, _blob(rows[0][0]))

    def entries(self, *, type: str | None = None, doc_id: str | None = None) -> Iterator[Entry]:
        """Entries in ascending index order, optionally filtered by type and/or doc_id."""
        conditions, params = ["idx > ?"], []
        if type is not None:
            conditions.append("type = ?")
            params.append(type)
        if doc_id is not None:
            conditions.append("doc_id = ?")
            params.append(doc_id)
        for idx, data in self._pages("idx, data", " AND ".join(conditions), params):
            yield _entry(int(idx), _blob(data))

    def _pages(self, columns: str, where: str, params: Sequence[object]) -> Iterator[Any]:
        """Rows of ``registry_entries`` in index order, a page at a time (``idx`` first among
        ``columns``; ``where`` starts with ``idx > ?``, which this fills in)."""
        sql = f"SELECT {columns} FROM registry_entries WHERE {where} ORDER BY idx LIMIT {_PAGE}"
        after = -1
        while True:
            rows = self._db.query(sql, (after, *params))
            yield from rows
            if len(rows) < _PAGE:
                return
            after = int(rows[-1][0])

    def entry_data(self, *, types: Sequence[str]) -> Iterator[tuple[int, bytes]]:
        """``(index, exact bytes)`` of the entries of the given types, in index order, unparsed.

        For bulk readers that keep only a few fields: no JSON parsing, no leaf hashes.
        """
        where = f"idx > ? AND type IN ({', '.join('?' for _ in types)})"
        for idx, data in self._pages("idx, data", where, types):
            yield int(idx), _blob(data)

    def first_documents(self, *, prefix: str) -> Iterator[str]:
        """The ids beginning with ``prefix`` that have a ``document`` entry, in the order of their
        first one, read a page at a time: nothing is held, however long the log."""
        where = (
            "idx > ? AND type = 'document' AND substr(doc_id, 1, ?) = ?"
            " AND NOT EXISTS (SELECT 1 FROM registry_entries AS earlier"
            " WHERE earlier.doc_id = registry_entries.doc_id"
            " AND earlier.type = 'document' AND earlier.idx < registry_entries.idx)"
        )
        for _idx, doc_id in self._pages("idx, doc_id", where, (len(prefix), prefix)):
            yield str(doc_id)

    def documents_naming(self, person_id: str, *, prefix: str) -> list[str]:
        """The ids beginning with ``prefix`` that have a ``document`` entry and contain
        ``-<person_id>`` as a whole part (``2027-ZR-P001-P002`` names P001 and P002), in the order
        of their first ``document`` entry. Letter ids are built from their parties' ids
        (:func:`docgen.roster.hierarchy.doc_id`), so these are a superset of the person's letters,
        read
        from the ``doc_id`` column alone: one person's letters without parsing the year's."""
        token = _like_escape(f"-{person_id}")
        rows = self._db.query(
            "SELECT doc_id, MIN(idx) AS first FROM registry_entries"
            " WHERE type = 'document' AND substr(doc_id, 1, ?) = ?"
            " AND (doc_id LIKE ? ESCAPE '\\' OR doc_id LIKE ? ESCAPE '\\')"
            " GROUP BY doc_id ORDER BY first",
            (len(prefix), prefix, f"%{token}-%", f"%{token}"),
        )
        return [str(doc_id) for doc_id, _first in rows]

    def documents_touched_since(self, index: int, *, prefix: str) -> list[str]:
        """The ids beginning with ``prefix`` that have an entry at or after ``index``, in the
        order of their first such entry (a letter new since then: its ``document`` entry)."""
        rows = self._db.query(
            "SELECT doc_id, MIN(idx) AS first FROM registry_entries"
            " WHERE idx >= ? AND substr(doc_id, 1, ?) = ?"
            " GROUP BY doc_id ORDER BY first",
            (index, len(prefix), prefix),
        )
        return [str(doc_id) for doc_id, _first in rows]

    def snapshot(self) -> AbstractContextManager[None]:
        """A read transaction: every query inside sees the registry as it was when it began,
        whatever is appended meanwhile (for readers that take a year page by page)."""
        return self._db.read()

    def count_documents(self, *, prefix: str) -> int:
        """How many ids :meth:`first_documents` gives for ``prefix``."""
        rows = self._db.query(
            "SELECT COUNT(DISTINCT doc_id) FROM registry_entries"
            " WHERE type = 'document' AND substr(doc_id, 1, ?) = ?",
            (len(prefix), prefix),
        )
        return int(rows[0][0])

    def letter_entry_bytes(
        self, doc_ids: Sequence[str], *, types: Sequence[str]
    ) -> dict[int, bytes]:
        """The exact bytes of every entry of ``types`` whose ``doc_id`` is one of ``doc_ids``.

        The entries are looked up by ``doc_id`` alone and their type checked here: given
        ``type IN (…)`` as well, SQLite chose the ``type`` index and read every letter entry of
        the registry for each batch (35 ms a batch at 10⁵ letters instead of 0.6 ms)."""
        datas: dict[int, bytes] = {}
        wanted = frozenset(types)
        with self._db.read():
            for start in range(0, len(doc_ids), _BATCH_ROWS):
                part = list(doc_ids[start : start + _BATCH_ROWS])
                marks = ", ".join("?" for _ in part)
                for idx, kind, data in self._db.query(
                    f"SELECT idx, type, data FROM registry_entries WHERE doc_id IN ({marks})",
                    part,
                ):
                    if kind in wanted:
                        datas[int(idx)] = _blob(data)
        return datas

    def entry_bytes(self, indices: Iterable[int]) -> dict[int, bytes]:
        """The exact bytes of the entries at ``indices`` (those that exist), in batched queries."""
        with self._db.read():
            return self._entry_bytes(indices)

    def _entry_bytes(self, indices: Iterable[int]) -> dict[int, bytes]:
        datas: dict[int, bytes] = {}
        wanted = sorted(set(indices))
        for start in range(0, len(wanted), _BATCH_ROWS):
            part = wanted[start : start + _BATCH_ROWS]
            marks = ", ".join("?" for _ in part)
            for idx, data in self._db.query(
                f"SELECT idx, data FROM registry_entries WHERE idx IN ({marks})", part
            ):
                datas[int(idx)] = bytes(data)
        return datas

    def checkpoint(self) -> bytes:
        """The latest signed checkpoint note (UTF-8 bytes)."""
        return self._latest_note()[1]

    def _latest_note(self) -> tuple[int, bytes]:
        rows = self._db.query(
            "SELECT size, note FROM registry_checkpoints ORDER BY size DESC LIMIT 1"
        )
        if not rows:
            raise self._damaged("没有任何签名检查点")
        return int(rows[0][0]), _blob(rows[0][1])

    def _latest_checkpoint(self) -> Checkpoint:
        size, note = self._latest_note()
        checkpoint = open_checkpoint(note, self._verifier)
        if checkpoint.size != size:
            raise self._damaged(f"检查点记录的大小 {size} 与其签名内容 {checkpoint.size} 不符")
        return checkpoint

    def _nodes(self, wanted: set[merkle.NodeId]) -> dict[merkle.NodeId, bytes]:
        """Stored complete-subtree hashes, read in one query."""
        if not wanted:
            return {}
        found = _select_nodes(self._db, wanted)
        missing = wanted - found.keys()
        if missing:
            level, idx = min(missing, key=lambda n: n[1] << n[0])
            raise self._damaged(f"缺少第 {level} 层第 {idx} 个树节点")
        return found

    def _range_hashes(self, ranges: Sequence[merkle.Range]) -> list[bytes]:
        stored = self._nodes(merkle.needed_nodes(ranges))
        return [merkle.range_hash(a, b, stored.__getitem__) for a, b in ranges]

    def _checked_size(self, size: int | None) -> int:
        current = self.size()
        if size is None:
            return current
        if not 0 <= size <= current:
            raise UsageError(
                f"树大小 {size} 无效:登记簿目前有 {current} 条", hint="请给出 0 到当前大小之间的数"
            )
        return size

    def root(self, size: int | None = None) -> bytes:
        """Root hash of the tree of the first ``size`` entries (default: all)."""
        n = self._checked_size(size)
        return merkle.fold_subtrees(self._range_hashes([(0, n)])) if n else merkle.EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        n = self._checked_size(size)
        if not 0 <= index < n:
            raise UsageError(
                f"索引 {index} 不在大小为 {n} 的树中", hint="索引从 0 开始,且须小于树大小"
            )
        return self._range_hashes(merkle.inclusion_ranges(index, n))

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        n = self._checked_size(new_size)
        if not 0 <= old_size <= n:
            raise UsageError(
                f"旧树大小 {old_size} 无效:应在 0 到 {n} 之间",
                hint="--from 不能大于 --to 或当前大小",
            )
        return self._range_hashes(merkle.consistency_ranges(old_size, n))

    def proof_bundle(self, index: int) -> dict[str, Any]:
        """Everything needed to verify entry ``index`` offline against a signed checkpoint."""
        with self._db.read():
            size, note = self._latest_note()
            checkpoint = open_checkpoint(note, self._verifier)
            if not 0 <= index < checkpoint.size:
                raise UsageError(f"登记簿中没有索引为 {index} 的条目(共 {size} 条)")
            entry = self.entry(index)
            proof = self._range_hashes(merkle.inclusion_ranges(index, checkpoint.size))
        if not merkle.verify_inclusion(
            entry.leaf_hash, index, checkpoint.size, proof, checkpoint.root
        ):
            raise self._damaged(f"条目 {index} 的包含证明与签名检查点不符")
        return {
            "format": PROOF_FORMAT,
            "entry": entry.data.decode("utf-8"),
            "index": index,
            "tree_size": checkpoint.size,
            "leaf_hash": entry.leaf_hash.hex(),
            "inclusion_proof": [p.hex() for p in proof],
            "checkpoint": note.decode("utf-8"),
            "verifier_key": self.verifier_key,
        }

    def proof_bundles(self, indices: Sequence[int]) -> list[dict[str, Any]]:
        """:meth:`proof_bundle` for many entries at once, against one checkpoint.

        One read transaction, one checkpoint signature check, and the entries and tree nodes
        read in a few batched queries instead of three per entry.
        """
        if not indices:
            return []
        with self._db.read():
            size, note = self._latest_note()
            checkpoint = open_checkpoint(note, self._verifier)
            for index in indices:
                if not 0 <= index < checkpoint.size:
                    raise UsageError(f"登记簿中没有索引为 {index} 的条目(共 {size} 条)")
            datas = self._entry_bytes(indices)
            wanted = sorted(datas)
            ranges = {i: merkle.inclusion_ranges(i, checkpoint.size) for i in wanted}
            nodes: dict[merkle.NodeId, bytes] = {}
            needed = sorted(merkle.needed_nodes(r for rs in ranges.values() for r in rs))
            for start in range(0, len(needed), _BATCH_ROWS):
                nodes.update(self._nodes(set(needed[start : start + _BATCH_ROWS])))
        text = note.decode("utf-8")
        bundles: list[dict[str, Any]] = []
        hashes: dict[merkle.Range, bytes] = {}  # the right-hand ranges recur across entries

        def range_hash(span: merkle.Range) -> bytes:
            digest = hashes.get(span)
            if digest is None:
                digest = hashes[span] = merkle.range_hash(span[0], span[1], nodes.__getitem__)
            return digest

        for index in indices:
            if index not in datas:
                raise self._damaged(f"缺少条目 {index}")
            data = datas[index]
            leaf = merkle.leaf_hash(data)
            proof = [range_hash(span) for span in ranges[index]]
            if not merkle.verify_inclusion(leaf, index, checkpoint.size, proof, checkpoint.root):
                raise self._damaged(f"条目 {index} 的包含证明与签名检查点不符")
            bundles.append(
                {
                    "format": PROOF_FORMAT,
                    "entry": data.decode("utf-8"),
                    "index": index,
                    "tree_size": checkpoint.size,
                    "leaf_hash": leaf.hex(),
                    "inclusion_proof": [p.hex() for p in proof],
                    "checkpoint": text,
                    "verifier_key": self.verifier_key,
                }
            )
        return bundles

    def document_entry(self, doc_id: str) -> Entry:
        """The ``document`` entry registered for ``doc_id`` (the first, if registered twice)."""
        for entry in self.entries(type="document", doc_id=doc_id):
            return entry
        raise UsageError(
            f"登记簿中没有文书编号为 {doc_id} 的文书", hint="请检查编号,或先生成并登记该文书"
        )

    def check_pinned(self, pinned_note: bytes) -> PinnedCheck:
        """Prove that the registry extends a checkpoint saved earlier (no rollback, no fork)."""
        pinned = open_checkpoint(pinned_note, self._verifier)
        with self._db.read():
            latest = self._latest_checkpoint()
            if pinned.size > latest.size:
                raise VerificationError(
                    f"发现回滚:保存的检查点有 {pinned.size} 条,登记簿现在只有 {latest.size} 条",
                    hint="登记簿被截断或换成了旧备份,请立即核查,不要继续写入",
                )
            proof = self._range_hashes(merkle.consistency_ranges(pinned.size, latest.size))
        if not merkle.verify_consistency(pinned.size, latest.size, proof, pinned.root, latest.root):
            raise VerificationError(
                f"发现分叉:保存的检查点(大小 {pinned.size})与登记簿当前状态(大小"
                f" {latest.size})不一致,一致性证明验证失败",
                hint="登记簿的历史被改写过,或保存的检查点来自另一份登记簿,请立即核查",
            )
        return PinnedCheck(pinned.size, latest.size, tuple(proof))

    # --- audit ---

    def audit(self) -> AuditReport:
        """Recompute every leaf, node and checkpoint root from the stored entries."""
        return _Auditor(self._db, self._verifier).run()


class _Auditor:
    def __init__(self, db: Database, verifier: Verifier) -> None:
        self.db = db
        self.verifier = verifier
        self.problems: list[str] = []
        self.extra = 0
        self.bad: set[int] = set()
        self.suspect_ranges: list[tuple[int, int]] = []

    def fail(self, index: int | None, message: str) -> None:
        if index is not None:
            self.bad.add(index)
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(message)
        else:
            self.extra += 1

    def run(self) -> AuditReport:
        with self.db.read():
            missing = self.db.missing_triggers()
            if missing:
                self.fail(
                    None,
                    "数据库中缺少防篡改触发器 "
                    + "、".join(missing)
                    + "(有人绕过 docgen 直接改过数据库结构)",
                )
            checkpoints = self._checkpoints()
            size = self._entries(checkpoints)
            self._node_counts(size)
            self._checkpoint_chain(checkpoints, size)
        for start, end in self.suspect_ranges:
            if not any(start <= i < end for i in self.bad):
                self.bad.add(start)
        problems = list(self.problems)
        if self.extra:
            problems.append(f"……另有 {self.extra} 个问题未列出")
        first = min(self.bad) if self.bad else None
        ok = not problems
        return AuditReport(ok, size, first, tuple(problems), len(checkpoints))

    def _checkpoints(self) -> list[tuple[int, Checkpoint]]:
        out: list[tuple[int, Checkpoint]] = []
        for size, note in self.db.query(
            "SELECT size, note FROM registry_checkpoints ORDER BY size"
        ):
            try:
                checkpoint = open_checkpoint(_blob(note), self.verifier)
            except VerificationError as exc:
                self.fail(None, f"大小为 {size} 的检查点验证失败:{exc.message}")
                self.suspect_ranges.append((0, int(size)))
                continue
            if checkpoint.size != size:
                self.fail(
                    None, f"检查点记录的大小 {size} 与签名内容中的大小 {checkpoint.size} 不符"
                )
                continue
            out.append((int(size), checkpoint))
        if not out:
            self.fail(0, "没有任何有效的签名检查点")
        return out

    def _entries(self, checkpoints: list[tuple[int, Checkpoint]]) -> int:
        """Stream the entries; returns how many are densely indexed from 0."""
        tree = merkle.CompactRange()
        roots = {size: cp for size, cp in checkpoints}
        previous_good = 0
        pending: list[tuple[int, int, bytes]] = []
        expected = 0

        def check_roots() -> None:
            nonlocal previous_good
            cp = roots.get(tree.size)
            if cp is None:
                return
            if tree.root() != cp.root:
                self.fail(
                    None,
                    f"大小为 {tree.size} 的签名检查点根哈希与重新计算的不符:索引"
                    f" {previous_good}–{tree.size - 1} 之间的条目被改动过",
                )
                self.suspect_ranges.append((previous_good, tree.size))
            else:
                previous_good = tree.size

        check_roots()
        after = -1
        done = False
        while not done:
            rows = self.db.query(
                f"SELECT idx, data, type, doc_id FROM registry_entries WHERE idx > ?"
                f" ORDER BY idx LIMIT {_PAGE}",
                (after,),
            )
            for idx, raw, kind, doc_id in rows:
                idx = int(idx)
                if idx != expected:
                    self.fail(
                        expected,
                        f"索引不连续:缺少索引 {expected}"
                        + (f"–{idx - 1}" if idx - 1 > expected else "")
                        + " 的条目(条目被删除)",
                    )
                    done = True
                    break
                data = _blob(raw)
                if not isinstance(raw, bytes | memoryview):
                    self.fail(idx, f"条目 {idx} 的存储类型被改动(应为二进制 BLOB)")
                self._check_entry(idx, data, kind, doc_id)
                tree.append(merkle.leaf_hash(data), pending)
                expected += 1
                check_roots()
            self._compare_nodes(pending)
            pending = []
            if len(rows) < _PAGE:
                break
            after = int(rows[-1][0])
        return expected

    def _check_entry(self, idx: int, data: bytes, kind: object, doc_id: object) -> None:
        try:
            record = json.loads(data)
        except (UnicodeDecodeError, ValueError):
            self.fail(idx, f"条目 {idx} 不是有效的 JSON")
            return
        if not isinstance(record, dict):
            self.fail(idx, f"条目 {idx} 不是 JSON 对象")
            return
        try:
            canonical = canonical_json(record)
        except rfc8785.CanonicalizationError:
            canonical = b""
        if canonical != data:
            self.fail(idx, f"条目 {idx} 不是规范 JSON(RFC 8785)")
        if record.get("type") not in RECORD_TYPES or record.get("type") != kind:
            self.fail(idx, f"条目 {idx} 的类型“{record.get('type')}”与索引列“{kind}”不符或未知")
        stored_doc = record.get("doc_id") if isinstance(record.get("doc_id"), str) else None
        if stored_doc != doc_id:
            self.fail(idx, f"条目 {idx} 的 doc_id 与索引列不符")

    def _compare_nodes(self, computed: list[tuple[int, int, bytes]]) -> None:
        by_level: dict[int, dict[int, bytes]] = {}
        for level, idx, h in computed:
            by_level.setdefault(level, {})[idx] = h
        for level, wanted in sorted(by_level.items()):
            low, high = min(wanted), max(wanted)
            stored = {
                int(i): _blob(h)
                for i, h in self.db.query(
                    "SELECT idx, hash FROM registry_nodes WHERE level = ? AND idx BETWEEN ? AND ?",
                    (level, low, high),
                )
            }
            for idx, h in sorted(wanted.items()):
                if stored.get(idx) == h:
                    continue
                first = idx << level
                if level == 0:
                    what = (
                        "缺少叶哈希" if idx not in stored else "数据与存储的叶哈希不符(条目被改动)"
                    )
                    self.fail(first, f"条目 {idx}:{what}")
                elif not any(first <= bad < first + (1 << level) for bad in self.bad):
                    # Reported only when no bad entry below it already explains the mismatch.
                    what = "缺失" if idx not in stored else "与重新计算的不符"
                    self.fail(
                        first,
                        f"第 {level} 层第 {idx} 个树节点(条目 {first}–{first + (1 << level) - 1})"
                        f"{what}",
                    )

    def _node_counts(self, size: int) -> None:
        rows = self.db.query(
            "SELECT level, COUNT(*), MIN(idx), MAX(idx) FROM registry_nodes GROUP BY level"
        )
        for level, count, low, high in rows:
            expected = size >> int(level)
            if int(count) > expected or (count and (int(low) < 0 or int(high) >= expected)):
                self.fail(
                    None,
                    f"第 {level} 层有 {count} 个树节点,按 {size} 条记录应为 {expected} 个"
                    "(存在多余的节点)",
                )

    def _checkpoint_chain(self, checkpoints: list[tuple[int, Checkpoint]], size: int) -> None:
        sizes = [s for s, _ in checkpoints]
        if checkpoints and sizes[-1] != size:
            if sizes[-1] > size:
                self.fail(
                    size,
                    f"最新签名检查点有 {sizes[-1]} 条,登记簿只存有 {size} 条连续条目"
                    f"(索引 {size} 起的条目缺失或被截断)",
                )
            else:
                self.fail(
                    sizes[-1],
                    f"索引 {sizes[-1]}–{size - 1} 的条目没有被任何签名检查点覆盖(条目被私自插入)",
                )
        for (old_size, old), (new_size, new) in itertools.pairwise(checkpoints):
            if new_size > size:
                break
            ranges = merkle.consistency_ranges(old_size, new_size)
            needed = merkle.needed_nodes(ranges)
            stored = self._stored_nodes(needed)
            if stored is None:
                self.fail(None, f"无法为检查点 {old_size}→{new_size} 生成一致性证明:树节点缺失")
                continue
            proof = [merkle.range_hash(a, b, stored.__getitem__) for a, b in ranges]
            if not merkle.verify_consistency(old_size, new_size, proof, old.root, new.root):
                self.fail(
                    None,
                    f"签名检查点 {old_size} 与 {new_size} 之间的一致性证明验证失败",
                )
                self.suspect_ranges.append((0, new_size))

    def _stored_nodes(self, wanted: set[merkle.NodeId]) -> dict[merkle.NodeId, bytes] | None:
        if not wanted:
            return {}
        found = _select_nodes(self.db, wanted)
        return found if len(found) == len(wanted) else None


# --- offline verification ---


@functools.lru_cache(maxsize=8)
def _verifier(verifier_key: str) -> Verifier:
    return parse_verifier_key(verifier_key)


@functools.lru_cache(maxsize=64)
def verified_checkpoint(note: bytes, verifier_key: str) -> Checkpoint:
    """:func:`open_checkpoint` remembered per process: a letter's bundles, and a whole run's
    letters, mostly share one checkpoint, so its signature is checked once. Failures (raised)
    are not remembered."""
    return open_checkpoint(note, _verifier(verifier_key))


def verify_proof_bundle(
    bundle: Mapping[str, Any], verifier_key: str, *, entry_data: bytes | None = None
) -> Entry:
    """Check a proof bundle offline: checkpoint signature, then the entry's inclusion proof."""
    _verifier(verifier_key)
    if bundle.get("format") != PROOF_FORMAT:
        raise VerificationError(f"证明文件格式“{bundle.get('format')}”不是 {PROOF_FORMAT}")
    try:
        note = str(bundle["checkpoint"]).encode("utf-8")
        data = str(bundle["entry"]).encode("utf-8")
        index = bundle["index"]
        tree_size = bundle["tree_size"]
        proof = [bytes.fromhex(str(h)) for h in bundle["inclusion_proof"]]
        claimed_leaf = bytes.fromhex(str(bundle["leaf_hash"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise VerificationError(f"证明文件缺少字段或字段格式错误:{exc}") from exc
    if any(not isinstance(v, int) or isinstance(v, bool) for v in (index, tree_size)):
        raise VerificationError("证明文件中的 index 或 tree_size 不是整数")
    checkpoint = verified_checkpoint(note, verifier_key)
    if checkpoint.size != tree_size:
        raise VerificationError(
            f"证明文件的 tree_size {tree_size} 与签名检查点的大小 {checkpoint.size} 不符"
        )
    if entry_data is not None and entry_data != data:
        raise VerificationError("证明文件中的登记条目与登记簿中的条目不一致")
    leaf = merkle.leaf_hash(data)
    if leaf != claimed_leaf:
        raise VerificationError("证明文件中的叶哈希与登记条目内容不符")
    if not merkle.verify_inclusion(leaf, index, tree_size, proof, checkpoint.root):
        raise VerificationError(
            f"包含证明验证失败:条目 {index} 不在签名检查点(大小 {tree_size})所代表的登记簿中"
        )
    try:
        record = json.loads(data)
    except ValueError as exc:
        raise VerificationError("证明文件中的登记条目不是有效的 JSON") from exc
    if not isinstance(record, dict):
        raise VerificationError("证明文件中的登记条目不是 JSON 对象")
    return Entry(index, data, record, leaf)


# --- keys and opening ---


def _check_private_mode(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ValidationError(
            f"登记簿签名私钥的权限过宽({mode:o}),其他用户可以读取",
            location=Location(file=str(path)),
            hint=f"请运行 chmod 600 {path} 后重试",
        )


def _load_signing_key(path: Path) -> Ed25519PrivateKey:
    _check_private_mode(path)
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise ValidationError(
            "登记簿签名私钥无法读取(应为未加密的 PKCS#8 PEM 格式 Ed25519 私钥)",
            location=Location(file=str(path)),
            hint="请从备份恢复该文件",
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ValidationError("登记簿签名私钥不是 Ed25519 密钥", location=Location(file=str(path)))
    return key


def _ensure_private_dir(path: Path) -> None:
    for directory in (path.parent, path):
        if not directory.exists():
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(directory, 0o700)


def load_or_create_signing_key(key_dir: Path) -> Ed25519PrivateKey:
    """The registry's Ed25519 key in ``key_dir/registry.key``; created once, race-free."""
    path = key_dir / "registry.key"
    if path.exists():
        return _load_signing_key(path)
    _ensure_private_dir(key_dir)
    pem = Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    fd, tmp = tempfile.mkstemp(prefix=".registry.key.", dir=key_dir)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        # os.link fails if another process created the key first; then that key is used.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return _load_signing_key(path)


def registry_signer(ws: Workspace) -> Signer:
    """The registry's signer: origin from ``registry_name``, key from ``keys/registry/``."""
    name = ws.config.registry_name
    problem = key_name_problem(name)
    if problem is not None:
        raise ValidationError(
            f"登记簿名称“{name}”不能用作签名检查点的密钥名称:{problem}",
            location=Location(file=str(ws.root / CONFIG_NAME), field="registry_name"),
            hint="请修改 registry_name,去掉空格和加号,例如“庆城县人民检察院/党风廉政建设登记簿”",
        )
    key_dir = ws.keys_dir / "registry"
    signer = Signer.from_private_key(name, load_or_create_signing_key(key_dir))
    vkey_path = key_dir / "registry.vkey"
    vkey = (signer.verifier.encode() + "\n").encode("utf-8")
    if not vkey_path.exists() or vkey_path.read_bytes() != vkey:
        atomic_write(vkey_path, vkey, mode=0o644)
    return signer


def open_registry(
    ws: Workspace,
    *,
    database_url: str | None = None,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
) -> Registry:
    """Open (creating on first use) the workspace's registry.

    SQLite file ``ws.registry_path`` unless ``database_url`` — by default the environment
    variable ``DOCGEN_DATABASE_URL`` — is a ``postgresql://`` URL.
    """
    signer = registry_signer(ws)
    url = database_url if database_url is not None else os.environ.get(DATABASE_URL_ENV)
    db = connect(sqlite_path=ws.registry_path, database_url=url or None, busy_timeout=busy_timeout)
    registry = Registry(db, signer)
    try:
        registry._initialise(sqlite_file=None if url else ws.registry_path)
    except BaseException:
        registry.close()
        raise
    return registry
