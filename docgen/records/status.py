"""Who has signed what: the office's January to-do list and the year-end check (10.3, 11.2).

The registry says what was registered; the year folder must still hold it. A letter whose
``.docx``, proof file or a registered signature's ``.p7s`` is gone from ``output/<year>/`` is
reported as such, and the year is then not complete, whatever the registry says was signed.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from docgen.core.errors import Location, UsageError, ValidationError
from docgen.core.glossary import LetterKind
from docgen.core.lock import workspace_lock
from docgen.core.workspace import Workspace
from docgen.records.deadline import Timing, generated_on, letter_timing, signed_on
from docgen.records.naming import proof_relpath, signature_relpath
from docgen.records.proofs import clear_pending, is_pending, mark_pending
from docgen.records.state import LetterState, iter_year_letters, letters_state, person_letters
from docgen.records.views import refresh_year
from docgen.registry import Registry, open_registry
from docgen.roster.hierarchy import build_pairings
from docgen.roster.load import load_roster


@dataclass(frozen=True)
class PartyRef:
    id: str
    name: str


@dataclass(frozen=True)
class LetterStatus:
    doc_id: str
    kind: LetterKind
    superior: PartyRef
    subordinate: PartyRef
    signed_by: tuple[str, ...]
    missing: tuple[str, ...]
    voided: bool
    void_reason: str | None
    missing_files: tuple[str, ...] = ()  # its files not in output/<year>/ (paths inside it)
    # Against the signing deadline (docgen.records.deadline): a Timing value, the Beijing day of
    # the last registered signature and of the letter's registration (ISO dates, "" if none).
    timing: str = ""
    signed_on: str = ""
    generated_on: str = ""

    @property
    def timing_label(self) -> str:
        return Timing(self.timing).label if self.timing else ""

    @property
    def complete(self) -> bool:
        return not self.voided and not self.missing and not self.missing_files

    @property
    def label(self) -> str:
        if self.missing_files:
            return "文件缺失"
        if self.voided:
            return "已作废"
        if not self.missing:
            return "已完成"
        return "待签" if self.signed_by else "未签"


@dataclass(frozen=True)
class KindCount:
    kind: LetterKind
    active: int
    complete: int
    voided: int


@dataclass(frozen=True)
class PersonTodo:
    person_id: str
    name: str
    waiting: tuple[str, ...]  # doc ids still waiting for this person's signature
    signed: int


LISTED = 1000  # letters listed one by one in the text report; beyond that they are counted


@dataclass(frozen=True)
class StatusReport:
    """A year's signing status. ``counts``, ``todo``, ``incomplete`` and ``not_generated`` cover
    every letter (of ``person``, if given); ``letters`` holds those the caller asked to list, and
    ``unlisted`` says how many others there are."""

    year: int
    letters: tuple[LetterStatus, ...]
    counts: tuple[KindCount, ...]
    todo: tuple[PersonTodo, ...]
    not_generated: tuple[str, ...]  # doc ids the roster requires but the registry lacks
    incomplete: int = 0  # letters in force that still lack a signature
    unlisted: int = 0  # letters counted but not in ``letters``
    files_missing: int = 0  # registered letters with a file gone from output/<year>/
    missing_files: tuple[LetterStatus, ...] = ()  # the first LISTED of them
    # The signing deadline (年初) and how the letters stand against it on ``as_of``.
    deadline: str = ""  # ISO date
    deadline_rule: str = ""  # which setting gave it, in Chinese
    as_of: str = ""  # ISO date; "" when the caller gave none (nothing is then called overdue)
    late: int = 0  # completed after the deadline (逾期补签)
    overdue: int = 0  # not complete on ``as_of``, after the deadline (逾期未签)
    late_letters: tuple[LetterStatus, ...] = ()  # the first LISTED of them
    overdue_letters: tuple[LetterStatus, ...] = ()  # the first LISTED of them

    @property
    def all_complete(self) -> bool:
        return not self.not_generated and not self.incomplete and not self.files_missing


class _Tally:
    """What :func:`year_status` gathers while the year's letters go by, one at a time."""

    def __init__(self, person: str | None, listed: int | None) -> None:
        self.person = person
        self.listed = listed
        self.shown: list[LetterStatus] = []  # the first ``listed`` letters
        self.attention: list[LetterStatus] = []  # the first ``listed`` not complete ones
        self.total = 0
        self.incomplete = 0
        self.kinds: Counter[tuple[LetterKind, str]] = Counter()
        self.people: dict[str, tuple[str, list[str], int]] = {}
        self.generated: set[str] = set()
        self.files_missing = 0
        self.lost: list[LetterStatus] = []  # the first LISTED letters with files missing
        self.late: list[LetterStatus] = []  # the first LISTED late letters
        self.overdue: list[LetterStatus] = []  # the first LISTED overdue letters
        self.late_count = 0
        self.overdue_count = 0

    def add(self, status: LetterStatus) -> None:
        self.total += 1
        if status.timing == Timing.LATE:
            self.late_count += 1
            if len(self.late) < LISTED:
                self.late.append(status)
        elif status.timing == Timing.OVERDUE:
            self.overdue_count += 1
            if len(self.overdue) < LISTED:
                self.overdue.append(status)
        if status.missing_files:
            self.files_missing += 1
            if len(self.lost) < LISTED:
                self.lost.append(status)
        kind = status.kind
        if status.voided:
            self.kinds[(kind, "voided")] += 1
        else:
            self.kinds[(kind, "active")] += 1
            if not status.missing:
                self.kinds[(kind, "complete")] += 1
            else:
                self.incomplete += 1
            for party in (status.superior, status.subordinate):
                if self.person is not None and party.id != self.person:
                    continue
                name, waiting, signed = self.people.get(party.id, (party.name, [], 0))
                if party.id in status.missing:
                    waiting.append(status.doc_id)
                else:
                    signed += 1
                self.people[party.id] = (name, waiting, signed)
        if self.listed is None or len(self.shown) < self.listed:
            self.shown.append(status)
        if self.listed is not None and not status.complete and len(self.attention) < self.listed:
            self.attention.append(status)

    def letters(self) -> list[LetterStatus]:
        """Every letter when they fit the listing; otherwise those that need attention."""
        if self.listed is None or self.total <= self.listed:
            return self.shown
        return self.attention

    def counts(self) -> tuple[KindCount, ...]:
        return tuple(
            KindCount(
                kind=kind,
                active=self.kinds[(kind, "active")],
                complete=self.kinds[(kind, "complete")],
                voided=self.kinds[(kind, "voided")],
            )
            for kind in LetterKind
        )

    def todo(self) -> tuple[PersonTodo, ...]:
        return tuple(
            PersonTodo(pid, name, tuple(waiting), signed)
            for pid, (name, waiting, signed) in sorted(self.people.items())
        )


