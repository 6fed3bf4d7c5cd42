"""The official Chinese terms, in one place, with the code names used everywhere else."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A person's position in the signing hierarchy (DESIGN §1)."""

    PARTY_SECRETARY = "party_secretary"
    LEADER = "leader"
    DISCIPLINE_HEAD = "discipline_group_head"
    COMMITTEE_MEMBER = "committee_member"
    DEPARTMENT_HEAD = "department_head"
    STAFF = "staff"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def is_leadership(self) -> bool:
        """班子成员 in the sense of article 6: the 书记's direct counterparts."""
        return self in (Role.LEADER, Role.DISCIPLINE_HEAD)


ROLE_LABELS: dict[Role, str] = {
    Role.PARTY_SECRETARY: "党组书记",
    Role.LEADER: "班子成员",
    Role.DISCIPLINE_HEAD: "纪检组长",
    Role.COMMITTEE_MEMBER: "检委会专职委员",
    Role.DEPARTMENT_HEAD: "部门负责人",
    Role.STAFF: "工作人员",
}

# Words a clerk may type in a roster's 角色 column, mapped to a role.
ROLE_ALIASES: dict[str, Role] = {
    "党组书记": Role.PARTY_SECRETARY,
    "书记": Role.PARTY_SECRETARY,
    "检察长": Role.PARTY_SECRETARY,
    "党组书记、检察长": Role.PARTY_SECRETARY,
    "班子成员": Role.LEADER,
    "院领导": Role.LEADER,
    "副检察长": Role.LEADER,
    "政治部主任": Role.LEADER,
    "纪检组长": Role.DISCIPLINE_HEAD,
    "纪检组": Role.DISCIPLINE_HEAD,
    "检委会专职委员": Role.COMMITTEE_MEMBER,
    "专职委员": Role.COMMITTEE_MEMBER,
    "部门负责人": Role.DEPARTMENT_HEAD,
    "中层": Role.DEPARTMENT_HEAD,
    "科长": Role.DEPARTMENT_HEAD,
    "主任": Role.DEPARTMENT_HEAD,
    "工作人员": Role.STAFF,
    "干警": Role.STAFF,
    "检察干警": Role.STAFF,
}
for _role in Role:
    ROLE_ALIASES[_role.value] = _role


class LetterKind(StrEnum):
    """The three letters of articles 9.5–9.7."""

    RESPONSIBILITY = "responsibility"
    PUBLIC_COMMITMENT = "public_commitment"
    INTEGRITY_PLEDGE = "integrity_pledge"

    @property
    def title(self) -> str:  # type: ignore[override]  # the letter's title, not str.title()
        return LETTER_TITLES[self]

    @property
    def code(self) -> str:
        """Short ASCII code used in document ids and folder names."""
        return LETTER_CODES[self]


LETTER_TITLES: dict[LetterKind, str] = {
    LetterKind.RESPONSIBILITY: "党风廉政建设责任书",
    LetterKind.PUBLIC_COMMITMENT: "公开承诺书",
    LetterKind.INTEGRITY_PLEDGE: "廉洁从检承诺书",
}

LETTER_CODES: dict[LetterKind, str] = {
    LetterKind.RESPONSIBILITY: "ZR",
    LetterKind.PUBLIC_COMMITMENT: "CN",
    LetterKind.INTEGRITY_PLEDGE: "LJ",
}

KIND_BY_CODE: dict[str, LetterKind] = {code: kind for kind, code in LETTER_CODES.items()}

INSTITUTION_DEFAULT = "庆城县人民检察院"


