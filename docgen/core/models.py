"""Frozen domain objects shared by every module."""

from __future__ import annotations

from dataclasses import dataclass, field

from docgen.core.glossary import LetterKind, Role


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str
    title: str
    role: Role
    line: int | None = None  # line in the roster file, for messages


@dataclass(frozen=True, slots=True)
class Department:
    name: str
    head: str | None  # person id
    supervisor: str | None  # person id of the 分管院领导
    members: tuple[str, ...] = ()
    line: int | None = None
    # 第七条's 相关职能部门 as the roster states it (``function``/职能): "办公室", "政工科", "无"
    # or "" (explicitly none); None when not stated (docgen.roster.functions: by the name).
    function: str | None = None


@dataclass(frozen=True, slots=True)
class Roster:
    institution: str
    people: tuple[Person, ...]
    departments: tuple[Department, ...]
    source: str | None = None

    def person(self, person_id: str) -> Person:
        for p in self.people:
            if p.id == person_id:
                return p
        raise KeyError(person_id)

    def by_id(self) -> dict[str, Person]:
        return {p.id: p for p in self.people}


@dataclass(frozen=True, slots=True)
class Pairing:
    """One letter to be signed by a superior and a subordinate."""

    doc_id: str
    kind: LetterKind
    year: int
    superior: Person
    subordinate: Person
    articles: tuple[str, ...]
    department: str | None = None
    reason: str = ""

    @property
    def parties(self) -> tuple[Person, Person]:
        return (self.superior, self.subordinate)


@dataclass(frozen=True, slots=True)
class PairingResult:
    pairings: tuple[Pairing, ...]
    notes: tuple[str, ...] = field(default=())  # warnings and explanations, in Chinese
