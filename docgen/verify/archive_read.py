"""Reading and checking an archive (a ``.zip`` or an extracted archive folder) given to
``docgen verify``: its members are read into memory, refusing anything unsafe (paths, links,
sizes, compression bombs) before reading it; then its anchors, checkpoint and letters are
verified, and every file the archive derives must match a fresh derivation byte for byte.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import stat
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from docgen.core.errors import DocgenError, Location, UsageError, VerificationError
from docgen.registry import Registry
from docgen.registry.note import open_checkpoint, parse_verifier_key
from docgen.verify.anchors import trust_from_bytes
from docgen.verify.checklist import verify_letter
from docgen.verify.completeness import completeness_checks, volume_share
from docgen.verify.crls import (
    CrlHistory,
    crl_files,
    expiry_warning,
    given_crl_check,
    history_checks,
)
from docgen.verify.derived import (
    CA_NAME,
    CHECKPOINT_NAME,
    CRL_NAME,
    MANIFEST_NAME,
    VKEY_NAME,
    ArchiveAnchors,
    CrlFile,
    Volume,
    render_derived_files,
)
from docgen.verify.files import letter_files_from_members, safe_relative
from docgen.verify.log import LOG_NAME, LogScan, log_check, scan_log_file
from docgen.verify.manifest import manifest_paths
from docgen.verify.model import (
    DEFAULT_TOLERANCE,
    LETTER_SUFFIX,
    MAX_ANCHOR_BYTES,
    MAX_CHECKPOINT_BYTES,
    MAX_MANIFEST_BYTES,
    PROOF_SUFFIX,
    CheckResult,
    LetterReport,
    TrustAnchors,
    ZipLimits,
)
from docgen.verify.reference import scan_history
from docgen.verify.report import VerifyReport
from docgen.verify.volumes import VolumeMark, volume_mark


def read_zip(path: Path, limits: ZipLimits | None = None) -> dict[str, bytes]:
    """All members of a zip archive, in memory, refusing anything unsafe before reading it."""
    limits = limits or ZipLimits()
    shown = str(path)

    def refuse(reason: str) -> VerificationError:
        return VerificationError(
            f"拒绝处理该压缩包:{reason}",
            location=Location(file=shown),
            hint="这不是 docgen 生成的归档包,或已被篡改;不要解压,请向归档来源核实",
        )

    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise UsageError("文件不存在", location=Location(file=shown)) from exc
    if size > limits.max_total_bytes:
        raise refuse(f"文件过大({size} 字节)")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise refuse(f"不是有效的 zip 文件({exc})") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_members:
            raise refuse(f"成员过多({len(infos)} 个,上限 {limits.max_members} 个)")
        total = 0
        seen: set[str] = set()
        for info in infos:
            name = info.filename
            if info.is_dir():
                if not safe_relative(name.rstrip("/")):
                    raise refuse(f"成员路径不安全:“{name}”(绝对路径或含 ..)")
                continue
            if not safe_relative(name):
                raise refuse(f"成员路径不安全:“{name}”(绝对路径或含 ..)")
            if any(ord(ch) < 0x20 for ch in name):
                raise refuse(f"成员名含控制字符:{name!r}")
            if name in seen:
                raise refuse(f"成员“{name}”重复出现")
            seen.add(name)
            if stat.S_ISLNK(info.external_attr >> 16):
                raise refuse(f"成员“{name}”是符号链接")
            if info.flag_bits & 0x1:
                raise refuse(f"成员“{name}”已加密")
            limit = limits.max_log_bytes if name == LOG_NAME else limits.max_member_bytes
            if info.file_size > limit:
                raise refuse(f"成员“{name}”解压后 {info.file_size} 字节,超过上限 {limit}")
            total += info.file_size
            if total > limits.max_total_bytes:
                raise refuse(f"解压后总大小超过上限 {limits.max_total_bytes} 字节(疑似压缩炸弹)")
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size >= limits.ratio_floor_bytes and ratio > limits.max_ratio:
                raise refuse(
                    f"成员“{name}”压缩比 {ratio:.0f}:1 超过上限 {limits.max_ratio}:1(疑似压缩炸弹)"
                )
        members: dict[str, bytes] = {}
        for info in infos:
            if info.is_dir():
                continue
            try:
                with archive.open(info) as handle:
                    data = handle.read(info.file_size + 1)
            # zipfile raises NotImplementedError for a compression method it cannot read.
            except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
                raise refuse(f"成员“{info.filename}”已损坏({exc})") from exc
            if len(data) != info.file_size:
                raise refuse(f"成员“{info.filename}”的实际大小与声明不符(疑似压缩炸弹)")
            members[info.filename] = data
    return members


def read_archive_dir(directory: Path, limits: ZipLimits | None = None) -> dict[str, bytes]:
    """An extracted archive, read into memory within the same bounds as a zip."""
    limits = limits or ZipLimits()
    members: dict[str, bytes] = {}
    total = 0
    for path in sorted(directory.rglob("*")):
        rel = path.relative_to(directory).as_posix()
        if path.is_symlink():
            raise VerificationError(
                "归档目录中有符号链接,拒绝处理", location=Location(file=str(path))
            )
        if not path.is_file():
            continue
        if len(members) >= limits.max_members:
            raise VerificationError(
                f"归档目录中文件过多(上限 {limits.max_members} 个)",
                location=Location(file=str(directory)),
            )
        size = path.stat().st_size
        total += size
        limit = limits.max_log_bytes if rel == LOG_NAME else limits.max_member_bytes
        if size > limit or total > limits.max_total_bytes:
            raise VerificationError(
                "归档目录中的文件过大,拒绝处理", location=Location(file=str(path))
            )
        members[rel] = path.read_bytes()
    return members


def _member_check(
    members: Mapping[str, bytes], name: str, limit: int, label: str
) -> tuple[bytes | None, CheckResult | None]:
    data = members.get(name)
    if data is None:
        return None, CheckResult(label, False, f"归档中缺少 {name}", name)
    if len(data) > limit:
        return None, CheckResult(label, False, f"{name} 过大(上限 {limit} 字节)", name)
    return data, None


def verify_archive_members(
    members: Mapping[str, bytes],
    *,
    name: str,
    trust: TrustAnchors | None = None,
    tolerance: timedelta = DEFAULT_TOLERANCE,
    online_registry: Registry | None = None,
    now: datetime | None = None,
) -> VerifyReport:
    """Check a whole archive held in memory: anchors, checkpoint, the log and the completeness
    of the year (or volume) it proves, the registered CRLs, manifest, every letter.

    Trust anchors come from the archive unless ``trust`` is given; then the archive's CA and
    verifier key must equal the given ones. Signatures are judged against the CRLs registered in
    the archive's log; a CRL file (the archive's ``crl.pem``, the given one) older than the
    newest of them is reported. ``now``: to warn when the newest CRL has expired.
    """
    checks: list[CheckResult] = []

    def prefixed(file: str | None) -> str | None:
        return f"{name}:{file}" if file else name

    ca_data, problem = _member_check(members, CA_NAME, MAX_ANCHOR_BYTES, "根证书")
    crl_data, problem_crl = _member_check(members, CRL_NAME, MAX_ANCHOR_BYTES, "证书吊销列表")
    vkey_data, problem_vkey = _member_check(members, VKEY_NAME, MAX_ANCHOR_BYTES, "登记簿验证公钥")
    checks.extend(c for c in (problem, problem_crl, problem_vkey) if c is not None)
    archived: TrustAnchors | None = None
    if ca_data is not None and crl_data is not None and vkey_data is not None:
        try:
            archived = trust_from_bytes(ca_data, crl_data, vkey_data, tolerance=tolerance)
        except VerificationError as exc:
            checks.append(
                CheckResult(
                    "信任锚", False, exc.diagnostics(), exc.location.file if exc.location else None
                )
            )
    if trust is not None and archived is not None:
        same = (
            archived.ca_fingerprint == trust.ca_fingerprint
            and archived.verifier_key == trust.verifier_key
        )
        checks.append(
            CheckResult(
                "信任锚与指定的一致",
                same,
                "归档中的根证书和登记簿验证公钥与指定的一致"
                if same
                else "归档中的根证书或登记簿验证公钥与指定的不一致:归档可能被整体伪造",
                CA_NAME,
            )
        )
    anchors = trust or archived
    if anchors is None:
        return VerifyReport((), tuple(_prefix_checks(checks, prefixed)))

    checkpoint, problem = _member_check(members, CHECKPOINT_NAME, MAX_CHECKPOINT_BYTES, "检查点")
    if problem is not None:
        checks.append(problem)
    else:
        assert checkpoint is not None
        try:
            cp = open_checkpoint(checkpoint, parse_verifier_key(anchors.verifier_key))
            checks.append(
                CheckResult(
                    "检查点签名", True, f"登记簿检查点(大小 {cp.size})签名有效", CHECKPOINT_NAME
                )
            )
        except VerificationError as exc:
            checks.append(CheckResult("检查点签名", False, exc.diagnostics(), CHECKPOINT_NAME))

    manifest_raw, problem = _member_check(members, MANIFEST_NAME, MAX_MANIFEST_BYTES, "文件清单")
    manifest: object = None
    if problem is not None:
        checks.append(problem)
    else:
        assert manifest_raw is not None
        try:
            manifest = json.loads(manifest_raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            checks.append(CheckResult("文件清单", False, f"不是有效的 JSON:{exc}", MANIFEST_NAME))
    mark = volume_mark(manifest)
    declared = manifest.get("year") if isinstance(manifest, dict) else None
    outside: list[CheckResult] = []
    log, history = _log(members, checkpoint, anchors, declared, checks)
    if history is not None:
        checks.extend(history_checks(history, LOG_NAME))
        if archived is not None:
            current = given_crl_check(archived.crl, history, CRL_NAME)
            if current is not None:
                checks.append(current)
        if trust is not None:  # a file outside the archive: named as given, after the others
            current = given_crl_check(trust.crl, history, trust.crl_name)
            if current is not None:
                outside.append(current)
        warning = expiry_warning(anchors.crl, history, now)
        if warning is not None:
            checks.append(warning)
    paths = set(manifest_paths(manifest))
    for member in members:
        if member.endswith(LETTER_SUFFIX) and member + PROOF_SUFFIX in members:
            paths.add(member)
    letters = tuple(
        verify_letter(
            letter_files_from_members(members, path),
            anchors,
            online_registry=online_registry,
            expected_checkpoint=checkpoint,
            crls=history,
        )
        for path in sorted(paths)
    )
    checks.extend(_completeness(log, letters, declared, mark))
    letters = tuple(_prefix_letter(letter, name) for letter in letters)
    if manifest_raw is not None and checkpoint is not None and ca_data and vkey_data and crl_data:
        checks.extend(
            _derived_checks(
                members,
                [_unprefix_letter(letter, name) for letter in letters],
                ArchiveAnchors(ca_pem=ca_data, crl=crl_data, vkey=vkey_data, checkpoint=checkpoint),
                None if mark is None else mark.volume,
                () if history is None else crl_files(history),
            )
        )
    return VerifyReport(letters, (*_prefix_checks(checks, prefixed), *outside), mark)


# The last log scanned, by its digest: every volume of a year carries the same log (4·10⁵
# entries, ≈ 11 s to scan at 10⁵ letters), and the volumes are verified one after the other.
_LAST_SCAN: dict[tuple[bytes, int | None], LogScan] = {}


def _scanned(data: bytes, year: int | None) -> LogScan:
    key = (hashlib.sha256(data).digest(), year)
    scan = _LAST_SCAN.get(key)
    if scan is None:
        scan = scan_log_file(data, years=None if year is None else [year])
        _LAST_SCAN.clear()
        _LAST_SCAN[key] = scan
    return scan


def _log(
    members: Mapping[str, bytes],
    checkpoint: bytes | None,
    anchors: TrustAnchors,
    year: object,
    checks: list[CheckResult],
) -> tuple[LogScan | None, CrlHistory | None]:
    """The archive's log, scanned and checked against its checkpoint (None when it is missing
    or is not that log: nothing can then be proved from it), and the CRLs it registers."""
    data = members.get(LOG_NAME)
    if data is None:
        checks.append(
            CheckResult(
                "登记簿条目",
                False,
                f"归档中缺少 {LOG_NAME}:无法证明归档包含该年度登记的全部文书",
                LOG_NAME,
            )
        )
        return None, None
    if checkpoint is None:
        return None, None
    scan = _scanned(data, year if type(year) is int else None)
    check = log_check(scan, checkpoint, anchors.verifier_key, LOG_NAME)
    checks.append(check)
    if not check.ok:
        return None, None
    return scan, scan_history(scan, anchors.ca_cert, "归档的登记簿条目")


def _completeness(
    log: LogScan | None,
    letters: Sequence[LetterReport],
    declared: object,
    mark: VolumeMark | None,
) -> list[CheckResult]:
    """Every letter the log registers for the archive's year (its volume's share of them) is
    among the archive's letters, and no other is."""
    if log is None:
        return [CheckResult("文书齐全", False, "无法证明:没有可信的登记簿条目", LOG_NAME)]
    years = sorted({x.year for x in letters if x.year is not None})
    year = declared if type(declared) is int else (years[0] if years else None)
    if not isinstance(year, int):
        return [CheckResult("文书齐全", False, "无法确定归档的年度", MANIFEST_NAME)]
    volume = None if mark is None else mark.volume
    expected, problems = volume_share(log.year_letters(year), volume)
    checks = [CheckResult("分卷", False, problem, MANIFEST_NAME) for problem in problems]
    found = {x.doc_id for x in letters if x.doc_id is not None}
    wanted = {x.doc_id for x in expected}
    label = f" {year} 年度" if volume is None else f" {year} 年度第 {volume.number} 卷"
    return checks + completeness_checks(
        expected,
        found,
        label=label,
        where=LOG_NAME,
        extra=found - wanted,
        found_paths={x.path for x in letters},
    )


