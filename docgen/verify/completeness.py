"""Whether a year's letters are all there: every letter the log registers for the year (or for
one volume of it) must be among the letters verified.

The letters of a year are those of :meth:`docgen.verify.log.LogScan.year_letters`, in the order
the archive packs them; volume *n* of a year packed ``per_volume`` letters at a time holds the
*n*-th run of them. A voided letter is still required: voiding keeps the letter on file.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from docgen.verify.derived import Volume
from docgen.verify.log import YearLetter
from docgen.verify.model import CheckResult

COMPLETE_CHECK = "文书齐全"
MAX_LISTED = 50  # missing letters named one by one; beyond, counted


def volume_share(
    letters: Sequence[YearLetter], volume: Volume | None
) -> tuple[Sequence[YearLetter], list[str]]:
    """The letters an archive must hold (all of the year's, or its volume's run of them), and
    what is wrong with the volume's description against the log."""
    if volume is None:
        return letters, []
    problems: list[str] = []
    total = len(letters)
    if volume.letters_in_year != total:
        problems.append(
            f"本卷记载全年文书 {volume.letters_in_year} 份,登记簿中该年度登记的是 {total} 份"
        )
    per = volume.per_volume
    if per < 1:
        problems.append("本卷没有记载每卷的文书份数,无法确定本卷应有哪些文书")
        return (), problems
    if volume.count != max(1, -(-total // per)):
        problems.append(
            f"全年 {total} 份文书每卷 {per} 份应分 {-(-total // per)} 卷,"
            f"本卷记载的是 {volume.count} 卷"
        )
    if not 1 <= volume.number <= volume.count:
        problems.append(f"卷号 {volume.number} 超出范围")
    start = (volume.number - 1) * per
    return letters[start : start + per], problems


def completeness_checks(
    expected: Sequence[YearLetter],
    found: Collection[str],
    *,
    label: str,
    where: str | None,
    shown_path: str = "",
    extra: Collection[str] = (),
    found_paths: Collection[str] = (),
) -> list[CheckResult]:
    """One failed check per letter of ``expected`` that is neither among the ids ``found`` nor
    at a path of ``found_paths`` (a letter whose proof file is gone is still there, and fails
    on its own), the first :data:`MAX_LISTED` of them, then a count; one per id of ``extra``
    (letters held that should not be); or one passed check. ``shown_path`` is put before each
    registered path."""
    missing = [
        letter
        for letter in expected
        if letter.doc_id not in found and letter.path not in found_paths
    ]
    checks: list[CheckResult] = []
    for letter in missing[:MAX_LISTED]:
        voided = ",已作废" if letter.voided_at is not None else ""
        path = f"{shown_path}{letter.path}"
        checks.append(
            CheckResult(
                COMPLETE_CHECK,
                False,
                f"缺少文书 {letter.doc_id}:{path}(登记簿第 {letter.index} 条登记了这份文书"
                f"{voided});登记的文书不能删除,请从备份恢复它的文书、签名和证明文件",
                path,
            )
        )
    if len(missing) > MAX_LISTED:
        checks.append(
            CheckResult(
                COMPLETE_CHECK,
                False,
                f"另有 {len(missing) - MAX_LISTED} 份登记的文书缺失(共缺 {len(missing)} 份)",
                where,
            )
        )
    for doc_id in sorted(extra)[:MAX_LISTED]:
        checks.append(
            CheckResult(
                COMPLETE_CHECK, False, f"文书 {doc_id} 不在登记簿中{label}应有的文书之列", where
            )
        )
    if not checks:
        checks.append(
            CheckResult(
                COMPLETE_CHECK, True, f"登记簿中{label}登记的 {len(expected)} 份文书都在", where
            )
        )
    return checks


def unprovable(where: str, why: str) -> CheckResult:
    """Completeness that cannot be proved here: not passed, never shown as ✓."""
    return CheckResult(COMPLETE_CHECK, False, f"无法证明:{why}", where, unknown=True)
