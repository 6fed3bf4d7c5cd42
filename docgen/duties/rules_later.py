"""The duties of issue #20: each recipient of a yearly report, 9.4 and 12(二)6 once a year, what the
seed asks "适时"/"及时" (recorded and reported, never overdue), and two years of 较差.

* 9.3 "每年向县委、县纪委和市院报告1次" and 13.10 "每年应及时向县纪委和市检院纪检组报告": one
  obligation per body, met by a report recorded with that body among its ``recipients``. A report
  recorded without them (before this rule) counts for none, and a note says so.
* 9.4 "每年适时组织将县委下达的…任务细化分解" and 12(二)6 "配合纪检组负责撰写…报告": once a year
  (9.4's 适时 says when in the year, not whether; 12(二)6 is the drafting of 9.3's yearly report).
* 9.17, 9.20, 10.1, 10.2, 10.9, 12(二)1/4/5, 13.3–13.9, 13.11–13.14: the seed gives no frequency
  ("适时", "及时" or none), so none is invented: they are counted with their dates in
  :class:`RecordedKind`, never due and never overdue.
* 18.9 / 22.3 "在党风廉政建设责任制年度考核中,连续两年被评定为“较差”等次的" — a person graded 较差
  in the year and the year before is flagged; a year without any grade recorded is said to be
  unchecked, not passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from docgen.core.articles import article_label
from docgen.core.glossary import ActivityKind, Role
from docgen.core.models import Roster
from docgen.duties.activity_rules import POOR_GRADE, RECIPIENTS, RECORD_ONLY
from docgen.duties.ledger import Activity


@dataclass(frozen=True)
class RecordedKind:
    """A kind the seed gives no frequency: how often it was recorded in the year, and when."""

    kind: str  # ActivityKind value
    label: str
    article: str
    when: str  # the seed's word for when: 适时, 及时, 未定频次 …
    count: int
    dates: tuple[date, ...] = ()
    detail: str = ""  # e.g. per recipient, per disposition

    @property
    def line(self) -> str:
        days = "、".join(f"{d.month}月{d.day}日" for d in self.dates[:6])
        if len(self.dates) > 6:
            days += f"等{len(self.dates)}个日期"
        text = f"{article_label(self.article)}{self.label}({self.when}):本年度登记{self.count}次"
        if days:
            text += f"({days})"
        return text + (f";{self.detail}" if self.detail else "")


# (key, article, text): the duty texts of this module, quoted from the seed.
LATER_DUTY_TEXT: dict[str, tuple[str, str]] = {
    "task_breakdown": (
        "9.4",
        "每年适时组织将县委下达的党风廉政建设和反腐败工作任务细化分解到有关部门和分管领导",
    ),
    "report_drafting": (
        "12.2.6",
        "配合纪检组负责撰写党组向县委、县纪委、市检院党组上报履行主体责任情况的报告",
    ),
}


def recorded_kinds(activities: Sequence[Activity]) -> tuple[RecordedKind, ...]:
    """Every record-only kind, in ActivityKind order, with what was recorded (zero included, so
    that "nothing recorded" is said, not left out)."""
    found: list[RecordedKind] = []
    for kind in ActivityKind:
        if kind not in RECORD_ONLY or kind is ActivityKind.ASSESSMENT_GRADE:
            continue
        mine = sorted((a for a in activities if a.kind is kind), key=lambda a: a.date)
        found.append(
            RecordedKind(
                kind=kind.value,
                label=kind.label,
                article=kind.articles[0],
                when=RECORD_ONLY[kind],
                count=len(mine),
                dates=tuple(a.date for a in mine),
                detail=_detail(kind, mine),
            )
        )
    return tuple(found)


def _detail(kind: ActivityKind, mine: Sequence[Activity]) -> str:
    if kind is ActivityKind.CLUE_REPORT and mine:
        return ",".join(
            f"报送{r} {sum(1 for a in mine if r in a.recipients)} 次" for r in RECIPIENTS["13.8"]
        )
    if kind is ActivityKind.COMPLAINT_HANDLING and mine:
        counts: dict[str, int] = {}
        for a in mine:
            counts[a.disposition] = counts.get(a.disposition, 0) + 1
        return ",".join(f"{d} {n} 件" for d, n in counts.items())
    return ""


def grade_notes(roster: Roster, year: int, activities: Sequence[Activity]) -> list[str]:
    """18.9 / 22.3: who was graded 较差 this year and last; or that no grade is recorded."""
    names = {p.id: p for p in roster.people}
    graded: dict[int, dict[str, str]] = {year - 1: {}, year: {}}
    for a in sorted(activities, key=lambda a: a.date):
        if a.kind is ActivityKind.ASSESSMENT_GRADE and a.year in graded:
            for pid in a.participants:
                graded[a.year][pid] = a.grade  # the latest of the year stands
    if not graded[year]:
        return [
            f"{year}年度未登记考核等次(活动类型“考核等次”),第十八条第9项、第二十二条第3项"
            "“连续两年被评定为‘较差’等次”无法核对。"
        ]
    notes: list[str] = []
    for pid, grade in graded[year].items():
        if grade != POOR_GRADE or graded[year - 1].get(pid) != POOR_GRADE:
            continue
        person = names.get(pid)
        who = f"{person.name}({pid})" if person else pid
        head = person is not None and person.role is Role.DISCIPLINE_HEAD
        article = "第二十二条第3项" if head else "第十八条第9项"
        notes.append(
            f"警示:{who}在{year - 1}、{year}年度党风廉政建设责任制考核中连续两年被评定为"
            f"“较差”等次,属{article}应当追究责任的情形。"
        )
    if not graded[year - 1]:
        notes.append(
            f"{year - 1}年度未登记考核等次,本年度被评为“较差”的人员是否连续两年较差无法核对。"
        )
    return notes


def unaddressed_reports(activities: Sequence[Activity]) -> list[str]:
    """Yearly reports recorded without their recipients: they count for no recipient."""
    bare = [a for a in activities if a.kind is ActivityKind.ANNUAL_REPORT and not a.recipients]
    if not bare:
        return []
    ids = "、".join(a.activity_id for a in bare)
    return [
        f"年度报告 {ids} 登记时未注明报送机关,不计入第九条第3项、第十三条第10项"
        "(请作废后用 --recipients 重新登记)。"
    ]


def records_sentence(records: Sequence[RecordedKind], articles: Sequence[str]) -> str:
    """What the ledger holds for the record-only kinds of ``articles``, for a report paragraph:
    ``据活动登记簿,处理举报控告2次(直办 1 件,转办 1 件)(第十三条第11项);…。``"""
    parts = []
    for article in articles:
        for r in records:
            if r.article == article:
                extra = f"({r.detail})" if r.detail else ""
                parts.append(f"{r.label}{r.count}次{extra}({article_label(article)})")
    return "据活动登记簿," + ";".join(parts) + "。" if parts else ""