def _derived_checks(
    members: Mapping[str, bytes],
    letters: Sequence[LetterReport],
    anchors: ArchiveAnchors,
    volume: Volume | None = None,
    crls: Sequence[CrlFile] = (),
) -> list[CheckResult]:
    """Every file the archive builder derives must be byte-identical to a fresh derivation
    (for one volume of several, from the volume its manifest declares; the CRL files from the
    log's ``crl`` entries)."""
    checks: list[CheckResult] = []
    try:
        expected = render_derived_files(letters, anchors, members, volume=volume, crls=crls)
    except (KeyError, ValueError, DocgenError) as exc:
        return [CheckResult("归档说明文件", False, f"无法重新生成:{exc}", MANIFEST_NAME)]
    declared = set(members) - {MANIFEST_NAME}
    listed = set(expected.expected_names)
    extra = sorted(declared - listed)
    missing = sorted(listed - declared)
    if extra:
        checks.append(
            CheckResult(
                "文件清单完整", False, "归档中有清单以外的文件:" + "、".join(extra), extra[0]
            )
        )
    if missing:
        checks.append(
            CheckResult("文件清单完整", False, "归档中缺少文件:" + "、".join(missing), missing[0])
        )
    if not extra and not missing:
        checks.append(CheckResult("文件清单完整", True, f"{len(listed)} 个文件与清单一一对应"))
    for member, data in sorted(expected.derived.items()):
        actual = members.get(member)
        if actual is None:
            continue
        if actual != data:
            checks.append(
                CheckResult(
                    f"{member} 与归档内容一致",
                    False,
                    f"{member} 与按已验证内容重新生成的不同(第 {_first_difference(actual, data)}"
                    " 字节起):文件被改动过,或归档由另一版本的 docgen 生成——请勿照它操作,"
                    "文书本身以本次逐份核验的结果为准",
                    member,
                )
            )
        else:
            checks.append(CheckResult(f"{member} 与归档内容一致", True, "逐字节一致", member))
    return checks


def _first_difference(a: bytes, b: bytes) -> int:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i + 1
    return min(len(a), len(b)) + 1


def _prefix_checks(
    checks: Iterable[CheckResult], prefixed: Callable[[str | None], str | None]
) -> list[CheckResult]:
    # replace(), not a new CheckResult: a warning ("!") or an unknown ("?") keeps its mark.
    return [dataclasses.replace(c, file=prefixed(c.file)) for c in checks]


def _prefix_letter(letter: LetterReport, name: str) -> LetterReport:
    from dataclasses import replace

    def fix(path: str | None) -> str | None:
        return f"{name}:{path}" if path else path

    return replace(
        letter,
        path=f"{name}:{letter.path}",
        steps=tuple(replace(s, file=fix(s.file)) for s in letter.steps),
    )


def _unprefix_letter(letter: LetterReport, name: str) -> LetterReport:
    from dataclasses import replace

    head = f"{name}:"

    def fix(path: str | None) -> str | None:
        return path[len(head) :] if path and path.startswith(head) else path

    return replace(
        letter,
        path=fix(letter.path) or letter.path,
        steps=tuple(replace(s, file=fix(s.file)) for s in letter.steps),
    )
