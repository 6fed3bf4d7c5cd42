"""Who signs what with whom: the pairings of articles 9.5–9.7, 10.3 and 11.2.

Three tiers (DESIGN §1):

* leadership — 党组书记 × each 班子成员 (and 纪检组长, 检委会专职委员 as configured):
  《党风廉政建设责任书》 and 《公开承诺书》 (9.5, 9.6, 10.3; 专职委员 also 6, 11, 14);
* department — each 分管院领导 × the head of each department they supervise:
  《党风廉政建设责任书》 (9.5, 11.2) and, unless switched off, 《公开承诺书》 (9.6);
* staff — each department head × each member: 《廉洁从检承诺书》 (9.7).

The result is deterministic: the same roster and year give the same ids in the same order,
whatever the order of keys in the YAML. Anything that cannot be paired is explained in a
note, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from docgen.core.errors import Location, ValidationError
from docgen.core.glossary import LETTER_TITLES, LetterKind, Role
from docgen.core.models import Department, Pairing, PairingResult, Person, Roster
from docgen.core.workspace import PairingOptions

LEADERSHIP = "leadership"
DEPARTMENT = "department"
STAFF = "staff"

TIER_LABELS: dict[str, str] = {
    LEADERSHIP: "党组书记与班子成员",
    DEPARTMENT: "分管院领导与部门负责人",
    STAFF: "部门负责人与本部门工作人员",
}

_KIND_ORDER: dict[LetterKind, int] = {
    LetterKind.RESPONSIBILITY: 0,
    LetterKind.PUBLIC_COMMITMENT: 1,
    LetterKind.INTEGRITY_PLEDGE: 2,
}
_TIER_ORDER: dict[str, int] = {LEADERSHIP: 0, DEPARTMENT: 1, STAFF: 2}

_ROLE_WITH_SECRETARY: dict[Role, str] = {
    Role.LEADER: "班子成员",
    Role.DISCIPLINE_HEAD: "纪检组长(班子成员)",
    Role.COMMITTEE_MEMBER: "检委会专职委员",
}


def doc_id(year: int, kind: LetterKind, superior: Person, subordinate: Person) -> str:
    return f"{year}-{kind.code}-{superior.id}-{subordinate.id}"


def tier_of(pairing: Pairing) -> str:
    """``"leadership"``, ``"department"`` or ``"staff"``: which tier of article 9 a letter
    belongs to. Leadership letters have no department; staff letters are the pledges."""
    if pairing.kind is LetterKind.INTEGRITY_PLEDGE:
        return STAFF
    return LEADERSHIP if pairing.department is None else DEPARTMENT


def supervised_departments(roster: Roster, person_id: str) -> list[str]:
    """Names of the departments ``person_id`` supervises (分管部门), in roster order."""
    return [d.name for d in roster.departments if d.supervisor == person_id]


def _who(person: Person) -> str:
    return f"{person.name}({person.id})"


class _Builder:
    def __init__(
        self,
        roster: Roster,
        year: int,
        options: PairingOptions,
        *,
        explain: bool,
        source: str | None,
    ) -> None:
        self.roster = roster
        self.source = source
        self.year = year
        self.options = options
        self.explain = explain
        self.people = roster.by_id()
        # Pairings in the order they are found, each kept in the bucket of its kind and tier:
        # the buckets read in order are the final order, with no sort (10⁵ letters at scale).
        self.buckets: dict[tuple[int, int], list[Pairing]] = {}
        self.seen: dict[tuple[str, str, LetterKind], tuple[list[Pairing], int]] = {}
        self.notes: list[str] = []
        self.noted: set[str] = set()

    def note(self, text: str, *about: Person) -> None:
        self.notes.append(text)
        self.noted.update(p.id for p in about)

    def add(
        self,
        kind: LetterKind,
        tier: str,
        superior: Person,
        subordinate: Person,
        articles: tuple[str, ...],
        reason: str,
        department: str | None = None,
    ) -> None:
        key = (superior.id, subordinate.id, kind)
        if key in self.seen:
            bucket, index = self.seen[key]
            pairing = bucket[index]
            if department is not None and pairing.department is not None:
                merged = f"{pairing.department}、{department}"
                bucket[index] = Pairing(
                    doc_id=pairing.doc_id,
                    kind=kind,
                    year=self.year,
                    superior=superior,
                    subordinate=subordinate,
                    articles=pairing.articles,
                    department=merged,
                    reason=f"{pairing.reason}(同时负责部门“{department}”,合并为一份)"
                    if self.explain
                    else "",
                )
            elif department is not None:
                self.note(
                    f"{_who(superior)}与{_who(subordinate)}已签订党组书记层级的《{LETTER_TITLES[kind]}》,"
                    f"部门“{department}”不再另签",
                    subordinate,
                )
            return
        if superior.id == subordinate.id:
            return
        bucket = self.buckets.setdefault((_KIND_ORDER[kind], _TIER_ORDER[tier]), [])
        self.seen[key] = (bucket, len(bucket))
        bucket.append(
            Pairing(
                doc_id=doc_id(self.year, kind, superior, subordinate),
                kind=kind,
                year=self.year,
                superior=superior,
                subordinate=subordinate,
                articles=articles,
                department=department,
                reason=reason if self.explain else "",
            )
        )

    # -- leadership tier ------------------------------------------------------------

    def leadership(self) -> None:
        secretaries = [p for p in self.roster.people if p.role is Role.PARTY_SECRETARY]
        counterparts = [p for p in self.roster.people if p.role in _ROLE_WITH_SECRETARY]
        if not secretaries:
            if counterparts:
                self.note(
                    "警告:名册中没有党组书记,"
                    f"{'、'.join(_who(p) for p in counterparts)}与党组书记的"
                    "《党风廉政建设责任书》《公开承诺书》无法生成",
                    *counterparts,
                )
            return
        secretary = secretaries[0]
        for extra in secretaries[1:]:
            self.note(
                f"警告:名册中有多名党组书记,只以{_who(secretary)}为甲方;"
                f"{_who(extra)}不参与党组书记层级的签订",
                extra,
            )
        for person in counterparts:
            if (
                person.role is Role.DISCIPLINE_HEAD
                and not self.options.discipline_head_with_secretary
            ):
                self.note(
                    f"按配置(discipline_head_with_secretary = false),纪检组长{_who(person)}"
                    "不与党组书记签订责任书和公开承诺书",
                    person,
                )
                continue
            if (
                person.role is Role.COMMITTEE_MEMBER
                and not self.options.committee_members_with_secretary
            ):
                self.note(
                    "按配置(committee_members_with_secretary = false),"
                    f"检委会专职委员{_who(person)}不与党组书记签订责任书和公开承诺书",
                    person,
                )
                continue
            self.with_secretary(secretary, person)

    def with_secretary(self, secretary: Person, person: Person) -> None:
        what = _ROLE_WITH_SECRETARY[person.role]
        if person.role is Role.COMMITTEE_MEMBER:
            zr_articles: tuple[str, ...] = ("6", "9.5", "10.3", "11", "14")
            zr_reason = (
                f"党组书记{_who(secretary)}年初与{what}{_who(person)}面对面签订"
                "《党风廉政建设责任书》:第九条第5项、第十条第3项;检委会专职委员协助班子成员"
                "抓好党风廉政建设并与班子成员一同考核(第六条、第十一条、第十四条)"
            )
        else:
            zr_articles = ("9.5", "10.3")
            zr_reason = (
                f"党组书记{_who(secretary)}年初与{what}{_who(person)}面对面签订"
                "《党风廉政建设责任书》(第九条第5项、第十条第3项)"
            )
        self.add(LetterKind.RESPONSIBILITY, LEADERSHIP, secretary, person, zr_articles, zr_reason)
        self.add(
            LetterKind.PUBLIC_COMMITMENT,
            LEADERSHIP,
            secretary,
            person,
            ("9.6", "10.3"),
            f"党组书记{_who(secretary)}年初与{what}{_who(person)}面对面签订层级"
            "《公开承诺书》(第九条第6项、第十条第3项)",
        )

    # -- department tier --------------------------------------------------------------

    def department(self, dept: Department) -> None:
        supervisor = self.people.get(dept.supervisor) if dept.supervisor else None
        head = self.people.get(dept.head) if dept.head else None
        if head is None:
            if dept.head is not None:
                self.note(f"警告:部门“{dept.name}”的负责人编号“{dept.head}”不在名册中")
            return
        if supervisor is None:
            self.note(
                f"警告:部门“{dept.name}”没有分管院领导,负责人{_who(head)}"
                "没有签订《党风廉政建设责任书》的上级",
                head,
            )
            return
        if supervisor.id == head.id:
            self.note(
                f"{_who(head)}既是部门“{dept.name}”的分管院领导又是该部门负责人,"
                "不与自己签订责任书和公开承诺书(已跳过);本部门成员与其签订《廉洁从检承诺书》",
                head,
            )
            return
        self.add(
            LetterKind.RESPONSIBILITY,
            DEPARTMENT,
            supervisor,
            head,
            ("9.5", "11.2"),
            f"分管院领导{_who(supervisor)}年初与分管部门“{dept.name}”负责人{_who(head)}"
            "签订《党风廉政建设责任书》(第九条第5项、第十一条第2项)",
            dept.name,
        )
        if self.options.public_commitment_at_department_tier:
            self.add(
                LetterKind.PUBLIC_COMMITMENT,
                DEPARTMENT,
                supervisor,
                head,
                ("9.6",),
                f"分管院领导{_who(supervisor)}与分管部门“{dept.name}”负责人{_who(head)}"
                "签订层级《公开承诺书》:第九条第6项的连带责任及于管辖和分管部门"
                "(第十一条第2项只列责任书,本项可在配置中关闭)",
                dept.name,
            )

    # -- staff tier -------------------------------------------------------------------

    def staff(self, dept: Department) -> None:
        head = self.people.get(dept.head) if dept.head else None
        supervisor = self.people.get(dept.supervisor) if dept.supervisor else None
        members = [self.people[m] for m in dict.fromkeys(dept.members) if m in self.people]
        missing = [m for m in dict.fromkeys(dept.members) if m not in self.people]
        if missing:
            self.note(f"警告:部门“{dept.name}”的成员编号{'、'.join(missing)}不在名册中,已跳过")
        if not members:
            return
        if head is not None:
            signer = head
            how = f"部门负责人{_who(head)}"
        elif supervisor is not None:
            signer = supervisor
            how = f"分管院领导{_who(supervisor)}"
            self.note(
                f"警告:部门“{dept.name}”没有负责人,{len(members)} 名成员"
                f"与分管院领导{_who(supervisor)}签订《廉洁从检承诺书》",
                *members,
            )
        else:
            self.note(
                f"警告:部门“{dept.name}”既没有负责人也没有分管院领导,"
                f"{'、'.join(_who(m) for m in members)}无人可签订《廉洁从检承诺书》",
                *members,
            )
            return
        for member in members:
            if member.id == signer.id:
                self.note(
                    f"{_who(member)}是部门“{dept.name}”的负责人,也列在成员中;"
                    "不与自己签订《廉洁从检承诺书》(已跳过)",
                    member,
                )
                continue
            if (signer.id, member.id, LetterKind.INTEGRITY_PLEDGE) in self.seen:
                self.note(
                    f"警告:{_who(member)}在多个部门中出现,只与{_who(signer)}"
                    "签订一份《廉洁从检承诺书》",
                    member,
                )
                continue
            self.add(
                LetterKind.INTEGRITY_PLEDGE,
                STAFF,
                signer,
                member,
                ("9.7",),
                f"{how}与本部门(“{dept.name}”)工作人员{_who(member)}签订"
                "《廉洁从检承诺书》(第九条第7项)",
                dept.name,
            )

    # -- nobody left out -------------------------------------------------------------

    def unpaired(self, pairings: Iterable[Pairing]) -> None:
        involved: set[str] = set()
        for pairing in pairings:
            involved.add(pairing.superior.id)
            involved.add(pairing.subordinate.id)
        for person in self.roster.people:
            if person.id in involved or person.id in self.noted:
                continue
            self.note(
                f"{_who(person)}({person.role.label})不参与任何文书的签订:"
                f"{self.why_unpaired(person)}",
                person,
            )

    def why_unpaired(self, person: Person) -> str:
        if person.role is Role.PARTY_SECRETARY:
            return "名册中没有班子成员或检委会专职委员,也没有其分管的部门"
        if person.role is Role.DEPARTMENT_HEAD:
            return "没有负责任何部门,也不是任何部门的成员"
        if person.role is Role.STAFF:
            return "不属于任何部门"
        return "没有可签订的对象"

    def build(self) -> PairingResult:
        self.leadership()
        for dept in self.roster.departments:
            self.department(dept)
        for dept in self.roster.departments:
            self.staff(dept)
        self.seen.clear()
        pairings = tuple(
            pairing for order in sorted(self.buckets) for pairing in self.buckets[order]
        )
        self.buckets.clear()
        _refuse_shared_ids(pairings, self.source)
        self.unpaired(pairings)
        return PairingResult(pairings=pairings, notes=tuple(self.notes))


def _refuse_shared_ids(pairings: Sequence[Pairing], source: str | None) -> None:
    """Two pairings must never share a letter id. Ids join person ids with ``-``, which a person
    id may itself contain: (``H``, ``X-Y``) and (``H-X``, ``Y``) both give ``…-H-X-Y``."""
    ids: set[str] = set()
    for pairing in pairings:
        if pairing.doc_id not in ids:
            ids.add(pairing.doc_id)
            continue
        first = next(p for p in pairings if p.doc_id == pairing.doc_id)
        raise ValidationError(
            f"{_who(first.superior)}与{_who(first.subordinate)}、"
            f"{_who(pairing.superior)}与{_who(pairing.subordinate)}的"
            f"《{LETTER_TITLES[pairing.kind]}》会得到同一个文书编号“{pairing.doc_id}”,无法区分",
            location=Location(file=source, row=pairing.subordinate.line, field="id"),
            hint="人员编号中的“-”造成了重复:请修改其中一人的编号(例如去掉“-”)后重新运行",
        )


def build_pairings(
    roster: Roster,
    year: int,
    options: PairingOptions,
    *,
    explain: bool = True,
    source: str | None = None,
) -> PairingResult:
    """Every letter of ``year`` for ``roster``, in a stable order (by kind 责任书, 公开承诺书,
    廉洁从检承诺书; then by tier; then by roster order), with notes on everything skipped.

    ``explain=False`` leaves each pairing's ``reason`` empty: generating 10⁵ letters does not
    need 10⁵ sentences held in memory (``docgen pairings`` shows them). Raises
    :class:`ValidationError` (naming ``source``, the roster file) if two pairings would share a
    letter id."""
    return _Builder(roster, year, options, explain=explain, source=source).build()


def counts_by_kind(result: PairingResult) -> dict[LetterKind, int]:
    counts = dict.fromkeys(LetterKind, 0)
    for pairing in result.pairings:
        counts[pairing.kind] += 1
    return counts


def _person_dict(person: Person) -> dict[str, str]:
    return {"id": person.id, "name": person.name, "title": person.title, "role": person.role.value}


def pairing_as_dict(pairing: Pairing) -> dict[str, object]:
    """A pairing as plain JSON-ready data, for ``--json`` output."""
    return {
        "doc_id": pairing.doc_id,
        "kind": pairing.kind.value,
        "code": pairing.kind.code,
        "title": LETTER_TITLES[pairing.kind],
        "year": pairing.year,
        "tier": tier_of(pairing),
        "department": pairing.department,
        "superior": _person_dict(pairing.superior),
        "subordinate": _person_dict(pairing.subordinate),
        "articles": list(pairing.articles),
        "reason": pairing.reason,
    }


def result_as_dict(result: PairingResult) -> dict[str, object]:
    return {
        "pairings": [pairing_as_dict(p) for p in result.pairings],
        "counts": {kind.code: n for kind, n in counts_by_kind(result).items()},
        "notes": list(result.notes),
    }
