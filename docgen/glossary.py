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
    def title(self) -> str:
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
