"""Checking what a roster means: duplicate ids, unknown references, who may head or supervise.

The readers report what is wrong with the text (syntax, missing fields, unknown roles);
:func:`check_roster` reports what is wrong with the institution it describes, for a roster read
from YAML or built from a spreadsheet alike, every problem at once and in a stable order.
"""

from __future__ import annotations

from docgen.core.errors import Problem
from docgen.core.glossary import Role
from docgen.core.models import Department, Person, Roster
from docgen.roster.functions import ALLOWED_FUNCTIONS, is_allowed
from docgen.roster.names import normalise_name
from docgen.roster.vocabulary import (
    ERROR,
    FIELD_LABELS,
    SUPERVISOR_ROLES,
    WARNING,
    RosterLocator,
    describe_person,
    role_label,
)


class _Checker:
    def __init__(self, roster: Roster, locator: RosterLocator) -> None:
        self.roster = roster
        self.loc = locator
        self.problems: list[Problem] = []
        self.index: dict[str, int] = {}
        for i, person in enumerate(roster.people):
            self.index.setdefault(person.id, i)

    def at_person(self, i: int, field_name: str | None, message: str, severity: str) -> None:
        self.problems.append(
            Problem(message, self.loc.person(self.roster, i, field_name), severity)
        )

    def at_department(self, i: int, field_name: str | None, message: str, severity: str) -> None:
        self.problems.append(
            Problem(message, self.loc.department(self.roster, i, field_name), severity)
        )

    def who(self, person_id: str) -> Person | None:
        i = self.index.get(person_id)
        return None if i is None else self.roster.people[i]

    def run(self) -> list[Problem]:
        self.ids()
        self.names()
        self.secretary()
        self.departments()
        self.memberships()
        return self.problems

    def names(self) -> None:
        for i, person in enumerate(self.roster.people):
            fixed = normalise_name(person.name)
            if fixed != person.name:
                self.at_person(
                    i,
                    "name",
                    f"姓名“{person.name}”中有空格或全角字符,按“{fixed}”使用(证书、文件名、报告都用"
                    f"这一写法);请在名册中改为“{fixed}”",
                    WARNING,
                )

    def ids(self) -> None:
        for i, person in enumerate(self.roster.people):
            first = self.index[person.id]
            if first != i:
                other = self.roster.people[first]
                line = self.loc.people.get((first, "id"), other.line)
                self.at_person(
                    i,
                    "id",
                    f"编号“{person.id}”重复:{describe_person(other)}"
                    f"{f'(第 {line} 行)' if line else ''}已使用此编号;每人的编号必须唯一",
                    ERROR,
                )

    def secretary(self) -> None:
        secretaries = [
            i for i, p in enumerate(self.roster.people) if p.role is Role.PARTY_SECRETARY
        ]
        if not secretaries:
            self.problems.append(
                Problem(
                    "名册中没有党组书记:请把检察长(党组书记)的 role 设为“党组书记”",
                    self.loc.at(None, "role"),
                    ERROR,
                )
            )
            return
        if len(secretaries) > 1:
            names = "、".join(describe_person(self.roster.people[i]) for i in secretaries)
            for i in secretaries[1:]:
                self.at_person(
                    i,
                    "role",
                    f"名册中有 {len(secretaries)} 名党组书记({names}),只能有一名;"
                    "请把其他人的 role 改为“班子成员”等",
                    ERROR,
                )

    def reference(self, d: int, field_name: str, person_id: str) -> Person | None:
        person = self.who(person_id)
        if person is None and person_id not in self.loc.rejected_ids:
            dept = self.roster.departments[d]
            self.at_department(
                d,
                field_name,
                f"部门“{dept.name}”的{FIELD_LABELS[field_name]}“{person_id}”不在人员名单中;"
                "请填写 people 中已有的编号",
                ERROR,
            )
        return person

    def departments(self) -> None:
        seen: dict[str, int] = {}
        for d, dept in enumerate(self.roster.departments):
            if dept.name in seen:
                self.at_department(
                    d,
                    "name",
                    f"部门“{dept.name}”重复出现;同一部门请只写一次",
                    ERROR,
                )
            seen.setdefault(dept.name, d)
            self.supervisor(d, dept)
            self.head(d, dept)
            self.function(d, dept)
            if not dept.members:
                self.at_department(
                    d,
                    "members",
                    f"部门“{dept.name}”没有成员,将不签订《廉洁从检承诺书》",
                    WARNING,
                )
            listed: set[str] = set()
            for member_id in dept.members:
                if member_id in listed:
                    self.at_department(
                        d,
                        "members",
                        f"部门“{dept.name}”的成员中“{member_id}”写了两次;请删去一处",
                        ERROR,
                    )
                    continue
                listed.add(member_id)
                member = self.reference(d, "members", member_id)
                if member is None:
                    continue
                if member_id == dept.head:
                    self.at_department(
                        d,
                        "members",
                        f"部门负责人{describe_person(member)}也列在本部门成员中;"
                        "负责人不与自己签订承诺书,请从 members 中删去",
                        WARNING,
                    )
                elif member.role in SUPERVISOR_ROLES:
                    self.at_department(
                        d,
                        "members",
                        f"{describe_person(member)}是{role_label(member.role)},"
                        f"不能作为部门“{dept.name}”的普通成员;分管请写在 supervisor,"
                        "兼任负责人请写在 head",
                        ERROR,
                    )

    def function(self, d: int, dept: Department) -> None:
        """The 职能 field names one of 第七条's 相关职能部门, or none."""
        if dept.function is None or is_allowed(dept.function):
            return
        self.at_department(
            d,
            "function",
            f"部门“{dept.name}”的职能“{dept.function}”无法识别;"
            f"可填:{'、'.join(ALLOWED_FUNCTIONS)}(第七条相关职能部门;"
            "不填则按部门名称认定,填“无”表示不是第七条所指的相关职能部门)",
            ERROR,
        )

    def supervisor(self, d: int, dept: Department) -> None:
        if dept.supervisor is None:
            self.at_department(
                d,
                "supervisor",
                f"部门“{dept.name}”没有分管院领导:请在 supervisor 填写分管该部门的班子成员编号",
                ERROR,
            )
            return
        person = self.reference(d, "supervisor", dept.supervisor)
        if person is not None and person.role not in SUPERVISOR_ROLES:
            self.at_department(
                d,
                "supervisor",
                f"部门“{dept.name}”的分管院领导{describe_person(person)}的角色是"
                f"“{role_label(person.role)}”;只有党组书记、班子成员、纪检组长可以分管部门",
                ERROR,
            )

    def head(self, d: int, dept: Department) -> None:
        if dept.head is None:
            self.at_department(
                d,
                "head",
                f"部门“{dept.name}”没有负责人:成员将与分管院领导签订《廉洁从检承诺书》",
                WARNING,
            )
            return
        person = self.reference(d, "head", dept.head)
        if person is None:
            return
        if person.role in (Role.STAFF, Role.COMMITTEE_MEMBER):
            self.at_department(
                d,
                "head",
                f"部门“{dept.name}”的负责人{describe_person(person)}的角色是"
                f"“{role_label(person.role)}”,不能担任部门负责人;请把其 role 改为“部门负责人”",
                ERROR,
            )
        elif person.role is not Role.DEPARTMENT_HEAD:
            note = (
                ",不与自己签订责任书;本部门成员与其签订《廉洁从检承诺书》"
                if dept.supervisor == person.id
                else ""
            )
            self.at_department(
                d,
                "head",
                f"{role_label(person.role)}{describe_person(person)}兼任部门“{dept.name}”"
                f"负责人(允许){note}",
                WARNING,
            )

    def memberships(self) -> None:
        placed: dict[str, int] = {}  # person id -> index of their department
        heads: set[str] = set()
        for d, dept in enumerate(self.roster.departments):
            if dept.head is not None:
                heads.add(dept.head)
            for member_id in dict.fromkeys(dept.members):
                if member_id == dept.head:
                    continue
                self.place(placed, member_id, d)
        for d, dept in enumerate(self.roster.departments):
            if dept.head is not None and dept.head in placed:
                other_d = placed[dept.head]
                person = self.who(dept.head)
                if person is not None and other_d != d:
                    other = self.roster.departments[other_d]
                    self.at_department(
                        d,
                        "head",
                        f"{describe_person(person)}既是部门“{dept.name}”的负责人,又是部门"
                        f"“{other.name}”的成员;一人只能属于一个部门",
                        ERROR,
                    )
        for i, person in enumerate(self.roster.people):
            if self.index[person.id] != i:
                continue
            if person.role is Role.DEPARTMENT_HEAD and person.id not in heads:
                self.at_person(
                    i,
                    "role",
                    f"部门负责人{describe_person(person)}没有负责任何部门"
                    "(没有出现在任何部门的 head)",
                    WARNING,
                )
            elif person.role is Role.STAFF and person.id not in placed and person.id not in heads:
                self.at_person(
                    i,
                    None,
                    f"工作人员{describe_person(person)}不属于任何部门,将不签订《廉洁从检承诺书》;"
                    "请把其编号加入所在部门的 members",
                    WARNING,
                )

    def place(self, placed: dict[str, int], person_id: str, d: int) -> None:
        person = self.who(person_id)
        if person is None:
            return
        if person_id in placed:
            first = self.roster.departments[placed[person_id]]
            dept = self.roster.departments[d]
            self.at_department(
                d,
                "members",
                f"{describe_person(person)}同时在部门“{first.name}”和“{dept.name}”中;"
                "一人只能属于一个部门",
                ERROR,
            )
            return
        placed[person_id] = d


def check_roster(roster: Roster, locator: RosterLocator | None = None) -> list[Problem]:
    """Problems of meaning in a roster, errors and warnings, in a stable order.

    ``locator`` says where each entry came from; without it, the file is ``roster.source``
    and the line of each entry is the one stored on the person or department.
    """
    return _Checker(roster, locator or RosterLocator(file=roster.source)).run()


def in_file_order(problems: list[Problem]) -> tuple[Problem, ...]:
    """Problems from the top of the file down, so a clerk can fix them in one pass."""
    return tuple(sorted(problems, key=lambda p: p.location.row or 0))
