"""Who may record which activity, and which article it then counts for.

An activity is checked against the roster and the seed before it is written (:mod:`docgen.duties.
ledger`): who may hold a 约谈 (the 书记, 10.7), who may take part in a 廉政谈话 (the heads of the
departments the actor supervises, 11.6), that the 纪检组's own work (13.3–13.14) is the 纪检组长's,
that 政工科's (12(二)) is recorded by 政工科, to whom a yearly report went (9.3: 县委, 县纪委 and
市院; 13.10: 县纪委 and 市检院纪检组) and which 考核等次 a person was given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from docgen.core.articles import article_label
from docgen.core.errors import Location, ValidationError
from docgen.core.glossary import ActivityKind, Role
from docgen.core.models import Person, Roster
from docgen.duties.roster_roles import (
    LEADERSHIP,
    department_contacts,
    department_heads,
    department_staff,
    supervised_departments,
)
from docgen.roster.functions import PERSONNEL, article7

At = Callable[[str], Location]

# To whom a report goes, per article (the seed's own words; 市院 is the 市检院党组 of 12(二)6).
RECIPIENTS: dict[str, tuple[str, ...]] = {
    "9.3": ("县委", "县纪委", "市检院党组"),  # "每年向县委、县纪委和市院报告1次"
    "13.8": ("县纪委", "市检院纪检组"),  # "及时向县纪委和市检院纪检组报告…问题线索"
    "13.10": ("县纪委", "市检院纪检组"),  # "每年应及时向县纪委和市检院纪检组报告"
}
RECIPIENT_ALIASES: dict[str, str] = {
    "县委": "县委",
    "中共县委": "县委",
    "县纪委": "县纪委",
    "市院": "市检院党组",
    "市检院": "市检院党组",
    "市检院党组": "市检院党组",
    "市院党组": "市检院党组",
    "市检院纪检组": "市检院纪检组",
    "市院纪检组": "市检院纪检组",
}
# How often the seed asks for each kind, in its own words; "" where it counts as a duty with due
# dates in docgen duties, else the word that makes it record-only (no frequency is invented).
FREQUENCY: dict[ActivityKind, str] = {
    ActivityKind.PARTY_GROUP_MEETING: "每年至少两次",
    ActivityKind.SPECIAL_INSPECTION: "每半年1次",
    ActivityKind.SPECIAL_REMEDIATION: "每年至少1次",
    ActivityKind.TUTORIAL_REPORT: "每年至少1次",
    ActivityKind.ADMONITORY_TALK: "每年至少1次",
    ActivityKind.HEART_TO_HEART_TALK: "每年至少1次",
    ActivityKind.DEPARTMENT_BRIEFING: "每季度至少1次",
    ActivityKind.INTEGRITY_TALK: "每季度1次",
    ActivityKind.INTEGRITY_LECTURE: "每年至少1次",
    ActivityKind.EXCHANGE_OF_VIEWS: "每半年1次",
    ActivityKind.YEAR_END_ASSESSMENT: "年底",
    ActivityKind.ANNUAL_REPORT: "每年1次,每个报送机关",
    ActivityKind.TASK_BREAKDOWN: "每年适时",
    ActivityKind.REPORT_DRAFTING: "每年(随第九条第3项报告)",
}
RECORD_ONLY: dict[ActivityKind, str] = {
    ActivityKind.DEMOCRATIC_LIFE_MEETING: "未定频次",
    ActivityKind.DISCIPLINE_WORK_BRIEFING: "适时",
    ActivityKind.STUDY_MEETING: "及时",
    ActivityKind.AGENDA_ITEM: "未定频次",
    ActivityKind.ADMONITION_TALK: "适时",
    ActivityKind.TRAINING_PLAN: "未定频次",
    ActivityKind.EDUCATION_ACTIVITY: "党组决定时",
    ActivityKind.RECTIFICATION_CAMPAIGN: "党组决定时",
    ActivityKind.CASE_INVESTIGATION: "及时",
    ActivityKind.DECISION_SUPERVISION: "未定频次",
    ActivityKind.EXECUTION_SUPERVISION: "未定频次",
    ActivityKind.CORRECTION_REQUEST: "及时",
    ActivityKind.DISCIPLINE_INSPECTION: "适时",
    ActivityKind.CLUE_REPORT: "及时",
    ActivityKind.VERIFICATION_REPORT: "及时",
    ActivityKind.COMPLAINT_HANDLING: "受理时",
    ActivityKind.REFERRAL: "及时",
    ActivityKind.WARNING_REMINDER: "及时",
    ActivityKind.DUAL_INVESTIGATION: "发生时",
    ActivityKind.ASSESSMENT_GRADE: "每年考核后",
}


def kinds_help() -> str:
    """Each kind with its articles and frequency, one per line, for ``activity add --help``."""
    lines = []
    for kind in ActivityKind:
        articles = "、".join(article_label(a) for a in kind.articles)
        if kind in RECORD_ONLY:
            how = f"{RECORD_ONLY[kind]},只登记和报告"
        else:
            how = f"{FREQUENCY.get(kind, '')},计入期限"
        lines.append(f"{kind.label}({kind.value}):{articles};{how}")
    return "\n".join(lines)


GRADES = ("优秀", "良好", "一般", "较差")  # 18.9 / 22.3: "连续两年被评定为“较差”等次"
POOR_GRADE = "较差"
DISPOSITIONS = ("直办", "督办", "转办", "阅处", "留存")  # 13.11

# The 纪检组's own work (13.3–13.9, 13.11–13.14): recorded by the 纪检组长, no frequency invented.
DISCIPLINE_KINDS = frozenset(
    {
        ActivityKind.CASE_INVESTIGATION,
        ActivityKind.DECISION_SUPERVISION,
        ActivityKind.EXECUTION_SUPERVISION,
        ActivityKind.CORRECTION_REQUEST,
        ActivityKind.DISCIPLINE_INSPECTION,
        ActivityKind.CLUE_REPORT,
        ActivityKind.VERIFICATION_REPORT,
        ActivityKind.COMPLAINT_HANDLING,
        ActivityKind.REFERRAL,
        ActivityKind.WARNING_REMINDER,
        ActivityKind.DUAL_INVESTIGATION,
    }
)
# 政工科's part of the 党组's duties (第十二条第(二)项).
POLITICAL_KINDS = frozenset(
    {
        ActivityKind.TRAINING_PLAN,
        ActivityKind.EDUCATION_ACTIVITY,
        ActivityKind.RECTIFICATION_CAMPAIGN,
        ActivityKind.REPORT_DRAFTING,
    }
)


def who(person: Person) -> str:
    return f"{person.name}({person.id},{person.role.label})"


def _is_secretary(person: Person) -> bool:
    return person.role is Role.PARTY_SECRETARY


def _is_leader(person: Person) -> bool:
    return person.role in LEADERSHIP


@dataclass(frozen=True)
class Check:
    """Participants allowed for one (kind, actor) combination, and the article it counts for."""

    article: str
    allowed: frozenset[str] | None  # None: anyone in the roster (an audience)
    describe: str  # who may take part, in Chinese, for the hint
    need_participants: bool
    recipients: tuple[str, ...] = ()  # to whom it may go; non-empty: at least one is required
    needs_grade: bool = False  # a 考核等次 (GRADES) is required
    needs_disposition: bool = False  # a 处理方式 (DISPOSITIONS) is required
    must_include: frozenset[str] = frozenset()  # one of them must take part (12(二)6: 纪检组)


def check_for(roster: Roster, kind: ActivityKind, actor: Person, at: At) -> Check:
    """Decide the article for ``actor`` holding ``kind``, or raise naming the actor field."""
    everyone = None
    leadership = frozenset(p.id for p in roster.people if _is_leader(p))
    heads = department_heads(roster)
    supervised = supervised_departments(roster, actor.id)
    contacts = frozenset(c for d in supervised for c in department_contacts(d))
    staff = frozenset(s for d in supervised for s in department_staff(d))
    committee = frozenset(p.id for p in roster.people if p.role is Role.COMMITTEE_MEMBER)

    def refuse(who_may: str, article: str) -> ValidationError:
        return ValidationError(
            f"{who(actor)}不能作为“{kind.label}”的主持人",
            location=at("actor"),
            hint=f"按{article_label(article)},{kind.label}应由{who_may}进行",
        )

    def need_supervised(article: str) -> None:
        if not supervised:
            raise ValidationError(
                f"{who(actor)}在名册中没有分管部门,不能登记“{kind.label}”",
                location=at("actor"),
                hint=f"{article_label(article)}的{kind.label}对象是分管部门;请先在名册中填写分管院领导",
            )

    later = _later_kind(roster, kind, actor, at, refuse)
    if later is not None:
        return later
    if kind in (
        ActivityKind.PARTY_GROUP_MEETING,
        ActivityKind.SPECIAL_INSPECTION,
        ActivityKind.SPECIAL_REMEDIATION,
    ):
        article = kind.articles[0]
        if not (_is_secretary(actor) or _is_leader(actor)):
            raise refuse("党组书记或班子成员", article)
        return Check(article, everyone, "", False)
    if kind is ActivityKind.TUTORIAL_REPORT:
        if not _is_secretary(actor):
            raise refuse("党组书记", "10.6")
        return Check("10.6", everyone, "", False)
    if kind is ActivityKind.ADMONITORY_TALK:
        if not _is_secretary(actor):
            raise refuse("党组书记", "10.7")
        return Check("10.7", leadership, "班子成员", True)
    if kind is ActivityKind.HEART_TO_HEART_TALK:
        if _is_secretary(actor):
            allowed = leadership | heads | committee | staff
            return Check(
                "10.8", allowed, "班子成员、检委会专职委员、部门负责人(中层)或分管部门人员", True
            )
        if _is_leader(actor) or actor.role is Role.COMMITTEE_MEMBER:
            need_supervised("11.6")
            return Check("11.6", staff, "主持人分管部门的人员", True)
        raise refuse("党组书记(第十条第8项)或班子成员(第十一条第6项)", "10.8")
    if kind in (ActivityKind.DEPARTMENT_BRIEFING, ActivityKind.INTEGRITY_TALK):
        if not (_is_leader(actor) or _is_secretary(actor) or actor.role is Role.COMMITTEE_MEMBER):
            raise refuse("班子成员", "11.6")
        need_supervised("11.6")
        return Check("11.6", contacts, "主持人分管部门的负责人", True)
    if kind is ActivityKind.INTEGRITY_LECTURE:
        if not (_is_leader(actor) or supervised):
            raise refuse("班子成员", "11.6")
        return Check("11.6", everyone, "", False)
    if kind is ActivityKind.EXCHANGE_OF_VIEWS:
        if actor.role is not Role.DISCIPLINE_HEAD:
            raise refuse("纪检组长", "13.2")
        secretaries = frozenset(p.id for p in roster.people if _is_secretary(p))
        return Check("13.2", (leadership | secretaries) - {actor.id}, "班子成员", True)
    if kind is ActivityKind.YEAR_END_ASSESSMENT:
        if _is_secretary(actor):
            return Check(
                "10.3",
                leadership | committee | contacts,
                "班子成员、检委会专职委员或分管部门的负责人",
                True,
            )
        if _is_leader(actor):
            need_supervised("11.2")
            return Check("11.2", contacts, "主持人分管部门的负责人", True)
        raise refuse("党组书记(第十条第3项)或班子成员(第十一条第2项)", "10.3")
    # ActivityKind.ANNUAL_REPORT
    if _is_secretary(actor):
        return Check("9.3", everyone, "", False, recipients=RECIPIENTS["9.3"])
    if actor.role is Role.DISCIPLINE_HEAD:
        return Check("13.10", everyone, "", False, recipients=RECIPIENTS["13.10"])
    raise refuse("党组书记(党组报告,第九条第3项)或纪检组长(纪检组报告,第十三条第10项)", "9.3")


def _later_kind(
    roster: Roster,
    kind: ActivityKind,
    actor: Person,
    at: At,
    refuse: Callable[[str, str], ValidationError],
) -> Check | None:
    """The kinds of issue #20 (9.4, 9.17, 9.20, 10.1, 10.2, 10.9, 12(二), 13.3–13.14, 考核等次);
    ``None`` for the others."""
    article = kind.articles[0]
    party = _is_secretary(actor) or _is_leader(actor)
    if kind in (
        ActivityKind.TASK_BREAKDOWN,
        ActivityKind.DEMOCRATIC_LIFE_MEETING,
        ActivityKind.DISCIPLINE_WORK_BRIEFING,
    ):
        if not party:
            raise refuse("党组书记或班子成员(党组)", article)
        return Check(article, None, "", False)
    if kind in (ActivityKind.STUDY_MEETING, ActivityKind.AGENDA_ITEM):
        if not _is_secretary(actor):
            raise refuse("党组书记", article)
        return Check(article, None, "", False)
    if kind is ActivityKind.ADMONITION_TALK:
        if not _is_secretary(actor):
            raise refuse("党组书记", article)
        staff = frozenset(s for d in roster.departments for s in department_staff(d))
        return Check(article, staff, "群众反映强烈、存在问题较多的部门的人员", True)
    if kind in POLITICAL_KINDS:
        # the 政工科 of 第七条第(二)项: the roster's 职能 field, else the name (roster.functions)
        political = [d for d in roster.departments if PERSONNEL in article7(d).functions]
        if not political:
            raise ValidationError(
                f"名册中没有政工科,不能登记“{kind.label}”",
                location=at("actor"),
                hint=f"{article_label(article)}由政工科负责;请在名册中为该部门填写"
                "“function: 政工科”(职能,第七条第(二)项)",
            )
        members = {s for d in political for s in department_staff(d)}
        members |= {d.supervisor for d in political if d.supervisor}
        if actor.id not in members:
            raise refuse("政工科的人员或其分管院领导", article)
        if kind is ActivityKind.REPORT_DRAFTING:
            discipline = frozenset(p.id for p in roster.people if p.role is Role.DISCIPLINE_HEAD)
            return Check(article, None, "纪检组长(“配合纪检组负责撰写”)", True,
                         must_include=discipline)  # fmt: skip
        return Check(article, None, "", False)
    if kind in DISCIPLINE_KINDS:
        if actor.role is not Role.DISCIPLINE_HEAD:
            raise refuse("纪检组长(纪检组)", article)
        return Check(
            article,
            None,
            "",
            False,
            recipients=RECIPIENTS.get(article, ()),
            needs_disposition=kind is ActivityKind.COMPLAINT_HANDLING,
        )
    if kind is ActivityKind.ASSESSMENT_GRADE:
        if not party:
            raise refuse("党组书记或班子成员(代表党组登记考核结果,第十四条)", article)
        return Check(article, None, "被评定等次的人员", True, needs_grade=True)
    return None


def _split(value: str | Sequence[str]) -> list[str]:
    items = re.split(r"[,,、;;\s]+", value) if isinstance(value, str) else list(value)
    return [i.strip() for i in items if i and i.strip()]


def parse_recipients(
    check: Check, kind: ActivityKind, value: str | Sequence[str], location: Location
) -> tuple[str, ...]:
    """The bodies a report went to, by their short names, in the seed's order."""
    given = _split(value)
    if not check.recipients:
        if given:
            raise ValidationError(
                f"“{kind.label}”({article_label(check.article)})不填报送机关",
                location=location,
                hint="报送机关只用于年度报告(第九条第3项、第十三条第10项)和问题线索报告(第十三条第8项)",
            )
        return ()
    names = "、".join(check.recipients)
    if not given:
        raise ValidationError(
            f"“{kind.label}”缺少报送机关",
            location=location,
            hint=f"按{article_label(check.article)},应报送{names};每个报送机关都要登记(逗号分隔)",
        )
    found: set[str] = set()
    for name in given:
        canonical = RECIPIENT_ALIASES.get(name)
        if canonical not in check.recipients:
            raise ValidationError(
                f"报送机关“{name}”不是{article_label(check.article)}规定的报送对象",
                location=location,
                hint=f"可填:{names}",
            )
        found.add(canonical)
    return tuple(r for r in check.recipients if r in found)


def parse_choice(
    value: str,
    choices: Sequence[str],
    *,
    wanted: bool,
    what: str,
    kind: ActivityKind,
    article: str,
    location: Location,
) -> str:
    """One of ``choices`` when ``wanted``; nothing otherwise (a stray value is refused)."""
    text = value.strip()
    if not wanted:
        if text:
            raise ValidationError(
                f"“{kind.label}”不填{what}", location=location, hint=f"请删去{what}"
            )
        return ""
    if text not in choices:
        raise ValidationError(
            f"{what}“{text}”无法识别" if text else f"“{kind.label}”缺少{what}",
            location=location,
            hint=f"按{article_label(article)},{what}应为:{'、'.join(choices)}",
        )
    return text
