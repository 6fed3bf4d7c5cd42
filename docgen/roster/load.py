"""Load a roster (名册) and check it, reporting every problem at once.

The roster is YAML because a clerk edits it by hand. It is read as YAML nodes or events
rather than as plain Python values, for two reasons: every message can then name the line of
the offending field, and scalars keep the text the clerk typed (``id: 007`` stays ``"007"``
instead of becoming the integer 7).

Two readers give the same results. The streaming one (:class:`_StreamReader`) reads libyaml's
events one entry at a time, straight from the file, and keeps no node tree: a roster of 10⁵
people loads in about a second and a half with a few MiB beyond the roster itself. It accepts
only rosters without structural problems; anything else (a problem to report, anchors and
aliases, several documents, a file that is not UTF-8) is read again whole by the tree reader
(:class:`_Parser` over ``yaml.compose``), which gives every message with its line.

Checking is split in two: :func:`parse_roster_text` turns YAML into a :class:`Roster` and
reports structural problems (syntax, missing fields, unknown roles); :func:`check_roster`
reports problems of meaning (duplicate ids, unknown references, who may head or supervise
what). :func:`load_roster` runs both and refuses a roster with any error.
"""

from __future__ import annotations

import gc
import re
import stat
import unicodedata
from array import array
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import yaml

from docgen.core.errors import Location, Problem, ProblemsError, ValidationError
from docgen.core.glossary import ROLE_ALIASES, ROLE_LABELS, Role
from docgen.core.models import Department, Person, Roster

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
"""Person ids go into file names and document ids, so they are plain ASCII."""

ERROR = "error"
WARNING = "warning"

PERSON_FIELDS = ("id", "name", "title", "role")
DEPARTMENT_FIELDS = ("name", "head", "supervisor", "members")
TOP_FIELDS = ("institution", "people", "departments")

FIELD_LABELS: dict[str, str] = {
    "institution": "单位名称",
    "people": "人员名单",
    "departments": "部门",
    "id": "编号",
    "name": "姓名",
    "title": "职务",
    "role": "角色",
    "head": "部门负责人",
    "supervisor": "分管院领导",
    "members": "部门成员",
}

SUPERVISOR_ROLES = frozenset({Role.PARTY_SECRETARY, Role.LEADER, Role.DISCIPLINE_HEAD})
"""Who may be a department's 分管院领导: the 党组书记 and the 班子成员 (article 6, 11)."""

_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_NULL_TAG = "tag:yaml.org,2002:null"

# libyaml's loader composes the node tree several times faster than the pure-Python one and
# keeps the line of every node; PyYAML without libyaml has only the pure-Python classes.
_Loader: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(
    yaml, "CSafeLoader", yaml.SafeLoader
)


@dataclass(frozen=True)
class RosterLocator:
    """Where each entry and field of a roster came from, for messages.

    ``people``/``departments`` map (index in the roster tuple, field) to a line (YAML) or a
    row (spreadsheet). ``rejected_ids`` are ids of entries that were already reported as
    broken and left out, so references to them are not reported a second time.
    """

    file: str | None = None
    sheet: str | None = None
    people: Mapping[tuple[int, str], int] = field(default_factory=dict)
    departments: Mapping[tuple[int, str], int] = field(default_factory=dict)
    field_labels: Mapping[str, str] = field(default_factory=dict)
    rejected_ids: frozenset[str] = frozenset()

    def at(self, row: int | None, field_name: str | None = None) -> Location:
        label = None
        if field_name is not None:
            label = self.field_labels.get(field_name, field_name)
        return Location(file=self.file, row=row, field=label, sheet=self.sheet)

    def person(self, roster: Roster, index: int, field_name: str | None = None) -> Location:
        row = self.people.get((index, field_name or ""), roster.people[index].line)
        return self.at(row, field_name)

    def department(self, roster: Roster, index: int, field_name: str | None = None) -> Location:
        row = self.departments.get((index, field_name or ""), roster.departments[index].line)
        return self.at(row, field_name)


@dataclass(frozen=True)
class RosterCheck:
    """The outcome of reading and checking a roster: the roster (if it could be built)
    and every problem found, errors and warnings together."""

    roster: Roster | None
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == ERROR)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity != ERROR)

    @property
    def ok(self) -> bool:
        return self.roster is not None and not self.errors


