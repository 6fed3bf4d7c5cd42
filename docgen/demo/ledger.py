"""A fictional year of activities for ``docgen demo``, derived from whatever roster it is given.

The ledger covers every countable duty of the seed except three, left unmet on purpose so that
``docgen duties`` and the report's 存在问题 have something to show:

* the 专项督察 of the second half-year (article 9.14) never takes place;
* the last 分管院领导 with department heads skips one third-quarter 廉政谈话 (11.6);
* the same person never has a 谈心谈话 with the last member of their departments (11.6).

The yearly reports (9.3, 13.10) are not recorded: the demo drafts them. Dates run through the
whole year, so draft the reports with a date after it ends (e.g. ``{year+1}-01-10``) to see the
final status.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from docgen.core.glossary import ActivityKind, Role
from docgen.core.models import Roster
from docgen.duties.ledger import (
    LEADERSHIP,
    ActivityInput,
    build_activity,
    department_contacts,
    department_staff,
    supervised_departments,
)


def _day(n: int) -> int:
    """A day of the month that exists in every month."""
    return 1 + (n - 1) % 28


def demo_activities(roster: Roster, year: int) -> list[dict[str, Any]]:
    """``activity`` registry records (ready for ``Registry.append``), checked against ``roster``."""
    secretary = next((p.id for p in roster.people if p.role is Role.PARTY_SECRETARY), None)
    discipline = next((p.id for p in roster.people if p.role is Role.DISCIPLINE_HEAD), None)
    leaders = [p.id for p in roster.people if p.role in LEADERSHIP]
    committee = [p.id for p in roster.people if p.role is Role.COMMITTEE_MEMBER]
    heads = list(dict.fromkeys(d.head for d in roster.departments if d.head))
    supervisors = [p.id for p in roster.people if supervised_departments(roster, p.id)]
    party = [*leaders, *committee]

    rows: list[tuple[ActivityKind, date, str, list[str], str]] = []

    def add(kind: ActivityKind, day: date, actor: str, who: list[str], note: str) -> None:
        rows.append((kind, day, actor, [w for w in who if w != actor], note))

    if secretary is not None:
        add(ActivityKind.PARTY_GROUP_MEETING, date(year, 3, 8), secretary, party,
            "研究部署本年度党风廉政建设工作,分解县委下达的任务")  # fmt: skip
        add(ActivityKind.PARTY_GROUP_MEETING, date(year, 8, 20), secretary, party,
            "听取上半年责任制落实情况汇报,研究强化措施")  # fmt: skip
        add(ActivityKind.SPECIAL_REMEDIATION, date(year, 9, 12), secretary, party,
            "检风检纪突出问题专项治理:违规插手干预案件")  # fmt: skip
        add(ActivityKind.TUTORIAL_REPORT, date(year, 4, 26), secretary, [],
            "全院干警党风廉政建设专题辅导报告")  # fmt: skip
        for i, leader in enumerate(leaders):
            add(ActivityKind.ADMONITORY_TALK, date(year, 6, _day(3 + i)), secretary, [leader],
                "履行主体责任情况约谈")  # fmt: skip
        talk_with = [p for p in dict.fromkeys([*leaders, *heads]) if p != secretary]
        for i, other in enumerate(talk_with):
            add(ActivityKind.HEART_TO_HEART_TALK, date(year, 11, _day(2 + i)), secretary, [other],
                "提出履行主体责任和廉洁从检要求")  # fmt: skip
        own = [c for d in supervised_departments(roster, secretary) for c in department_contacts(d)]
        add(ActivityKind.YEAR_END_ASSESSMENT, date(year, 12, 20), secretary, [*party, *own],
            "年底检查考核责任书落实情况")  # fmt: skip
    inspector = discipline or secretary
    if inspector is not None:
        add(ActivityKind.SPECIAL_INSPECTION, date(year, 5, 16), inspector, [],
            "党风检纪专项重点督察:上班纪律和办案作风")  # fmt: skip

    gap_owner = next(
        (
            s
            for s in reversed(supervisors)
            if any(d.head and d.head != s for d in supervised_departments(roster, s))
        ),
        None,
    )
    for n, supervisor in enumerate(supervisors):
        depts = supervised_departments(roster, supervisor)
        for q, month in enumerate((2, 5, 8, 11), start=1):
            for i, dept in enumerate(depts):
                contacts = [c for c in department_contacts(dept) if c != supervisor]
                if contacts:
                    add(ActivityKind.DEPARTMENT_BRIEFING, date(year, month, _day(5 + n + i)),
                        supervisor, contacts, f"听取{dept.name}党风廉政建设情况汇报")  # fmt: skip
            talk_heads = [d.head for d in depts if d.head and d.head != supervisor]
            for i, head in enumerate(talk_heads):
                if supervisor == gap_owner and q == 3 and i == len(talk_heads) - 1:
                    continue
                day = date(year, month + 1, _day(10 + n + i))
                add(ActivityKind.INTEGRITY_TALK, day, supervisor, [head], "季度廉政谈话")
        staff = list(
            dict.fromkeys(s for d in depts for s in department_staff(d) if s != supervisor)
        )
        if supervisor == gap_owner and staff:
            staff = staff[:-1]
        for i, member in enumerate(staff):
            add(ActivityKind.HEART_TO_HEART_TALK, date(year, 10, _day(1 + i)), supervisor, [member],
                "分管部门人员谈心谈话")  # fmt: skip
        add(ActivityKind.INTEGRITY_LECTURE, date(year, 7, _day(1 + n)), supervisor, [],
            "为分管部门讲廉政党课")  # fmt: skip
        contacts = [c for d in depts for c in department_contacts(d) if c != supervisor]
        if contacts and supervisor != secretary:
            add(ActivityKind.YEAR_END_ASSESSMENT, date(year, 12, 22 + n % 6), supervisor,
                contacts, "年底检查考核分管部门责任书落实情况")  # fmt: skip

    if discipline is not None:
        # 13.2: the 书记 is a 班子成员 too (第六条 "班子其他成员")
        others = [p for p in dict.fromkeys([*([secretary] if secretary else []), *leaders])
                  if p != discipline]  # fmt: skip
        for h, month in enumerate((6, 12)):
            for i, other in enumerate(others):
                add(ActivityKind.EXCHANGE_OF_VIEWS, date(year, month, _day(10 + i + h)), discipline,
                    [other], "就落实党风廉政建设责任制、遵守廉洁自律规定情况交换意见")  # fmt: skip

    today = date(year, 12, 31)
    records: list[dict[str, Any]] = []
    for kind, day, actor, who, note in sorted(rows, key=lambda r: (r[1], r[0].value, r[2], r[3])):
        activity = build_activity(
            roster,
            ActivityInput(kind=kind.value, date=day, actor=actor, participants=who, note=note),
            today=today,
        )
        records.append(activity.record())
    return records
