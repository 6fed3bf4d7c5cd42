"""The registry's log as a verifier reads it: every entry up to a signed checkpoint, hashed again.

A proof bundle proves that the entries it carries are in the log; it cannot prove that the log
holds nothing else — a letter whose four files were deleted leaves no bundle to miss. What does
prove it is the log itself: an archive carries every entry up to its checkpoint
(``log/entries.jsonl``, one entry's exact bytes per line, as the registry stores and hashes them),
and a workspace has its registry. :func:`scan_log` reads such entries in index order, recomputes
the RFC 9162 root from them and keeps what completeness and revocation need: the ``document``
entries of the years asked for, the ``void`` entries and the ``crl`` and ``revocation`` entries.
:func:`log_check` then requires that root to be the one of a checkpoint signed with the verifier
key, so that nothing in the log can have been added, dropped, changed or reordered.

Pure: bytes in, facts out; the callers read the archive member or the registry.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from docgen.core.errors import VerificationError
from docgen.registry import merkle
from docgen.registry.bundle import verified_checkpoint
from docgen.registry.entries import canonical_json
from docgen.verify.model import CheckResult

LOG_NAME = "log/entries.jsonl"
LOG_CHECK = "登记簿条目"
MAX_PROBLEMS = 20  # a log damaged everywhere is reported by its first few faults


def log_lines(datas: Iterable[bytes]) -> Iterator[bytes]:
    """The lines of ``log/entries.jsonl``: each entry's exact bytes and a line feed (canonical
    JSON escapes every line feed inside a string, so an entry never spans two lines)."""
    for data in datas:
        yield data + b"\n"


def split_log(data: bytes) -> Iterator[tuple[int, bytes]]:
    """``(index, entry bytes)`` of each line of a ``log/entries.jsonl``; a last line without its
    line feed is given as it is (and then fails: the file was cut)."""
    start, index = 0, 0
    while start < len(data):
        end = data.find(b"\n", start)
        if end < 0:
            yield index, data[start:]
            return
        yield index, data[start:end]
        start, index = end + 1, index + 1


@dataclass(frozen=True)
class YearLetter:
    """A letter of the year as the log registers it (its latest ``document`` entry)."""

    doc_id: str
    index: int
    path: str
    voided_at: int | None = None  # index of its first ``void`` entry


@dataclass
class LogScan:
    """What :func:`scan_log` found: the size and root recomputed from the entries, the faults,
    and the entries completeness and revocation need."""

    size: int = 0
    root: bytes = merkle.EMPTY_ROOT
    problems: list[str] = field(default_factory=list)
    cut: bool = False  # the last line had no line feed
    letters: dict[int, dict[str, YearLetter]] = field(default_factory=dict)  # year → doc_id → …
    crls: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    revocations: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def year_letters(self, year: int) -> list[YearLetter]:
        """The year's letters in the order the archive packs them (by path, then id)."""
        found = self.letters.get(year, {})
        return sorted(found.values(), key=lambda x: (x.path, x.doc_id))

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)


def _letter_year(record: dict[str, Any]) -> int | None:
    """The year a ``document`` record is a letter of, as ``docgen archive`` and ``status`` read
    it: its ``year``, when its id begins with that year (``2027-ZR-…``)."""
    year = record.get("year")
    doc_id = record.get("doc_id")
    if type(year) is not int or not isinstance(doc_id, str):
        return None
    return year if doc_id.startswith(f"{year}-") else None


def scan_log(
    entries: Iterable[tuple[int, bytes]], *, years: Iterable[int] | None = None
) -> LogScan:
    """Read entries in index order (from 0, none missing): recompute the tree, parse each entry
    (it must be a JSON object in canonical form, as the registry writes it), and keep the letters
    of ``years`` (``None``: of every year), the voids and the CRL and revocation entries."""
    wanted = None if years is None else frozenset(years)
    scan = LogScan()
    tree = merkle.CompactRange()
    voids: dict[str, int] = {}
    for index, data in entries:
        if index != tree.size:
            scan.problem(f"条目编号不连续:应为第 {tree.size} 条,却是第 {index} 条")
            break
        tree.append(merkle.leaf_hash(data))
        try:
            record = json.loads(data)
        except (ValueError, RecursionError):
            scan.problem(f"第 {index} 条不是有效的 JSON")
            continue
        if not isinstance(record, dict):
            scan.problem(f"第 {index} 条不是 JSON 对象")
            continue
        if canonical_json(record) != data:
            scan.problem(f"第 {index} 条不是登记簿写入的规范 JSON(RFC 8785)")
            continue
        kind = record.get("type")
        if kind == "document":
            year = _letter_year(record)
            if year is not None and (wanted is None or year in wanted):
                doc_id = str(record["doc_id"])
                scan.letters.setdefault(year, {})[doc_id] = YearLetter(
                    doc_id, index, str(record.get("path", ""))
                )
        elif kind == "void":
            voided = record.get("doc_id")
            if isinstance(voided, str):
                voids.setdefault(voided, index)
        elif kind == "crl":
            scan.crls.append((index, record))
        elif kind == "revocation":
            scan.revocations.append((index, record))
    scan.size, scan.root = tree.size, tree.root()
    for letters in scan.letters.values():
        for doc_id, letter in letters.items():
            voided = voids.get(doc_id)
            if voided is not None and voided > letter.index:
                letters[doc_id] = YearLetter(doc_id, letter.index, letter.path, voided)
    return scan


def scan_log_file(data: bytes, *, years: Iterable[int] | None = None) -> LogScan:
    """:func:`scan_log` of the bytes of ``log/entries.jsonl``."""
    cut = bool(data) and not data.endswith(b"\n")
    scan = scan_log(split_log(data), years=years)
    if cut:
        scan.cut = True
        scan.problem("最后一行没有换行符(文件被截断)")
    return scan


def log_check(scan: LogScan, checkpoint: bytes, verifier_key: str, where: str) -> CheckResult:
    """Whether the scanned entries are exactly the log of ``checkpoint`` (signed with
    ``verifier_key``): same number of entries, same root, every entry well-formed."""
    try:
        signed = verified_checkpoint(checkpoint, verifier_key)
    except VerificationError as exc:
        return CheckResult(LOG_CHECK, False, f"检查点无法验证:{exc.diagnostics()}", where)
    if scan.problems:
        shown = ";".join(scan.problems)
        return CheckResult(LOG_CHECK, False, f"登记簿条目有误:{shown}", where)
    if scan.size != signed.size:
        return CheckResult(
            LOG_CHECK,
            False,
            f"有 {scan.size} 条,签名检查点记录的是 {signed.size} 条:条目被删除或增加",
            where,
        )
    if scan.root != signed.root:
        return CheckResult(
            LOG_CHECK,
            False,
            f"由全部 {scan.size} 条重新计算的默克尔树根哈希与签名检查点不符:"
            "条目被改动、删除、增加或调换了顺序",
            where,
        )
    return CheckResult(
        LOG_CHECK,
        True,
        f"全部 {scan.size} 条重新计算的根哈希与签名检查点一致(登记簿“{signed.origin}”)",
        where,
    )
