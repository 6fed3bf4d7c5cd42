"""When the demo's people sign: a realistic 年初, with a few letters signed late.

10.3 "年初与班子成员面对面签订" and 11.2 "年初与分管部门负责人签订": the demo generates the year's
letters on 4 January and signs them in rounds through January — the 书记 with the 班子成员 and
检委会专职委员 first, then the department heads, then the staff in two halves — and has two
people sign after the default deadline (31 January): the last 班子成员 on 3 March, and the last
member of the last department on 18 February. ``docgen status`` then shows their letters as
逾期补签 and ``duties`` counts them as 逾期完成.

The plan depends only on the roster, the year and ``now``: the same ``now`` gives the same year.
When ``now`` is before the plan's last day (a demo run in the first quarter), everyone signs at
``now``, as before: the demo never signs in the future.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from docgen.core.glossary import Role
from docgen.core.models import Roster


@dataclass(frozen=True)
class SigningRound:
    moment: datetime
    people: frozenset[str] | None  # None: everyone still waiting
    label: str  # e.g. 1月6日(党组书记与班子成员)


@dataclass(frozen=True)
class YearPlan:
    generated_at: datetime  # letters and certificates
    rounds: tuple[SigningRound, ...]
    late: tuple[str, ...] = ()  # who signs after the deadline


def _at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


def year_plan(roster: Roster, year: int, now: datetime) -> YearPlan:
    leaders = [
        p.id
        for p in roster.people
        if p.role in (Role.PARTY_SECRETARY, Role.LEADER, Role.DISCIPLINE_HEAD)
        or p.role is Role.COMMITTEE_MEMBER
    ]
    late_leader = next((p.id for p in reversed(roster.people) if p.role is Role.LEADER), None)
    staffed = [d for d in roster.departments if d.members]
    late_member = staffed[-1].members[-1] if staffed else None
    late_days = {
        pid: day
        for pid, day in ((late_member, _at(year, 2, 18)), (late_leader, _at(year, 3, 3)))
        if pid is not None
    }
    if now < max([_at(year, 1, 27), *late_days.values()]):
        return YearPlan(now, (SigningRound(now, None, "全部签订方"),))
    heads = {d.head for d in roster.departments if d.head} - set(leaders)
    others = [p.id for p in roster.people if p.id not in set(leaders) | heads]
    half = (len(others) + 1) // 2

    def group(ids: list[str] | set[str]) -> frozenset[str]:
        return frozenset(i for i in ids if i not in late_days)

    rounds = [
        SigningRound(_at(year, 1, 6), group(leaders), "1月6日(党组书记与班子成员、检委会专职委员)"),
        SigningRound(_at(year, 1, 13), group(heads), "1月13日(部门负责人)"),
        SigningRound(_at(year, 1, 20), group(others[:half]), "1月20日(工作人员)"),
        SigningRound(_at(year, 1, 27), group(others[half:]), "1月27日(工作人员)"),
    ]
    for pid, moment in sorted(late_days.items(), key=lambda item: item[1]):
        rounds.append(
            SigningRound(moment, frozenset({pid}), f"{moment.month}月{moment.day}日(补签)")
        )
    return YearPlan(_at(year, 1, 4), tuple(rounds), tuple(late_days))
