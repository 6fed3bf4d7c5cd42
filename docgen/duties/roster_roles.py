"""Who is who for the duties: the 班子成员, the departments a leader supervises, their people.

Plain functions of the roster, shared by the ledger's checks, the duties engine, the reports and
the demo.
"""

from __future__ import annotations

from docgen.core.glossary import Role
from docgen.core.models import Department, Roster

LEADERSHIP = frozenset({Role.LEADER, Role.DISCIPLINE_HEAD})
"""班子成员 in the sense of articles 6, 10 and 11 (the 书记 is named separately)."""


def supervised_departments(roster: Roster, person_id: str) -> list[Department]:
    """Departments whose 分管院领导 is ``person_id``, in roster order."""
    return [d for d in roster.departments if d.supervisor == person_id]


def department_staff(department: Department) -> list[str]:
    """Everyone in a department, its head first."""
    ids = [department.head] if department.head else []
    ids.extend(m for m in department.members if m not in ids)
    return ids


def department_contacts(department: Department) -> list[str]:
    """Who speaks for a department to its 分管院领导: its head, or all its members when it has no
    head or the 分管院领导 heads it himself."""
    if department.head and department.head != department.supervisor:
        return [department.head]
    return [m for m in department.members if m != department.supervisor]


def department_heads(roster: Roster) -> set[str]:
    return {d.head for d in roster.departments if d.head}
