"""The year's signing, as the duties engine and the reports count it: per letter kind and person,
what is signed, what was signed by the deadline (年初) and what only after it.

9.5–9.7 "及时组织签订", 10.3 "年初与班子成员面对面签订" and 11.2 "年初与分管部门负责人签订" are met
by the letters signed by the signing deadline (docgen.toml ``[signing] deadline``); a letter
completed after it is counted as signed, but late, with its date, so neither ``duties`` nor a
report can call a March signature "年初". The rule itself is :mod:`docgen.records.deadline`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from docgen.core.glossary import LetterKind
from docgen.core.workspace import DEFAULT_SIGNING_DEADLINE, SigningOptions
from docgen.records.deadline import CHINA_TZ as CHINA_TZ
from docgen.records.deadline import china_day, recorded_day, signed_on
from docgen.records.state import iter_year_letters

if TYPE_CHECKING:
    from docgen.registry import Registry


def default_deadline(year: int) -> date:
    return SigningOptions(deadline=DEFAULT_SIGNING_DEADLINE).deadline_for(year)


@dataclass(frozen=True)
class LetterCount:
    kind: LetterKind
    generated: int  # current (not voided) letters
    complete: int  # of those, signed by both parties
    voided: int = 0
    first_signed: date | None = None
    last_signed: date | None = None
    late: int = 0  # of the complete ones, completed after the deadline (逾期补签)
    late_first: date | None = None  # the first and last day a late letter was completed
    late_last: date | None = None

    @property
    def on_time(self) -> int:
        """Complete letters whose last signature was registered by the deadline."""
        return self.complete - self.late


@dataclass(frozen=True)
class PersonSigning:
    person_id: str
    kind: LetterKind
    required: int  # current letters this person is a party to
    signed: int
    missing: tuple[str, ...] = ()  # doc ids still waiting for this person
    late: tuple[str, ...] = ()  # doc ids this person signed only after the deadline

    @property
    def on_time(self) -> int:
        return self.signed - len(self.late)


@dataclass(frozen=True)
class SigningSummary:
    year: int
    letters: tuple[LetterCount, ...] = ()
    people: tuple[PersonSigning, ...] = ()
    deadline: date | None = None  # None: the default day of the year

    @property
    def due(self) -> date:
        """The signing deadline of the year (inclusive)."""
        return self.deadline or default_deadline(self.year)

    def letter(self, kind: LetterKind) -> LetterCount:
        for count in self.letters:
            if count.kind is kind:
                return count
        return LetterCount(kind=kind, generated=0, complete=0)

    @property
    def generated(self) -> int:
        return sum(c.generated for c in self.letters)

    @property
    def complete(self) -> int:
        return sum(c.complete for c in self.letters)

    @property
    def late(self) -> int:
        return sum(c.late for c in self.letters)


_LETTER_KINDS = {kind.value: kind for kind in LetterKind}


def signing_summary_from_registry(
    registry: Registry, year: int, deadline: date | None = None
) -> SigningSummary:
    """Count letters and signatures of ``year`` from `document`/`signature`/`void` records.

    A signature counts when its record names the letter's current hash (as ``docgen status``
    counts it); whether the CMS itself verifies is ``docgen verify``'s business. ``deadline``:
    the signing deadline (``ws.config.signing.deadline_for(year)``; ``None``: the default day).
    """
    due = deadline or default_deadline(year)
    # One pass over the year, a page of letters at a time; per kind, in LetterKind order.
    generated: Counter[LetterKind] = Counter()
    complete: Counter[LetterKind] = Counter()
    late: Counter[LetterKind] = Counter()
    voided: Counter[LetterKind] = Counter()
    first: dict[LetterKind, date] = {}
    last: dict[LetterKind, date] = {}
    late_days: dict[LetterKind, list[date]] = {}
    people: dict[LetterKind, dict[str, tuple[int, int, list[str], list[str]]]] = {
        k: {} for k in LetterKind
    }
    for s in iter_year_letters(registry, year):
        kind = _LETTER_KINDS.get(str(s.record.get("kind")))
        if kind is None:
            continue  # not one of the three letters: not counted
        if s.voided:
            voided[kind] += 1
            continue
        generated[kind] += 1
        if s.complete:
            complete[kind] += 1
            done = signed_on(s)
            if done is None or done > due:
                late[kind] += 1
                if done is not None and done != date.max:
                    late_days.setdefault(kind, []).append(done)
        for sig in s.signatures.values():
            signed_at = sig.record.get("signing_time")
            if signed_at:
                day = china_day(str(signed_at))
                first[kind] = min(first.get(kind, day), day)
                last[kind] = max(last.get(kind, day), day)
        of_kind = people[kind]
        for pid in s.party_ids().values():
            required, signed, missing, after = of_kind.get(pid, (0, 0, [], []))
            if pid in s.signatures:
                signed += 1
                when = recorded_day(s.signatures[pid].record)
                if when is None or when > due:
                    after.append(s.doc_id)
            else:
                missing.append(s.doc_id)
            of_kind[pid] = (required + 1, signed, missing, after)
    letters = [
        LetterCount(
            kind=kind,
            generated=generated[kind],
            complete=complete[kind],
            voided=voided[kind],
            first_signed=first.get(kind),
            last_signed=last.get(kind),
            late=late[kind],
            late_first=min(late_days[kind]) if kind in late_days else None,
            late_last=max(late_days[kind]) if kind in late_days else None,
        )
        for kind in LetterKind
    ]
    return SigningSummary(
        year=year,
        letters=tuple(letters),
        people=tuple(
            PersonSigning(
                person_id=pid, kind=kind, required=r, signed=n, missing=tuple(m), late=tuple(lt)
            )
            for kind in LetterKind
            for pid, (r, n, m, lt) in people[kind].items()
        ),
        deadline=due,
    )


def late_sentence(count: LetterCount, deadline: date) -> str:
    """What a report says of one kind's late letters: ``其中2份于1月31日后补签(2月3日至3月5日)``;
    ``""`` when none was late. The reports call it so that a March signature is never "年初"."""
    if not count.late:
        return ""
    text = f"其中{count.late}份于{deadline.month}月{deadline.day}日后补签"
    first, last = count.late_first, count.late_last
    if first is not None and last is not None:
        span = f"{first.month}月{first.day}日"
        if last != first:
            span += f"至{last.month}月{last.day}日"
        text += f"({span})"
    return text
