"""The streaming reader: a roster read from libyaml's events one entry at a time, no node tree.

A roster of 10⁵ people loads in about a second and a half with a few MiB beyond the roster
itself, where the node tree alone would take hundreds of MiB. The reader accepts only rosters
without structural problems and builds exactly what the tree reader
(:mod:`docgen.roster.tree_reader`) builds from them; anything else (a problem to report, anchors
and aliases, several documents, a file that is not UTF-8) it leaves to the tree reader, which
gives every message with its line.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator, Mapping
from typing import TextIO

import yaml

from docgen.core.glossary import Role
from docgen.core.models import Department, Person, Roster
from docgen.roster.tree_reader import NULL_TAG, YAML_LOADER
from docgen.roster.vocabulary import (
    DEPARTMENT_FIELDS,
    ID_PATTERN,
    PERSON_FIELDS,
    TOP_FIELDS,
    RosterLocator,
    bad_characters,
    parse_role,
)

_NULL_PLAIN = frozenset({"", "~", "null", "Null", "NULL"})
"""Plain scalars that PyYAML's safe resolver tags as null (and no other resolver claims)."""


class _LineTable(Mapping[tuple[int, str], int]):
    """``(entry index, field) -> line``, like the dict the tree reader's parser fills, in arrays.

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
    """The text of a non-null scalar value as the tree reader's ``_Parser.text`` gives it."""
    text = _optional_text(event)
    if text is None:
        raise _Unusual
    return text


def _optional_text(event: yaml.Event | None) -> str | None:
    """A scalar that may be null (``head: ~``): ``None`` then, as ``_Parser.text``."""
    if type(event) is not yaml.ScalarEvent or event.anchor is not None:
        raise _Unusual
    tag = event.tag
    if tag is None or tag == "!":
        if event.implicit[0] and event.value in _NULL_PLAIN:
            return None
    elif tag == NULL_TAG:
        return None
    return str(event.value).strip()


def _name_ok(text: str) -> bool:
    """The tree reader's ``_Parser.name_like`` without a message. ``isprintable`` is false for
    every character :func:`bad_characters` names (and for a few more), so it is only a
    shortcut."""
    return bool(text) and (text.isprintable() or not bad_characters(text))


def _line_of(event: yaml.Event | None) -> int:
    mark = None if event is None else event.start_mark
    if mark is None:  # the parser marks every event; this is for the type checker
        raise _Unusual
    return int(mark.line) + 1


class _StreamReader:
    """Reads a roster from the parser's events, one entry at a time, keeping no node tree.

    It accepts only rosters in which the tree reader (``_Parser`` in
    :mod:`docgen.roster.tree_reader`) would find no problem at all, and builds exactly what it
    builds from them; on anything else it raises :class:`_Unusual` (and a YAML error
    propagates), and the caller reads the text again with the tree reader for the messages.
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
            function: str | None = None
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
                elif field_name == "function":
                    function = _optional_text(value) or ""
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
                Department(
                    name, head, supervisor, tuple(members), line=_line_of(entry), function=function
                )
            )
            for column, field_name in zip(columns, DEPARTMENT_FIELDS, strict=True):
                column.append(lines[field_name])


def parse_streaming(text: str | TextIO, source: str | None) -> tuple[Roster, RosterLocator] | None:
    """The roster and its locator, read from the parser's events without a node tree; ``None``
    when :class:`_StreamReader` leaves the text to
    :func:`~docgen.roster.tree_reader.parse_tree`.

    ``text`` is the whole text or a file open for reading text: libyaml then reads it in
    pieces, so the text is never in memory at once (a file that is not UTF-8 is left to the
    tree reader, which says so).
    """
    loader = YAML_LOADER(text)
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
