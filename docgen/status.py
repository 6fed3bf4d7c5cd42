"""Who has signed what: the office's January to-do list and the year-end check (10.3, 11.2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from docgen.errors import UsageError, ValidationError
from docgen.glossary import LetterKind
from docgen.hierarchy import build_pairings
from docgen.lock import workspace_lock
from docgen.proofs import clear_pending, is_pending, mark_pending
from docgen.registry import Registry, open_registry
from docgen.roster import load_roster
from docgen.state import LetterState, YearState, read_year_state
from docgen.views import refresh_year
from docgen.workspace import Workspace


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

    @property
    def complete(self) -> bool:
        return not self.voided and not self.missing

    @property
    def label(self) -> str:
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


@dataclass(frozen=True)
class StatusReport:
    year: int
    letters: tuple[LetterStatus, ...]
    counts: tuple[KindCount, ...]
    todo: tuple[PersonTodo, ...]
    not_generated: tuple[str, ...]  # doc ids the roster requires but the registry lacks

    @property
    def all_complete(self) -> bool:
        return not self.not_generated and all(
            letter.complete for letter in self.letters if not letter.voided
        )


def _letter_status(letter: LetterState) -> LetterStatus:
    parties = {p["party"]: p for p in letter.record["parties"]}
    sup, sub = parties["superior"], parties["subordinate"]
    return LetterStatus(
        doc_id=letter.doc_id,
        kind=LetterKind(letter.record["kind"]),
        superior=PartyRef(sup["id"], sup["name"]),
        subordinate=PartyRef(sub["id"], sub["name"]),
        signed_by=tuple(sorted(letter.signatures, key=lambda s: letter.signatures[s].index)),
        missing=tuple(letter.missing_signers()),
        voided=letter.voided,
        void_reason=None if letter.void is None else letter.void.record["reason"],
    )


def year_status(ws: Workspace, year: int, *, person: str | None = None) -> StatusReport:
    roster = load_roster(ws.roster_path)
    pairings = build_pairings(
        roster, year, ws.config.pairing, source=str(ws.roster_path)
    ).pairings
    with open_registry(ws) as registry:
        state = read_year_state(registry, year)
    return status_from_state(state, [p.doc_id for p in pairings], person=person)


def status_from_state(
    state: YearState, required_bases: list[str], *, person: str | None = None
) -> StatusReport:
    letters = [_letter_status(letter) for letter in state.letters.values()]
    if person is not None:
        letters = [s for s in letters if person in (s.superior.id, s.subordinate.id)]
    counts = tuple(
        KindCount(
            kind=kind,
            active=sum(1 for s in letters if s.kind == kind and not s.voided),
            complete=sum(1 for s in letters if s.kind == kind and s.complete),
            voided=sum(1 for s in letters if s.kind == kind and s.voided),
        )
        for kind in LetterKind
    )
    people: dict[str, tuple[str, list[str], int]] = {}
    for s in letters:
        if s.voided:
            continue
        for party in (s.superior, s.subordinate):
            name, waiting, signed = people.get(party.id, (party.name, [], 0))
            if party.id in s.missing:
                waiting.append(s.doc_id)
            else:
                signed += 1
            people[party.id] = (name, waiting, signed)
    todo = tuple(
        PersonTodo(pid, name, tuple(waiting), signed)
        for pid, (name, waiting, signed) in sorted(people.items())
        if person is None or pid == person
    )
    generated = {state.letters[d].base_id for d in state.letters if not state.letters[d].voided}
    not_generated = tuple(b for b in required_bases if b not in generated)
    if person is not None:
        not_generated = tuple(b for b in not_generated if f"-{person}" in b)
    return StatusReport(
        year=state.year,
        letters=tuple(letters),
        counts=counts,
        todo=todo,
        not_generated=not_generated,
    )


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
        refresh_year(ws, registry, year, rewrite=None if interrupted else {doc_id}, jobs=1)
        clear_pending(year_dir)
        updated = read_year_state(registry, year).letters[doc_id]
    return updated


def _find_letter(registry: Registry, doc_id: str) -> LetterState:
    for entry in registry.entries(type="document", doc_id=doc_id):
        year = int(entry.record["year"])
        return read_year_state(registry, year).letters[doc_id]
    raise ValidationError(
        f"登记簿中没有编号为 {doc_id} 的文书",
        hint="请用 docgen status 查看文书编号",
    )
