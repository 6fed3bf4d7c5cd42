"""Whether the volumes of a year's archive given to one ``docgen verify`` run make a whole year.

A year of more than :data:`docgen.verify.archive.VOLUME_LETTERS` letters is archived in volumes,
each a
whole archive that is verified on its own. What no single volume can show is that none is
missing: each volume's manifest says which it is (``"volume": {"number", "of",
"letters_in_year", "letters_per_volume"}``), and this module checks, for the volumes of one
archive run (same institution, year, root certificate and checkpoint), that every number from 1
to "of" is there exactly once and that their letters add up to the year's. (That each volume
holds its whole share of the year's letters is proved from its own copy of the log, see
:mod:`docgen.verify.completeness`.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from docgen.verify.derived import Volume, volume_from_manifest

CHECK_NAME = "分卷齐全"


@dataclass(frozen=True)
class VolumeCheck:
    name: str
    ok: bool
    detail: str
    file: str | None
    unknown: bool = False  # one volume alone cannot prove its year whole


@dataclass(frozen=True)
class VolumeMark:
    """What an archive's manifest says of it as a volume: which one, and of which archive run."""

    run: tuple[str, ...]  # institution, year, root certificate, checkpoint
    volume: Volume


def volume_mark(manifest: object) -> VolumeMark | None:
    """The mark of an archive whose (parsed) manifest.json declares it a volume of a year."""
    volume = volume_from_manifest(manifest)
    if volume is None or not isinstance(manifest, dict):
        return None
    run = (
        str(manifest.get("institution")),
        str(manifest.get("year")),
        str(manifest.get("ca_sha256")),
        json.dumps(manifest.get("checkpoint"), sort_keys=True, ensure_ascii=False),
    )
    return VolumeMark(run, volume)


@dataclass(frozen=True)
class _Seen:
    shown: str  # the archive as given on the command line
    volume: Volume
    letters: int  # letters verified in it


@dataclass
class VolumeSets:
    """The volumes met in one verification run, grouped by the archive run that made them."""

    _sets: dict[tuple[str, ...], list[_Seen]] = field(default_factory=dict)

    def add(self, mark: VolumeMark | None, shown: str, letters: int) -> None:
        """Note an archive just verified, if its manifest marks it a volume of a year."""
        if mark is not None:
            self._sets.setdefault(mark.run, []).append(_Seen(shown, mark.volume, letters))

    def checks(self) -> list[VolumeCheck]:
        """One check per archive run met: a single volume is told which it is, and that the year
        cannot be proved whole from it (an unknown check, never ✓); two or more must be all of
        them, each once, with every letter of the year."""
        found: list[VolumeCheck] = []
        for (institution, year, _ca, _checkpoint), seen in self._sets.items():
            first = seen[0]
            count = first.volume.count
            label = f"{institution} {year} 年度归档"
            if len(seen) == 1:
                found.append(
                    VolumeCheck(
                        CHECK_NAME,
                        False,
                        f"{label}共 {count} 卷,本次只核对了第 {first.volume.number} 卷;"
                        f"全年是否齐全无法由一卷证明,须一次给出全部 {count} 卷核对",
                        first.shown,
                        unknown=True,
                    )
                )
                continue
            found.append(_whole_year(label, seen))
        return found


def _whole_year(label: str, seen: list[_Seen]) -> VolumeCheck:
    count = seen[0].volume.count
    total = seen[0].volume.letters_in_year
    problems: list[str] = []
    if any(s.volume.count != count or s.volume.letters_in_year != total for s in seen):
        problems.append("各卷所记的卷数或全年文书份数不一致")
    numbers = sorted(s.volume.number for s in seen)
    twice = sorted({n for n in numbers if numbers.count(n) > 1})
    if twice:
        problems.append("重复的卷:" + "、".join(f"第 {n} 卷" for n in twice))
    missing = [n for n in range(1, count + 1) if n not in numbers]
    if missing:
        problems.append("缺少:" + "、".join(f"第 {n} 卷" for n in missing))
    strange = sorted({n for n in numbers if not 1 <= n <= count})
    if strange:
        problems.append("卷号超出范围:" + "、".join(str(n) for n in strange))
    letters = sum(s.letters for s in seen)
    if not problems and letters != total:
        problems.append(f"各卷文书共 {letters} 份,与全年 {total} 份不符")
    if problems:
        return VolumeCheck(CHECK_NAME, False, f"{label}共 {count} 卷:" + ";".join(problems), None)
    return VolumeCheck(
        CHECK_NAME, True, f"{label}全部 {count} 卷齐全,共 {total} 份文书", None
    )