def is_valid_id(value: str) -> bool:
    return ID_PATTERN.fullmatch(value) is not None


def bad_characters(text: str) -> list[str]:
    """Control and invisible formatting characters, as ``U+200E`` etc.; they break documents and
    can disguise a name. Letters outside the BMP (𠮷), ``·``, ``&`` and ``<`` are fine."""
    return [f"U+{ord(ch):04X}" for ch in text if unicodedata.category(ch) in _FORBIDDEN_CATEGORIES]


def parse_role(text: str) -> Role | None:
    """A role from a Chinese word (党组书记, 副检察长, 干警 …) or a code name (leader …)."""
    key = re.sub(r"\s+", "", text)
    return ROLE_ALIASES.get(key) or ROLE_ALIASES.get(key.lower())


def accepted_role_words() -> str:
    return "、".join(ROLE_LABELS.values())


def role_label(role: Role) -> str:
    return ROLE_LABELS[role]


def describe_person(person: Person) -> str:
    return f"“{person.name}”({person.id})"


# ---------------------------------------------------------------------------------------
# Reading YAML into a Roster
# ---------------------------------------------------------------------------------------


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
        if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG):
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
                    if isinstance(item, yaml.ScalarNode) and item.tag != _NULL_TAG:
                        members.append(str(item.value).strip())
                    else:
                        self.problem(
                            f"{what}的成员列表中有一项不是人员编号", _line(item), "members"
                        )
            elif not (isinstance(members_node, yaml.ScalarNode) and members_node.tag == _NULL_TAG):
                self.problem(
                    f"{what}的 members 应为人员编号的列表,如 [P011, P012]",
                    _line(members_node),
                    "members",
                )
        index = len(self.departments)
        self.departments.append(Department(name, head, supervisor, tuple(members), line=entry_line))
        for key, value_node in fields.items():
            self.department_lines[(index, key)] = _line(value_node)

    def sequence(self, fields: dict[str, yaml.Node], key: str) -> list[yaml.Node]:
        node = fields.get(key)
        if node is None:
            self.problem(f"名册缺少“{key}”({FIELD_LABELS[key]})", None, key)
            return []
        if isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG:
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


# ---------------------------------------------------------------------------------------
# Reading a roster without a node tree
# ---------------------------------------------------------------------------------------

_NULL_PLAIN = frozenset({"", "~", "null", "Null", "NULL"})
"""Plain scalars that PyYAML's safe resolver tags as null (and no other resolver claims)."""


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a roster is read.

    Reading makes hundreds of thousands of objects that all stay alive until the roster is
    built; the collector would walk them over and over (at 10⁵ people that was two thirds of
    the load). They form no cycles that need collecting early; collection resumes after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _LineTable(Mapping[tuple[int, str], int]):
    """``(entry index, field) -> line``, like the dict :class:`_Parser` fills, in arrays.

    One array of 4-byte lines per field, 0 where an entry has no such field: 10⁵ people take
    1.6 MB instead of ≈ 50 MB as a dict of tuples. It compares equal to that dict; only its
    order of iteration differs (entry by entry, fields in the order given here, not in file
    order).
    """

    __slots__ = ("_columns",)

    def __init__(self, fields: tuple[str, ...]) -> None:
        self._columns: dict[str, array[int]] = {name: array("I") for name in fields}

    def column(self, name: str) -> array[int]:
        return self._columns[name]

    def __getitem__(self, key: tuple[int, str]) -> int:
        if type(key) is tuple and len(key) == 2:
            index, name = key
            column = self._columns.get(name) if isinstance(name, str) else None
            if column is not None and isinstance(index, int) and 0 <= index < len(column):
                line = column[index]
                if line:
                    return line
        raise KeyError(key)

    def __iter__(self) -> Iterator[tuple[int, str]]:
        columns = list(self._columns.items())
        count = max((len(column) for _, column in columns), default=0)
        for index in range(count):
            for name, column in columns:
                if index < len(column) and column[index]:
                    yield (index, name)

    def __len__(self) -> int:
        return sum(len(column) - column.count(0) for column in self._columns.values())


