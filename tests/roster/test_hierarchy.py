"""The signing hierarchy: who signs which letter with whom (articles 9.5–9.7, 10.3, 11.2)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from docgen.core.glossary import LetterKind, Role
from docgen.core.models import Department, Person, Roster
from docgen.core.workspace import PairingOptions
from docgen.roster.example import demo_roster_yaml
from docgen.roster.hierarchy import (
    build_pairings,
    counts_by_kind,
    result_as_dict,
    supervised_departments,
    tier_of,
)
from docgen.roster.load import inspect_roster_text, load_roster

ZR, CN, LJ = (
    LetterKind.RESPONSIBILITY,
    LetterKind.PUBLIC_COMMITMENT,
    LetterKind.INTEGRITY_PLEDGE,
)
DEFAULTS = PairingOptions()


def demo_roster() -> Roster:
    check = inspect_roster_text(demo_roster_yaml(), "demo.yaml")
    assert check.roster is not None and not check.errors
    return check.roster


def roster_of(people: list[tuple[str, Role]], departments: list[Department]) -> Roster:
    return Roster(
        institution="庆城县人民检察院",
        people=tuple(Person(pid, f"姓名{pid}", "职务", role) for pid, role in people),
        departments=tuple(departments),
    )


def test_demo_counts_per_kind() -> None:
    """Expected numbers, counted by hand from ``docgen/roster/example.py``:

    * leadership tier: the 书记 P001 signs with 4 班子成员 (P002, P003, P004, P006), the
      纪检组长 P005 and 2 检委会专职委员 (P007, P008): 7 责任书 + 7 公开承诺书;
    * department tier: 9 departments, each with a head and a supervisor, except that in
      第四检察部 the supervisor P003 is also the head (skipped): 8 责任书 + 8 公开承诺书;
    * staff tier: every department member signs with their head:
      办公室 4 + 政工科 3 + 第一检察部 5 + 第二检察部 4 + 第三检察部 4 + 第四检察部 3 +
      综合业务部 2 + 检务保障部 2 + 案件管理部 2 = 29 廉洁从检承诺书.

    So ZR = 7 + 8 = 15, CN = 7 + 8 = 15, LJ = 29, 59 letters in all.
    """
    roster = demo_roster()
    result = build_pairings(roster, 2027, DEFAULTS)
    assert counts_by_kind(result) == {ZR: 15, CN: 15, LJ: 29}
    assert len(result.pairings) == 59
    tiers = [(p.kind.code, tier_of(p)) for p in result.pairings]
    assert tiers.count(("ZR", "leadership")) == 7
    assert tiers.count(("ZR", "department")) == 8
    assert tiers.count(("CN", "leadership")) == 7
    assert tiers.count(("CN", "department")) == 8
    assert tiers.count(("LJ", "staff")) == 29
    # Each member of a department signs exactly one pledge.
    members = [m for d in roster.departments for m in d.members]
    assert sorted(p.subordinate.id for p in result.pairings if p.kind is LJ) == sorted(members)
    assert result.notes == (
        "王建华(P003)既是部门“第四检察部”的分管院领导又是该部门负责人,不与自己签订责任书和"
        "公开承诺书(已跳过);本部门成员与其签订《廉洁从检承诺书》",
    )


def test_demo_department_tier_pairs() -> None:
    result = build_pairings(demo_roster(), 2027, DEFAULTS)
    pairs = [
        (p.superior.id, p.subordinate.id, p.department)
        for p in result.pairings
        if p.kind is ZR and tier_of(p) == "department"
    ]
    assert pairs == [
        ("P006", "P009", "办公室"),
        ("P006", "P014", "政工科"),
        ("P002", "P018", "第一检察部"),
        ("P002", "P024", "第二检察部"),
        ("P003", "P029", "第三检察部"),
        ("P004", "P037", "综合业务部"),
        ("P004", "P040", "检务保障部"),
        ("P001", "P043", "案件管理部"),
    ]
    # The members of 第四检察部 sign with the 副检察长 who heads it.
    fourth = [p for p in result.pairings if p.department == "第四检察部"]
    assert [(p.kind, p.superior.id, p.subordinate.id) for p in fourth] == [
        (LJ, "P003", "P034"),
        (LJ, "P003", "P035"),
        (LJ, "P003", "P036"),
    ]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (replace(DEFAULTS, committee_members_with_secretary=False), {ZR: 13, CN: 13, LJ: 29}),
        (replace(DEFAULTS, discipline_head_with_secretary=False), {ZR: 14, CN: 14, LJ: 29}),
        (replace(DEFAULTS, public_commitment_at_department_tier=False), {ZR: 15, CN: 7, LJ: 29}),
    ],
)
def test_options_change_counts_and_are_explained(
    options: PairingOptions, expected: dict[LetterKind, int]
) -> None:
    result = build_pairings(demo_roster(), 2027, options)
    assert counts_by_kind(result) == expected
    if not options.committee_members_with_secretary:
        assert sum("committee_members_with_secretary = false" in n for n in result.notes) == 2
    if not options.discipline_head_with_secretary:
        assert any("纪检组长陈志刚(P005)不与党组书记签订" in n for n in result.notes)


def test_ids_articles_and_reasons() -> None:
    result = build_pairings(demo_roster(), 2027, DEFAULTS)
    by_id = {p.doc_id: p for p in result.pairings}
    assert len(by_id) == len(result.pairings)
    for p in result.pairings:
        assert p.doc_id == f"2027-{p.kind.code}-{p.superior.id}-{p.subordinate.id}"
        assert re.fullmatch(r"2027-(ZR|CN|LJ)-[A-Za-z0-9_-]+-[A-Za-z0-9_-]+", p.doc_id)
        assert p.year == 2027
        assert p.reason
    assert by_id["2027-ZR-P001-P002"].articles == ("9.5", "10.3")
    assert by_id["2027-ZR-P001-P002"].department is None
    assert by_id["2027-CN-P001-P002"].articles == ("9.6", "10.3")
    assert by_id["2027-ZR-P001-P007"].articles == ("6", "9.5", "10.3", "11", "14")
    assert "第十四条" in by_id["2027-ZR-P001-P007"].reason
    assert by_id["2027-ZR-P006-P009"].articles == ("9.5", "11.2")
    assert by_id["2027-CN-P006-P009"].articles == ("9.6",)
    assert "第十一条第2项" in by_id["2027-CN-P006-P009"].reason
    assert by_id["2027-LJ-P009-P010"].articles == ("9.7",)
    assert by_id["2027-LJ-P014-P017"].subordinate.name == "阿依古丽·买买提"
    assert by_id["2027-LJ-P014-P017"].department == "政工科"
    assert by_id["2027-LJ-P014-P017"].reason == (
        "部门负责人胡静(P014)与本部门(“政工科”)工作人员阿依古丽·买买提(P017)签订"
        "《廉洁从检承诺书》(第九条第7项)"
    )


def test_order_is_kind_then_tier_then_roster() -> None:
    result = build_pairings(demo_roster(), 2031, DEFAULTS)
    kinds = [p.kind.code for p in result.pairings]
    assert kinds == ["ZR"] * 15 + ["CN"] * 15 + ["LJ"] * 29
    zr_tiers = [tier_of(p) for p in result.pairings if p.kind is ZR]
    assert zr_tiers == ["leadership"] * 7 + ["department"] * 8
    leadership = [p.subordinate.id for p in result.pairings if p.kind is ZR][:7]
    assert leadership == ["P002", "P003", "P004", "P005", "P006", "P007", "P008"]
    assert result.pairings[0].doc_id == "2031-ZR-P001-P002"
    assert result.pairings[-1].doc_id == "2031-LJ-P043-P045"


def test_stable_across_runs_and_key_order(tmp_path: Path) -> None:
    first = build_pairings(demo_roster(), 2027, DEFAULTS)
    second = build_pairings(demo_roster(), 2027, DEFAULTS)
    assert first == second
    # The same roster with every mapping's keys reversed and departments before people.
    data = yaml.safe_load(demo_roster_yaml())
    shuffled = {
        "departments": [dict(reversed(list(d.items()))) for d in data["departments"]],
        "people": [dict(reversed(list(p.items()))) for p in data["people"]],
        "institution": data["institution"],
    }
    path = tmp_path / "roster.yaml"
    path.write_text(yaml.safe_dump(shuffled, allow_unicode=True, sort_keys=False), "utf-8")
    assert "departments" in path.read_text("utf-8").splitlines()[0]
    third = build_pairings(load_roster(path), 2027, DEFAULTS)
    assert [p.doc_id for p in third.pairings] == [p.doc_id for p in first.pairings]
    assert [p.reason for p in third.pairings] == [p.reason for p in first.pairings]
    assert third.notes == first.notes
    assert result_as_dict(third) == result_as_dict(first)


def test_leader_heading_his_own_department() -> None:
    roster = roster_of(
        [("S", Role.PARTY_SECRETARY), ("L", Role.LEADER), ("A", Role.STAFF), ("B", Role.STAFF)],
        [Department("第一检察部", head="L", supervisor="L", members=("A", "B"))],
    )
    result = build_pairings(roster, 2027, DEFAULTS)
    assert [p.doc_id for p in result.pairings] == [
        "2027-ZR-S-L",
        "2027-CN-S-L",
        "2027-LJ-L-A",
        "2027-LJ-L-B",
    ]
    assert result.notes == (
        "姓名L(L)既是部门“第一检察部”的分管院领导又是该部门负责人,不与自己签订责任书和公开承诺书"
        "(已跳过);本部门成员与其签订《廉洁从检承诺书》",
    )


def test_vacant_head_members_sign_with_supervisor() -> None:
    roster = roster_of(
        [("S", Role.PARTY_SECRETARY), ("L", Role.LEADER), ("A", Role.STAFF), ("B", Role.STAFF)],
        [Department("检务保障部", head=None, supervisor="L", members=("A", "B"))],
    )
    result = build_pairings(roster, 2027, DEFAULTS)
    assert [p.doc_id for p in result.pairings] == [
        "2027-ZR-S-L",
        "2027-CN-S-L",
        "2027-LJ-L-A",
        "2027-LJ-L-B",
    ]
    assert all(p.department == "检务保障部" for p in result.pairings if p.kind is LJ)
    assert result.notes == (
        "警告:部门“检务保障部”没有负责人,2 名成员与分管院领导姓名L(L)签订《廉洁从检承诺书》",
    )


def test_secretary_supervising_a_department() -> None:
    roster = roster_of(
        [("S", Role.PARTY_SECRETARY), ("H", Role.DEPARTMENT_HEAD), ("A", Role.STAFF)],
        [Department("案件管理部", head="H", supervisor="S", members=("A",))],
    )
    result = build_pairings(roster, 2027, DEFAULTS)
    assert [(p.doc_id, tier_of(p)) for p in result.pairings] == [
        ("2027-ZR-S-H", "department"),
        ("2027-CN-S-H", "department"),
        ("2027-LJ-H-A", "staff"),
    ]
    assert supervised_departments(roster, "S") == ["案件管理部"]
    assert supervised_departments(roster, "H") == []


def test_one_head_of_two_departments_signs_once() -> None:
    roster = roster_of(
        [
            ("S", Role.PARTY_SECRETARY),
            ("L", Role.LEADER),
            ("H", Role.DEPARTMENT_HEAD),
            ("A", Role.STAFF),
            ("B", Role.STAFF),
        ],
        [
            Department("第一检察部", head="H", supervisor="L", members=("A",)),
            Department("第二检察部", head="H", supervisor="L", members=("B",)),
        ],
    )
    result = build_pairings(roster, 2027, DEFAULTS)
    assert [p.doc_id for p in result.pairings] == [
        "2027-ZR-S-L",
        "2027-ZR-L-H",
        "2027-CN-S-L",
        "2027-CN-L-H",
        "2027-LJ-H-A",
        "2027-LJ-H-B",
    ]
    zr = result.pairings[1]
    assert zr.department == "第一检察部、第二检察部"
    assert "合并为一份" in zr.reason
    assert supervised_departments(roster, "L") == ["第一检察部", "第二检察部"]


def test_leader_heading_department_of_another_leader_is_not_duplicated() -> None:
    roster = roster_of(
        [("S", Role.PARTY_SECRETARY), ("L", Role.LEADER), ("A", Role.STAFF)],
        [Department("办公室", head="L", supervisor="S", members=("A",))],
    )
    result = build_pairings(roster, 2027, DEFAULTS)
    assert [p.doc_id for p in result.pairings] == ["2027-ZR-S-L", "2027-CN-S-L", "2027-LJ-L-A"]
    assert len(result.notes) == 2
    assert all("部门“办公室”不再另签" in n for n in result.notes)


def test_nobody_is_dropped_silently() -> None:
    roster = roster_of(
        [
            ("S", Role.PARTY_SECRETARY),
            ("L", Role.LEADER),
            ("H", Role.DEPARTMENT_HEAD),
            ("X", Role.STAFF),
            ("Y", Role.DEPARTMENT_HEAD),
            ("Z", Role.STAFF),
        ],
        [
            Department("第一检察部", head="H", supervisor=None, members=("X",)),
        ],
    )
    result = build_pairings(roster, 2027, DEFAULTS)
    assert [p.doc_id for p in result.pairings] == ["2027-ZR-S-L", "2027-CN-S-L", "2027-LJ-H-X"]
    assert result.notes == (
        "警告:部门“第一检察部”没有分管院领导,负责人姓名H(H)没有签订《党风廉政建设责任书》的上级",
        "姓名Y(Y)(部门负责人)不参与任何文书的签订:没有负责任何部门,也不是任何部门的成员",
        "姓名Z(Z)(工作人员)不参与任何文书的签订:不属于任何部门",
    )


def test_department_without_head_or_supervisor() -> None:
    roster = roster_of(
        [("S", Role.PARTY_SECRETARY), ("A", Role.STAFF)],
        [Department("办公室", head=None, supervisor=None, members=("A",))],
    )
    result = build_pairings(roster, 2027, DEFAULTS)
    assert result.pairings == ()
    assert result.notes == (
        "警告:部门“办公室”既没有负责人也没有分管院领导,姓名A(A)无人可签订《廉洁从检承诺书》",
        "姓名S(S)(党组书记)不参与任何文书的签订:名册中没有班子成员或检委会专职委员,"
        "也没有其分管的部门",
    )


def test_no_secretary_is_explained() -> None:
    roster = roster_of([("L", Role.LEADER), ("C", Role.COMMITTEE_MEMBER)], [])
    result = build_pairings(roster, 2027, DEFAULTS)
    assert result.pairings == ()
    assert result.notes == (
        "警告:名册中没有党组书记,姓名L(L)、姓名C(C)与党组书记的"
        "《党风廉政建设责任书》《公开承诺书》无法生成",
    )


_ROLES = st.sampled_from(list(Role))


@st.composite
def rosters(draw: st.DrawFn) -> Roster:
    """Any shape of roster, valid or not: the hierarchy must never pair a person with
    themselves and never emit the same document id twice."""
    size = draw(st.integers(min_value=1, max_value=12))
    ids = [f"P{i:02d}" for i in range(size)]
    people = [(pid, draw(_ROLES)) for pid in ids]
    maybe_id = st.one_of(st.none(), st.sampled_from(ids))
    departments = [
        Department(
            f"部门{d}",
            head=draw(maybe_id),
            supervisor=draw(maybe_id),
            members=tuple(draw(st.lists(st.sampled_from(ids), max_size=4))),
        )
        for d in range(draw(st.integers(min_value=0, max_value=4)))
    ]
    return roster_of(people, departments)


@settings(max_examples=150, deadline=None)
@given(
    roster=rosters(), options=st.builds(PairingOptions, st.booleans(), st.booleans(), st.booleans())
)
def test_never_a_self_pairing(roster: Roster, options: PairingOptions) -> None:
    result = build_pairings(roster, 2027, options)
    ids = [p.doc_id for p in result.pairings]
    assert len(ids) == len(set(ids))
    for p in result.pairings:
        assert p.superior.id != p.subordinate.id
    assert build_pairings(roster, 2027, options) == result
    involved = {p.superior.id for p in result.pairings} | {
        p.subordinate.id for p in result.pairings
    }
    for person in roster.people:
        if person.id not in involved:
            assert any(person.id in note for note in result.notes), (person, result.notes)


SHARED_ID_ROSTER = """\
institution: "庆城县人民检察院"
people:
  - {id: S, name: 张明远, title: 党组书记、检察长, role: 党组书记}
  - {id: L, name: 李卫东, title: 党组成员、副检察长, role: 班子成员}
  - {id: H, name: 马俊峰, title: 办公室主任, role: 部门负责人}
  - {id: H-X, name: 胡静, title: 政工科科长, role: 部门负责人}
  - {id: X-Y, name: 宋佳琪, title: 科员, role: 工作人员}
  - {id: Y, name: 唐浩然, title: 科员, role: 工作人员}
