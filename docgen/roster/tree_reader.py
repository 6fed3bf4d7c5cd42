"""The tree reader: a roster read from the whole composed YAML node tree, every problem reported.

``yaml.compose`` keeps the line of every node, so each message names the line and field it is
about; :class:`_Parser` walks the nodes and collects problems instead of stopping at the first.
This is the reference reader: every message comes from it, and the streaming reader
(:mod:`docgen.roster.stream_reader`) must build exactly what it builds, or leave the text to it.
"""

from __future__ import annotations

import yaml

from docgen.core.errors import Location, Problem
from docgen.core.models import Department, Person, Roster
from docgen.roster.vocabulary import (
    DEPARTMENT_FIELDS,
    ERROR,
    FIELD_LABELS,
    PERSON_FIELDS,
    TOP_FIELDS,
    WARNING,
    RosterLocator,
    accepted_role_words,
    bad_characters,
    is_valid_id,
    parse_role,
)

NULL_TAG = "tag:yaml.org,2002:null"

# libyaml's loader composes the node tree several times faster than the pure-Python one and
# keeps the line of every node; PyYAML without libyaml has only the pure-Python classes.
YAML_LOADER: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(
    yaml, "CSafeLoader", yaml.SafeLoader
)


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


class _Parser:
    """Walks the composed YAML nodes, collecting problems instead of stopping at the first."""

    def __init__(self, source: str | None) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.people: list[Person] = []
        self.departments: list[Department] = []
        self.person_lines: dict[tuple[int, str], int] = {}
        self.department_lines: dict[tuple[int, str], int] = {}
        self.rejected_ids: set[str] = set()

    def problem(
        self, message: str, line: int | None, field_name: str | None, severity: str = ERROR
    ) -> None:
        self.problems.append(
            Problem(message, Location(file=self.source, row=line, field=field_name), severity)
        )

    def mapping(
        self, node: yaml.MappingNode, known: tuple[str, ...], what: str
    ) -> dict[str, yaml.Node]:
        """Fields of a mapping node; duplicate and unknown keys are reported."""
        fields: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(f"{what}中有无法识别的字段名", _line(key_node), None)
                continue
            key = str(key_node.value)
            if key in fields:
                self.problem(
                    f"{what}中字段“{key}”写了两次,第 {_line(fields[key])} 行已有;请删去一处",
                    _line(key_node),
                    key,
                )
                continue
            if key not in known:
                self.problem(
                    f"{what}中有未知字段“{key}”,已忽略;可用的字段:{'、'.join(known)}",
                    _line(key_node),
                    key,
                    WARNING,
                )
                continue
            fields[key] = value_node
        return fields

    def text(
        self,
        fields: dict[str, yaml.Node],
        key: str,
        what: str,
        entry_line: int,
        *,
        required: bool,
    ) -> str | None:
        """A scalar field as the clerk typed it; ``None`` when absent or null."""
        node = fields.get(key)
        if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == NULL_TAG):
            if required:
                line = entry_line if node is None else _line(node)
                self.problem(f"{what}缺少必填字段“{key}”({FIELD_LABELS.get(key, key)})", line, key)
            return None
        if not isinstance(node, yaml.ScalarNode):
            self.problem(f"{what}的字段“{key}”应为一段文字,不能是列表或表", _line(node), key)
            return None
        return str(node.value).strip()

    def name_like(self, value: str, what: str, line: int, key: str) -> bool:
        if not value:
            self.problem(f"{what}的{FIELD_LABELS[key]}为空", line, key)
            return False
        bad = bad_characters(value)
        if bad:
            self.problem(
                f"{what}的{FIELD_LABELS[key]}含有控制字符或不可见字符({'、'.join(bad)});"
                "请删去后重新输入",
                line,
                key,
            )
            return False
        return True

    def person(self, node: yaml.Node, position: int) -> None:
        what = f"第 {position} 名人员"
        if not isinstance(node, yaml.MappingNode):
            self.problem(
                f"{what}应写成 {{id: …, name: …, title: …, role: …}} 的形式", _line(node), None
            )
            return
        entry_line = _line(node)
        fields = self.mapping(node, PERSON_FIELDS, what)
        ok = True
        person_id = self.text(fields, "id", what, entry_line, required=True)
        if person_id is not None:
            what = f"人员“{person_id}”"
            if not is_valid_id(person_id):
                self.problem(
                    f"编号“{person_id}”不合规:只能用英文字母、数字、“_”和“-”,以字母或数字开头,"
                    "最长 32 个字符(编号会用于文件名和文书编号)",
                    _line(fields["id"]),
                    "id",
                )
                ok = False
        else:
            ok = False
        name = self.text(fields, "name", what, entry_line, required=True)
        if name is not None and not self.name_like(name, what, _line(fields["name"]), "name"):
            ok = False
        title = self.text(fields, "title", what, entry_line, required=True)
        if title is not None and not self.name_like(title, what, _line(fields["title"]), "title"):
            ok = False
        role_text = self.text(fields, "role", what, entry_line, required=True)
        role = None
        if role_text is not None:
            role = parse_role(role_text)
            if role is None:
                self.problem(
                    f"{what}的角色“{role_text}”无法识别;可用:{accepted_role_words()}",
                    _line(fields["role"]),
                    "role",
                )
        if not ok or name is None or title is None or role is None or person_id is None:
            if person_id is not None:
                self.rejected_ids.add(person_id)
            return
        index = len(self.people)
        self.people.append(Person(person_id, name, title, role, line=entry_line))
        for key, value_node in fields.items():
            self.person_lines[(index, key)] = _line(value_node)

    def reference(
        self, fields: dict[str, yaml.Node], key: str, what: str, entry_line: int
    ) -> str | None:
        value = self.text(fields, key, what, entry_line, required=False)
        return value or None

    def function(self, fields: dict[str, yaml.Node], what: str) -> str | None:
        """The department's ``function`` (职能, 第七条): ``None`` when the key is absent, ``""``
        when present but empty (explicitly none); its value is checked by check_roster."""
        if "function" not in fields:
            return None
        return self.text(fields, "function", what, 0, required=False) or ""

    def department(self, node: yaml.Node, position: int) -> None:
        what = f"第 {position} 个部门"
        if not isinstance(node, yaml.MappingNode):
            self.problem(
                f"{what}应写成 {{name: …, head: …, supervisor: …, members: […]}} 的形式",
                _line(node),
                None,
            )
            return
        entry_line = _line(node)
        fields = self.mapping(node, DEPARTMENT_FIELDS, what)
        name = self.text(fields, "name", what, entry_line, required=True)
        if name is None or not self.name_like(name, what, _line(fields["name"]), "name"):
            return
        what = f"部门“{name}”"
        head = self.reference(fields, "head", what, entry_line)
        supervisor = self.reference(fields, "supervisor", what, entry_line)
        members: list[str] = []
        members_node = fields.get("members")
        if members_node is not None:
            if isinstance(members_node, yaml.SequenceNode):
                for item in members_node.value:
                    if isinstance(item, yaml.ScalarNode) and item.tag != NULL_TAG:
                        members.append(str(item.value).strip())
                    else:
                        self.problem(
                            f"{what}的成员列表中有一项不是人员编号", _line(item), "members"
                        )
            elif not (isinstance(members_node, yaml.ScalarNode) and members_node.tag == NULL_TAG):
                self.problem(
                    f"{what}的 members 应为人员编号的列表,如 [P011, P012]",
                    _line(members_node),
                    "members",
                )
        function = self.function(fields, what)
        index = len(self.departments)
        self.departments.append(
            Department(name, head, supervisor, tuple(members), line=entry_line, function=function)
        )
        for key, value_node in fields.items():
            self.department_lines[(index, key)] = _line(value_node)

    def sequence(self, fields: dict[str, yaml.Node], key: str) -> list[yaml.Node]:
        node = fields.get(key)
        if node is None:
            self.problem(f"名册缺少“{key}”({FIELD_LABELS[key]})", None, key)
            return []
        if isinstance(node, yaml.ScalarNode) and node.tag == NULL_TAG:
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.problem(f"“{key}”应为一个列表(每项以“- ”开头)", _line(node), key)
            return []
        return list(node.value)

    def root(self, node: yaml.Node | None) -> Roster | None:
        if node is None:
            self.problem("名册是空的;请参照 docgen init 生成的示例填写", None, None)
            return None
        if not isinstance(node, yaml.MappingNode):
            self.problem(
                "名册的最外层应包含 institution、people、departments 三项", _line(node), None
            )
            return None
        fields = self.mapping(node, TOP_FIELDS, "名册")
        institution = self.text(fields, "institution", "名册", 1, required=True)
        if institution is not None and not self.name_like(
            institution, "名册", _line(fields["institution"]), "institution"
        ):
            institution = None
        for position, item in enumerate(self.sequence(fields, "people"), start=1):
            self.person(item, position)
        for position, item in enumerate(self.sequence(fields, "departments"), start=1):
            self.department(item, position)
        return Roster(
            institution=institution or "",
            people=tuple(self.people),
            departments=tuple(self.departments),
            source=self.source,
        )


def parse_tree(
    text: str, source: str | None = None
) -> tuple[Roster | None, list[Problem], RosterLocator]:
    """:func:`~docgen.roster.load.parse_roster_text` by way of the whole composed node tree
    (every message)."""
    parser = _Parser(source)
    try:
        node = yaml.compose(text, Loader=YAML_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = ""
        line = None
        if mark is not None:
            line = int(mark.line) + 1
            where = f"(第 {line} 行第 {int(mark.column) + 1} 列)"
        reason = exc.problem or exc.context or "无法解析"
        parser.problem(
            f"YAML 格式错误{where}:{reason};常见原因是缩进不齐、冒号后缺空格或引号未配对",
            line,
            None,
        )
        return None, parser.problems, RosterLocator(file=source)
    except yaml.YAMLError as exc:
        parser.problem(f"YAML 格式错误:{exc}", None, None)
        return None, parser.problems, RosterLocator(file=source)
    roster = parser.root(node)
    locator = RosterLocator(
        file=source,
        people=parser.person_lines,
        departments=parser.department_lines,
        field_labels={},
        rejected_ids=frozenset(parser.rejected_ids),
    )
    return roster, parser.problems, locator
