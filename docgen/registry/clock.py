"""Which clock stamps a registry entry: the caller's ``now``, or a clock read under the append lock.

A registry entry's ``recorded_at`` must never go backwards. When each process read its own clock
before waiting for the workspace lock, eight signers started together raced: the one that read
the clock first could get the lock last and was refused as "earlier than the last entry". So in
production the time is read *inside* the append transaction, after the lock is held — the
database's ``clock_timestamp()`` on PostgreSQL (one clock for every office that shares the
server), the local clock on SQLite (one machine) — and entries are stamped in the order they are
appended, by construction.

Tests and ``DOCGEN_NOW`` fix the time instead: then the ``now`` given to
:meth:`docgen.registry.Registry.append` is used as it is, and an earlier one is refused. The CLI
chooses, at the edge (:func:`registry_clock` around a command), which of the two this process
uses; the library default is the fixed ``now``, so code that passes ``now`` behaves as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

MAX_SIGNING_LAG = timedelta(seconds=600)
"""How far a record's ``signing_time`` may be from the registry time it is recorded at: verify's
default tolerance (a workspace's ``signing_time_tolerance_seconds`` replaces it), so a signature
that is registered also passes verify."""

MAX_STEP_BACK = timedelta(seconds=300)
"""A live clock found behind the last entry by at most this (a clock stepped back by NTP) is
read as the last entry's time; further behind is a broken clock, and the append is refused."""

_live = False


def live() -> bool:
    """True when this process stamps entries with the clock read under the append lock."""
    return _live


@contextmanager
def registry_clock(*, live: bool) -> Iterator[None]:
    """Within the block, registries opened without an explicit choice use the live clock
    (``live=True``) or the callers' ``now`` (``live=False``)."""
    global _live
    previous = _live
    _live = live
    try:
        yield
    finally:
        _live = previous


def to_second(moment: datetime) -> datetime:
    """``moment`` in UTC, to the whole second (as ``recorded_at`` is written)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("moment must be timezone-aware")
    return moment.astimezone(UTC).replace(microsecond=0)


def local_now() -> datetime:
    """This machine's clock (SQLite registries, read under the append lock)."""
    return to_second(datetime.now(UTC))
