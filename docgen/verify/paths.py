"""What ``docgen verify PATH…`` does with its paths: each is told apart (a letter, a folder of
letters, a ``.zip`` or an extracted archive) and verified, every letter's report handed on as
soon as it is ready; then the online registry's self-audit and whether the volumes of a year's
archive given are all there.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import timedelta
from enum import Enum
from pathlib import Path

from docgen.core.errors import DocgenError, UsageError, VerificationError
from docgen.registry import Registry
from docgen.verify.archive_read import read_archive_dir, read_zip, verify_archive_members
from docgen.verify.files import LetterOnDisk
from docgen.verify.folder import iter_verify_letters, letters_in_dir
from docgen.verify.manifest import is_archive_dir
from docgen.verify.model import (
    DEFAULT_TOLERANCE,
    CheckResult,
    LetterReport,
    TrustAnchors,
    ZipLimits,
)
from docgen.verify.report import VerifyReport, VerifyTally
from docgen.verify.volumes import VolumeSets


def _names_beside(docx: Path) -> tuple[str, ...]:
    """The names in the letter's folder that could be its signature files (``<letter>.…``):
    what ``letter_files_from_disk`` would pick from the whole listing, without keeping it."""
    folder = docx.parent
    if not folder.is_dir():
        return ()
    prefix = docx.name + "."
    with os.scandir(folder) as entries:
        return tuple(sorted(e.name for e in entries if e.name.startswith(prefix)))


class _PathKind(Enum):
    ZIP = "zip"
    ARCHIVE_DIR = "archive directory"
    LETTERS = "letters"


def _path_kind(path: Path) -> _PathKind:
    if path.is_file() and path.suffix.lower() == ".zip":
        return _PathKind.ZIP
    if path.is_dir() and is_archive_dir(path):
        return _PathKind.ARCHIVE_DIR
    return _PathKind.LETTERS


def stream_verify_paths(
    paths: Sequence[Path],
    trust: TrustAnchors | None,
    emit: Callable[[LetterReport], None],
    online_registry: Registry | None = None,
    *,
    tolerance: timedelta = DEFAULT_TOLERANCE,
    zip_limits: ZipLimits | None = None,
    jobs: int | None = 1,
    progress: Callable[[int, str], AbstractContextManager[Callable[[int], None]]] | None = None,
) -> VerifyTally:
    """Verify letters, directories of letters, and archives (.zip or an extracted archive),
    handing each letter's report to ``emit`` as soon as it is ready, in the order
    ``verify_paths`` lists them; return the counts and the container checks.

    Nothing is kept per letter, so a directory of 10⁵ letters is verified in the memory of a
    few hundred. ``trust`` may be None only when every path is an archive, which carries its own
    anchors (checked before anything is verified). The letters of a directory are verified by
    ``jobs`` worker processes (None: one per CPU), with a ``progress`` bar when one is given.
    """
    kinds = [_path_kind(path) for path in paths]
    if trust is None:
        for path, kind in zip(paths, kinds, strict=True):
            if kind is _PathKind.LETTERS:
                raise UsageError(
                    f"验证 {path} 需要根证书、吊销列表和登记簿验证公钥",
                    hint="请在 docgen 工作目录中运行,或用 --ca、--crl、--verifier-key 指定",
                )
    tally = VerifyTally()
    volumes = VolumeSets()  # volumes of a year's archive: are they all here?

    def take(letter: LetterReport) -> None:
        tally.add(letter)
        emit(letter)

    for path, kind in zip(paths, kinds, strict=True):
        shown = str(path)
        if kind is not _PathKind.LETTERS:
            try:
                if kind is _PathKind.ZIP:
                    members = read_zip(path, zip_limits)
                else:
                    members = read_archive_dir(path, zip_limits)
            except VerificationError as exc:
                if kind is _PathKind.ZIP:
                    tally.checks.append(CheckResult("压缩包安全", False, exc.message, shown))
                else:
                    tally.checks.append(CheckResult("归档目录", False, exc.diagnostics(), shown))
                continue
            report = verify_archive_members(
                members,
                name=shown,
                trust=trust,
                tolerance=tolerance,
                online_registry=online_registry,
            )
            for letter in report.letters:
                take(letter)
            tally.checks.extend(report.checks)
            volumes.add(report.volume, shown, len(report.letters))
            del members  # before the next archive is read
            continue
        assert trust is not None
        found: Iterable[LetterOnDisk]
        directory = path.is_dir()
        if directory:
            found, dir_checks = letters_in_dir(path, shown)
            tally.checks.extend(dir_checks)
        elif path.exists():
            found = [LetterOnDisk(str(path), shown, _names_beside(path))]
        else:
            tally.checks.append(CheckResult("查找文书", False, "文件或目录不存在", shown))
            continue
        bar = (
            progress(len(found), "验证")  # a DirectoryLetters counts by listing
            if progress is not None
            else nullcontext(lambda _n: None)
        )
        verified = 0
        with bar as advance:
            for letter in iter_verify_letters(
                found, trust, online_registry=online_registry, jobs=jobs, advance=advance
            ):
                verified += 1
                take(letter)
        if directory and not verified:
            tally.checks.append(
                CheckResult("查找文书", False, "目录中没有找到带证明文件的文书(.docx)", shown)
            )
    if online_registry is not None:
        tally.checks.append(_audit_check(online_registry))
    tally.checks.extend(
        CheckResult(c.name, c.ok, c.detail, c.file) for c in volumes.checks()
    )
    return tally


def verify_paths(
    paths: Sequence[Path],
    trust: TrustAnchors | None,
    online_registry: Registry | None = None,
    *,
    tolerance: timedelta = DEFAULT_TOLERANCE,
    zip_limits: ZipLimits | None = None,
    jobs: int | None = 1,
    progress: Callable[[int, str], AbstractContextManager[Callable[[int], None]]] | None = None,
) -> VerifyReport:
    """``stream_verify_paths`` with every letter's report kept, for a handful of letters (a
    county's, the demo's); a whole year is better streamed."""
    letters: list[LetterReport] = []
    tally = stream_verify_paths(
        paths,
        trust,
        letters.append,
        online_registry,
        tolerance=tolerance,
        zip_limits=zip_limits,
        jobs=jobs,
        progress=progress,
    )
    return VerifyReport(tuple(letters), tuple(tally.checks))


def _audit_check(registry: Registry) -> CheckResult:
    """Recompute the live registry from its stored entries (catches edits behind its back)."""
    try:
        audit = registry.audit()
    except DocgenError as exc:
        return CheckResult("在线登记簿自检", False, exc.diagnostics(), registry.location)
    if audit.ok:
        return CheckResult(
            "在线登记簿自检",
            True,
            f"{audit.size} 条记录、树节点与检查点全部重新计算一致",
            registry.location,
        )
    shown = ";".join(audit.problems[:5])
    return CheckResult(
        "在线登记簿自检",
        False,
        f"登记簿已被改动(第一处问题在第 {audit.first_bad_index} 条):{shown}",
        registry.location,
    )
