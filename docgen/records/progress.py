"""The office's 年度进度: a year's status per department and per person, with names, filtered.

This is :func:`docgen.records.status.year_status` — the same reading of the registry and of the
year folder that ``docgen status`` prints — regrouped for the signing page and its Excel export:
each person under their department (院领导 for the leadership, who head none), with how many of
their letters are signed, waiting for them, or voided, and the letters that match the filters the
clerk chose. No state is computed here that ``year_status`` does not already say; a letter's label
(未签 / 待签 / 已完成 / 已作废 / 文件缺失) is :attr:`LetterStatus.label`.

A year is read once (:func:`read_year`: 10⁴ letters take about a second) and each filtered view
is made from that reading in memory (:func:`progress_of`); the page keeps the reading while
:func:`freshness` — the registry's size, the roster's and the year folders' modification times —
says nothing it depends on has changed, so a clerk who filters and pages does not wait for the
whole year again.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from docgen.core.glossary import LetterKind
from docgen.core.models import Roster
from docgen.core.workspace import CONFIG_NAME, Workspace
from docgen.records.deadline import Timing
from docgen.records.status import LetterStatus, StatusReport, year_status
from docgen.registry import open_registry
from docgen.roster.load import load_roster

LEADERSHIP = "院领导"
STATES = ("未签", "待签", "已完成", "已作废", "文件缺失")
TIMINGS = {Timing.OVERDUE.value: Timing.OVERDUE.label, Timing.LATE.value: Timing.LATE.label}
DEFAULT_LIMIT = 100  # letters listed on one page; the rest are counted (and exported)


@dataclass(frozen=True)
class ProgressFilter:
    """What the clerk narrowed the page to; empty fields do not filter."""

    department: str = ""
    person: str = ""  # a person's id or name
    state: str = ""  # one of STATES
    kind: str = ""  # a LetterKind value
    timing: str = ""  # one of TIMINGS: late or overdue against the signing deadline

    def people_match(self, pid: str, name: str, department: str) -> bool:
        if self.department and department != self.department:
            return False
        return not self.person or self.person in (pid, name)

    def row_matches(self, row: LetterRow) -> bool:
        """Whether a letter (its :class:`LetterRow`) passes the filters: its label and kind, and
        one of its parties by department and by id or name."""
        if self.state and row.label != self.state:
            return False
        if self.kind and row.kind != self.kind:
            return False
        if self.timing and row.status.timing != self.timing:
            return False
        if not self.department and not self.person:
            return True
        return self.people_match(row.superior, row.superior_name, row.superior_department) or (
            self.people_match(row.subordinate, row.subordinate_name, row.subordinate_department)
        )

    @property
    def active(self) -> bool:
        return bool(self.department or self.person or self.state or self.kind or self.timing)


@dataclass(frozen=True, slots=True)
class LetterRow:
    """What the filters look at in one letter, worked out once per reading of the year."""

    status: LetterStatus
    label: str
    kind: str
    superior: str
    superior_name: str
    superior_department: str
    subordinate: str
    subordinate_name: str
    subordinate_department: str


def letter_row(status: LetterStatus, departments: dict[str, str]) -> LetterRow:
    sup, sub = status.superior, status.subordinate
    return LetterRow(
        status, status.label, status.kind.value,
        sup.id, sup.name, departments.get(sup.id, LEADERSHIP),
        sub.id, sub.name, departments.get(sub.id, LEADERSHIP),
    )  # fmt: skip


@dataclass
class PersonProgress:
    person_id: str
    name: str
    title: str
    department: str
    signed: int = 0  # letters in force this person has signed
    waiting: int = 0  # letters in force still waiting for this person's signature
    voided: int = 0  # voided letters this person is a party of

    @property
    def total(self) -> int:
        return self.signed + self.waiting + self.voided


@dataclass(frozen=True)
class DepartmentProgress:
    name: str
    people: tuple[PersonProgress, ...]

    @property
    def signed(self) -> int:
        return sum(p.signed for p in self.people)

    @property
    def waiting(self) -> int:
        return sum(p.waiting for p in self.people)

    @property
    def voided(self) -> int:
        return sum(p.voided for p in self.people)


@dataclass(frozen=True)
class YearProgress:
    year: int
    report: StatusReport  # counts, not generated, missing files: as ``docgen status`` says
    departments: tuple[DepartmentProgress, ...]
    letters: tuple[LetterStatus, ...]  # those that match the filter, at most ``limit``
    matched: int  # how many letters match the filter in all
    filter: ProgressFilter = field(default_factory=ProgressFilter)
    department_names: tuple[str, ...] = ()  # every department, for the filter's choices

    @property
    def unlisted(self) -> int:
        return self.matched - len(self.letters)

    @property
    def people_count(self) -> int:
        return sum(len(d.people) for d in self.departments)

    @property
    def people_listed(self) -> bool:
        """Whether the page lists the people one by one (else per department: choose one)."""
        return self.people_count <= PEOPLE_LISTED

    @property
    def departments_shown(self) -> tuple[DepartmentProgress, ...]:
        """The departments of the summary: those with letters waiting first (in roster order),
        at most DEPARTMENTS_LISTED."""
        waiting = [d for d in self.departments if d.waiting]
        done = [d for d in self.departments if not d.waiting]
        return tuple((waiting + done)[:DEPARTMENTS_LISTED])


def departments_of(roster: Roster) -> dict[str, str]:
    """Each person's department (the first that names them as head or member); people of no
    department are the leadership."""
    found: dict[str, str] = {}
    for department in roster.departments:
        for pid in (department.head, *department.members):
            if pid is not None:
                found.setdefault(pid, department.name)
    return found


def _tally(people: dict[str, PersonProgress], status: LetterStatus) -> None:
    for party in (status.superior, status.subordinate):
        person = people.get(party.id)
        if person is None:  # a party no longer in the roster: kept under the name registered
            person = people[party.id] = PersonProgress(party.id, party.name, "", LEADERSHIP)
        if status.voided:
            person.voided += 1
        elif party.id in status.missing:
            person.waiting += 1
        else:
            person.signed += 1


def _grouped(
    people: Iterable[PersonProgress], order: Iterable[str]
) -> tuple[DepartmentProgress, ...]:
    by_department: dict[str, list[PersonProgress]] = {name: [] for name in order}
    for person in people:
        by_department.setdefault(person.department, []).append(person)
    return tuple(
        DepartmentProgress(name, tuple(members))
        for name, members in by_department.items()
        if members
    )


@dataclass(frozen=True)
class YearSnapshot:
    """One reading of a year through :func:`year_status`: every letter's status, each person's
    counts grouped by department, from which any filtered view is made in memory
    (:func:`progress_of`)."""

    year: int
    report: StatusReport
    rows: tuple[LetterRow, ...]  # every letter, in registry order
    departments: tuple[DepartmentProgress, ...]  # every person, by department, with counts
    order: tuple[str, ...]  # 院领导, then the roster's departments


def read_year(
    ws: Workspace, year: int, roster: Roster | None = None, *, as_of: date | None = None
) -> YearSnapshot:
    """Read the year once: ``docgen status``'s reading, every letter kept, each party's counts.
    ``roster``: the workspace's roster when the caller holds it already (reading a roster of
    10⁴ people is a third of the time); ``as_of``: the day letters are judged late or overdue
    against the signing deadline, as ``docgen status --as-of`` (None: none is called so)."""
    roster = roster if roster is not None else load_roster(ws.roster_path)
    departments = departments_of(roster)
    people = {
        p.id: PersonProgress(p.id, p.name, p.title, departments.get(p.id, LEADERSHIP))
        for p in roster.people
    }
    rows: list[LetterRow] = []

    def each(status: LetterStatus) -> None:
        rows.append(letter_row(status, departments))
        _tally(people, status)

    report = year_status(ws, year, listed=0, each=each, as_of=as_of)
    order = (LEADERSHIP, *(d.name for d in roster.departments))
    return YearSnapshot(
        year=year,
        report=report,
        rows=tuple(rows),
        departments=_grouped(people.values(), order),
        order=order,
    )


PEOPLE_LISTED = 150  # people listed one by one; a larger choice is shown per department
DEPARTMENTS_LISTED = 60  # departments in that summary; those with letters waiting come first


def progress_of(
    snapshot: YearSnapshot, chosen: ProgressFilter | None = None, *, limit: int | None = None
) -> YearProgress:
    """The view of ``snapshot`` the filters choose (``limit``: letters kept at most; ``None``
    keeps every matching letter). Each person's counts cover all their letters."""
    chosen = chosen or ProgressFilter()
    if chosen.kind:
        LetterKind(chosen.kind)  # an unknown kind is a ValueError the caller reports
    if chosen.department or chosen.person:
        grouped = tuple(
            DepartmentProgress(d.name, members)
            for d in snapshot.departments
            if (
                members := tuple(
                    p for p in d.people if chosen.people_match(p.person_id, p.name, p.department)
                )
            )
        )
    else:
        grouped = snapshot.departments
    if not chosen.active:  # the whole year: no letter to test
        chosen_rows = snapshot.rows if limit is None else snapshot.rows[:limit]
        kept = [row.status for row in chosen_rows]
        matched = len(snapshot.rows)
    else:
        kept = []
        matched = 0
        for row in snapshot.rows:
            if chosen.row_matches(row):
                matched += 1
                if limit is None or len(kept) < limit:
                    kept.append(row.status)
    return YearProgress(
        year=snapshot.year,
        report=snapshot.report,
        departments=grouped,
        letters=tuple(kept),
        matched=matched,
        filter=chosen,
        department_names=snapshot.order,
    )