class _Unusual(Exception):
    """The streaming reader met something that it leaves to the tree reader: a problem to
    report, or YAML it does not handle itself (anchors, aliases, several documents)."""


def _mapping_key(event: yaml.Event | None) -> str | None:
    """The next key of a mapping, or ``None`` at its end; a key that is not a plain scalar is
    left to the tree reader."""
    if type(event) is yaml.MappingEndEvent:
        return None
    if type(event) is not yaml.ScalarEvent or event.anchor is not None:
        raise _Unusual
    return str(event.value)


def _plain_text(event: yaml.Event | None) -> str:
    """The text of a non-null scalar value as :meth:`_Parser.text` gives it."""
    text = _optional_text(event)
    if text is None:
        raise _Unusual
    return text


def _optional_text(event: yaml.Event | None) -> str | None:
    """A scalar that may be null (``head: ~``): ``None`` then, as :meth:`_Parser.text`."""
    if type(event) is not yaml.ScalarEvent or event.anchor is not None:
        raise _Unusual
    tag = event.tag
    if tag is None or tag == "!":
        if event.implicit[0] and event.value in _NULL_PLAIN:
            return None
    elif tag == _NULL_TAG:
        return None
    return str(event.value).strip()


def _name_ok(text: str) -> bool:
    """:meth:`_Parser.name_like` without a message. ``isprintable`` is false for every
    character :func:`bad_characters` names (and for a few more), so it is only a shortcut."""
    return bool(text) and (text.isprintable() or not bad_characters(text))


def _line_of(event: yaml.Event | None) -> int:
    mark = None if event is None else event.start_mark
    if mark is None:  # the parser marks every event; this is for the type checker
        raise _Unusual
    return int(mark.line) + 1


