"""One letter as the signing page shows it: its registered file, its PDF, its parties' signatures.

Read through the library the command line uses: :func:`docgen.records.reading.letter_text`
refuses a .docx whose bytes are not the registered ones (what is shown is what is signed), the
registry's rendition entry says which PDF belongs to those bytes and
:func:`~docgen.records.renditions.rendition_intact` checks that the PDF on disk still begins with
them (a signed PDF only has signatures appended). A page never shows a re-typed summary: when
there is no PDF it says so and offers the .docx itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from docgen.core.models import Roster
from docgen.core.workspace import Workspace
from docgen.records.reading import letter_text
from docgen.records.renditions import registered_rendition, rendition_intact
from docgen.records.state import LetterState, letters_state
from docgen.registry import open_registry

PARTY_NAMES = {"superior": "甲方", "subordinate": "乙方"}  # as the letters name them


@dataclass(frozen=True)
class PartyView:
    party: str  # "superior" / "subordinate"
    label: str
    person_id: str
    name: str
    title: str
    signed: bool
    signing_time: str  # as the signature says (UTC ISO), "" when not signed
    recorded_at: str  # when the registry recorded it


@dataclass(frozen=True)
class LetterView:
    doc_id: str
    year: int
    title: str
    docx: Path
    pdf: Path | None  # the registered rendition, when present and intact
    pdf_state: str  # "ok", "missing" (no rendition made), "changed" (file not the registered)
    voided: bool
    parties: tuple[PartyView, ...]

    def party_of(self, person_id: str) -> PartyView | None:
        return next((p for p in self.parties if p.person_id == person_id), None)

    @property
    def complete(self) -> bool:
        return all(p.signed for p in self.parties)


def year_of(doc_id: str, default: int) -> int:
    """A letter id begins with its year (``2027-ZR-…``)."""
    head = doc_id.split("-", 1)[0]
    return int(head) if head.isdigit() and len(head) == 4 else default


def read_state(ws: Workspace, doc_id: str, year: int) -> LetterState | None:
    with open_registry(ws) as registry:
        return letters_state(registry, [doc_id], year).letters.get(doc_id)


def letter_view(ws: Workspace, roster: Roster, letter: LetterState, year: int) -> LetterView:
    """The view of ``letter`` (already known to exist): raises when its .docx is not the
    registered one."""
    text = letter_text(ws, letter.doc_id, year)
    with open_registry(ws) as registry:
        rendition = registered_rendition(registry, letter.doc_id)
    year_dir = ws.year_dir(year)
    pdf: Path | None = None
    if rendition is None:
        pdf_state = "missing"
    elif rendition_intact(year_dir, rendition):
        pdf_state = "ok"
        pdf = year_dir / str(rendition["path"])
    else:
        pdf_state = "changed"
    names = {p.id: p for p in roster.people}
    parties = []
    for party, pid in letter.parties:
        person = names.get(pid)
        signature = letter.signatures.get(pid)
        record = signature.record if signature is not None else {}
        parties.append(
            PartyView(
                party=party,
                label=PARTY_NAMES.get(party, party),
                person_id=pid,
                name=person.name if person is not None else pid,
                title=person.title if person is not None else "",
                signed=signature is not None,
                signing_time=str(record.get("signing_time", "")),
                recorded_at=str(record.get("recorded_at", "")),
            )
        )
    return LetterView(
        doc_id=letter.doc_id,
        year=year,
        title=text.title,
        docx=text.path,
        pdf=pdf,
        pdf_state=pdf_state,
        voided=letter.voided,
        parties=tuple(parties),
    )
