"""Which departments are 第七条's 相关职能部门, and why.

第七条: "相关职能部门除履行本部门党风廉政建设责任外,还应当按照职能分工,承担党组履行主体责任的
相关责任": (一) the 办公室 (协调督办), (二) the 政工科 (教育培训、宣传和舆情处置).  Which of an
institution's departments they are is a fact of the roster: a department's optional field
``function`` (职能) says ``办公室``, ``政工科`` or ``无`` (an empty value means ``无`` too).

A roster written before the field existed keeps its letters byte for byte: a department that
does not state it is one by its name, as the regulation names them — a name containing 办公室
is the 办公室, one containing 政工 or 政治部 is the 政工科.  ``无`` turns that off for a
department whose name matches but is not the 第七条 office (e.g. a 未成年人检察办公室).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from docgen.core.models import Department, Roster

OFFICE = "办公室"
PERSONNEL = "政工科"
NO_FUNCTION = "无"
ALLOWED_FUNCTIONS = (OFFICE, PERSONNEL, NO_FUNCTION)
"""The values the field may take (an empty value is read as 无)."""

_NAME_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (OFFICE, ("办公室",)),
    (PERSONNEL, ("政工", "政治部")),
)
_ITEMS = {OFFICE: "第七条第(一)项", PERSONNEL: "第七条第(二)项"}


def is_allowed(value: str) -> bool:
    """Whether ``value`` (as the roster gives it, stripped) is a value of the field."""
    return value == "" or value in ALLOWED_FUNCTIONS


def by_name(name: str) -> tuple[str, ...]:
    """The 第七条 functions a department's name implies (the rule for a roster without the
    field), in the regulation's order."""
    return tuple(function for function, words in _NAME_WORDS if any(w in name for w in words))


@dataclass(frozen=True, slots=True)
class Article7:
    """A department's 第七条 functions and where they come from."""

    functions: tuple[str, ...]
    stated: bool  # by the roster's field; False: by the department's name

    def explain(self, department: str) -> str:
        """One line in Chinese: what the department carries of 第七条 and why."""
        source = "名册“职能”字段" if self.stated else "名册未填“职能”,按部门名称认定"
        if not self.functions:
            return f"部门“{department}”不承担第七条相关职能部门责任({source}为“无”)"
        items = "、".join(f"{f}({_ITEMS[f]})" for f in self.functions)
        return f"部门“{department}”为第七条相关职能部门:{items}(依据:{source})"


def article7(department: Department) -> Article7:
    """What ``department`` carries of 第七条: the field if stated, else the name rule."""
    stated = department.function
    if stated is None:
        return Article7(by_name(department.name), stated=False)
    if stated in (OFFICE, PERSONNEL):
        return Article7((stated,), stated=True)
    return Article7((), stated=True)


def functions_by_department(roster: Roster) -> dict[str, tuple[str, ...]]:
    """Department name → its 第七条 functions, for every department of ``roster``."""
    return {d.name: article7(d).functions for d in roster.departments}


def letter_functions(
    department: str | None, known: Mapping[str, tuple[str, ...]]
) -> tuple[str, ...]:
    """The 第七条 functions of a letter's department, in the regulation's order.

    A merged department-tier letter (one head of two departments, docgen.roster.hierarchy)
    names both separated by 、 and gets the functions of each; a department ``known`` does not
    list is judged by its name."""
    if not department:
        return ()
    found: set[str] = set()
    for name in department.split("、"):
        found.update(known[name] if name in known else by_name(name))
    return tuple(f for f, _ in _NAME_WORDS if f in found)


def article7_lines(roster: Roster) -> list[str]:
    """For ``pairings --explain``: each department that carries 第七条, and each the roster turns
    off although its name would make it one, with why; a line when none carries it."""
    lines = []
    for department in roster.departments:
        found = article7(department)
        if found.functions or by_name(department.name):
            lines.append(found.explain(department.name))
    if not any(article7(d).functions for d in roster.departments):
        lines.append("没有部门承担第七条相关职能部门责任(办公室、政工科);如有,请在名册中填写“职能”")
    return lines