class _StreamReader:
    """Reads a roster from the parser's events, one entry at a time, keeping no node tree.

    It accepts only rosters in which :class:`_Parser` would find no problem at all, and builds
    exactly what :class:`_Parser` builds from them; on anything else it raises
    :class:`_Unusual` (and a YAML error propagates), and the caller reads the text again
    with the tree reader for the messages.
    """

    def __init__(self, get_event: Callable[[], yaml.Event | None]) -> None:
        self.get = get_event
        self.people: list[Person] = []
        self.departments: list[Department] = []
        self.person_lines = _LineTable(PERSON_FIELDS)
        self.department_lines = _LineTable(DEPARTMENT_FIELDS)
        self.strings: dict[str, str] = {}  # one str object per repeated id, title …
        self.roles: dict[str, Role] = {}

    def read(self) -> str:
        """Reads the stream; returns the institution's name."""
        get = self.get
        if type(get()) is not yaml.StreamStartEvent:
            raise _Unusual
        if type(get()) is not yaml.DocumentStartEvent:
            raise _Unusual  # an empty roster
        root = get()
        if type(root) is not yaml.MappingStartEvent or root.anchor is not None:
            raise _Unusual
        institution: str | None = None
        seen: set[str] = set()
        while (name := _mapping_key(get())) is not None:
            if name in seen or name not in TOP_FIELDS:
                raise _Unusual
            seen.add(name)
            value = get()
            if name == "institution":
                institution = _plain_text(value)
                if not _name_ok(institution):
                    raise _Unusual
            elif self.sequence_starts(value):
                if name == "people":
                    self.read_people()
                else:
                    self.read_departments()
        if len(seen) != len(TOP_FIELDS) or institution is None:
            raise _Unusual
        if type(get()) is not yaml.DocumentEndEvent or type(get()) is not yaml.StreamEndEvent:
            raise _Unusual  # several documents
        return institution

    @staticmethod
    def sequence_starts(event: yaml.Event | None) -> bool:
        """True at the start of a list; False for a null (an empty list, no problem)."""
        if type(event) is yaml.SequenceStartEvent and event.anchor is None:
            return True
        if _optional_text(event) is None:
            return False
        raise _Unusual

    def read_people(self) -> None:
        get = self.get
        scalar, mapping_start = yaml.ScalarEvent, yaml.MappingStartEvent
        mapping_end, sequence_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
        id_lines, name_lines, title_lines, role_lines = (
            self.person_lines.column(name) for name in PERSON_FIELDS
        )
        strings, roles, append = self.strings, self.roles, self.people.append
        fields: dict[str, yaml.ScalarEvent] = {}
        while True:
            entry = get()
            if type(entry) is not mapping_start:
                if type(entry) is sequence_end:
                    return
                raise _Unusual
            if entry.anchor is not None:
                raise _Unusual
            fields.clear()
            while True:
                key = get()
                if type(key) is mapping_end:
                    break
                if type(key) is not scalar or key.anchor is not None:
                    raise _Unusual
                name = key.value
                if name in fields or name not in PERSON_FIELDS:
                    raise _Unusual
                value = get()
                if type(value) is not scalar:
                    raise _Unusual
                fields[name] = value
            if len(fields) != len(PERSON_FIELDS):
                raise _Unusual
            id_event, name_event = fields["id"], fields["name"]
            title_event, role_event = fields["title"], fields["role"]
            person_id = _plain_text(id_event)
            if ID_PATTERN.fullmatch(person_id) is None:
                raise _Unusual
            name = _plain_text(name_event)
            title = _plain_text(title_event)
            if not _name_ok(name) or not _name_ok(title):
                raise _Unusual
            role_text = _plain_text(role_event)
            role = roles.get(role_text)
            if role is None:
                role = parse_role(role_text)
                if role is None:
                    raise _Unusual
                roles[role_text] = role
            append(
                Person(
                    strings.setdefault(person_id, person_id),
                    name,
                    strings.setdefault(title, title),
                    role,
                    line=_line_of(entry),
                )
            )
            id_lines.append(_line_of(id_event))
            name_lines.append(_line_of(name_event))
            title_lines.append(_line_of(title_event))
            role_lines.append(_line_of(role_event))

    def reference(self, event: yaml.Event | None) -> str | None:
        text = _optional_text(event)
        return self.strings.setdefault(text, text) if text else None

    def read_departments(self) -> None:
        get = self.get
        strings = self.strings
        columns = [self.department_lines.column(name) for name in DEPARTMENT_FIELDS]
        while True:
            entry = get()
            if type(entry) is not yaml.MappingStartEvent:
                if type(entry) is yaml.SequenceEndEvent:
                    return
                raise _Unusual
            if entry.anchor is not None:
                raise _Unusual
            lines = dict.fromkeys(DEPARTMENT_FIELDS, 0)
            name: str | None = None
            head: str | None = None
            supervisor: str | None = None
            members: list[str] = []
            while (field_name := _mapping_key(get())) is not None:
                if field_name not in lines or lines[field_name]:
                    raise _Unusual
                value = get()
                lines[field_name] = _line_of(value)
                if field_name == "name":
                    name = _plain_text(value)
                    if not _name_ok(name):
                        raise _Unusual
                elif field_name == "head":
                    head = self.reference(value)
                elif field_name == "supervisor":
                    supervisor = self.reference(value)
                elif self.sequence_starts(value):
                    while True:
                        item = get()
                        if type(item) is yaml.SequenceEndEvent:
                            break
                        member = _plain_text(item)
                        members.append(strings.setdefault(member, member))
            if name is None:
                raise _Unusual
            self.departments.append(
                Department(name, head, supervisor, tuple(members), line=_line_of(entry))
            )
            for column, field_name in zip(columns, DEPARTMENT_FIELDS, strict=True):
                column.append(lines[field_name])


def _parse_streaming(
    text: str | TextIO, source: str | None
) -> tuple[Roster, RosterLocator] | None:
    """The roster and its locator, read from the parser's events without a node tree; ``None``
    when :class:`_StreamReader` leaves the text to :func:`_parse_tree`.

    ``text`` is the whole text or a file open for reading text: libyaml then reads it in
    pieces, so the text is never in memory at once (a file that is not UTF-8 is left to the
    tree reader, which says so).
    """
    loader = _Loader(text)
    try:
        reader = _StreamReader(loader.get_event)
        institution = reader.read()
    except (_Unusual, yaml.YAMLError, UnicodeDecodeError):
        return None
    finally:
        loader.dispose()
    roster = Roster(
        institution=institution,
        people=tuple(reader.people),
        departments=tuple(reader.departments),
        source=source,
    )
    locator = RosterLocator(
        file=source,
        people=reader.person_lines,
        departments=reader.department_lines,
        field_labels={},
        rejected_ids=frozenset(),
    )
    return roster, locator