def _files_gone(year_dir: str, letter: LetterState) -> tuple[str, ...]:
    """The letter's files (.docx, proof file, each registered signature) not in the year
    folder, as paths inside it."""
    path = str(letter.record.get("path", ""))
    wanted = [path, proof_relpath(path), *(signature_relpath(path, s) for s in letter.signatures)]
    return tuple(rel for rel in wanted if not os.path.isfile(os.path.join(year_dir, rel)))


def _letter_status(
    letter: LetterState, year_dir: str, deadline: date, as_of: date | None
) -> LetterStatus:
    parties = {p["party"]: p for p in letter.record["parties"]}
    sup, sub = parties["superior"], parties["subordinate"]
    last = signed_on(letter)
    made = generated_on(letter)
    return LetterStatus(
        doc_id=letter.doc_id,
        kind=LetterKind(letter.record["kind"]),
        superior=PartyRef(sup["id"], sup["name"]),
        subordinate=PartyRef(sub["id"], sub["name"]),
        signed_by=tuple(sorted(letter.signatures, key=lambda s: letter.signatures[s].index)),
        missing=tuple(letter.missing_signers()),
        voided=letter.voided,
        void_reason=None if letter.void is None else letter.void.record["reason"],
        missing_files=_files_gone(year_dir, letter),
        timing=letter_timing(letter, deadline, as_of).value,
        signed_on="" if last is None or last == date.max else last.isoformat(),
        generated_on="" if made is None else made.isoformat(),
    )


