"""What the registry says about one year's letters: documents, signatures, voids.

The registry is the source of truth; the manifest and the proof bundles are views derived from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from docgen.registry import Entry, Registry

PARTIES = ("superior", "subordinate")


@dataclass(frozen=True)
class LetterState:
    doc_id: str
    document: Entry  # latest `document` entry for this id
    signatures: dict[str, Entry] = field(default_factory=dict)  # signer id -> first signature entry
    void: Entry | None = None

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
        return {p["party"]: p["id"] for p in self.record["parties"]}

    def missing_signers(self) -> list[str]:
        return [pid for pid in self.party_ids().values() if pid not in self.signatures]

    @property
    def complete(self) -> bool:
        return not self.missing_signers()

    def entries(self) -> list[Entry]:
        found = [self.document, *self.signatures.values()]
        if self.void is not None:
            found.append(self.void)
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
            for party in letter.record["parties"]:
                by_party.setdefault(party["id"], []).append(letter)
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


def read_year_state(registry: Registry, year: int) -> YearState:
    return build_year_state(registry.entries(), year)


def build_year_state(entries: Iterable[Entry], year: int) -> YearState:
    documents: dict[str, Entry] = {}
    signatures: dict[str, dict[str, Entry]] = {}
    voids: dict[str, Entry] = {}
    for entry in entries:
        record = entry.record
        kind = record.get("type")
        if kind == "document" and record.get("year") == year:
            documents[record["doc_id"]] = entry
        elif kind == "signature" and record.get("doc_id") in documents:
            signatures.setdefault(record["doc_id"], {}).setdefault(record["signer"], entry)
        elif kind == "void" and record.get("doc_id") in documents:
            voids.setdefault(record["doc_id"], entry)
    letters = {
        doc_id: LetterState(
            doc_id=doc_id,
            document=doc,
            signatures={
                signer: sig
                for signer, sig in signatures.get(doc_id, {}).items()
                if sig.record.get("doc_sha256") == doc.record["sha256"]
            },
            void=voids.get(doc_id),
        )
        for doc_id, doc in documents.items()
    }
    return YearState(year=year, letters=letters)