def parse_roster_text(
    text: str, source: str | None = None
) -> tuple[Roster | None, list[Problem], RosterLocator]:
    """Build a roster from YAML text, with the structural problems found on the way.

    The roster leaves out entries that are too broken to use; they are among the problems.
    ``None`` when the text is not YAML at all.

    A roster without structural problems is read by :func:`_parse_streaming` (one entry at a
    time, no node tree); anything else is read again by :func:`_parse_tree`, which gives every
    message with its line. Both give equal results on a roster the streaming reader accepts.
    """
    with _gc_paused():
        fast = _parse_streaming(text, source)
        if fast is not None:
            return fast[0], [], fast[1]
        return _parse_tree(text, source)


def _parse_tree(
    text: str, source: str | None = None
) -> tuple[Roster | None, list[Problem], RosterLocator]:
    """:func:`parse_roster_text` by way of the whole composed node tree (every message)."""
    parser = _Parser(source)
    try:
        node = yaml.compose(text, Loader=_Loader)
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


# ---------------------------------------------------------------------------------------
# Checking what the roster means
# ---------------------------------------------------------------------------------------


class _Checker:
    def __init__(self, roster: Roster, locator: RosterLocator) -> None:
        self.roster = roster
        self.loc = locator
        self.problems: list[Problem] = []
        self.index: dict[str, int] = {}
        for i, person in enumerate(roster.people):
            self.index.setdefault(person.id, i)

    def at_person(self, i: int, field_name: str | None, message: str, severity: str) -> None:
        self.problems.append(
            Problem(message, self.loc.person(self.roster, i, field_name), severity)
        )

    def at_department(self, i: int, field_name: str | None, message: str, severity: str) -> None:
        self.problems.append(
            Problem(message, self.loc.department(self.roster, i, field_name), severity)
        )

    def who(self, person_id: str) -> Person | None:
        i = self.index.get(person_id)
        return None if i is None else self.roster.people[i]

    def run(self) -> list[Problem]:
        self.ids()
        self.secretary()
        self.departments()
        self.memberships()
        return self.problems

    def ids(self) -> None:
        for i, person in enumerate(self.roster.people):
            first = self.index[person.id]
            if first != i:
                other = self.roster.people[first]
                line = self.loc.people.get((first, "id"), other.line)
                self.at_person(
                    i,
                    "id",
                    f"编号“{person.id}”重复:{describe_person(other)}"
                    f"{f'(第 {line} 行)' if line else ''}已使用此编号;每人的编号必须唯一",
                    ERROR,
                )

    def secretary(self) -> None:
        secretaries = [
            i for i, p in enumerate(self.roster.people) if p.role is Role.PARTY_SECRETARY
        ]
        if not secretaries:
            self.problems.append(
                Problem(
                    "名册中没有党组书记:请把检察长(党组书记)的 role 设为“党组书记”",
                    self.loc.at(None, "role"),
                    ERROR,
                )
            )
            return
        if len(secretaries) > 1:
            names = "、".join(describe_person(self.roster.people[i]) for i in secretaries)
            for i in secretaries[1:]:
                self.at_person(
                    i,
                    "role",
                    f"名册中有 {len(secretaries)} 名党组书记({names}),只能有一名;"
                    "请把其他人的 role 改为“班子成员”等",
                    ERROR,
                )

    def reference(self, d: int, field_name: str, person_id: str) -> Person | None:
        person = self.who(person_id)
        if person is None and person_id not in self.loc.rejected_ids:
            dept = self.roster.departments[d]
            self.at_department(
                d,
                field_name,
                f"部门“{dept.name}”的{FIELD_LABELS[field_name]}“{person_id}”不在人员名单中;"
                "请填写 people 中已有的编号",
                ERROR,
            )
        return person

    def departments(self) -> None:
        seen: dict[str, int] = {}
        for d, dept in enumerate(self.roster.departments):
            if dept.name in seen:
                self.at_department(
                    d,
                    "name",
                    f"部门“{dept.name}”重复出现;同一部门请只写一次",
                    ERROR,
                )
            seen.setdefault(dept.name, d)
            self.supervisor(d, dept)
            self.head(d, dept)
            if not dept.members:
                self.at_department(
                    d,
                    "members",
                    f"部门“{dept.name}”没有成员,将不签订《廉洁从检承诺书》",
                    WARNING,
                )
            listed: set[str] = set()
            for member_id in dept.members:
                if member_id in listed:
                    self.at_department(
                        d,
                        "members",
                        f"部门“{dept.name}”的成员中“{member_id}”写了两次;请删去一处",
                        ERROR,
                    )
                    continue
                listed.add(member_id)
                member = self.reference(d, "members", member_id)
                if member is None:
                    continue
                if member_id == dept.head:
                    self.at_department(
                        d,
                        "members",
                        f"部门负责人{describe_person(member)}也列在本部门成员中;"
                        "负责人不与自己签订承诺书,请从 members 中删去",
                        WARNING,
                    )
                elif member.role in SUPERVISOR_ROLES:
                    self.at_department(
                        d,
                        "members",
                        f"{describe_person(member)}是{role_label(member.role)},"
                        f"不能作为部门“{dept.name}”的普通成员;分管请写在 supervisor,"
                        "兼任负责人请写在 head",
                        ERROR,
                    )

    def supervisor(self, d: int, dept: Department) -> None:
        if dept.supervisor is None:
            self.at_department(
                d,
                "supervisor",
                f"部门“{dept.name}”没有分管院领导:请在 supervisor 填写分管该部门的班子成员编号",
                ERROR,
            )
            return
        person = self.reference(d, "supervisor", dept.supervisor)
        if person is not None and person.role not in SUPERVISOR_ROLES:
            self.at_department(
                d,
                "supervisor",
                f"部门“{dept.name}”的分管院领导{describe_person(person)}的角色是"
                f"“{role_label(person.role)}”;只有党组书记、班子成员、纪检组长可以分管部门",
                ERROR,
            )

    def head(self, d: int, dept: Department) -> None:
        if dept.head is None:
            self.at_department(
                d,
                "head",
                f"部门“{dept.name}”没有负责人:成员将与分管院领导签订《廉洁从检承诺书》",
                WARNING,
            )
            return
        person = self.reference(d, "head", dept.head)
        if person is None:
            return
        if person.role in (Role.STAFF, Role.COMMITTEE_MEMBER):
            self.at_department(
                d,
                "head",
                f"部门“{dept.name}”的负责人{describe_person(person)}的角色是"
                f"“{role_label(person.role)}”,不能担任部门负责人;请把其 role 改为“部门负责人”",
                ERROR,
            )
        elif person.role is not Role.DEPARTMENT_HEAD:
            note = (
                ",不与自己签订责任书;本部门成员与其签订《廉洁从检承诺书》"
                if dept.supervisor == person.id
                else ""
            )
            self.at_department(
                d,
                "head",
                f"{role_label(person.role)}{describe_person(person)}兼任部门“{dept.name}”"
                f"负责人(允许){note}",
                WARNING,
            )

    def memberships(self) -> None:
        placed: dict[str, int] = {}  # person id -> index of their department
        heads: set[str] = set()
        for d, dept in enumerate(self.roster.departments):
            if dept.head is not None:
                heads.add(dept.head)
            for member_id in dict.fromkeys(dept.members):
                if member_id == dept.head:
                    continue
                self.place(placed, member_id, d)
        for d, dept in enumerate(self.roster.departments):
            if dept.head is not None and dept.head in placed:
                other_d = placed[dept.head]
                person = self.who(dept.head)
                if person is not None and other_d != d:
                    other = self.roster.departments[other_d]
                    self.at_department(
                        d,
                        "head",
                        f"{describe_person(person)}既是部门“{dept.name}”的负责人,又是部门"
                        f"“{other.name}”的成员;一人只能属于一个部门",
                        ERROR,
                    )
        for i, person in enumerate(self.roster.people):
            if self.index[person.id] != i:
                continue
            if person.role is Role.DEPARTMENT_HEAD and person.id not in heads:
                self.at_person(
                    i,
                    "role",
                    f"部门负责人{describe_person(person)}没有负责任何部门"
                    "(没有出现在任何部门的 head)",
                    WARNING,
                )
            elif person.role is Role.STAFF and person.id not in placed and person.id not in heads:
                self.at_person(
                    i,
                    None,
                    f"工作人员{describe_person(person)}不属于任何部门,将不签订《廉洁从检承诺书》;"
                    "请把其编号加入所在部门的 members",
                    WARNING,
                )

    def place(self, placed: dict[str, int], person_id: str, d: int) -> None:
        person = self.who(person_id)
        if person is None:
            return
        if person_id in placed:
            first = self.roster.departments[placed[person_id]]
            dept = self.roster.departments[d]
            self.at_department(
                d,
                "members",
                f"{describe_person(person)}同时在部门“{first.name}”和“{dept.name}”中;"
                "一人只能属于一个部门",
                ERROR,
            )
            return
        placed[person_id] = d


