"""The office's 年度进度: a year's status per department and per person, with names, filtered.

This is :func:`docgen.records.status.year_status` — the same reading of the registry and of the
year folder that ``docgen status`` prints — regrouped for the signing page and its Excel export:
each person under their department (院领导 for the leadership, who head none), with how many of
their letters are signed, waiting for them, or voided, and the letters that match the filters the
clerk chose. No state is computed here that ``year_status`` does not already say; a letter's label
(未签 / 待签 / 已完成 / 已作废 / 文件缺失) is :attr:`LetterStatus.label`.

A year of 10⁴ letters is read letter by letter (``each``): only the letters that match the
filters are kept, and at most ``limit`` of them; the counts cover every letter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from docgen.core.glossary import LetterKind
from docgen.core.models import Roster
from docgen.core.workspace import Workspace
from docgen.records.status import LetterStatus, StatusReport, year_status
from docgen.roster.load import load_roster

LEADERSHIP = "院领导"
STATES = ("未签", "待签", "已完成", "已作废", "文件缺失")
DEFAULT_LIMIT = 500  # letters listed on one page; the rest are counted


@dataclass(frozen=True)
class ProgressFilter:
    """What the clerk narrowed the page to; empty fields do not filter."""

    department: str = ""
    person: str = ""  # a person's id or name
    state: str = ""  # one of STATES
    kind: str = ""  # a LetterKind value

    def people_match(self, pid: str, name: str, department: str) -> bool:
        if self.department and department != self.department:
            return False
        return not self.person or self.person in (pid, name)

    def letter_matches(self, status: LetterStatus, departments: dict[str, str]) -> bool:
        if self.state and status.label != self.state:
            return False
        if self.kind and status.kind.value != self.kind:
            return False
        parties = (status.superior, status.subordinate)
        return any(
            self.people_match(p.id, p.name, departments.get(p.id, LEADERSHIP)) for p in parties
        )

    @property
    def active(self) -> bool:
        return bool(self.department or self.person or self.state or self.kind)


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
    people: Iterable[PersonProgress], order: list[str], chosen: ProgressFilter
) -> tuple[DepartmentProgress, ...]:
    by_department: dict[str, list[PersonProgress]] = {name: [] for name in order}
    for person in people:
        if chosen.people_match(person.person_id, person.name, person.department):
            by_department.setdefault(person.department, []).append(person)
    return tuple(
        DepartmentProgress(name, tuple(members))
        for name, members in by_department.items()
        if members
    )


def year_progress(
    ws: Workspace,
    year: int,
    chosen: ProgressFilter | None = None,
    *,
    limit: int | None = DEFAULT_LIMIT,
) -> YearProgress:
    """The year's progress for the office's page, read once through :func:`year_status`
    (``limit``: letters kept at most; ``None`` keeps every matching letter, for the export)."""
    chosen = chosen or ProgressFilter()
    if chosen.kind:
        LetterKind(chosen.kind)  # an unknown kind is a ValueError the caller reports
    roster = load_roster(ws.roster_path)
    departments = departments_of(roster)
    people = {
        p.id: PersonProgress(p.id, p.name, p.title, departments.get(p.id, LEADERSHIP))
        for p in roster.people
    }
    order = [LEADERSHIP, *(d.name for d in roster.departments)]
    kept: list[LetterStatus] = []
    matched = 0

    def each(status: LetterStatus) -> None:
        nonlocal matched
        _tally(people, status)
        if chosen.letter_matches(status, departments):
            matched += 1
            if limit is None or len(kept) < limit:
                kept.append(status)

    report = year_status(ws, year, listed=0, each=each)
    return YearProgress(
        year=year,
        report=report,
        departments=_grouped(people.values(), order, chosen),
        letters=tuple(kept),
        matched=matched,
        filter=chosen,
        department_names=tuple(order),
    )
