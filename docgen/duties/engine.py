"""The duties engine: every countable obligation of the seed, per person and period, with status.

Plain data in (roster, year, ledger activities, signing summary, an ``as_of`` date), frozen
dataclasses out; no registry, no clock. Which obligations exist and how they are counted:

* 9.1 党组专题会议 ≥ 2 a year; 9.3 the 党组's yearly report; 9.14 专项督察 each half-year and
  专项治理 ≥ 1 a year — collective duties of the 党组 (``person_id`` is ``None``).
* 9.5–9.7 the letters: per kind, all generated letters signed by both parties; per person, every
  letter they are a party to signed by them. "年初" is read as the first quarter.
* 10.3 / 11.2 year-end 检查考核: the 书记 with each 班子成员 and 检委会专职委员 (article 14
  makes the 党组 assess both); each 班子成员 with the head of each department they supervise.
* 10.6–10.8 the 书记: 专题辅导报告 ≥ 1, 约谈 each 班子成员, 谈心谈话 each 班子成员 and 中层.
* 11.6 "四个一" for each 班子成员 with supervised departments: per department and quarter a 汇报,
  per department head and quarter a 廉政谈话, per member of the supervised departments a yearly
  谈心谈话, and one 廉政党课 a year.
* 13.2 the 纪检组长 exchanges views with each other 班子成员 every half-year; 13.10 the 纪检组's
  yearly report.

检委会专职委员 "assist" the 班子成员 (articles 6 and 11) and get no quotas of their own; this is
stated in the notes of every result so nobody reads the absence as an oversight.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from docgen.core.glossary import ActivityKind, LetterKind, Role
from docgen.core.models import Department, Roster
from docgen.duties.activity_rules import RECIPIENTS
from docgen.duties.ledger import (
    LEADERSHIP,
    Activity,
    department_contacts,
    department_staff,
    read_activities,
    supervised_departments,
)
from docgen.duties.rules_later import (
    LATER_DUTY_TEXT,
    RecordedKind,
    grade_notes,
    recorded_kinds,
    unaddressed_reports,
)
from docgen.duties.signing import CHINA_TZ as CHINA_TZ
from docgen.duties.signing import LetterCount as LetterCount
from docgen.duties.signing import PersonSigning as PersonSigning
from docgen.duties.signing import SigningSummary as SigningSummary
from docgen.duties.signing import signing_summary_from_registry as signing_summary_from_registry
from docgen.registry import open_registry
from docgen.roster.load import load_roster

if TYPE_CHECKING:
    from docgen.core.workspace import Workspace

# "late": done, but only after its due date (the letters signed after the deadline, 逾期完成).
Status = Literal["done", "late", "due", "overdue"]
STATUS_LABELS: dict[str, str] = {
    "done": "已完成",
    "late": "逾期完成",
    "due": "待完成",
    "overdue": "逾期",
}

LETTER_ARTICLES: dict[LetterKind, str] = {
    LetterKind.RESPONSIBILITY: "9.5",
    LetterKind.PUBLIC_COMMITMENT: "9.6",
    LetterKind.INTEGRITY_PLEDGE: "9.7",
}

# The duty texts, quoted from the seed, keyed by a short code name.
DUTY_TEXT: dict[str, tuple[str, str]] = {
    "meetings": ("9.1", "每年至少召开两次党组专题会议"),
    "party_report": ("9.3", "每年向县委、县纪委和市院报告1次党风廉政建设工作情况"),
    "inspection": ("9.14", "每半年组织1次党风检纪专项重点督察"),
    "remediation": ("9.14", "每年至少组织1次检风检纪方面突出问题专项治理"),
    "letters_9.5": ("9.5", "组织签订层级《党风廉政建设责任书》"),
    "letters_9.6": ("9.6", "组织签订层级《公开承诺书》"),
    "letters_9.7": ("9.7", "督促部门负责人与本部门工作人员签订《廉洁从检承诺书》"),
    "sign": ("9.5", "签署本人应签的责任书、承诺书"),  # article and text set per letter kind
    "secretary_assessment": ("10.3", "年底对班子成员落实责任书情况进行检查考核"),
    "tutorial": ("10.6", "每年至少为干警作1次党风廉政建设专题辅导报告"),
    "admonitory": ("10.7", "每年至少对班子成员履行主体责任情况约谈1次"),
    "secretary_talk": ("10.8", "每年与班子成员及中层领导干部谈心谈话不少于1次"),
    "leader_assessment": ("11.2", "年底对分管部门负责人落实责任书情况进行检查考核"),
    "briefing": ("11.6", "每季度至少听取1次分管部门党风廉政建设情况汇报"),
    "integrity_talk": ("11.6", "每季度与分管部门负责人进行1次廉政谈话"),
    "staff_talk": ("11.6", "每年至少同分管部门人员谈心谈话1次"),
    "lecture": ("11.6", "每年至少为分管部门讲1次廉政党课"),
    "exchange": (
        "13.2",
        "每半年与班子成员就贯彻执行党风廉政建设责任制、遵守廉洁自律规定情况交换意见",
    ),
    "supervision_report": ("13.10", "每年向县纪委和市检院纪检组报告履行监督责任情况"),
    **LATER_DUTY_TEXT,
}


@dataclass(frozen=True)
class Period:
    label: str  # 2027年第1季度, 2027年上半年, 2027年度 …
    start: date
    end: date  # inclusive; also the due date

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def quarters(year: int) -> tuple[Period, ...]:
    ends = (date(year, 3, 31), date(year, 6, 30), date(year, 9, 30), date(year, 12, 31))
    starts = (date(year, 1, 1), date(year, 4, 1), date(year, 7, 1), date(year, 10, 1))
    return tuple(
        Period(f"{year}年第{i}季度", s, e)
        for i, (s, e) in enumerate(zip(starts, ends, strict=True), 1)
    )


def halves(year: int) -> tuple[Period, ...]:
    return (
        Period(f"{year}年上半年", date(year, 1, 1), date(year, 6, 30)),
        Period(f"{year}年下半年", date(year, 7, 1), date(year, 12, 31)),
    )


def whole_year(year: int) -> Period:
    return Period(f"{year}年度", date(year, 1, 1), date(year, 12, 31))


def signing_period(year: int, deadline: date) -> Period:
    """年初: from 1 January to the signing deadline (docgen.toml ``[signing] deadline``)."""
    return Period(
        f"{year}年初(截至{deadline.month}月{deadline.day}日)", date(year, 1, 1), deadline
    )


# ---------------------------------------------------------------------------------------------
# obligations


@dataclass(frozen=True)
class Obligation:
    article: str
    duty: str  # Chinese, from the seed
    person_id: str | None  # None: the 党组 / 纪检组 as a body
    counterpart_id: str | None
    period: str
    due: date
    required: int
    done: int
    status: Status
    evidence: tuple[str, ...] = ()  # activity ids that count
    department: str | None = None
    detail: str = ""  # e.g. the letters still waiting for a signature
    late: int = 0  # done only after ``due`` (letters signed after the deadline): not in ``done``

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class DutiesReport:
    year: int
    as_of: date
    obligations: tuple[Obligation, ...]
    notes: tuple[str, ...] = ()
    records: tuple[RecordedKind, ...] = ()  # kinds without a frequency: recorded, not due

    def count(self, status: Status) -> int:
        return sum(1 for o in self.obligations if o.status == status)

    def for_person(self, person_id: str) -> DutiesReport:
        return DutiesReport(
            year=self.year,
            as_of=self.as_of,
            obligations=tuple(o for o in self.obligations if o.person_id == person_id),
            notes=self.notes,
            records=self.records,
        )

    def by_article(self, *articles: str) -> tuple[Obligation, ...]:
        return tuple(o for o in self.obligations if o.article in articles)


@dataclass(frozen=True)
class SummaryRow:
    """One line of the compliance table: a duty of one person, over all its periods/counterparts."""

    article: str
    duty: str
    person_id: str | None
    required: int
    done: int  # counted up to what each obligation required
    obligations: int
    completed: int
    due: int
    overdue: int
    late: int = 0  # obligations done only after their due date (逾期完成)


def status_of(required: int, done: int, due: date, as_of: date, late: int = 0) -> Status:
    """``done`` by ``due``, ``late`` after it; what is still missing is due until ``due``."""
    if done >= required:
        return "done"
    if done + late >= required:
        return "late"
    return "overdue" if due < as_of else "due"


def summarise(report: DutiesReport) -> tuple[SummaryRow, ...]:
    groups: dict[tuple[str, str, str | None], list[Obligation]] = {}
    for o in report.obligations:
        groups.setdefault((o.article, o.duty, o.person_id), []).append(o)
    return tuple(
        SummaryRow(
            article=article,
            duty=duty,
            person_id=person,
            required=sum(o.required for o in items),
            done=sum(min(o.done, o.required) for o in items),
            obligations=len(items),
            completed=sum(1 for o in items if o.status == "done"),
            due=sum(1 for o in items if o.status == "due"),
            overdue=sum(1 for o in items if o.status == "overdue"),
            late=sum(1 for o in items if o.status == "late"),
        )
        for (article, duty, person), items in groups.items()
    )


class _Builder:
    """Accumulates obligations in a fixed order, so output is stable."""

    def __init__(self, activities: Sequence[Activity], as_of: date) -> None:
        self.activities = activities
        self.as_of = as_of
        self.items: list[Obligation] = []

    def matching(
        self,
        kind: ActivityKind,
        period: Period,
        *,
        actor: str | None = None,
        article: str | None = None,
        any_of: Iterable[str] | None = None,
    ) -> tuple[str, ...]:
        wanted = None if any_of is None else set(any_of)
        return tuple(
            a.activity_id
            for a in self.activities
            if a.kind is kind
            and period.contains(a.date)
            and (actor is None or a.actor == actor)
            and (article is None or a.article == article)
            and (wanted is None or wanted.intersection(a.participants))
        )

    def add(
        self,
        key: str,
        period: Period,
        *,
        required: int,
        evidence: tuple[str, ...] = (),
        done: int | None = None,
        person: str | None = None,
        counterpart: str | None = None,
        department: str | None = None,
        duty: str | None = None,
        article: str | None = None,
        detail: str = "",
        late: int = 0,
    ) -> None:
        base_article, text = DUTY_TEXT[key]
        count = len(evidence) if done is None else done
        self.items.append(
            Obligation(
                article=article or base_article,
                duty=duty or text,
                person_id=person,
                counterpart_id=counterpart,
                period=period.label,
                due=period.end,
                required=required,
                done=count,
                status=status_of(required, count, period.end, self.as_of, late),
                evidence=evidence,
                department=department,
                detail=detail,
                late=late,
            )
        )


def _first(roster: Roster, role: Role) -> list[str]:
    return [p.id for p in roster.people if p.role is role]


def expand_duties(
    roster: Roster,
    year: int,
    activities: Sequence[Activity],
    signing: SigningSummary,
    as_of: date,
) -> DutiesReport:
    """All obligations of ``year`` with their status on ``as_of``.

    Only activities of ``year`` dated on or before ``as_of`` (and not voided) count, so the same
    ledger answers "where did we stand on 31 March" as well as "where do we stand now".
    """
    known = [a for a in activities if a.date <= as_of and not a.voided]
    acts = [a for a in known if a.year == year]
    b = _Builder(acts, as_of)
    notes: list[str] = [
        "检委会专职委员协助班子成员抓好党风廉政建设工作(第六条、第十一条),不单列活动指标;"
        "其责任书签署列入签署情况,年底检查考核列入第十条第3项(第十四条)。"
    ]
    yr = whole_year(year)
    secretaries = _first(roster, Role.PARTY_SECRETARY)
    discipline = _first(roster, Role.DISCIPLINE_HEAD)
    leaders = [p.id for p in roster.people if p.role in LEADERSHIP]
    committee = _first(roster, Role.COMMITTEE_MEMBER)
    heads = [d.head for d in roster.departments if d.head]
    secretary = secretaries[0] if secretaries else None
    discipline_head = discipline[0] if discipline else None
    if secretary is None:
        notes.append("名册中没有党组书记,第十条的各项职责无法落实到人。")
    elif len(secretaries) > 1:
        notes.append(
            f"名册中有 {len(secretaries)} 名党组书记,第十条职责按第一名({secretary})统计。"
        )
    if discipline_head is None:
        notes.append("名册中没有纪检组长,第十三条第2项交换意见无法落实到人。")
    elif len(discipline) > 1:
        notes.append(
            f"名册中有 {len(discipline)} 名纪检组长,交换意见按第一名({discipline_head})统计。"
        )

    # 第九条: the 党组 as a body.
    b.add("meetings", yr, required=2, evidence=b.matching(ActivityKind.PARTY_GROUP_MEETING, yr))
    _report_duties(b, yr, acts, "9.3", "party_report", None)
    b.add(
        "task_breakdown", yr, required=1, evidence=b.matching(ActivityKind.TASK_BREAKDOWN, yr)
    )
    for half in halves(year):
        b.add(
            "inspection",
            half,
            required=1,
            evidence=b.matching(ActivityKind.SPECIAL_INSPECTION, half),
        )
    b.add("remediation", yr, required=1, evidence=b.matching(ActivityKind.SPECIAL_REMEDIATION, yr))

    # 第九条第5–7项: the letters.
    # Done means signed by the deadline (年初); a letter completed later is 逾期完成, with dates.
    start = signing_period(year, signing.due)
    notes.append(
        f"第九条第5至7项、第十条第3项、第十一条第2项的文书以{signing.due.month}月"
        f"{signing.due.day}日为签订截止日(“年初”“及时组织签订”):截止日前签完的计为已完成,"
        "此后才签完的计为逾期完成,截止日已过仍未签完的计为逾期。"
    )
    for kind, article in LETTER_ARTICLES.items():
        count = signing.letter(kind)
        details = [] if count.generated else ["登记簿中尚无此类文书"]
        if count.late:
            details.append(f"逾期完成{count.late}份,{_late_days(count)}补签")
        b.add(
            f"letters_{article}",
            start,
            required=max(count.generated, 1),
            done=count.on_time,
            late=count.late,
            detail=";".join(details),
        )
    for ps in signing.people:
        details = ["待签:" + "、".join(ps.missing)] if ps.missing else []
        if ps.late:
            details.append("截止日后签署:" + "、".join(ps.late))
        b.add(
            "sign",
            start,
            required=ps.required,
            done=ps.on_time,
            late=len(ps.late),
            person=ps.person_id,
            article=LETTER_ARTICLES[ps.kind],
            duty=f"签署本人应签的《{ps.kind.title}》",
            detail=";".join(details),
        )

    # 第十条: the 书记.
    if secretary is not None:
        for other in [*leaders, *committee]:
            b.add(
                "secretary_assessment",
                yr,
                required=1,
                evidence=b.matching(
                    ActivityKind.YEAR_END_ASSESSMENT, yr, actor=secretary, any_of=[other]
                ),
                person=secretary,
                counterpart=other,
            )
        b.add(
            "tutorial",
            yr,
            required=1,
            evidence=b.matching(ActivityKind.TUTORIAL_REPORT, yr, actor=secretary),
            person=secretary,
        )
        for other in leaders:
            b.add(
                "admonitory",
                yr,
                required=1,
                evidence=b.matching(
                    ActivityKind.ADMONITORY_TALK, yr, actor=secretary, any_of=[other]
                ),
                person=secretary,
                counterpart=other,
            )
        talk_with = list(dict.fromkeys([*leaders, *heads]))
        for other in talk_with:
            if other == secretary:
                continue
            b.add(
                "secretary_talk",
                yr,
                required=1,
                evidence=b.matching(
                    ActivityKind.HEART_TO_HEART_TALK, yr, actor=secretary, any_of=[other]
                ),
                person=secretary,
                counterpart=other,
            )

    # 第十一条: each 分管院领导 over the departments they supervise. The article speaks of the
    # 班子其他成员; a 书记 who supervises a department himself signs at that tier too (11.2), so
    # he is held to the same "四个一" for it.
    for person in roster.people:
        depts = supervised_departments(roster, person.id)
        if not depts:
            if person.role in LEADERSHIP:
                notes.append(f"班子成员 {person.id} 在名册中没有分管部门,第十一条第2、6项不适用。")
            continue
        if person.role is Role.PARTY_SECRETARY:
            names = "、".join(d.name for d in depts)
            notes.append(f"党组书记 {person.id} 分管 {names},按第十一条对分管部门的要求统计。")
        _leader_duties(b, year, person.id, depts, notes)
    unsupervised = [d.name for d in roster.departments if not d.supervisor]
    if unsupervised:
        notes.append(
            f"部门 {'、'.join(unsupervised)} 没有分管院领导,第十一条第6项的汇报和廉政谈话无人承担。"
        )

    # 第十三条: the 纪检组.
    # 13.2 "每半年与班子成员…交换意见": 第六条 calls the others "班子其他成员", so the 书记 is a
    # 班子成员 too, and the 纪检组长 exchanges views with him as with the rest.
    if discipline_head is not None:
        exchange_with = [p for p in dict.fromkeys([*secretaries, *leaders]) if p != discipline_head]
        if secretaries:
            notes.append(
                "第十三条第2项“每半年与班子成员…交换意见”包括党组书记:第六条称其他成员为"
                "“班子其他成员”,党组书记也是班子成员。"
            )
        for half in halves(year):
            for other in exchange_with:
                b.add(
                    "exchange",
                    half,
                    required=1,
                    evidence=b.matching(
                        ActivityKind.EXCHANGE_OF_VIEWS, half, actor=discipline_head, any_of=[other]
                    ),
                    person=discipline_head,
                    counterpart=other,
                )
    _report_duties(b, yr, acts, "13.10", "supervision_report", discipline_head)
    # 12(二)6: 政工科 drafts the 党组's yearly report (9.3) with the 纪检组.
    b.add(
        "report_drafting",
        yr,
        required=1,
        evidence=b.matching(ActivityKind.REPORT_DRAFTING, yr),
        department="政工科",
    )
    notes.extend(unaddressed_reports(acts))
    notes.extend(grade_notes(roster, year, known))
    return DutiesReport(
        year=year,
        as_of=as_of,
        obligations=tuple(b.items),
        notes=tuple(notes),
        records=recorded_kinds(acts),
    )


def _report_duties(
    b: _Builder, yr: Period, acts: Sequence[Activity], article: str, key: str, person: str | None
) -> None:
    """9.3 / 13.10: one obligation per body the yearly report goes to, each recorded."""
    reports = set(b.matching(ActivityKind.ANNUAL_REPORT, yr, article=article))
    for recipient in RECIPIENTS[article]:
        evidence = tuple(
            a.activity_id for a in acts if a.activity_id in reports and recipient in a.recipients
        )
        b.add(key, yr, required=1, evidence=evidence, person=person, detail=f"报送{recipient}")


def _late_days(count: LetterCount) -> str:
    """``2月3日至3月5日`` (or one day) for the letters of a kind completed after the deadline."""
    first, last = count.late_first, count.late_last
    if first is None or last is None:
        return "日期不明时"
    if first == last:
        return f"于{first.month}月{first.day}日"
    return f"于{first.month}月{first.day}日至{last.month}月{last.day}日"


def _leader_duties(
    b: _Builder,
    year: int,
    leader: str,
    depts: list[Department],
    notes: list[str],
) -> None:
    yr = whole_year(year)
    for dept in depts:
        contacts = [c for c in department_contacts(dept) if c != leader]
        if not contacts:
            notes.append(f"部门 {dept.name} 除分管院领导外没有人员,不计第十一条第2、6项。")
            continue
        head = dept.head if dept.head and dept.head != leader else None
        if head is None:
            # 11.2 "年底对落实情况进行检查考核" checks the 责任书 signed 年初 with the head: with
            # no head, or the 分管院领导 heading it himself, no such 责任书 exists.
            why = "没有负责人" if dept.head is None else "的负责人即分管院领导本人"
            notes.append(
                f"部门 {dept.name} {why},不存在分管院领导与部门负责人之间的《党风廉政建设责任书》,"
                "不计第十一条第2项年底检查考核;汇报以该部门任一人员参加为准,廉政谈话不计。"
            )
            continue
        b.add(
            "leader_assessment",
            yr,
            required=1,
            evidence=b.matching(
                ActivityKind.YEAR_END_ASSESSMENT, yr, actor=leader, any_of=contacts
            ),
            person=leader,
            counterpart=head,
            department=dept.name,
        )
    for quarter in quarters(year):
        for dept in depts:
            contacts = [c for c in department_contacts(dept) if c != leader]
            if not contacts:
                continue
            b.add(
                "briefing",
                quarter,
                required=1,
                evidence=b.matching(
                    ActivityKind.DEPARTMENT_BRIEFING, quarter, actor=leader, any_of=contacts
                ),
                person=leader,
                counterpart=dept.head if dept.head != leader else None,
                department=dept.name,
            )
        for dept in depts:
            if not dept.head or dept.head == leader:
                continue
            b.add(
                "integrity_talk",
                quarter,
                required=1,
                evidence=b.matching(
                    ActivityKind.INTEGRITY_TALK, quarter, actor=leader, any_of=[dept.head]
                ),
                person=leader,
                counterpart=dept.head,
                department=dept.name,
            )
    staff: dict[str, str] = {}
    for dept in depts:
        for member in department_staff(dept):
            if member != leader:
                staff.setdefault(member, dept.name)
    for member, dept_name in staff.items():
        b.add(
            "staff_talk",
            yr,
            required=1,
            evidence=b.matching(
                ActivityKind.HEART_TO_HEART_TALK, yr, actor=leader, any_of=[member]
            ),
            person=leader,
            counterpart=member,
            department=dept_name,
        )
    if len(depts) > 1:
        notes.append(
            f"{leader} 分管 {len(depts)} 个部门:第十一条第6项“每年至少为分管部门讲1次廉政党课”"
            "按每人每年1次统计(分管部门可一同听课),不按部门分别计。"
        )
    b.add(
        "lecture",
        yr,
        required=1,
        evidence=b.matching(ActivityKind.INTEGRITY_LECTURE, yr, actor=leader),
        person=leader,
    )


# ---------------------------------------------------------------------------------------------
# a workspace, and a spreadsheet


def duties_in_workspace(ws: Workspace, year: int, as_of: date) -> tuple[Roster, DutiesReport]:
    roster = load_roster(ws.roster_path)
    with open_registry(ws) as registry:
        # the year before too: 18.9 / 22.3 look at two years of 考核等次
        activities = [
            *read_activities(registry, year=year - 1),
            *read_activities(registry, year=year),
        ]
        signing = signing_summary_from_registry(
            registry, year, ws.config.signing.deadline_for(year)
        )
    return roster, expand_duties(roster, year, activities, signing, as_of)


XLSX_HEADER = (
    "条款", "职责", "责任人编号", "责任人", "对象编号", "对象", "部门",
    "期间", "期限", "应完成", "已完成", "状态", "依据(活动编号)", "说明",
)  # fmt: skip


def duties_workbook(report: DutiesReport, roster: Roster) -> bytes:
    """The obligations as an .xlsx (one sheet, plus one for the notes); bytes depend only on
    the report."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.writer.excel import ExcelWriter

    from docgen.core.ooxml import normalise_package

    names = {p.id: p.name for p in roster.people}
    book = Workbook()
    sheet = book.active
    sheet.title = "职责落实情况"
    sheet.append(list(XLSX_HEADER))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for o in report.obligations:
        sheet.append(
            [
                o.article,
                o.duty,
                o.person_id or "",
                names.get(o.person_id, o.person_id) if o.person_id else "党组",
                o.counterpart_id or "",
                names.get(o.counterpart_id, o.counterpart_id) if o.counterpart_id else "",
                o.department or "",
                o.period,
                o.due,
                o.required,
                o.done,
                o.status_label,
                "、".join(o.evidence),
                o.detail,
            ]
        )
    for row in sheet.iter_rows(min_row=2, min_col=9, max_col=9):
        for cell in row:
            cell.number_format = "yyyy-mm-dd"
    widths = (7, 44, 10, 10, 10, 10, 12, 14, 12, 7, 7, 7, 40, 30)
    for column, width in zip("ABCDEFGHIJKLMN", widths, strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    notes = book.create_sheet("说明")
    notes.append([f"{report.year}年度,统计截至 {report.as_of.isoformat()}"])
    for note in report.notes:
        notes.append([note])
    moment = datetime(report.as_of.year, report.as_of.month, report.as_of.day)
    book.properties.created = moment
    book.properties.modified = moment
    book.properties.creator = "docgen"
    buffer = io.BytesIO()
    # Workbook.save stamps ``modified`` with the clock; the writer itself keeps the date set above.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).save()
    return normalise_package(buffer.getvalue(), report.as_of)