def year_status(
    ws: Workspace,
    year: int,
    *,
    person: str | None = None,
    listed: int | None = None,
    each: Callable[[LetterStatus], None] | None = None,
    as_of: date | None = None,
) -> StatusReport:
    """The year's status, read from the registry a page of letters at a time.

    ``listed``: how many letters ``letters`` holds at most (``None``: all); when there are more,
    it holds the first ``listed`` that are not complete. ``each`` is called with every letter,
    in registry order, as it is read (for a caller that streams them out). Memory grows with the
    roster and the number of letters waiting for a signature, not with the letters held.

    ``as_of``: the day to judge the signing deadline on (the CLI passes today or ``--as-of``);
    ``None`` calls no letter overdue, though late ones are still late.
    """
    roster = load_roster(ws.roster_path)
    required = [
        p.doc_id
        for p in build_pairings(
            roster, year, ws.config.pairing, explain=False, source=str(ws.roster_path)
        ).pairings
    ]
    in_roster = person is None or any(p.id == person for p in roster.people)
    del roster
    tally = _Tally(person, listed)
    year_dir = str(ws.year_dir(year))
    deadline = ws.config.signing.deadline_for(year)
    with open_registry(ws) as registry, registry.snapshot():
        letters: Iterable[LetterState] = (
            iter_year_letters(registry, year)
            if person is None
            else person_letters(registry, year, person).letters.values()
        )
        for letter in letters:
            if not letter.voided:
                tally.generated.add(letter.base_id)
            status = _letter_status(letter, year_dir, deadline, as_of)
            tally.add(status)
            if each is not None:
                each(status)
    if not in_roster and not tally.total:
        raise ValidationError(
            f"名册和 {year} 年度的登记簿中都没有编号为 {person} 的人员",
            location=Location(file=str(ws.roster_path), field="id"),
            hint="请检查 --person 后的人员编号(名册中每人的 id)",
        )
    not_generated = tuple(b for b in required if b not in tally.generated)
    if person is not None:
        not_generated = tuple(b for b in not_generated if _names(b, person))
    shown = tally.letters()
    return StatusReport(
        year=year,
        letters=tuple(shown),
        counts=tally.counts(),
        todo=tally.todo(),
        not_generated=not_generated,
        incomplete=tally.incomplete,
        unlisted=tally.total - len(shown),
        files_missing=tally.files_missing,
        missing_files=tuple(tally.lost),
        deadline=deadline.isoformat(),
        deadline_rule=ws.config.signing.describe,
        as_of="" if as_of is None else as_of.isoformat(),
        late=tally.late_count,
        overdue=tally.overdue_count,
        late_letters=tuple(tally.late),
        overdue_letters=tuple(tally.overdue),
    )


def _names(doc_id: str, person: str) -> bool:
    """Whether the letter id names ``person`` as one of its parties' ids (ids are built from
    them, :func:`docgen.roster.hierarchy.doc_id`)."""
    return doc_id.endswith(f"-{person}") or f"-{person}-" in doc_id


def void_letter(ws: Workspace, doc_id: str, reason: str, *, now: datetime) -> LetterState:
    """Mark a letter void in the registry; the file stays, and so does its history."""
    if not reason.strip():
        raise UsageError("作废必须说明原因", hint="请用 --reason 说明,例如 --reason 人员调离")
    with workspace_lock(ws.root), open_registry(ws) as registry:
        letter = _find_letter(registry, doc_id)
        if letter.voided:
            raise ValidationError(f"文书 {doc_id} 已于此前作废,无需重复作废")
        year = int(letter.record["year"])
        year_dir = ws.year_dir(year)
        interrupted = is_pending(year_dir)
        mark_pending(year_dir)
        registry.append(
            [{"type": "void", "doc_id": doc_id, "reason": reason.strip(), "replaced_by": None}],
            now=now,
        )
        refresh_year(
            ws, registry, year, rewrite=None if interrupted else {doc_id}, jobs=1, splice=True
        )
        clear_pending(year_dir)
        updated = letters_state(registry, [doc_id], year).letters[doc_id]
    return updated


def _find_letter(registry: Registry, doc_id: str) -> LetterState:
    for entry in registry.entries(type="document", doc_id=doc_id):
        year = int(entry.record["year"])
        return letters_state(registry, [doc_id], year).letters[doc_id]
    raise ValidationError(
        f"登记簿中没有编号为 {doc_id} 的文书",
        hint="请用 docgen status 查看文书编号",
    )
