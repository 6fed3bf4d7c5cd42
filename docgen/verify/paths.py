"""What ``docgen verify PATH…`` does with its paths: each is told apart (a letter, a folder of
letters, a ``.zip`` or an extracted archive) and verified, every letter's report handed on as
soon as it is ready; then the online registry's self-audit and whether the volumes of a year's
archive given are all there.

With the workspace's registry at hand (``registry``), signatures are judged against the CRLs it
registered, and a year folder (``output/<year>/`` or a folder inside it) is proved complete
against the registry's log: every letter registered for it must be among the letters verified.
Without a registry, a folder's completeness cannot be proved, and the run says so (an unknown
check, which fails the run, never a ✓).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path

from docgen.core.errors import DocgenError, UsageError, VerificationError
from docgen.core.workspace import Workspace
from docgen.registry import Registry
from docgen.verify.archive_read import read_archive_dir, read_zip, verify_archive_members
from docgen.verify.completeness import completeness_checks, unprovable
from docgen.verify.crls import (
    CrlHistory,
    expiry_warning,
    given_crl_check,
    history_checks,
)
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
from docgen.verify.reference import RegistryLog, registry_history, scan_registry
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


def _year_folder(directory: Path, workspace: Workspace) -> tuple[int, str] | None:
    """``(year, path of the folder inside output/<year>/)`` when ``directory`` is a year folder
    of the workspace or a folder inside one ("" for the year folder itself)."""
    try:
        rel = directory.resolve().relative_to(workspace.output_dir.resolve())
    except (ValueError, OSError):
        return None
    parts = rel.parts
    if not parts or not parts[0].isdigit():
        return None
    return int(parts[0]), "/".join(parts[1:])


class _Reference:
    """The workspace's registry as the run's reference, read once when first needed."""

    def __init__(self, registry: Registry | None, trust: TrustAnchors | None) -> None:
        self.registry = registry
        self.trust = trust
        self._history: CrlHistory | None = None
        self._logs: dict[int, RegistryLog] = {}

    def history(self) -> CrlHistory | None:
        if self.registry is None or self.trust is None:
            return None
        if self._history is None:
            self._history = registry_history(self.registry, self.trust.ca_cert)
        return self._history

    def log(self, year: int) -> RegistryLog:
        assert self.registry is not None and self.trust is not None
        found = self._logs.get(year)
        if found is None:
            found = scan_registry(self.registry, self.trust.verifier_key, [year])
            self._logs[year] = found
        return found

    def run_checks(self, now: datetime | None) -> list[CheckResult]:
        """The registered CRLs, and the given CRL against them (once per run)."""
        history = self.history()
        if history is None or self.trust is None or self.registry is None:
            return []
        checks = history_checks(history, self.registry.location)
        current = given_crl_check(self.trust.crl, history, self.trust.crl_name)
        if current is not None:
            checks.append(current)
        warning = expiry_warning(self.trust.crl, history, now)
        if warning is not None:
            checks.append(warning)
        return checks


def _folder_completeness(
    reference: _Reference,
    workspace: Workspace | None,
    directory: Path,
    shown: str,
    found: set[str],
    found_paths: set[str],
) -> list[CheckResult]:
    """A folder's letters against the registry's log: all there, or each missing one named
    (``found_paths``: the letters verified, relative to the folder)."""
    if reference.registry is None or workspace is None:
        if not found and not found_paths:
            return []  # nothing found at all: that failure is reported already
        return [
            unprovable(
                shown,
                "没有登记簿可以核对(请在工作目录中运行或加 --online;或核对年度归档包,"
                "它带有全部登记条目)",
            )
        ]
    place = _year_folder(directory, workspace)
    if place is None:
        return [
            unprovable(
                shown, "这不是工作目录中某一年度的文书目录(output/<年度>/),登记簿中没有对应的年度"
            )
        ]
    year, inside = place
    log = reference.log(year)
    if not log.check.ok:
        return [log.check]
    prefix = f"{inside}/" if inside else ""
    expected = [x for x in log.scan.year_letters(year) if x.path.startswith(prefix)]
    head = shown.rstrip("/") + "/"
    label = f" {year} 年度" + (f"(output/{year}/{prefix} 下)" if prefix else "")
    shifted = [dataclasses.replace(x, path=x.path[len(prefix) :]) for x in expected]
    found_all = completeness_checks(
        shifted, found, label=label, where=shown, shown_path=head, found_paths=found_paths
    )
    return [log.check, *found_all]


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
    registry: Registry | None = None,
    workspace: Workspace | None = None,
    now: datetime | None = None,
) -> VerifyTally:
    """Verify letters, directories of letters, and archives (.zip or an extracted archive),
    handing each letter's report to ``emit`` as soon as it is ready, in the order
    ``verify_paths`` lists them; return the counts and the container checks.

    Nothing is kept per letter, so a directory of 10⁵ letters is verified in the memory of a
    few hundred. ``trust`` may be None only when every path is an archive, which carries its own
    anchors (checked before anything is verified). The letters of a directory are verified by
    ``jobs`` worker processes (None: one per CPU), with a ``progress`` bar when one is given.

    ``registry`` (the workspace's, read only; ``online_registry`` when it is not given) is what
    letters and folders are judged against: the CRLs it registered, and for a year folder of
    ``workspace`` the letters it registered. ``now``: to warn when the newest CRL has expired.
    """
    reference = _Reference(registry if registry is not None else online_registry, trust)
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
    letter_paths = False  # a letter or folder was verified (not only archives)

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
                now=now,
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
        ids: set[str] = set()
        held: set[str] = set()  # the letters' paths inside the folder
        head = shown.rstrip("/") + "/"
        with bar as advance:
            for letter in iter_verify_letters(
                found,
                trust,
                online_registry=online_registry,
                jobs=jobs,
                advance=advance,
                crls=reference.history(),
            ):
                verified += 1
                if letter.doc_id is not None:
                    ids.add(letter.doc_id)
                if letter.path.startswith(head):
                    held.add(letter.path[len(head) :])
                take(letter)
        letter_paths = True
        if directory and not verified:
            tally.checks.append(
                CheckResult("查找文书", False, "目录中没有找到带证明文件的文书(.docx)", shown)
            )
        if directory:
            tally.checks.extend(
                _folder_completeness(reference, workspace, path, shown, ids, held)
            )
    if letter_paths:
        if reference.history() is not None:
            tally.checks.extend(reference.run_checks(now))
        elif trust is not None:
            warning = expiry_warning(trust.crl, CrlHistory(), now)
            if warning is not None:
                tally.checks.append(warning)
    if online_registry is not None:
        tally.checks.append(_audit_check(online_registry))
    tally.checks.extend(
        CheckResult(c.name, c.ok, c.detail, c.file, unknown=c.unknown) for c in volumes.checks()
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
    registry: Registry | None = None,
    workspace: Workspace | None = None,
    now: datetime | None = None,
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
        registry=registry,
        workspace=workspace,
        now=now,
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
