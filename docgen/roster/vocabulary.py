"""The words of a roster (名册) and what is said about one.

The fields of a roster and their Chinese labels, the roles and who may supervise a department,
what makes an id or a name acceptable, how a person is named in a message; then where each
message points (:class:`RosterLocator`) and what reading and checking found
(:class:`RosterCheck`). Both readers, the checker and the spreadsheet import share them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from docgen.core.errors import Location, Problem
from docgen.core.glossary import ROLE_ALIASES, ROLE_LABELS, Role
from docgen.core.models import Person, Roster

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
"""Person ids go into file names and document ids, so they are plain ASCII."""

ERROR = "error"
WARNING = "warning"

PERSON_FIELDS = ("id", "name", "title", "role")
DEPARTMENT_FIELDS = ("name", "head", "supervisor", "members", "function")
TOP_FIELDS = ("institution", "people", "departments")

FIELD_LABELS: dict[str, str] = {
    "institution": "单位名称",
    "people": "人员名单",
    "departments": "部门",
    "id": "编号",
    "name": "姓名",
    "title": "职务",
    "role": "角色",
    "head": "部门负责人",
    "supervisor": "分管院领导",
    "members": "部门成员",
    "function": "职能",
}

SUPERVISOR_ROLES = frozenset({Role.PARTY_SECRETARY, Role.LEADER, Role.DISCIPLINE_HEAD})
"""Who may be a department's 分管院领导: the 党组书记 and the 班子成员 (article 6, 11)."""

_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


@dataclass(frozen=True)
class RosterLocator:
    """Where each entry and field of a roster came from, for messages.

    ``people``/``departments`` map (index in the roster tuple, field) to a line (YAML) or a
    row (spreadsheet). ``rejected_ids`` are ids of entries that were already reported as
    broken and left out, so references to them are not reported a second time.
    """

    file: str | None = None
    sheet: str | None = None
    people: Mapping[tuple[int, str], int] = field(default_factory=dict)
    departments: Mapping[tuple[int, str], int] = field(default_factory=dict)
    field_labels: Mapping[str, str] = field(default_factory=dict)
    rejected_ids: frozenset[str] = frozenset()

    def at(self, row: int | None, field_name: str | None = None) -> Location:
        label = None
        if field_name is not None:
            label = self.field_labels.get(field_name, field_name)
        return Location(file=self.file, row=row, field=label, sheet=self.sheet)

    def person(self, roster: Roster, index: int, field_name: str | None = None) -> Location:
        row = self.people.get((index, field_name or ""), roster.people[index].line)
        return self.at(row, field_name)

    def department(self, roster: Roster, index: int, field_name: str | None = None) -> Location:
        row = self.departments.get((index, field_name or ""), roster.departments[index].line)
        return self.at(row, field_name)


@dataclass(frozen=True)
class RosterCheck:
    """The outcome of reading and checking a roster: the roster (if it could be built)
    and every problem found, errors and warnings together."""

    roster: Roster | None
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == ERROR)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity != ERROR)

    @property
    def ok(self) -> bool:
        return self.roster is not None and not self.errors


def is_valid_id(value: str) -> bool:
    return ID_PATTERN.fullmatch(value) is not None


def bad_characters(text: str) -> list[str]:
    """Control and invisible formatting characters, as ``U+200E`` etc.; they break documents and
    can disguise a name. Letters outside the BMP (𠮷), ``·``, ``&`` and ``<`` are fine."""
    return [f"U+{ord(ch):04X}" for ch in text if unicodedata.category(ch) in _FORBIDDEN_CATEGORIES]


def parse_role(text: str) -> Role | None:
    """A role from a Chinese word (党组书记, 副检察长, 干警 …) or a code name (leader …)."""
    key = re.sub(r"\s+", "", text)
    return ROLE_ALIASES.get(key) or ROLE_ALIASES.get(key.lower())


def accepted_role_words() -> str:
    return "、".join(ROLE_LABELS.values())


def role_label(role: Role) -> str:
    return ROLE_LABELS[role]


def describe_person(person: Person) -> str:
    return f"“{person.name}”({person.id})"