def year_progress(
    ws: Workspace,
    year: int,
    chosen: ProgressFilter | None = None,
    *,
    limit: int | None = DEFAULT_LIMIT,
    as_of: date | None = None,
) -> YearProgress:
    """The year's progress, read now (:func:`read_year`) and filtered (:func:`progress_of`)."""
    return progress_of(read_year(ws, year, as_of=as_of), chosen, limit=limit)


def freshness(ws: Workspace, year: int) -> tuple[object, ...]:
    """What a year's status depends on, cheap to read: the registry's size (it only grows; every
    signature, void or new letter adds entries), the roster's and docgen.toml's modification
    times and sizes, and the modification times of the year folder and the folders in it (a
    letter's file deleted, renamed or put back changes its folder's time). A snapshot read when
    this was the same is still what :func:`read_year` would read now."""
    with open_registry(ws) as registry:
        size = registry.size()
    stamps: list[object] = [size]
    for path in (ws.roster_path, ws.root / CONFIG_NAME):
        info = path.stat()
        stamps.append((info.st_mtime_ns, info.st_size))
    year_dir = ws.year_dir(year)
    if year_dir.is_dir():
        stamps.append(year_dir.stat().st_mtime_ns)
        with os.scandir(year_dir) as entries:
            stamps.extend(sorted((e.name, e.stat().st_mtime_ns) for e in entries if e.is_dir()))
    return tuple(stamps)