def check_roster(roster: Roster, locator: RosterLocator | None = None) -> list[Problem]:
    """Problems of meaning in a roster, errors and warnings, in a stable order.

    ``locator`` says where each entry came from; without it, the file is ``roster.source``
    and the line of each entry is the one stored on the person or department.
    """
    return _Checker(roster, locator or RosterLocator(file=roster.source)).run()


def inspect_roster_text(text: str, source: str | None = None) -> RosterCheck:
    roster, problems, locator = parse_roster_text(text, source)
    if roster is not None:
        problems.extend(check_roster(roster, locator))
    return RosterCheck(roster=roster, problems=in_file_order(problems))


def in_file_order(problems: list[Problem]) -> tuple[Problem, ...]:
    """Problems from the top of the file down, so a clerk can fix them in one pass."""
    return tuple(sorted(problems, key=lambda p: p.location.row or 0))


def read_roster_text(path: Path) -> str:
    """The file's text; a missing file or bad encoding is one clear error."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ValidationError(
            "找不到名册文件",
            location=Location(file=str(path)),
            hint="请先运行 docgen init,或用 docgen roster import 从人员表生成",
        ) from exc
    except IsADirectoryError as exc:
        raise ValidationError("名册路径是一个目录", location=Location(file=str(path))) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValidationError(
            "名册不是 UTF-8 编码",
            location=Location(file=str(path), row=line),
            hint="请用记事本或 WPS“另存为 UTF-8”后重试",
        ) from exc


def inspect_roster(path: Path) -> RosterCheck:
    """Read and check a roster file; every problem is in the result, nothing is raised
    except for a file that cannot be read at all."""
    fast = _stream_roster_file(path)
    if fast is not None:
        roster, locator = fast
        return RosterCheck(roster=roster, problems=in_file_order(check_roster(roster, locator)))
    return inspect_roster_text(read_roster_text(path), str(path))


def _stream_roster_file(path: Path) -> tuple[Roster, RosterLocator] | None:
    """:func:`_parse_streaming` straight from a regular file, decoded as
    :func:`read_roster_text` decodes it (one leading BOM dropped, line ends kept); ``None``
    when the file is to be read whole instead (it cannot be opened, is not a regular file,
    is not UTF-8, or has anything for the tree reader to report)."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return None
        with path.open(encoding="utf-8-sig", newline="") as stream, _gc_paused():
            return _parse_streaming(stream, str(path))
    except OSError:
        return None


def summary_line(check: RosterCheck) -> str:
    people = len(check.roster.people) if check.roster else 0
    departments = len(check.roster.departments) if check.roster else 0
    return (
        f"共 {people} 人,{departments} 个部门;"
        f"错误 {len(check.errors)} 条,警告 {len(check.warnings)} 条"
    )


def raise_for_errors(check: RosterCheck, source: str | None) -> Roster:
    if check.roster is None or check.errors:
        raise ProblemsError(
            f"名册{f' {source} ' if source else ''}有 {len(check.errors)} 处错误,"
            f"{len(check.warnings)} 处警告",
            check.problems,
            hint="请逐条修改后运行 docgen roster check",
        )
    return check.roster


def load_roster(path: Path) -> Roster:
    """The roster at ``path``; raises :class:`ProblemsError` listing every problem if it
    has any error (warnings alone do not block)."""
    return raise_for_errors(inspect_roster(path), str(path))
