"""What a verification run gives: every letter's report (``VerifyReport``, for a handful of
letters) or only their counts (``VerifyTally``, for a streamed year), with the checks of the
containers, and when such a run succeeds.

Apart from :mod:`docgen.verify.model` because an archive's report carries its volume mark, which
:mod:`docgen.verify.volumes` reads with the derived files, and those render ``LetterReport``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from docgen.verify.model import CheckResult, LetterReport, LetterStatus
from docgen.verify.volumes import VolumeMark


@dataclass(frozen=True)
class VerifyReport:
    """Every letter's report and the container checks (for a handful of letters; a whole year
    is verified with ``stream_verify_paths``, which keeps a ``VerifyTally``)."""

    letters: tuple[LetterReport, ...]
    checks: tuple[CheckResult, ...] = ()
    volume: VolumeMark | None = None  # an archive that is one volume of a year's

    def count(self, status: LetterStatus) -> int:
        return sum(1 for letter in self.letters if letter.status is status)

    @property
    def ok(self) -> bool:
        return _all_ok(len(self.letters), self.count, self.checks)

    def summary(self) -> str:
        return _summary_text(len(self.letters), self.count, self.checks)


@dataclass
class VerifyTally:
    """What a streamed verification keeps: how many letters have each status, and the checks of
    the containers (directories, archives, the online registry) — not the letters."""

    counts: dict[LetterStatus, int] = field(default_factory=lambda: dict.fromkeys(LetterStatus, 0))
    checks: list[CheckResult] = field(default_factory=list)

    def add(self, letter: LetterReport) -> None:
        self.counts[letter.status] += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def count(self, status: LetterStatus) -> int:
        return self.counts[status]

    @property
    def ok(self) -> bool:
        return _all_ok(self.total, self.count, self.checks)

    def summary(self) -> str:
        return _summary_text(self.total, self.count, self.checks)


def _all_ok(
    total: int, count: Callable[[LetterStatus], int], checks: Iterable[CheckResult]
) -> bool:
    """Some letters, all verified or voided, and every container check passed."""
    return (
        total > 0
        and all(c.ok for c in checks)
        and count(LetterStatus.FAILED) == 0
        and count(LetterStatus.INCOMPLETE) == 0
    )


def _summary_text(
    total: int, count: Callable[[LetterStatus], int], checks: Iterable[CheckResult]
) -> str:
    text = (
        f"共 {total} 份:验证通过 {count(LetterStatus.VERIFIED)} 份,"
        f"失败 {count(LetterStatus.FAILED)} 份,"
        f"签名不全 {count(LetterStatus.INCOMPLETE)} 份"
    )
    voided = count(LetterStatus.VOIDED)
    if voided:
        text += f",已作废 {voided} 份"
    checks = list(checks)
    bad_checks = sum(1 for c in checks if not c.ok and not c.unknown)
    if bad_checks:
        text += f";另有 {bad_checks} 项整体检查未通过"
    unknown = sum(1 for c in checks if c.unknown)
    if unknown:
        text += f";{unknown} 项无法证明(标为“?”)"
    return text