class ActivityKind(StrEnum):
    """Countable activities of the ledger (articles 9.1, 9.3, 9.14, 10.3, 10.6–10.8, 11.2, 11.6,
    13.2, 13.10)."""

    PARTY_GROUP_MEETING = "party_group_meeting"
    SPECIAL_INSPECTION = "special_inspection"
    SPECIAL_REMEDIATION = "special_remediation"
    TUTORIAL_REPORT = "tutorial_report"
    ADMONITORY_TALK = "admonitory_talk"
    HEART_TO_HEART_TALK = "heart_to_heart_talk"
    DEPARTMENT_BRIEFING = "department_briefing"
    INTEGRITY_TALK = "integrity_talk"
    INTEGRITY_LECTURE = "integrity_lecture"
    EXCHANGE_OF_VIEWS = "exchange_of_views"
    YEAR_END_ASSESSMENT = "year_end_assessment"
    ANNUAL_REPORT = "annual_report"

    @property
    def label(self) -> str:
        return ACTIVITY_LABELS[self]

    @property
    def articles(self) -> tuple[str, ...]:
        return ACTIVITY_ARTICLES[self]


ACTIVITY_LABELS: dict[ActivityKind, str] = {
    ActivityKind.PARTY_GROUP_MEETING: "党组专题会议",
    ActivityKind.SPECIAL_INSPECTION: "专项督察",
    ActivityKind.SPECIAL_REMEDIATION: "专项治理",
    ActivityKind.TUTORIAL_REPORT: "专题辅导报告",
    ActivityKind.ADMONITORY_TALK: "约谈",
    ActivityKind.HEART_TO_HEART_TALK: "谈心谈话",
    ActivityKind.DEPARTMENT_BRIEFING: "听取分管部门汇报",
    ActivityKind.INTEGRITY_TALK: "廉政谈话",
    ActivityKind.INTEGRITY_LECTURE: "廉政党课",
    ActivityKind.EXCHANGE_OF_VIEWS: "交换意见",
    ActivityKind.YEAR_END_ASSESSMENT: "检查考核",
    ActivityKind.ANNUAL_REPORT: "年度报告",
}

ACTIVITY_ARTICLES: dict[ActivityKind, tuple[str, ...]] = {
    ActivityKind.PARTY_GROUP_MEETING: ("9.1",),
    ActivityKind.SPECIAL_INSPECTION: ("9.14",),
    ActivityKind.SPECIAL_REMEDIATION: ("9.14",),
    ActivityKind.TUTORIAL_REPORT: ("10.6",),
    ActivityKind.ADMONITORY_TALK: ("10.7",),
    ActivityKind.HEART_TO_HEART_TALK: ("10.8", "11.6"),
    ActivityKind.DEPARTMENT_BRIEFING: ("11.6",),
    ActivityKind.INTEGRITY_TALK: ("11.6",),
    ActivityKind.INTEGRITY_LECTURE: ("11.6",),
    ActivityKind.EXCHANGE_OF_VIEWS: ("13.2",),
    ActivityKind.YEAR_END_ASSESSMENT: ("10.3", "11.2"),
    ActivityKind.ANNUAL_REPORT: ("9.3", "13.10"),
}

# What a clerk may type for a kind: the code, the Chinese name, and a few common variants.
ACTIVITY_ALIASES: dict[str, ActivityKind] = {
    "专题会议": ActivityKind.PARTY_GROUP_MEETING,
    "党组会": ActivityKind.PARTY_GROUP_MEETING,
    "督察": ActivityKind.SPECIAL_INSPECTION,
    "专项重点督察": ActivityKind.SPECIAL_INSPECTION,
    "治理": ActivityKind.SPECIAL_REMEDIATION,
    "辅导报告": ActivityKind.TUTORIAL_REPORT,
    "谈心": ActivityKind.HEART_TO_HEART_TALK,
    "汇报": ActivityKind.DEPARTMENT_BRIEFING,
    "党课": ActivityKind.INTEGRITY_LECTURE,
    "考核": ActivityKind.YEAR_END_ASSESSMENT,
    "报告": ActivityKind.ANNUAL_REPORT,
}
for _kind in ActivityKind:
    ACTIVITY_ALIASES[_kind.value] = _kind
    ACTIVITY_ALIASES[ACTIVITY_LABELS[_kind]] = _kind
