"""What a letter must know of its parties' roles to carry their own duties (issue #20).

The 实施办法 gives each role its own duties: the 党组书记 is the 第一责任人 (第五条), the
other 班子成员 bear 主要领导责任 (第六条), the 纪检组长 bears 监督责任 (第八条, 第十三条), a
检委会专职委员 assists the 班子成员 (第六条, 第十一条), and only the 相关职能部门 of 第七条
— 办公室 and 政工科 — carry the 党组's related duties besides their own.  The templates choose
their paragraphs with the variables made here (templates/README.md lists them).

Which departments are 相关职能部门 is a roster fact (a department's ``function``, 职能), with
the name rule for a roster that does not state it: docgen.roster.functions.  A merged
department-tier letter (one head of two departments, see docgen.roster.hierarchy) names both,
separated by 、, and gets the functions of each.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from docgen.core.models import Pairing
from docgen.roster.functions import letter_functions


def role_context(
    pairing: Pairing, functions: Mapping[str, tuple[str, ...]] | None = None
) -> dict[str, Any]:
    """``superior_role``, ``subordinate_role`` (docgen.core.glossary.Role values) and
    ``department_functions`` of a letter. ``functions``: department name → its 第七条 functions
    (docgen.roster.functions.functions_by_department); a department it does not list, or every
    one when it is ``None``, is judged by its name."""
    return {
        "superior_role": pairing.superior.role.value,
        "subordinate_role": pairing.subordinate.role.value,
        "department_functions": list(letter_functions(pairing.department, functions or {})),
    }
