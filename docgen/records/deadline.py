"""Was a letter signed by the deadline (年初)? One rule for ``status``, ``duties`` and the reports.

10.3 "年初与班子成员面对面签订", 11.2 "年初与分管部门负责人签订" and 9.5–9.7 "及时组织签订" put the
letters at the start of the year; docgen.toml's ``[signing] deadline`` says which day that is
(:class:`docgen.core.workspace.SigningOptions`). A letter is

* **on time** (按期签订) when its last signature was registered on or before the deadline;
* **late** (逾期补签) when it was completed after the deadline;
* **overdue** (逾期未签) when it is still not signed by both parties on a day after the deadline;
* **pending** (待签) when it is not yet complete but the deadline has not passed.

When a signature was made is when the registry recorded it (``recorded_at``, the registry's own
clock, never earlier than the entry before it), not the time the signer's software claims: a
signature the registry did not hold by the deadline is not proved to have been made by then.
Days are Beijing days, as the letters are dated. Voided letters are not judged. A letter
generated after the deadline (a newcomer's) is judged by the same day: the rule has no
exception to game, and ``status`` shows when such a letter was generated.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

from docgen.records.state import EntryRef, LetterState

# Signing times are stored in UTC; the letters are dated in Beijing time.
CHINA_TZ = timezone(timedelta(hours=8), "CST")


class Timing(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    OVERDUE = "overdue"
    PENDING = "pending"
    VOIDED = "voided"

    @property
    def label(self) -> str:
        return TIMING_LABELS[self]


TIMING_LABELS: dict[Timing, str] = {
    Timing.ON_TIME: "按期签订",
    Timing.LATE: "逾期补签",
    Timing.OVERDUE: "逾期未签",
    Timing.PENDING: "待签",
    Timing.VOIDED: "已作废",
}


def china_day(stamp: str) -> date:
    """The Beijing day of an ISO 8601 UTC time such as ``2027-01-31T16:30:00Z`` (1 February)."""
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return moment.astimezone(CHINA_TZ).date()


def recorded_day(record: dict[str, Any]) -> date | None:
    """The Beijing day a record was registered (``recorded_at``), else its ``signing_time``."""
    stamp = record.get("recorded_at") or record.get("signing_time")
    return china_day(str(stamp)) if stamp else None


def signed_on(letter: LetterState) -> date | None:
    """The day the letter's last registered signature was recorded (``None``: no signature)."""
    days = [_day(ref) for ref in letter.signatures.values()]
    known = [d for d in days if d is not None]
    if not known:
        return None
    # A signature without any time cannot be shown to be in time: it makes the letter late.
    return date.max if len(known) < len(days) else max(known)


def _day(ref: EntryRef) -> date | None:
    return recorded_day(ref.record)


def generated_on(letter: LetterState) -> date | None:
    return recorded_day(letter.record)


def timing_of(
    *, voided: bool, complete: bool, last_signed: date | None, deadline: date, as_of: date | None
) -> Timing:
    """The rule of this module on plain values. ``as_of`` ``None``: a letter not yet complete is
    ``PENDING`` (the caller did not say which day it is, so nothing is called overdue)."""
    if voided:
        return Timing.VOIDED
    if complete:
        if last_signed is not None and last_signed <= deadline:
            return Timing.ON_TIME
        return Timing.LATE
    if as_of is not None and as_of > deadline:
        return Timing.OVERDUE
    return Timing.PENDING


def letter_timing(letter: LetterState, deadline: date, as_of: date | None) -> Timing:
    return timing_of(
        voided=letter.voided,
        complete=letter.complete,
        last_signed=signed_on(letter),
        deadline=deadline,
        as_of=as_of,
    )
