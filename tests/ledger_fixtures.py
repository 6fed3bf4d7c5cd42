"""A small, fully known roster for the ledger, duties and report tests."""

from __future__ import annotations

from datetime import UTC, datetime

from docgen.core.glossary import Role
from docgen.core.models import Department, Person, Roster

YEAR = 2027
RECORDED = datetime(2027, 12, 31, 10, 0, 0, tzinfo=UTC)


def small_roster() -> Roster:
    """书记 P01; 班子成员 P02 (supervises D1, D2), 纪检组长 P03 (supervises D3),
    P04 (supervises D4, which has no head), P06 (supervises nothing); 专职委员 P05;
    heads H1–H3; staff S1–S6 (S5 and S6 share a name)."""

    def person(pid: str, name: str, title: str, role: Role) -> Person:
        return Person(id=pid, name=name, title=title, role=role)

    people = (
        person("P01", "张书记", "党组书记、检察长", Role.PARTY_SECRETARY),
        person("P02", "李副", "副检察长", Role.LEADER),
        person("P03", "陈纪", "纪检组长", Role.DISCIPLINE_HEAD),
        person("P04", "刘政", "政治部主任", Role.LEADER),
        person("P05", "杨委", "检委会专职委员", Role.COMMITTEE_MEMBER),
        person("P06", "赵副", "副检察长", Role.LEADER),
        person("H1", "马一", "第一部主任", Role.DEPARTMENT_HEAD),
        person("H2", "胡二", "第二部主任", Role.DEPARTMENT_HEAD),
        person("H3", "郭三", "第三部主任", Role.DEPARTMENT_HEAD),
        person("S1", "许甲", "检察官", Role.STAFF),
        person("S2", "邓乙", "检察官", Role.STAFF),
        person("S3", "萧丙", "检察官", Role.STAFF),
        person("S4", "程丁", "检察官", Role.STAFF),
        person("S5", "王芳", "科员", Role.STAFF),
        person("S6", "王芳", "科员", Role.STAFF),
    )
    departments = (
        Department("第一部", head="H1", supervisor="P02", members=("S1", "S2")),
        Department("第二部", head="H2", supervisor="P02", members=("S3",)),
        Department("第三部", head="H3", supervisor="P03", members=("S4",)),
        Department("第四部", head=None, supervisor="P04", members=("S5", "S6")),
    )
    return Roster(institution="庆城县人民检察院", people=people, departments=departments)


def small_roster_yaml() -> str:
    """The same roster as YAML, for workspaces (roster check warns about 第四部's missing head)."""
    roster = small_roster()
    lines = ['institution: "庆城县人民检察院"', "people:"]
    for p in roster.people:
        lines.append(f"  - {{id: {p.id}, name: {p.name}, title: {p.title}, role: {p.role.label}}}")
    lines.append("departments:")
    for d in roster.departments:
        head = d.head if d.head else "null"
        members = ", ".join(d.members)
        sup = d.supervisor
        lines.append(
            f"  - {{name: {d.name}, head: {head}, supervisor: {sup}, members: [{members}]}}"
        )
    return "\n".join(lines) + "\n"
