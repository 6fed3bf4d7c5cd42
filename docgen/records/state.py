"""What the registry says about one year's letters: documents, signatures, voids, renditions.

The registry is the source of truth; the manifest and the proof bundles are views derived from it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from docgen.core.errors import ValidationError
from docgen.core.parallel import chunks_of
from docgen.registry import Entry, Registry

PARTIES = ("superior", "subordinate")


@dataclass(frozen=True, slots=True)
class EntryRef:
    """A registry entry as the year state keeps it: its index and exact bytes.

    The record is parsed when asked for, not kept: a year of 10⁵ letters holds 3·10⁵ entries, and
    their parsed dicts would be most of the memory of every bulk command.
    """

    index: int
    data: bytes

    @property
    def record(self) -> dict[str, Any]:
        record: dict[str, Any] = json.loads(self.data)
        return record


@dataclass(frozen=True, slots=True)
class LetterState:
    doc_id: str
    document: EntryRef  # latest `document` entry for this id
    signatures: dict[str, EntryRef] = field(default_factory=dict)  # signer -> first signature
    void: EntryRef | None = None
    parties: tuple[tuple[str, str], ...] = ()  # (("superior", id), ("subordinate", id))
    rendition: EntryRef | None = None  # latest PDF rendition of the current bytes, if any
    # PAdES signatures of that rendition, in signing order (docgen.signing.pdf_sign)
    pdf_signatures: tuple[EntryRef, ...] = ()

    @property
    def record(self) -> dict[str, Any]:
        return self.document.record

    @property
    def base_id(self) -> str:
        return base_id(self.doc_id)

    @property
    def voided(self) -> bool:
        return self.void is not None

    def party_ids(self) -> dict[str, str]:
        """``{"superior": id, "subordinate": id}``."""
        return dict(self.parties)

    def missing_signers(self) -> list[str]:
        return [pid for _party, pid in self.parties if pid not in self.signatures]

    @property
    def complete(self) -> bool:
        return not self.missing_signers()

    def entries(self) -> list[EntryRef]:
        found = [self.document, *self.signatures.values()]
        if self.void is not None:
            found.append(self.void)
        if self.rendition is not None:
            found.append(self.rendition)
        found.extend(self.pdf_signatures)
        return sorted(found, key=lambda e: e.index)


def base_id(doc_id: str) -> str:
    """``2027-ZR-P001-P002-R2`` → ``2027-ZR-P001-P002``."""
    head, sep, tail = doc_id.rpartition("-R")
    return head if sep and tail.isdigit() else doc_id


def revision(doc_id: str) -> int:
    _head, sep, tail = doc_id.rpartition("-R")
    return int(tail) if sep and tail.isdigit() else 1


def with_revision(base: str, rev: int) -> str:
    return base if rev <= 1 else f"{base}-R{rev}"


@dataclass(frozen=True)
class YearState:
    year: int
    letters: dict[str, LetterState]  # doc_id -> state, in registry order
    # Indexes built once, so that looking up a pairing or a person is O(1), not a scan.
    _by_base: dict[str, list[LetterState]] = field(init=False, repr=False, compare=False)
    _by_party: dict[str, list[LetterState]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_base: dict[str, list[LetterState]] = {}
        by_party: dict[str, list[LetterState]] = {}
        for letter in self.letters.values():
            by_base.setdefault(letter.base_id, []).append(letter)
            for _party, pid in letter.parties:
                by_party.setdefault(pid, []).append(letter)
        object.__setattr__(self, "_by_base", by_base)
        object.__setattr__(self, "_by_party", by_party)

    def active(self) -> list[LetterState]:
        return [s for s in self.letters.values() if not s.voided]

    def current_for_base(self, base: str) -> LetterState | None:
        """The newest non-voided revision of a pairing's letter, if any."""
        current = [s for s in self._by_base.get(base, ()) if not s.voided]
        return max(current, key=lambda s: revision(s.doc_id)) if current else None

    def last_revision(self, base: str) -> int:
        revs = [revision(s.doc_id) for s in self._by_base.get(base, ())]
        return max(revs, default=0)

    def of_party(self, person_id: str) -> list[LetterState]:
        """Every letter (voided too) in which ``person_id`` is a party, in registry order."""
        return list(self._by_party.get(person_id, ()))

    def parties(self) -> list[str]:
        """Every person who is a party to some letter, sorted."""
        return sorted(self._by_party)


LETTER_TYPES = ("document", "signature", "void", "rendition", "pdf_signature")


def read_year_state(registry: Registry, year: int) -> YearState:
    """The letters of ``year``, read in one pass over the registry's letter entries."""
    return year_state_from_refs(
        (EntryRef(i, d) for i, d in registry.entry_data(types=LETTER_TYPES)), year
    )


def year_letter_ids(registry: Registry, year: int) -> Iterator[str]:
    """The ids of ``year``'s letters in the order of their first ``document`` entry, read page by
    page. ``generate`` gives every letter an id that begins with its year (``2027-ZR-…``,
    :mod:`docgen.roster.hierarchy`); :func:`letters_state` then keeps those of that year."""
    return registry.first_documents(prefix=f"{year}-")


def count_year_letters(registry: Registry, year: int) -> int:
    """How many ids :func:`year_letter_ids` gives."""
    return registry.count_documents(prefix=f"{year}-")


def letters_state(registry: Registry, doc_ids: Sequence[str], year: int) -> YearState:
    """The state of just these letters of ``year``, from their own entries (letters are
    independent of each other, see :func:`year_state_from_refs`)."""
    datas = registry.letter_entry_bytes(doc_ids, types=LETTER_TYPES)
    return year_state_from_refs((EntryRef(i, datas[i]) for i in sorted(datas)), year)


