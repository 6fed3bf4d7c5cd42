"""What a signer reads before signing: the letters that wait for them, and a letter's text.

The command line lists these before it asks for a passphrase (``docgen sign --as``) and prints
a letter (``docgen show``); the text is read from the registered .docx itself, after its
SHA-256 is checked against the registry, so what is shown is what will be signed.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from docx import Document

from docgen.core.errors import Location, ValidationError
from docgen.core.workspace import Workspace
from docgen.records.state import LetterState, letters_state, person_letters, waiting_letters
from docgen.registry import open_registry


@dataclass(frozen=True)
class LetterLine:
    """One letter as a list shows it."""

    doc_id: str
    title: str
    other_party: str  # name and title of the other party
    path: str


@dataclass(frozen=True)
class Awaiting:
    person_id: str
    waiting: tuple[LetterLine, ...]
    signed: tuple[str, ...]


def _line(letter: LetterState, person_id: str) -> LetterLine:
    record = letter.record
    others = [p for p in record.get("parties", ()) if p.get("id") != person_id]
    other = others[0] if others else {}
    return LetterLine(
        doc_id=letter.doc_id,
        title=str(record.get("title", "")),
        other_party=f"{other.get('name', '')}({other.get('title', '')})",
        path=str(record.get("path", "")),
    )


def awaiting(ws: Workspace, person_id: str, year: int, doc_id: str | None = None) -> Awaiting:
    """The letters of ``year`` (or just ``doc_id``) that wait for ``person_id``'s signature, and
    those they signed already. Read only: nothing is locked or written."""
    with open_registry(ws) as registry:
        state = (
            person_letters(registry, year, person_id)
            if doc_id is None
            else letters_state(registry, [doc_id], year)
        )
    waiting, signed = waiting_letters(state, person_id, doc_id)
    return Awaiting(
        person_id=person_id,
        waiting=tuple(_line(s, person_id) for s in sorted(waiting, key=lambda s: s.doc_id)),
        signed=tuple(sorted(signed)),
    )


@dataclass(frozen=True)
class LetterText:
    doc_id: str
    title: str
    path: Path
    pdf: Path | None
    paragraphs: tuple[str, ...]
    voided: bool


def _docx_paragraphs(data: bytes) -> Iterator[str]:
    """The letter's text in reading order: body paragraphs and table cells, then the footer."""
    document = Document(io.BytesIO(data))
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            yield "".join(t.text or "" for t in child.iter() if t.tag.endswith("}t"))
        elif tag == "tbl":
            for row in child.iter():
                if row.tag.endswith("}tr"):
                    cells = [
                        "".join(t.text or "" for t in cell.iter() if t.tag.endswith("}t"))
                        for cell in row
                        if cell.tag.endswith("}tc")
                    ]
                    yield "    ".join(c for c in cells if c)
    for section in document.sections:
        for paragraph in section.footer.paragraphs:
            if paragraph.text.strip():
                yield paragraph.text


def letter_text(ws: Workspace, doc_id: str, year: int) -> LetterText:
    """The registered letter ``doc_id`` as text, refused when its file is not the registered
    one (a signer must never read one letter and sign another)."""
    with open_registry(ws) as registry:
        state = letters_state(registry, [doc_id], year)
    letter = state.letters.get(doc_id)
    if letter is None:
        raise ValidationError(
            f"{year} 年度没有编号为 {doc_id} 的文书",
            hint="文书编号见 docgen status 或 docgen sign --as 列出的清单;也请检查 --year",
        )
    record = letter.record
    path = ws.year_dir(year) / str(record["path"])
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ValidationError(
            "文书文件不存在", location=Location(file=str(path)), hint="请运行 docgen generate 恢复"
        ) from None
    if hashlib.sha256(data).hexdigest() != record.get("sha256"):
        raise ValidationError(
            "文书文件与登记簿中登记的不一致(已被改动),不能显示",
            location=Location(file=str(path)),
            hint="请运行 docgen generate 恢复登记的文书,再用 docgen verify 核查",
        )
    pdf = path.with_suffix(".pdf")
    return LetterText(
        doc_id=doc_id,
        title=str(record.get("title", "")),
        path=path,
        pdf=pdf if pdf.is_file() else None,
        paragraphs=tuple(_docx_paragraphs(data)),
        voided=letter.voided,
    )
