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

from collections.abc import Callable
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

    rows: list[tuple[ActivityKind, date, str, list[str], str, dict[str, str]]] = []

    def add(
        kind: ActivityKind, day: date, actor: str, who: list[str], note: str, **extra: str
    ) -> None:
        rows.append((kind, day, actor, [w for w in who if w != actor], note, extra))

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

    _later_kinds(roster, year, add, secretary, discipline, party)

    today = date(year, 12, 31)
    records: list[dict[str, Any]] = []
    ordered = sorted(rows, key=lambda r: (r[1], r[0].value, r[2], r[3]))
    for kind, day, actor, who, note, extra in ordered:
        activity = build_activity(
            roster,
            ActivityInput(
                kind=kind.value,
                date=day,
                actor=actor,
                participants=who,
                note=note,
                grade=extra.get("grade", ""),
                disposition=extra.get("disposition", ""),
                recipients=extra.get("recipients", ""),
            ),
            today=today,
        )
        records.append(activity.record())
    return records


def _later_kinds(
    roster: Roster,
    year: int,
    add: Callable[..., None],
    secretary: str | None,
    discipline: str | None,
    party: list[str],
) -> None:
    """The kinds of issue #20: 9.4, 9.17, 9.20, 10.1, 10.2, 10.9, 政工科's 12(二), the 纪检组's own
    13.x work and the year's 考核等次 (all 良好 or better: no 18.9 case in the demo)."""
    political = next((d for d in roster.departments if "政工" in d.name), None)
    heads = [d.head for d in roster.departments if d.head]
    if secretary is not None:
        add(ActivityKind.STUDY_MEETING, date(year, 1, 12), secretary, party,
            "传达学习上级党风廉政建设工作部署")  # fmt: skip
        add(ActivityKind.DEMOCRATIC_LIFE_MEETING, date(year, 1, 26), secretary, party,
            "领导班子民主生活会")  # fmt: skip
        add(ActivityKind.TASK_BREAKDOWN, date(year, 3, 8), secretary, party,
            "将县委下达的党风廉政建设和反腐败工作任务细化分解到有关部门和分管领导")  # fmt: skip
        add(ActivityKind.AGENDA_ITEM, date(year, 3, 8), secretary, [],
            "党风廉政建设工作列入党组重要议事日程")  # fmt: skip
        if discipline is not None:
            add(ActivityKind.DISCIPLINE_WORK_BRIEFING, date(year, 7, 10), secretary, [discipline],
                "听取纪检组上半年纪检监察工作情况汇报")  # fmt: skip
        if heads:
            add(ActivityKind.ADMONITION_TALK, date(year, 9, 20), secretary, heads[-1:],
                "对群众反映问题较多的部门进行诫勉谈话")  # fmt: skip
        graded = [p for p in party if p != secretary] + [h for h in heads if h not in party]
        for i, pid in enumerate(graded):
            add(ActivityKind.ASSESSMENT_GRADE, date(year, 12, 30), secretary, [pid],
                "党风廉政建设责任制年度考核", grade="优秀" if i % 3 == 0 else "良好")  # fmt: skip
    if political is not None and political.head:
        clerk = political.head
        add(ActivityKind.TRAINING_PLAN, date(year, 2, 15), clerk, [],
            "将党风廉政建设规定和要求纳入年度教育培训计划")  # fmt: skip
        add(ActivityKind.EDUCATION_ACTIVITY, date(year, 6, 18), clerk, [],
            "组织全院干警警示教育")  # fmt: skip
        if discipline is not None:
            add(ActivityKind.REPORT_DRAFTING, date(year, 12, 26), clerk, [discipline],
                "配合纪检组撰写党组履行主体责任情况报告")  # fmt: skip
    if discipline is not None:
        add(ActivityKind.DECISION_SUPERVISION, date(year, 3, 8), discipline, [],
            "参加党组会,监督重大事项集体研究决策")  # fmt: skip
        add(ActivityKind.COMPLAINT_HANDLING, date(year, 4, 14), discipline, [],
            "受理反映干警违规接受吃请的举报信件", disposition="直办")  # fmt: skip
        add(ActivityKind.CASE_INVESTIGATION, date(year, 4, 28), discipline, [],
            "调查核实举报反映的问题")  # fmt: skip
        add(ActivityKind.WARNING_REMINDER, date(year, 5, 6), discipline, [],
            "对苗头性问题予以警示提醒")  # fmt: skip
        add(ActivityKind.DISCIPLINE_INSPECTION, date(year, 9, 5), discipline, [],
            "纪检组转变作风、遵守纪律情况专项督察")  # fmt: skip
