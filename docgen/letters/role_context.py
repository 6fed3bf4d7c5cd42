"""What a letter must know of its parties' roles to carry their own duties (issue #20).

The 实施办法 gives each role its own duties: the 党组书记 is the 第一责任人 (第五条), the
other 班子成员 bear 主要领导责任 (第六条), the 纪检组长 bears 监督责任 (第八条, 第十三条), a
检委会专职委员 assists the 班子成员 (第六条, 第十一条), and only the 相关职能部门 of 第七条
— 办公室 and 政工科 — carry the 党组's related duties besides their own.  The templates choose
their paragraphs with the variables made here (templates/README.md lists them).

A department is a 相关职能部门 by its name, the way the roster and the regulation both name it:
a name containing 办公室 is the 办公室 of 第七条第(一)项, one containing 政工 or 政治部 is the
政工科 of 第七条第(二)项.  A merged department-tier letter (one head of two departments, see
docgen.roster.hierarchy) names both, separated by 、, and gets the functions of each.
"""

from __future__ import annotations

from typing import Any

from docgen.core.models import Pairing

OFFICE = "办公室"
PERSONNEL = "政工科"
_FUNCTION_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (OFFICE, ("办公室",)),
    (PERSONNEL, ("政工", "政治部")),
)


def department_functions(department: str | None) -> list[str]:
    """The 第七条 functions (办公室, 政工科) of ``department``, in the regulation's order."""
    names = (department or "").split("、")
    return [
        function
        for function, words in _FUNCTION_WORDS
        if any(word in name for name in names for word in words)
    ]


def role_context(pairing: Pairing) -> dict[str, Any]:
    """``superior_role``, ``subordinate_role`` (docgen.core.glossary.Role values) and
    ``department_functions`` of a letter."""
    return {
        "superior_role": pairing.superior.role.value,
        "subordinate_role": pairing.subordinate.role.value,
        "department_functions": department_functions(pairing.department),
    }
