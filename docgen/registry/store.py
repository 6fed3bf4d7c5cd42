"""The append-only registry: canonical JSON entries in a Merkle tree with signed checkpoints.

Every complete subtree hash is stored (``registry_nodes``), so the root of any size and any
inclusion or consistency proof is read from O(log n) stored rows, and an append writes only the
nodes it completes. Each append is one exclusive transaction that ends with a new signed
checkpoint; concurrent appenders from several processes therefore get dense indices.

This module is the :class:`Registry` and how one is opened (:func:`open_registry`) or its
tables created by the database owner (:func:`init_schema`). Beside it: what an entry is and its
canonical bytes (:mod:`docgen.registry.entries`), the audit (:mod:`docgen.registry.audit`), a
saved checkpoint checked against the entries themselves (:mod:`docgen.registry.replay`),
checking proof bundles offline (:mod:`docgen.registry.bundle`), the tables and triggers
(:mod:`docgen.registry.schema`) and the signing key (:mod:`docgen.registry.signing_key`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from docgen.core.errors import (
    DocgenError,
    Location,
    UsageError,
    ValidationError,
    VerificationError,
)
from docgen.core.workspace import CONFIG_NAME, Workspace
from docgen.registry import merkle
from docgen.registry.audit import Auditor, AuditReport
from docgen.registry.backend import Database, connect
from docgen.registry.bundle import PROOF_FORMAT
from docgen.registry.clock import MAX_SIGNING_LAG, MAX_STEP_BACK
from docgen.registry.clock import live as live_clock
from docgen.registry.entries import Entry, canonical_entry
from docgen.registry.note import (
    Checkpoint,
    Signer,
    Verifier,
    open_checkpoint,
    sign_checkpoint,
)
from docgen.registry.pg_connect import RegistryUnavailable
from docgen.registry.replay import PinnedReplay, replay_pinned
from docgen.registry.rows import PAGE_ROWS, blob, select_nodes
from docgen.registry.schema import SCHEMA_VERSION
from docgen.registry.signing_key import registry_signer

DATABASE_URL_ENV = "DOCGEN_DATABASE_URL"
DEFAULT_BUSY_TIMEOUT = 30.0
APPEND_ATTEMPTS = 3  # an append cut off by a lost connection is redone on a new one, twice
APPEND_CHUNK = 10_000  # entries per append transaction, for the commands that append many
_BATCH_ROWS = 400  # rows per IN (...) query; two parameters per tree node


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


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _stamp(
    records: Sequence[Mapping[str, Any]], recorded_at: str
) -> tuple[list[bytes], list[tuple[bytes, str, str | None]]]:
    """The canonical bytes of ``records`` stamped with ``recorded_at``, with the type and doc_id
    columns of each."""
    datas: list[bytes] = []
    prepared: list[tuple[bytes, str, str | None]] = []
    for position, record in enumerate(records):
        stamped = {**record, "recorded_at": recorded_at}
        data = canonical_entry(stamped, position=position if len(records) > 1 else None)
        doc_id = stamped.get("doc_id")
        datas.append(data)
        prepared.append((data, str(stamped["type"]), doc_id if isinstance(doc_id, str) else None))
    return datas, prepared


def _check_signing_times(
    records: Sequence[Mapping[str, Any]], recorded_at: str, limit: timedelta
) -> None:
    """Refuse records whose ``signing_time`` is further from the registry time than ``limit``
    (the workspace's verify tolerance: verify would then fail the signature). A signature made
    elsewhere and imported (``"source": "import"``) may be older by any amount — sign import has
    checked it is not older than its letter — but not newer."""
    registered = _parse_time(recorded_at)
    for record in records:
        signed = record.get("signing_time")
        if not isinstance(signed, str):
            continue
        try:
            gap = abs(_parse_time(signed) - registered)
            if record.get("source") == "import":
                gap = max(_parse_time(signed) - registered, timedelta(0))
        except ValueError:
            continue  # not a time docgen writes: the entry's own checks judge it
        if gap > limit:
            raise ValidationError(
                f"签名时间 {signed} 与登记簿时钟 {recorded_at} 相差 {int(gap.total_seconds())} 秒,"
                f"超过 {int(limit.total_seconds())} 秒,拒绝登记(验证时会判为不符)",
                hint="本机时钟与登记簿(数据库服务器)的时钟相差太多:请校准时钟后重新签名",
            )


def _like_escape(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern with ``ESCAPE '\\'``."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _entry(index: int, data: bytes) -> Entry:
    record = json.loads(data)
    return Entry(index, data, record, merkle.leaf_hash(data))


class Registry:
    """The registry of one workspace (or one shared PostgreSQL database)."""

    def __init__(self, db: Database, signer: Signer, *, live: bool = False) -> None:
        self._db = db
        self.live = live  # stamp entries with the registry clock read under the append lock
        self._attempt: tuple[int, list[bytes]] | None = None  # the append in flight
        self.signing_lag = MAX_SIGNING_LAG  # open_registry: the workspace's verify tolerance
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
        self._db.upgrade()
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
        """Append; return the index of the first new entry, their bytes and leaf hashes.

        With the live clock (:mod:`docgen.registry.clock`) the time is read after the append
        lock is granted and the entries are stamped with it there; with a fixed ``now`` they are
        stamped before, and a time earlier than the last entry's is refused."""
        if not records:
            return self.size(), [], []
        stamped: tuple[list[bytes], list[tuple[bytes, str, str | None]]] | None = None
        if not self.live:
            stamped = _stamp(records, _recorded_at(now))
        for attempt in range(APPEND_ATTEMPTS):
            self._attempt = None
            try:
                return self._append_once(records, now, stamped)
            except RegistryUnavailable:
                if attempt + 1 == APPEND_ATTEMPTS:
                    raise
                self._db.reconnect()
                done = self._committed_attempt()
                if done is not None:
                    return done
        raise AssertionError("unreachable")

    def _committed_attempt(self) -> tuple[int, list[bytes], list[bytes]] | None:
        """After a lost connection: the attempt that was cut off, if its COMMIT went through
        (its entries are in the log, byte for byte), else None (it rolled back)."""
        if self._attempt is None:
            return None
        size, datas = self._attempt
        rows = self._db.query(
            "SELECT data FROM registry_entries WHERE idx >= ? AND idx < ? ORDER BY idx",
            (size, size + len(datas)),
        )
        if [blob(data) for (data,) in rows] != datas:
            return None
        return size, datas, [merkle.leaf_hash(d) for d in datas]

    def _append_once(
        self,
        records: Sequence[Mapping[str, Any]],
        now: datetime,
        stamped: tuple[list[bytes], list[tuple[bytes, str, str | None]]] | None,
    ) -> tuple[int, list[bytes], list[bytes]]:
        with self._db.write():
            size, edge = self._tip()
            latest = str(self.entry(size - 1).record.get("recorded_at", "")) if size else ""
            if stamped is None:
                recorded_at = self._live_time(latest)
                _check_signing_times(records, recorded_at, self.signing_lag)
                stamped = _stamp(records, recorded_at)
            else:
                recorded_at = _recorded_at(now)
                if recorded_at < latest:
                    raise ValidationError(
                        f"登记时间 {recorded_at} 早于登记簿最后一条记录的时间 {latest},拒绝登记",
                        hint="登记簿只能按时间顺序追加;请检查本机时钟(或 DOCGEN_NOW)",
                    )
            datas, prepared = stamped
            self._attempt = (size, datas)
            leaves = [merkle.leaf_hash(d) for d in datas]
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

    def _live_time(self, latest: str) -> str:
        """The registry clock read under the append lock, as ``recorded_at``; a clock a little
        behind the last entry (stepped back) gives the last entry's time."""
        moment = self._db.clock()
        recorded_at = _recorded_at(moment)
        if recorded_at >= latest:
            return recorded_at
        behind = _parse_time(latest) - moment
        if behind <= MAX_STEP_BACK:
            return latest
        raise ValidationError(
            f"登记簿的时钟({recorded_at})比登记簿最后一条记录的时间 {latest} 早"
            f" {int(behind.total_seconds())} 秒,拒绝登记",
            hint="登记簿只能按时间顺序追加;请让管理员校准"
            + ("数据库服务器" if self._db.location.startswith("postgres") else "本机")
            + "的时钟",
        )

    def moment(self, now: datetime) -> datetime:
        """The time a command should use for what it signs now: with the live clock the registry
        clock (read after the workspace lock was granted, so a CMS signing time agrees with the
        registry time its entry gets a moment later), else ``now`` itself."""
        return self._db.clock() if self.live else now

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
        return _entry(index, blob(rows[0][0]))

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
            yield _entry(int(idx), blob(data))

    def _pages(self, columns: str, where: str, params: Sequence[object]) -> Iterator[Any]:
        """Rows of ``registry_entries`` in index order, a page at a time (``idx`` first among
        ``columns``; ``where`` starts with ``idx > ?``, which this fills in)."""
        sql = f"SELECT {columns} FROM registry_entries WHERE {where} ORDER BY idx LIMIT {PAGE_ROWS}"
        after = -1
        while True:
            rows = self._db.query(sql, (after, *params))
            yield from rows
            if len(rows) < PAGE_ROWS:
                return
            after = int(rows[-1][0])

    def entry_data(self, *, types: Sequence[str]) -> Iterator[tuple[int, bytes]]:
        """``(index, exact bytes)`` of the entries of the given types, in index order, unparsed.

        For bulk readers that keep only a few fields: no JSON parsing, no leaf hashes.
        """
        where = f"idx > ? AND type IN ({', '.join('?' for _ in types)})"
        for idx, data in self._pages("idx, data", where, types):
            yield int(idx), blob(data)

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
                        datas[int(idx)] = blob(data)
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
        return int(rows[0][0]), blob(rows[0][1])

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
        found = select_nodes(self._db, wanted)
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
        """Prove that the registry extends a checkpoint saved earlier (no rollback, no fork).

        Quick — O(log n) stored tree nodes — and so it trusts that those nodes are the entries'
        (which the audit checks); :meth:`replay_pinned` rehashes the entries themselves."""
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

    def replay_pinned(self, pinned_note: bytes) -> PinnedReplay:
        """Check a checkpoint saved earlier against the entries themselves: every leaf rehashed,
        the roots and the consistency proof computed from those leaves, not from stored nodes
        or checkpoints (``docgen registry verify-checkpoint``)."""
        return replay_pinned(self._db, self._verifier, pinned_note)

    # --- audit ---

    def audit(self) -> AuditReport:
        """Recompute every leaf, node and checkpoint root from the stored entries."""
        return Auditor(self._db, self._verifier).run()


@dataclass(frozen=True)
class SchemaSetup:
    """What :func:`init_schema` did."""

    location: str
    created: bool
    granted: str | None
    version_before: int = 0  # the tables' version found (0: none) …
    version_after: int = 0  # … and after the migrations (docgen.registry.migrations)


def _database_url(database_url: str | None) -> str | None:
    url = database_url if database_url is not None else os.environ.get(DATABASE_URL_ENV)
    return url or None


def init_schema(
    ws: Workspace, *, database_url: str | None = None, grant: str | None = None
) -> SchemaSetup:
    """Create the registry's tables and triggers (the database owner's step), and on PostgreSQL
    let ``grant`` read and append. Needs no registry key: whoever owns the database need not
    hold it."""
    url = _database_url(database_url)
    db = connect(sqlite_path=ws.registry_path, database_url=url, busy_timeout=DEFAULT_BUSY_TIMEOUT)
    try:
        created = db.create_schema()
        before, after = db.upgrade()
        if grant is not None:
            db.grant_append_only(grant)
        return SchemaSetup(db.location, created, grant, before, after)
    finally:
        db.close()


def open_registry(
    ws: Workspace,
    *,
    database_url: str | None = None,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    live: bool | None = None,
) -> Registry:
    """Open the workspace's registry, creating its tables on first use where the connection may.

    SQLite file ``ws.registry_path`` unless ``database_url`` — by default the environment
    variable ``DOCGEN_DATABASE_URL`` — is a ``postgresql://`` URL. An append-only PostgreSQL role
    cannot create tables: it meets an empty schema with a message saying to have the owner run
    ``docgen registry init`` (:func:`init_schema`). ``live``: stamp entries with the registry
    clock read under the append lock (default: as :func:`docgen.registry.clock.registry_clock`
    chose for this process).
    """
    signer = registry_signer(ws)
    url = _database_url(database_url)
    db = connect(sqlite_path=ws.registry_path, database_url=url, busy_timeout=busy_timeout)
    registry = Registry(db, signer, live=live_clock() if live is None else live)
    registry.signing_lag = timedelta(seconds=ws.config.signing_time_tolerance_seconds)
    try:
        registry._initialise(sqlite_file=None if url else ws.registry_path)
    except BaseException:
        registry.close()
        raise
    return registry