departments:
  - {name: 办公室, head: H, supervisor: L, members: [X-Y]}
  - {name: 政工科, head: H-X, supervisor: L, members: [Y]}
"""


def test_two_pairings_with_one_letter_id_are_refused(tmp_path: Path) -> None:
    """(H, X-Y) and (H-X, Y) would both be 2027-LJ-H-X-Y: two letters, one id, one overwriting
    the other. generate refuses, names the roster, the line and the field, and writes nothing."""
    from docgen.letters.workspace_init import init_workspace
    from tests.helpers import run_docgen

    root = tmp_path / "ws"
    init_workspace(root, institution="庆城县人民检察院", year=2027, roster_yaml=SHARED_ID_ROSTER)
    before = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
    out = run_docgen("generate", "--workspace", str(root), "--year", "2027")
    assert out.code == 1
    assert "宋佳琪(X-Y)" in out.err and "唐浩然(Y)" in out.err
    assert "“2027-LJ-H-X-Y”" in out.err
    assert "roster.yaml" in out.err and "第 8 行" in out.err and "字段“id”" in out.err
    assert "请修改其中一人的编号" in out.err
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == before
    shown = run_docgen("pairings", "--workspace", str(root), "--year", "2027")
    assert shown.code == 1 and "“2027-LJ-H-X-Y”" in shown.err
