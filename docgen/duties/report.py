"""Drafts of the yearly reports: the 党组's on 主体责任 (articles 9.3, 12(二)6) and the 纪检组's on
监督责任 (13.10).

Every number in a draft is computed here from the roster, the ledger, the registry's signing
records and the duties engine; what only the office can say is left as 【待填写】 for it to write.
:func:`build_report` is pure (content in, :class:`ReportContent` out); :func:`write_reports`
reads the registry and writes the .docx files (see :mod:`docgen.duties.report_docx`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from docgen.core.articles import article_label
from docgen.core.errors import UsageError
from docgen.core.glossary import ActivityKind, LetterKind, Role
from docgen.core.models import Roster
from docgen.core.workspace import atomic_write
from docgen.duties.engine import (
    LETTER_ARTICLES,
    DutiesReport,
    Obligation,
    SigningSummary,
    SummaryRow,
    expand_duties,
    signing_summary_from_registry,
    summarise,
)
from docgen.duties.ledger import (
    LEADERSHIP,
    Activity,
    department_staff,
    read_activities,
    supervised_departments,
)
from docgen.duties.report_docx import render_report
from docgen.duties.report_model import (
    ALL_RECIPIENTS,
    PROBLEM_HEADER,
    RECIPIENTS,
    TO_FILL,
    Block,
    ReportContent,
    ReportKind,
    cn_date,
)
from docgen.duties.rules_later import records_sentence
from docgen.duties.signing import late_sentence
from docgen.registry import open_registry
from docgen.roster.load import load_roster

if TYPE_CHECKING:
    from docgen.core.workspace import Workspace
    from docgen.registry import Registry

REPORT_ARTICLES = ("9.3", "13.10")  # the reports themselves: not counted inside a report
# the 纪检组's recorded case work, stated in its report's (六) (13.3, 13.8, 13.9, 13.11–13.14)
DISCIPLINE_RECORDS = ("13.11", "13.8", "13.9", "13.3", "13.12", "13.13", "13.14")
SEED_TITLE = "落实党风廉政建设主体责任和监督责任实施办法(试行)"
CITY_OF_COUNTY = {"庆城县": "庆阳市"}  # article 1 of the seed: 中共庆阳市委


# ---------------------------------------------------------------------------------------------
# small formatting helpers


def month_day(day: date) -> str:
    return f"{day.month}月{day.day}日"


def date_list(days: Sequence[date]) -> str:
    """``3月8日、8月20日``; long lists shrink to a range."""
    ordered = sorted(set(days))
    if not ordered:
        return ""
    if len(ordered) > 6:
        return f"{month_day(ordered[0])}至{month_day(ordered[-1])}"
    return "、".join(month_day(d) for d in ordered)


def _with_dates(activities: Sequence[Activity]) -> str:
    """``2次(3月8日、8月20日)``."""
    if not activities:
        return "0次"
    return f"{len(activities)}次({date_list([a.date for a in activities])})"


def county_of(institution: str) -> str:
    suffix = "人民检察院"
    return institution[: -len(suffix)] if institution.endswith(suffix) else TO_FILL


def addressee_for(recipient: str, institution: str) -> str:
    county = county_of(institution)
    city = CITY_OF_COUNTY.get(county, f"{TO_FILL}市")
    names = {
        "县委": f"中共{county}委",
        "县纪委": f"中共{county}纪委",
        "市检院党组": f"{city}人民检察院党组",
        "市检院纪检组": f"{city}人民检察院纪检组",
    }
    return names[recipient]


class _Names:
    def __init__(self, roster: Roster) -> None:
        self.people = roster.by_id()

    def __call__(self, person_id: str | None) -> str:
        if person_id is None:
            return ""
        person = self.people.get(person_id)
        return person.name if person else person_id


# ---------------------------------------------------------------------------------------------
# content


def _of(activities: Iterable[Activity], kind: ActivityKind, **match: str) -> list[Activity]:
    return [
        a
        for a in activities
        if a.kind is kind and all(getattr(a, name) == value for name, value in match.items())
    ]


def _person_times(activities: Iterable[Activity], among: Iterable[str] | None = None) -> int:
    """人次: each participant (of those ``among``, if given) of each activity counts once."""
    if among is None:
        return sum(len(a.participants) for a in activities)
    wanted = set(among)
    return sum(1 for a in activities for p in a.participants if p in wanted)


def _covered(activities: Iterable[Activity], people: Iterable[str]) -> int:
    seen = {p for a in activities for p in a.participants}
    return sum(1 for p in people if p in seen)


def letters_paragraphs(signing: SigningSummary) -> list[Block]:
    blocks: list[Block] = []
    for kind in LetterKind:
        count = signing.letter(kind)
        text = f"《{kind.title}》{count.generated}份,双方均已签署{count.complete}份"
        if count.voided:
            text += f",因人员变动作废{count.voided}份"
        if count.first_signed and count.last_signed:
            first, last = month_day(count.first_signed), month_day(count.last_signed)
            text += f",签署于{first}" if first == last else f",签署时间为{first}至{last}"
        late = late_sentence(count, signing.due)
        if late:
            text += f",{late}"
        pending = count.generated - count.complete
        text += f";尚有{pending}份未签署完毕。" if pending else "。"
        blocks.append(Block(text))
    return blocks


def _problems(duties: DutiesReport, names: _Names) -> list[Block]:
    overdue = [
        o for o in duties.obligations if o.status == "overdue" and o.article not in REPORT_ARTICLES
    ]
    pending = [
        o for o in duties.obligations if o.status == "due" and o.article not in REPORT_ARTICLES
    ]
    blocks: list[Block] = []
    if overdue:
        groups = _grouped(overdue)
        blocks.append(
            Block(
                f"对照实施办法,截至{cn_date(duties.as_of)},有{len(overdue)}项职责未按期完成,"
                f"按职责归并为{len(groups)}类,列表如下:"
            )
        )
        blocks.append(Block("", "table", PROBLEM_HEADER, _problem_rows(groups, names)))
    else:
        blocks.append(Block(f"对照实施办法,截至{cn_date(duties.as_of)},各项职责均已按期完成。"))
    late = [o for o in duties.obligations if o.status == "late" and o.person_id is None]
    if late:
        blocks.append(
            Block(
                f"另有{len(late)}项职责逾期后才完成:"
                + ";".join(f"{article_label(o.article)}“{o.duty}”{o.detail}" for o in late)
                + "。"
            )
        )
    if pending:
        blocks.append(Block(f"另有{len(pending)}项职责尚未到期,须在期限内完成。"))
    blocks.append(Block(f"{TO_FILL}(问题的具体表现和原因分析)"))
    return blocks


def _grouped(obligations: Sequence[Obligation]) -> list[list[Obligation]]:
    """The obligations by (article, duty), in the order each duty first appears."""
    groups: dict[tuple[str, str], list[Obligation]] = {}
    for o in obligations:
        groups.setdefault((o.article, o.duty), []).append(o)
    return list(groups.values())


def _problem_rows(
    groups: Sequence[Sequence[Obligation]], names: _Names
) -> tuple[tuple[str, ...], ...]:
    """One row per duty: who, and for each undone obligation its period, its counterpart or
    department, and how much was done."""
    rows: list[tuple[str, ...]] = []
    for number, group in enumerate(groups, 1):
        people = list(dict.fromkeys(names(o.person_id) or "党组" for o in group))
        entries = [_undone(o, names, with_person=len(people) > 1) for o in group]
        rows.append(
            (
                str(number),
                group[0].article,
                group[0].duty,
                "、".join(people),
                ";".join(entries),
                str(len(group)),
            )
        )
    return tuple(rows)


def _undone(o: Obligation, names: _Names, *, with_person: bool) -> str:
    parts = [names(o.person_id) or "党组"] if with_person else []
    if o.counterpart_id:
        parts.append(f"对象{names(o.counterpart_id)}")
    elif o.department:
        parts.append(f"部门{o.department}")
    parts.append(o.period)
    return ",".join(parts) + f",已完成{min(o.done, o.required)}/{o.required}"


def table_rows(duties: DutiesReport, names: _Names) -> tuple[tuple[str, ...], ...]:
    """The appendix: one row per duty and person, the reports themselves and the per-person
    signing rows (covered by the 9.5–9.7 rows) left out."""
    letter_articles = set(LETTER_ARTICLES.values())
    rows: list[SummaryRow] = [
        r
        for r in summarise(duties)
        if r.article not in REPORT_ARTICLES
        and not (r.person_id is not None and r.article in letter_articles)
    ]
    out: list[tuple[str, ...]] = []
    for i, r in enumerate(rows, 1):
        if r.overdue:
            status = "逾期"
        elif r.due:
            status = "未到期"
        elif r.late:
            status = "逾期完成"
        else:
            status = "已完成"
        out.append(
            (
                str(i),
                r.article,
                r.duty,
                names(r.person_id) or "党组",
                str(r.required),
                str(r.done),
                str(r.overdue),
                status,
            )
        )
    return tuple(out)


def _basic_counts(roster: Roster) -> dict[str, int]:
    def count(*roles: Role) -> int:
        return sum(1 for p in roster.people if p.role in roles)

    return {
        "people": len(roster.people),
        "secretary": count(Role.PARTY_SECRETARY),
        "leaders": count(*LEADERSHIP),
        "committee": count(Role.COMMITTEE_MEMBER),
        "heads": count(Role.DEPARTMENT_HEAD),
        "staff": count(Role.STAFF),
        "departments": len(roster.departments),
    }


def _basic_situation(roster: Roster, institution: str) -> Block:
    c = _basic_counts(roster)
    return Block(
        f"{institution}现有干警{c['people']}人,其中党组书记、检察长{c['secretary']}人,"
        f"班子成员{c['leaders']}人(含纪检组长),检委会专职委员{c['committee']}人,"
        f"部门负责人{c['heads']}人,工作人员{c['staff']}人;内设部门{c['departments']}个。"
    )


def _main_blocks(
    roster: Roster,
    year: int,
    institution: str,
    activities: Sequence[Activity],
    signing: SigningSummary,
    duties: DutiesReport,
) -> list[Block]:
    names = _Names(roster)
    secretary = next((p for p in roster.people if p.role is Role.PARTY_SECRETARY), None)
    leaders = [p.id for p in roster.people if p.role in LEADERSHIP]
    heads = list(dict.fromkeys(d.head for d in roster.departments if d.head))
    b: list[Block] = [
        Block(
            f"根据《{institution}{SEED_TITLE}》第九条第3项和第十二条第(二)项第6目的规定,"
            f"现将院党组{year}年度落实党风廉政建设主体责任情况报告如下。"
        ),
        Block("一、基本情况", "h1"),
        _basic_situation(roster, institution),
        Block(
            f"{year}年度,院党组组织签订各类责任书、承诺书{signing.generated}份,"
            f"截至{cn_date(duties.as_of)}双方均已签署{signing.complete}份;"
            f"党风廉政建设活动登记簿记载活动{len(activities)}项。"
        ),
        Block(f"{TO_FILL}(本年度党风廉政建设和反腐败工作总体情况)"),
        Block("二、主要做法和成效", "h1"),
        Block("(一)层级签订责任书、承诺书", "h2"),
        Block(
            "按照实施办法第九条第5至7项、第十条第3项、第十一条第2项的要求,"
            f"年初(以{signing.due.month}月{signing.due.day}日为签订截止日)组织层级签订"
            "责任书、承诺书,均以数字签名签署并登记在案:"
        ),
        *letters_paragraphs(signing),
        Block("(二)党组专题会议和专项工作", "h2"),
    ]
    meetings = _of(activities, ActivityKind.PARTY_GROUP_MEETING)
    inspections = _of(activities, ActivityKind.SPECIAL_INSPECTION)
    remediations = _of(activities, ActivityKind.SPECIAL_REMEDIATION)
    b.append(
        Block(
            f"召开党组专题会议{_with_dates(meetings)},"
            "研究贯彻落实党风廉政建设工作部署的具体意见和措施(第九条第1项);"
            f"组织党风检纪专项重点督察{_with_dates(inspections)};"
            "开展检风检纪突出问题专项治理"
            f"{_with_dates(remediations)}(第九条第14项)。"
        )
    )
    b.append(Block("(三)党组书记履行第一责任人责任", "h2"))
    if secretary is not None:
        sid = secretary.id
        tutorials = _of(activities, ActivityKind.TUTORIAL_REPORT, actor=sid)
        talks = _of(activities, ActivityKind.ADMONITORY_TALK, actor=sid)
        hearts = _of(activities, ActivityKind.HEART_TO_HEART_TALK, actor=sid)
        assessments = _of(activities, ActivityKind.YEAR_END_ASSESSMENT, actor=sid)
        talk_with = [p for p in dict.fromkeys([*leaders, *heads]) if p != sid]
        b.append(
            Block(
                f"党组书记{secretary.name}为干警作党风廉政建设专题辅导报告"
                f"{_with_dates(tutorials)}(第十条第6项);"
                f"约谈班子成员{_person_times(talks)}人次,覆盖班子成员"
                f"{_covered(talks, leaders)}/{len(leaders)}人(第十条第7项);"
                f"与班子成员及中层领导干部谈心谈话{_person_times(hearts, talk_with)}人次,覆盖"
                f"{_covered(hearts, talk_with)}/{len(talk_with)}人(第十条第8项);"
                f"年底检查考核{_with_dates(assessments)}"
                "(第十条第3项)。"
            )
        )
    else:
        b.append(Block(f"名册中没有党组书记。{TO_FILL}"))
    b.append(Block("(四)班子成员落实“一岗双责”和“四个一”要求", "h2"))
    supervisors = [p for p in roster.people if supervised_departments(roster, p.id)]
    for person in supervisors:
        depts = supervised_departments(roster, person.id)
        staff = {s for d in depts for s in department_staff(d) if s != person.id}
        briefings = _of(activities, ActivityKind.DEPARTMENT_BRIEFING, actor=person.id)
        integrity = _of(activities, ActivityKind.INTEGRITY_TALK, actor=person.id)
        hearts = _of(activities, ActivityKind.HEART_TO_HEART_TALK, actor=person.id)
        lectures = _of(activities, ActivityKind.INTEGRITY_LECTURE, actor=person.id)
        assessments = _of(activities, ActivityKind.YEAR_END_ASSESSMENT, actor=person.id)
        b.append(
            Block(
                f"{person.name}({person.title}),分管{'、'.join(d.name for d in depts)}:"
                f"听取分管部门党风廉政建设情况汇报{len(briefings)}次,"
                f"与分管部门负责人廉政谈话{_person_times(integrity)}人次,"
                f"同分管部门人员谈心谈话{_person_times(hearts, staff)}人次,"
                f"讲廉政党课{len(lectures)}次,年底检查考核{len(assessments)}次。"
            )
        )
    exchanges = _of(activities, ActivityKind.EXCHANGE_OF_VIEWS)
    b.extend(
        [
            Block("(五)支持纪检组履行监督责任", "h2"),
            Block(
                f"纪检组与班子成员就落实党风廉政建设责任制、遵守廉洁自律规定情况交换意见"
                f"{_person_times(exchanges)}人次(第十三条第2项)。"
                f"{TO_FILL}(支持纪检组查办案件、参加党组会等情况)"
            ),
            Block(f"{TO_FILL}(选人用人、作风建设、制度建设等其他做法和成效)"),
            Block("三、存在问题", "h1"),
            *_problems(duties, names),
            Block("四、下一步打算", "h1"),
            Block(f"{TO_FILL}(针对上述问题的整改措施和下一年度工作安排)"),
        ]
    )
    return b


def _supervision_blocks(
    roster: Roster,
    year: int,
    institution: str,
    activities: Sequence[Activity],
    signing: SigningSummary,
    duties: DutiesReport,
) -> list[Block]:
    names = _Names(roster)
    head = next((p for p in roster.people if p.role is Role.DISCIPLINE_HEAD), None)
    hid = head.id if head else None
    others = [p.id for p in roster.people if p.role in LEADERSHIP and p.id != hid]
    meetings = [
        a
        for a in _of(activities, ActivityKind.PARTY_GROUP_MEETING)
        if hid is not None and (a.actor == hid or hid in a.participants)
    ]
    inspections = _of(activities, ActivityKind.SPECIAL_INSPECTION)
    four = [o for o in duties.obligations if o.article == "11.6"]
    four_done = sum(1 for o in four if o.status == "done")
    b: list[Block] = [
        Block(
            f"根据《{institution}{SEED_TITLE}》第十三条第10项的规定,"
            f"现将纪检组{year}年度履行党风廉政建设监督责任情况报告如下。"
        ),
        Block("一、基本情况", "h1"),
        Block(f"纪检组长{head.name}。" if head else f"名册中没有纪检组长。{TO_FILL}"),
        _basic_situation(roster, institution),
        Block(f"{TO_FILL}(纪检组人员配备和本年度监督工作总体情况)"),
        Block("二、主要做法和成效", "h1"),
        Block("(一)参加党组会议,监督民主集中制执行情况", "h2"),
        Block(
            f"参加党组专题会议{_with_dates(meetings)},"
            "对领导班子贯彻执行民主集中制和遵守纪律、作风、廉政规定情况进行监督(第十三条第1项)。"
        ),
        Block("(二)与班子成员交换意见", "h2"),
    ]
    halves = ((1, 6, "上半年"), (7, 12, "下半年"))
    parts: list[str] = []
    for first, last, label in halves:
        in_half = [
            a
            for a in _of(activities, ActivityKind.EXCHANGE_OF_VIEWS)
            if first <= a.date.month <= last and (hid is None or a.actor == hid)
        ]
        parts.append(
            f"{label}交换意见{_person_times(in_half)}人次,覆盖班子成员"
            f"{_covered(in_half, others)}/{len(others)}人"
        )
    b.append(Block(";".join(parts) + "(第十三条第2项)。"))
    b.extend(
        [
            Block("(三)开展专项督察", "h2"),
            Block(
                "开展转变作风、遵守纪律情况专项督察"
                f"{_with_dates(_of(activities, ActivityKind.DISCIPLINE_INSPECTION))}"
                "(第十三条第7项);党组组织党风检纪专项重点督察"
                f"{_with_dates(inspections)}(第九条第14项)。"
                f"{TO_FILL}(督察发现的问题和通报情况)"
            ),
            Block("(四)监督层级签订责任书、承诺书", "h2"),
            *letters_paragraphs(signing),
            Block("(五)监督班子成员落实“四个一”要求", "h2"),
            Block(
                f"第十一条第6项“四个一”共{len(four)}项,截至{cn_date(duties.as_of)}"
                f"已完成{four_done}项。"
            ),
            Block("(六)信访举报和问题线索处置", "h2"),
            Block(
                records_sentence(duties.records, DISCIPLINE_RECORDS)
                + f"{TO_FILL}(受理举报、控告件数,直办、督办、转办、阅处、留存情况,"
                "向县纪委和市检院纪检组报告问题线索情况;第十三条第8、9、11项)"
            ),
            Block("三、存在问题", "h1"),
            *_problems(duties, names),
            Block("四、下一步打算", "h1"),
            Block(f"{TO_FILL}(下一年度监督工作安排)"),
        ]
    )
    return b


def build_report(
    kind: ReportKind,
    recipient: str,
    *,
    institution: str,
    roster: Roster,
    year: int,
    activities: Sequence[Activity],
    signing: SigningSummary,
    duties: DutiesReport,
    issued: date,
) -> ReportContent:
    if recipient not in RECIPIENTS[kind]:
        raise UsageError(
            f"{kind.label}不报送{recipient}",
            hint=f"可选:{'、'.join(RECIPIENTS[kind])}",
        )
    acts = [a for a in activities if a.year == year and not a.voided and a.date <= issued]
    if kind is ReportKind.MAIN:
        title = f"中共{institution}党组关于{year}年度落实党风廉政建设主体责任情况的报告"
        issuer = f"中共{institution}党组"
        blocks = _main_blocks(roster, year, institution, acts, signing, duties)
    else:
        title = f"{institution}纪检组关于{year}年度履行党风廉政建设监督责任情况的报告"
        issuer = f"{institution}纪检组"
        blocks = _supervision_blocks(roster, year, institution, acts, signing, duties)
    return ReportContent(
        kind=kind,
        recipient=recipient,
        addressee=addressee_for(recipient, institution),
        title=title,
        blocks=tuple(blocks),
        table_rows=table_rows(duties, _Names(roster)),
        issuer=issuer,
        issued=issued,
        year=year,
        institution=institution,
        signing_deadline=signing.due,
        late_letters=signing.late,
    )


# ---------------------------------------------------------------------------------------------
# the whole job


def plan_reports(kind: str, to: str) -> list[tuple[ReportKind, str]]:
    """Which (report, recipient) pairs ``--kind``/``--to`` ask for; refuse an empty choice."""
    kinds = list(ReportKind) if kind == "all" else [ReportKind(kind)]
    wanted = list(ALL_RECIPIENTS) if to == "all" else [to]
    plan = [(k, r) for k in kinds for r in RECIPIENTS[k] if r in wanted]
    if not plan:
        options = ";".join(f"{k.label}报送{'、'.join(RECIPIENTS[k])}" for k in kinds)
        raise UsageError(f"没有要生成的报告:{options},不报送{to}", hint="请修改 --kind 或 --to")
    return plan


@dataclass(frozen=True)
class WrittenReport:
    kind: ReportKind
    recipient: str
    path: Path
    sha256: str


def write_reports(
    ws: Workspace,
    registry: Registry,
    roster: Roster,
    year: int,
    *,
    issued: date,
    kind: str = "all",
    to: str = "all",
) -> list[WrittenReport]:
    """Draft the chosen reports from the registry into ``output/<year>/reports/``.

    ``issued`` is the 成文日期 and the day duties are counted to.
    """
    plan = plan_reports(kind, to)
    activities = read_activities(registry, year=year)
    signing = signing_summary_from_registry(registry, year, ws.config.signing.deadline_for(year))
    duties = expand_duties(roster, year, activities, signing, issued)
    out_dir = ws.year_dir(year) / "reports"
    written: list[WrittenReport] = []
    for report_kind, recipient in plan:
        content = build_report(
            report_kind,
            recipient,
            institution=ws.config.institution,
            roster=roster,
            year=year,
            activities=activities,
            signing=signing,
            duties=duties,
            issued=issued,
        )
        data = render_report(content, ws.config.fonts)
        path = out_dir / f"{content.file_stem}.docx"
        atomic_write(path, data)
        written.append(
            WrittenReport(report_kind, recipient, path, hashlib.sha256(data).hexdigest())
        )
    return written


def reports_in_workspace(
    ws: Workspace, year: int, *, issued: date, kind: str = "all", to: str = "all"
) -> list[WrittenReport]:
    plan_reports(kind, to)  # refuse a bad choice before touching anything
    roster = load_roster(ws.roster_path)
    with open_registry(ws) as registry:
        return write_reports(ws, registry, roster, year, issued=issued, kind=kind, to=to)
