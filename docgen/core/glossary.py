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
    """Activities of the ledger: the countable duties (articles 9.1, 9.3, 9.4, 9.14, 10.3,
    10.6–10.8, 11.2, 11.6, 12(二)6, 13.2, 13.10) and what the seed asks "适时"/"及时" or without a
    frequency (9.17, 9.20, 10.1, 10.2, 10.9, 12(二)1/4/5, 13.3–13.9, 13.11–13.14), recorded and
    reported without an invented one; and the yearly 考核等次 (第十四条, 18.9, 22.3)."""

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
    TASK_BREAKDOWN = "task_breakdown"
    DEMOCRATIC_LIFE_MEETING = "democratic_life_meeting"
    DISCIPLINE_WORK_BRIEFING = "discipline_work_briefing"
    STUDY_MEETING = "study_meeting"
    AGENDA_ITEM = "agenda_item"
    ADMONITION_TALK = "admonition_talk"
    TRAINING_PLAN = "training_plan"
    EDUCATION_ACTIVITY = "education_activity"
    RECTIFICATION_CAMPAIGN = "rectification_campaign"
    REPORT_DRAFTING = "report_drafting"
    CASE_INVESTIGATION = "case_investigation"
    DECISION_SUPERVISION = "decision_supervision"
    EXECUTION_SUPERVISION = "execution_supervision"
    CORRECTION_REQUEST = "correction_request"
    DISCIPLINE_INSPECTION = "discipline_inspection"
    CLUE_REPORT = "clue_report"
    VERIFICATION_REPORT = "verification_report"
    COMPLAINT_HANDLING = "complaint_handling"
    REFERRAL = "referral"
    WARNING_REMINDER = "warning_reminder"
    DUAL_INVESTIGATION = "dual_investigation"
    ASSESSMENT_GRADE = "assessment_grade"

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
    ActivityKind.TASK_BREAKDOWN: "任务细化分解",
    ActivityKind.DEMOCRATIC_LIFE_MEETING: "民主生活会",
    ActivityKind.DISCIPLINE_WORK_BRIEFING: "听取纪检监察工作汇报",
    ActivityKind.STUDY_MEETING: "传达学习会议",
    ActivityKind.AGENDA_ITEM: "列入党组议事日程",
    ActivityKind.ADMONITION_TALK: "诫勉谈话",
    ActivityKind.TRAINING_PLAN: "教育培训计划",
    ActivityKind.EDUCATION_ACTIVITY: "党课和警示教育",
    ActivityKind.RECTIFICATION_CAMPAIGN: "专项教育整顿",
    ActivityKind.REPORT_DRAFTING: "撰写主体责任报告",
    ActivityKind.CASE_INVESTIGATION: "调查处理违纪违规问题",
    ActivityKind.DECISION_SUPERVISION: "监督党组决策",
    ActivityKind.EXECUTION_SUPERVISION: "监督执行程序",
    ActivityKind.CORRECTION_REQUEST: "提请党组责令纠正",
    ActivityKind.DISCIPLINE_INSPECTION: "纪检组专项督察",
    ActivityKind.CLUE_REPORT: "报告问题线索",
    ActivityKind.VERIFICATION_REPORT: "报告调查核实情况",
    ActivityKind.COMPLAINT_HANDLING: "处理举报控告",
    ActivityKind.REFERRAL: "移送处理",
    ActivityKind.WARNING_REMINDER: "警示提醒",
    ActivityKind.DUAL_INVESTIGATION: "一案双查",
    ActivityKind.ASSESSMENT_GRADE: "考核等次",
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
    ActivityKind.TASK_BREAKDOWN: ("9.4",),
    ActivityKind.DEMOCRATIC_LIFE_MEETING: ("9.17",),
    ActivityKind.DISCIPLINE_WORK_BRIEFING: ("9.20",),
    ActivityKind.STUDY_MEETING: ("10.1",),
    ActivityKind.AGENDA_ITEM: ("10.2",),
    ActivityKind.ADMONITION_TALK: ("10.9",),
    ActivityKind.TRAINING_PLAN: ("12.2.1",),
    ActivityKind.EDUCATION_ACTIVITY: ("12.2.4",),
    ActivityKind.RECTIFICATION_CAMPAIGN: ("12.2.5",),
    ActivityKind.REPORT_DRAFTING: ("12.2.6",),
    ActivityKind.CASE_INVESTIGATION: ("13.3",),
    ActivityKind.DECISION_SUPERVISION: ("13.4",),
    ActivityKind.EXECUTION_SUPERVISION: ("13.5",),
    ActivityKind.CORRECTION_REQUEST: ("13.6",),
    ActivityKind.DISCIPLINE_INSPECTION: ("13.7",),
    ActivityKind.CLUE_REPORT: ("13.8",),
    ActivityKind.VERIFICATION_REPORT: ("13.9",),
    ActivityKind.COMPLAINT_HANDLING: ("13.11",),
    ActivityKind.REFERRAL: ("13.12",),
    ActivityKind.WARNING_REMINDER: ("13.13",),
    ActivityKind.DUAL_INVESTIGATION: ("13.14",),
    ActivityKind.ASSESSMENT_GRADE: ("14", "18.9", "22.3"),
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
    "细化分解": ActivityKind.TASK_BREAKDOWN,
    "任务分解": ActivityKind.TASK_BREAKDOWN,
    "纪检监察工作汇报": ActivityKind.DISCIPLINE_WORK_BRIEFING,
    "议事日程": ActivityKind.AGENDA_ITEM,
    "培训计划": ActivityKind.TRAINING_PLAN,
    "警示教育": ActivityKind.EDUCATION_ACTIVITY,
    "教育整顿": ActivityKind.RECTIFICATION_CAMPAIGN,
    "撰写报告": ActivityKind.REPORT_DRAFTING,
    "问题线索": ActivityKind.CLUE_REPORT,
    "举报控告": ActivityKind.COMPLAINT_HANDLING,
    "信访举报": ActivityKind.COMPLAINT_HANDLING,
    "训诫督导": ActivityKind.WARNING_REMINDER,
    "责令纠错": ActivityKind.WARNING_REMINDER,
    "等次": ActivityKind.ASSESSMENT_GRADE,
    "年度考核": ActivityKind.ASSESSMENT_GRADE,
}
for _kind in ActivityKind:
    ACTIVITY_ALIASES[_kind.value] = _kind
    ACTIVITY_ALIASES[ACTIVITY_LABELS[_kind]] = _kind