PAGE = 500  # letters read at a time by iter_year_letters


def iter_year_letters(registry: Registry, year: int) -> Iterator[LetterState]:
    """The letters of ``year`` in the order of :func:`read_year_state` (their first
    ``document`` entry), read :data:`PAGE` letters at a time: the same states, without holding
    the year. Call it inside ``registry.snapshot()`` to see one state of a registry that others
    may append to meanwhile."""
    for page in chunks_of(year_letter_ids(registry, year), PAGE):
        yield from letters_state(registry, page, year).letters.values()


def person_letters(registry: Registry, year: int, person_id: str) -> YearState:
    """The letters of ``year`` in which ``person_id`` is a party, voided ones too (the year
    state of just those letters), found by their ids without reading the rest of the year."""
    candidates = registry.documents_naming(person_id, prefix=f"{year}-")
    found = letters_state(registry, candidates, year)
    mine = {
        doc_id: letter
        for doc_id, letter in found.letters.items()
        if any(pid == person_id for _party, pid in letter.parties)
    }
    return YearState(year=year, letters=mine)


def build_year_state(entries: Iterable[Entry], year: int) -> YearState:
    return year_state_from_refs((EntryRef(e.index, e.data) for e in entries), year)


def year_state_from_refs(entries: Iterable[EntryRef], year: int) -> YearState:
    """The letters of ``year`` among ``entries`` (in index order). Letters are independent of
    each other, so the entries of some letters give exactly those letters' states."""
    documents: dict[str, tuple[EntryRef, str, tuple[tuple[str, str], ...]]] = {}
    signatures: dict[str, dict[str, tuple[EntryRef, object]]] = {}
    voids: dict[str, EntryRef] = {}
    renditions: dict[str, tuple[EntryRef, object]] = {}  # the latest, with its .docx SHA-256
    pdf_signatures: dict[str, list[EntryRef]] = {}
    for entry in entries:
        record = entry.record
        kind = record.get("type")
        doc_id = record.get("doc_id")
        if kind == "document" and record.get("year") == year:
            # Interned: the same few roles and person ids recur in every letter of the year.
            parties = tuple(
                (sys.intern(str(p["party"])), sys.intern(str(p["id"]))) for p in record["parties"]
            )
            documents[record["doc_id"]] = (entry, record["sha256"], parties)
        elif kind == "signature" and doc_id in documents:
            signatures.setdefault(doc_id, {}).setdefault(
                record["signer"], (entry, record.get("doc_sha256"))
            )
        elif kind == "void" and doc_id in documents:
            voids.setdefault(doc_id, entry)
        elif kind == "rendition" and doc_id in documents:
            renditions[doc_id] = (entry, record.get("docx_sha256"))
        elif kind == "pdf_signature" and doc_id in documents:
            pdf_signatures.setdefault(doc_id, []).append(entry)
    letters = {
        doc_id: LetterState(
            doc_id=doc_id,
            document=doc,
            # Only a signer's first signature counts, and only if it is over the current bytes.
            signatures={
                signer: sig
                for signer, (sig, signed_sha) in signatures.get(doc_id, {}).items()
                if signed_sha == sha
            },
            void=voids.get(doc_id),
            parties=parties,
            # A rendition counts only if it was made from the current bytes.
            rendition=_rendition_of(renditions.get(doc_id), sha),
            pdf_signatures=_pdf_chain(
                _rendition_of(renditions.get(doc_id), sha), pdf_signatures.get(doc_id, [])
            ),
        )
        for doc_id, (doc, sha, parties) in documents.items()
    }
    return YearState(year=year, letters=letters)


def _rendition_of(found: tuple[EntryRef, object] | None, sha: str) -> EntryRef | None:
    return found[0] if found is not None and found[1] == sha else None


def _pdf_chain(rendition: EntryRef | None, signatures: list[EntryRef]) -> tuple[EntryRef, ...]:
    """The PDF signatures of ``rendition``: each over the PDF the previous one produced, the
    first over the rendition, one per party (as :func:`docgen.signing.pdf_sign.letter_pdf`)."""
    if rendition is None:
        return ()
    chain: list[EntryRef] = []
    parties: set[object] = set()
    current = rendition.record.get("pdf_sha256")
    for entry in signatures:
        record = entry.record
        if record.get("previous_pdf_sha256") == current and record.get("party") not in parties:
            chain.append(entry)
            parties.add(record.get("party"))
            current = record.get("pdf_sha256")
    return tuple(chain)


def waiting_letters(
    state: YearState, person_id: str, doc_id: str | None = None
) -> tuple[list[LetterState], list[str]]:
    """Letters that wait for ``person_id`` and those already signed by them."""
    if doc_id is not None:
        letter = state.letters.get(doc_id)
        if letter is None:
            raise ValidationError(
                f"{state.year} 年度没有编号为 {doc_id} 的文书",
                hint="请用 docgen status 查看文书编号,或检查 --year",
            )
        if letter.voided:
            raise ValidationError(f"文书 {doc_id} 已作废,不能再签署")
        if person_id not in letter.party_ids().values():
            names = "、".join(p["name"] for p in letter.record["parties"])
            raise ValidationError(
                f"{person_id} 不是文书 {doc_id} 的签订方(签订方:{names})",
                hint="只能签署本人作为一方的文书",
            )
        candidates = [letter]
    else:
        candidates = [s for s in state.of_party(person_id) if not s.voided]
    waiting = [s for s in candidates if person_id not in s.signatures]
    done = [s.doc_id for s in candidates if person_id in s.signatures]
    return waiting, done
