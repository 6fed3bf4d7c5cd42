"""The streaming roster reader (no node tree) against the tree reader it stands in for.

``docgen.roster.load`` reads a roster from libyaml's events one entry at a time
(``docgen.roster.stream_reader``) and falls back to the whole node tree
(``docgen.roster.tree_reader.parse_tree``, the reader every message comes from) as soon as it meets
anything to report or any YAML it leaves to the tree (anchors, aliases, several documents, a
file that is not UTF-8). These tests hold the two to the same results: equal ``Roster`` objects,
equal locators, and exactly the same messages — file, line, field, text and severity — in the
same order, for valid rosters, rosters with problems of meaning, and broken rosters.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docgen.core.errors import Problem, ProblemsError, ValidationError
from docgen.core.models import Department, Person, Roster
from docgen.roster import load as roster_load
from docgen.roster import stream_reader, tree_reader
from docgen.roster.check import check_roster, in_file_order
from docgen.roster.example import demo_roster_yaml, example_roster_yaml
from docgen.roster.load import (
    inspect_roster,
    inspect_roster_text,
    load_roster,
    parse_roster_text,
    read_roster_text,
    with_normalised_names,
)
from docgen.roster.spreadsheet import roster_to_yaml
from docgen.roster.vocabulary import RosterCheck, bad_characters, is_valid_id, parse_role

_MAKE_ROSTER = Path(__file__).resolve().parents[2] / "benchmarks" / "make_roster.py"


def _make_roster_yaml(n: int) -> str:
    spec = importlib.util.spec_from_file_location("make_roster_for_tests", _MAKE_ROSTER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text: str = module.make_roster_yaml(n)
    return text


# ---------------------------------------------------------------------------------------
# The reference: the reader as it was, the whole node tree for every roster
# ---------------------------------------------------------------------------------------


def reference_text(text: str, source: str | None = None) -> RosterCheck:
    """``inspect_roster_text`` before the streaming reader."""
    roster, problems, locator = tree_reader.parse_tree(text, source)
    if roster is not None:
        problems.extend(check_roster(roster, locator))
    return RosterCheck(roster=roster, problems=in_file_order(problems))


def reference_file(path: Path) -> RosterCheck:
    """``inspect_roster`` before the streaming reader."""
    return reference_text(read_roster_text(path), str(path))


def messages(problems: tuple[Problem, ...] | list[Problem]) -> list[tuple[Any, ...]]:
    return [(p.message, p.location, p.severity) for p in problems]


def assert_same_check(new: RosterCheck, old: RosterCheck) -> None:
    assert new.roster == old.roster
    assert messages(new.problems) == messages(old.problems)


def assert_same_load(path: Path) -> None:
    """``load_roster`` returns an equal roster, or raises with exactly the old messages."""
    old = reference_file(path)
    if old.roster is None or old.errors:
        with pytest.raises(ProblemsError) as caught:
            load_roster(path)
        assert messages(caught.value.problems) == messages(old.problems)
        assert caught.value.message == (
            f"名册 {path} 有 {len(old.errors)} 处错误,{len(old.warnings)} 处警告"
        )
    else:
        assert load_roster(path) == with_normalised_names(old.roster)


def assert_fast_equals_tree(text: str, source: str | None = "roster.yaml") -> None:
    """The streaming reader accepts ``text`` and builds what the tree reader builds."""
    fast = stream_reader.parse_streaming(text, source)
    assert fast is not None, "the streaming reader left a valid roster to the tree reader"
    roster, problems, locator = tree_reader.parse_tree(text, source)
    assert problems == []
    assert fast[0] == roster
    assert fast[1] == locator
    assert dict(fast[1].people) == locator.people
    assert dict(fast[1].departments) == locator.departments
    assert set(fast[1].people) == set(locator.people)
    assert len(fast[1].departments) == len(locator.departments)
    new_roster, new_problems, new_locator = parse_roster_text(text, source)
    assert (new_roster, new_problems, new_locator) == (roster, [], locator)


def write(tmp_path: Path, text: str, name: str = "roster.yaml", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# ---------------------------------------------------------------------------------------
# Valid rosters: the fast path is taken and gives the same Roster
# ---------------------------------------------------------------------------------------

PEOPLE = """\
  - {id: P001, name: 张明远, title: 党组书记、检察长, role: 党组书记}
  - {id: P002, name: 李卫东, title: 副检察长, role: 班子成员}
  - {id: P010, name: 马俊峰, title: 办公室主任, role: 部门负责人}
  - {id: P011, name: 宋佳琪, title: 科员, role: 工作人员}
"""
DEPARTMENTS = """\
  - {name: 办公室, head: P010, supervisor: P002, members: [P011]}
"""

VALID: dict[str, str] = {
    "example": example_roster_yaml(),
    "demo": demo_roster_yaml(),
    "synthetic-300 (awkward names)": _make_roster_yaml(300),
    "plain": f"institution: 某院\npeople:\n{PEOPLE}departments:\n{DEPARTMENTS}",
    "block style, comments, odd key order": """\
# 名册
departments:   # 部门在前
  - name: "办公室"        # 部门名
    members:
      - P011              # 成员
      - 'P012'
    supervisor: P002
    head: P010
institution: '某院'
people:
  - role: 党组书记
    title: 党组书记、检察长
    name: 张明远   # 行尾注释
    id: P001
  -
    id: P002
    name: "李卫东"
    title: >-
      副检察长
    role: " 班子成员 "
  - id: P010
    name: |-
      马俊峰
    title: 办公室主任
    role: 部门负责人
  - {id: P011,
     name: 宋佳琪,
     title: 科员, role: staff}
  - {"id": "P012", 'name': '阿依古丽·买买提', title: "检察官", role: 干警}
""",
    "awkward names and values": """\
institution: "A&B<C> 人民检察院"
people:
  - {id: "007", name: "𠮷野家", title: "{{ x }}", role: 党组书记}
  - {id: a-b_C9, name: "张<三>", title: "李&四", role: LEADER}
  - {id: 1e3, name: " 阿依古丽·买买提 ", title: "yes", role: 部门负责人}
  - {id: "0x1F", name: "null", title: "~", role: 工作人员}
  - {id: P5, name: 'It''s', title: "多　字符", role: 工作人员}
  - {id: P6, name: "1.10", title: !!str 2024-01-01, role: 工作人员}
  - {id: P7, name: ! 张三, title: "#不是注释", role: 工作人员}
departments:
  - {name: "on", head: "1e3", supervisor: "a-b_C9", members: ["0x1F", P5, P6, P7]}
""",
    "nulls and empty lists": """\
institution: 某院
people:
  - {id: P001, name: 张明远, title: 检察长, role: 党组书记}
  - {id: P002, name: 李卫东, title: 副检察长, role: 班子成员}
  - {id: P003, name: 王五, title: 科员, role: 工作人员}
departments:
  - {name: 甲部, head: ~, supervisor: P002, members: [P003]}
  - {name: 乙部, head: null, supervisor: P002, members: []}
  - {name: 丙部, head: "", supervisor: P002, members: ~}
  - {name: 丁部, supervisor: P002}
  - name: 己部
    head:
    supervisor: P002
  - name: 戊部
    supervisor: P002
    head: !!null ''
    members:
""",
    "no departments and document markers": """\
%YAML 1.1
---
institution: 某院
people:
  - {id: P001, name: 张明远, title: 检察长, role: 党组书记}
departments: null
...
""",
    "empty people": "institution: 某院\npeople:\ndepartments: []\n",
    "crlf": f"institution: 某院\npeople:\n{PEOPLE}departments:\n{DEPARTMENTS}".replace(
        "\n", "\r\n"
    ),
    "leading bom in text": "\ufeffinstitution: 某院\npeople: []\ndepartments: []\n",
    "multi-line plain and quoted scalars": """\
institution: 某省
  人民检察院
people:
  - id: P001
    name: "张
      明远"
    title: 党组书记、
      检察长
    role: 党组书记
departments: []
""",
    "tags on collections": """\
institution: 某院
people: !!seq
  - !!map {id: P001, name: 张明远, title: 检察长, role: 党组书记}
departments: !custom []
""",
    "unicode line separators in quoted text are not names": (
        "institution: 某院\npeople:\n"
        "  - {id: P001, name: 张明远, title: 检察长, role: 党组书记}\n"
        "departments:\n  - {name: \"部 门\", supervisor: P001}\n"
    ),
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_fast_path_gives_the_tree_readers_roster(name: str) -> None:
    assert_fast_equals_tree(VALID[name])


@pytest.mark.parametrize("name", sorted(VALID))
def test_files_give_the_same_check_and_load(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, VALID[name])
    assert roster_load._stream_roster_file(path) is not None
    assert_same_check(inspect_roster(path), reference_file(path))
    assert_same_check(inspect_roster_text(VALID[name], str(path)), reference_file(path))
    assert_same_load(path)


def test_imported_roster_layout_takes_the_fast_path() -> None:
    roster = load_roster_text(_make_roster_yaml(200))
    assert_fast_equals_tree(roster_to_yaml(roster, origin="人员表.xlsx"))


def load_roster_text(text: str) -> Roster:
    roster, problems, _ = parse_roster_text(text)
    assert roster is not None and problems == []
    return roster


@pytest.mark.parametrize("bom", ["\ufeff", "\ufeff\ufeff"])
def test_bom_files(tmp_path: Path, bom: str) -> None:
    text = bom + VALID["plain"]
    path = write(tmp_path, text)
    assert roster_load._stream_roster_file(path) is not None
    assert_same_check(inspect_roster(path), reference_file(path))
    assert_same_load(path)


def test_lines_and_locations_are_kept(tmp_path: Path) -> None:
    path = write(tmp_path, VALID["block style, comments, odd key order"])
    roster = load_roster(path)
    assert [p.line for p in roster.people] == [11, 16, 21, 26, 29]
    assert roster.departments[0] == Department(
        "办公室", "P010", "P002", ("P011", "P012"), line=3
    )
    assert roster.people[1] == Person("P002", "李卫东", "副检察长", roster.people[1].role, line=16)


# ---------------------------------------------------------------------------------------
# Rosters with problems: the tree reader gives every message, exactly as before
# ---------------------------------------------------------------------------------------

BASE = "institution: 某院\npeople:\n{people}departments:\n{departments}"


def with_people(*extra: str, departments: str = DEPARTMENTS) -> str:
    people = PEOPLE + "".join(f"  - {e}\n" for e in extra)
    return BASE.format(people=people, departments=departments)


BROKEN: dict[str, str] = {
    "empty file": "",
    "only a comment": "# 名册\n",
    "not a mapping": "- a\n- b\n",
    "yaml syntax": "institution: 某院\npeople:\n  - {id: P001, name: 张三\n",
    "tab indentation": "institution: 某院\npeople:\n\t- {id: P001}\n",
    "two documents": VALID["plain"] + "---\ninstitution: 另一院\n",
    "missing institution": f"people:\n{PEOPLE}departments:\n{DEPARTMENTS}",
    "empty institution": f'institution: ""\npeople:\n{PEOPLE}departments:\n{DEPARTMENTS}',
    "null institution": f"institution:\npeople:\n{PEOPLE}departments:\n{DEPARTMENTS}",
    "missing people": f"institution: 某院\ndepartments:\n{DEPARTMENTS}",
    "people is a mapping": "institution: 某院\npeople: {a: 1}\ndepartments: []\n",
    "people is text": "institution: 某院\npeople: 张三\ndepartments: []\n",
    "people quoted empty": 'institution: 某院\npeople: ""\ndepartments: []\n',
    "unknown top-level key": VALID["plain"] + "备注: 无\n",
    "unknown top-level key, null": VALID["plain"] + "备注:\n",
    "unknown top-level key first, list": "备注: [1]\n" + VALID["plain"],
    "duplicate top-level key": VALID["plain"] + "institution: 另一院\n",
    "person not a mapping": with_people("P099"),
    "person missing role": with_people("{id: P099, name: 赵六, title: 科员}"),
    "person null name": with_people("{id: P099, name: ~, title: 科员, role: 工作人员}"),
    "person empty name": with_people('{id: P099, name: " ", title: 科员, role: 工作人员}'),
    "person bad id": with_people("{id: 张三, name: 赵六, title: 科员, role: 工作人员}"),
    "person long id": with_people("{id: " + "A" * 33 + ", name: 赵六, title: 科员, role: 干警}"),
    "person bad role": with_people("{id: P099, name: 赵六, title: 科员, role: 门卫}"),
    "person unknown key": with_people("{id: P099, name: 赵六, title: 科员, role: 干警, 备注: x}"),
    "person duplicate key": with_people("{id: P099, name: 赵, name: 钱七, title: 科, role: 干警}"),
    "person list value": with_people("{id: P099, name: [赵六], title: 科员, role: 干警}"),
    "person mapping key": with_people("{? [id] : P099, name: 赵六, title: 科员, role: 干警}"),
    "person invisible character": with_people(
        '{id: P099, name: "赵\\u200b六", title: 科员, role: 干警}'
    ),
    "person control character": with_people(
        '{id: P099, name: "赵\\x07六", title: 科员, role: 干警}'
    ),
    "anchor and alias": with_people(
        "{id: P098, name: 赵六, title: &t 科员, role: 干警}",
        "{id: P099, name: 钱七, title: *t, role: 干警}",
    ),
    "undefined alias": with_people("{id: P099, name: 钱七, title: *t, role: 干警}"),
    "department not a mapping": with_people(departments="  - 办公室\n"),
    "department without name": with_people(departments="  - {head: P010, supervisor: P002}\n"),
    "department name list": with_people(departments="  - {name: [办公室], supervisor: P002}\n"),
    "department members text": with_people(
        departments="  - {name: 办公室, supervisor: P002, members: P011}\n"
    ),
    "department members mapping": with_people(
        departments="  - {name: 办公室, supervisor: P002, members: {a: P011}}\n"
    ),
    "department null member": with_people(
        departments="  - {name: 办公室, supervisor: P002, members: [P011, ~]}\n"
    ),
    "department list member": with_people(
        departments="  - {name: 办公室, supervisor: P002, members: [[P011]]}\n"
    ),
    "department head list": with_people(
        departments="  - {name: 办公室, head: [P010], supervisor: P002}\n"
    ),
    "department unknown key": with_people(
        departments="  - {name: 办公室, supervisor: P002, 人数: 2}\n"
    ),
    "department unknown key, null": with_people(
        departments="  - {name: 办公室, supervisor: P002, 备注: ~, members: [P011]}\n"
    ),
    "department unknown key, list": with_people(
        departments="  - {name: 办公室, supervisor: P002, 备注: [P011], members: [P011]}\n"
    ),
    "person unknown key, null": with_people("{id: P099, name: 赵六, title: 科员, role: 干警, x: }"),
    "department duplicate key": with_people(
        departments="  - {name: 办公室, supervisor: P002, supervisor: P001}\n"
    ),
    "anchored department": with_people(
        departments="  - &d {name: 办公室, supervisor: P002, members: [P011]}\n"
    ),
    "non-ascii key": with_people("{编号: P099, name: 赵六, title: 科员, role: 干警}"),
    # Problems of meaning: the streaming reader reads these; check_roster reports them.
    "duplicate id": with_people("{id: P011, name: 赵六, title: 科员, role: 工作人员}"),
    "two secretaries": with_people("{id: P099, name: 赵六, title: 检察长, role: 党组书记}"),
    "unknown references": with_people(
        departments="  - {name: 办公室, head: P404, supervisor: P405, members: [P011, P406]}\n"
    ),
    "member twice and in two departments": with_people(
        departments=(
            "  - {name: 办公室, head: P010, supervisor: P002, members: [P011, P011]}\n"
            "  - {name: 二部, supervisor: P001, members: [P011, P010, P001]}\n"
        )
    ),
    "warnings only": with_people(
        "{id: P099, name: 赵六, title: 科员, role: 工作人员}",
        departments="  - {name: 办公室, supervisor: P002, members: [P011]}\n",
    ),
    "no secretary": "institution: 某院\npeople: []\ndepartments: []\n",
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_problem_messages_are_those_of_the_tree_reader(tmp_path: Path, name: str) -> None:
    text = BROKEN[name]
    old = reference_text(text, "roster.yaml")
    assert old.problems, "each of these rosters has something to report"
    assert_same_check(inspect_roster_text(text, "roster.yaml"), old)
    new_roster, new_problems, new_locator = parse_roster_text(text, "roster.yaml")
    old_roster, old_problems, old_locator = tree_reader.parse_tree(text, "roster.yaml")
    assert new_roster == old_roster
    assert messages(new_problems) == messages(old_problems)
    assert new_locator == old_locator
    if old_problems:  # structural problems: the streaming reader must not accept the text
        assert stream_reader.parse_streaming(text, "roster.yaml") is None
    path = write(tmp_path, text)
    assert_same_check(inspect_roster(path), reference_file(path))
    assert_same_load(path)


def test_unreadable_files_give_the_same_errors(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(ValidationError, match="找不到名册文件"):
        load_roster(missing)
    with pytest.raises(ValidationError, match="名册路径是一个目录"):
        load_roster(tmp_path)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(VALID["plain"].encode("utf-8") + b"note: \xe9\n")
    assert roster_load._stream_roster_file(latin) is None
    with pytest.raises(ValidationError) as caught:
        load_roster(latin)
    assert caught.value.message == "名册不是 UTF-8 编码"
    assert caught.value.location is not None and caught.value.location.row == 9
    utf16 = write(tmp_path, VALID["plain"], "utf16.yaml", encoding="utf-16")
    with pytest.raises(ValidationError, match="名册不是 UTF-8 编码"):
        load_roster(utf16)


# ---------------------------------------------------------------------------------------
# Generated rosters: every variation of layout, value and mistake, both readers
# ---------------------------------------------------------------------------------------

_IDS = ["P001", "P002", "P003", "P010", "P011", "007", "a-b_C", "1e3", "", "张三", "A" * 33, "~"]
_TEXTS = [
    "张明远", "𠮷野家", "阿依古丽·买买提", "A&B<C>", "{{ x }}", "张<三>", "李&四", " 王五 ", "",
    "null", "yes", "1.10", "#号", "a: b", "- x", "赵\u200b六", "钱\x07七", "多行\n文字", "It's",
]  # fmt: skip
_ROLES = ["党组书记", "班子成员", "纪检组长", "部门负责人", "工作人员", "干警", "staff", "门卫", ""]
_NULLS = ["~", "null", "", "!!null ''"]
# The values a clean roster draws from (no structural problem; problems of meaning remain).
_GOOD_IDS = [i for i in _IDS if is_valid_id(i)]
_GOOD_TEXTS = [t for t in _TEXTS if t.strip() and not bad_characters(t.strip())]
_GOOD_ROLES = [r for r in _ROLES if parse_role(r) is not None]


@st.composite
def _scalar(draw: st.DrawFn, choices: list[str], *, nullable: bool = True) -> str:
    """A YAML scalar for one of ``choices``: plain when that is safe, else quoted; or a null."""
    if nullable and draw(st.integers(0, 19)) == 0:
        return draw(st.sampled_from(_NULLS))
    value = draw(st.sampled_from(choices))
    style = draw(st.sampled_from(["plain", "double", "single"]))
    safe_plain = value and value.strip() == value and all(
        ch.isalnum() or ch in "-_·" for ch in value
    )
    if style == "plain" and safe_plain:
        return value
    if style == "single" and "\n" not in value and value.isprintable():
        return "'" + value.replace("'", "''") + "'"
    return json.dumps(value, ensure_ascii=draw(st.booleans()))


@st.composite
def _entry(draw: st.DrawFn, fields: dict[str, str], indent: str, clean: bool) -> str:
    """One list item, flow or block style, fields in any order; unless ``clean``, sometimes an
    extra or doubled key, sometimes a field left out."""
    items = list(fields.items())
    items = draw(st.permutations(items))
    if not clean and draw(st.integers(0, 14)) == 0:
        items = items[1:]
    extra = 99 if clean else draw(st.integers(0, 24))
    if extra == 0:
        items.append(("备注", draw(st.sampled_from(["无", "~", "[]", "{}"]))))
    elif extra == 1 and items:
        items.append(items[0])
    if draw(st.booleans()):
        return f"{indent}- {{" + ", ".join(f"{k}: {v}" for k, v in items) + "}"
    if not items:
        return f"{indent}- {{}}"
    lines = [f"{indent}- {items[0][0]}: {items[0][1]}"]
    comment = "  # 注释" if draw(st.integers(0, 4)) == 0 else ""
    lines += [f"{indent}  {k}: {v}{comment}" for k, v in items[1:]]
    return "\n".join(lines)


@st.composite
def roster_texts(draw: st.DrawFn) -> str:
    """A roster text; half of them clean (the streaming reader must accept those)."""
    clean = draw(st.booleans())
    ids, texts, roles = (_GOOD_IDS, _GOOD_TEXTS, _GOOD_ROLES) if clean else (_IDS, _TEXTS, _ROLES)
    required = not clean
    dept_names = ["办公室", "一部", "二部"] + ([] if clean else [""])
    institutions = ["某院", "A&B<C> 院"] + ([] if clean else [""])
    people = []
    for _ in range(draw(st.integers(0, 6))):
        fields = {
            "id": draw(_scalar(ids, nullable=required)),
            "name": draw(_scalar(texts, nullable=required)),
            "title": draw(_scalar(texts, nullable=required)),
            "role": draw(_scalar(roles, nullable=required)),
        }
        people.append(draw(_entry(fields, "  ", clean)))
    departments = []
    for _ in range(draw(st.integers(0, 3))):
        members = draw(st.lists(st.sampled_from(_IDS[:7]), max_size=4))
        fields = {
            "name": draw(_scalar(dept_names, nullable=required)),
            "head": draw(_scalar(_IDS[:7])),
            "supervisor": draw(_scalar(_IDS[:7])),
            "members": draw(
                st.sampled_from(
                    [
                        "[" + ", ".join(members) + "]",
                        "[]",
                        "~",
                        "\n" + "\n".join(f"      - {m}" for m in members) if members else "[]",
                    ]
                )
            ),
        }
        departments.append(draw(_entry(fields, "  ", clean)))
    sections = [
        "institution: " + draw(_scalar(institutions, nullable=required)),
        "people:" + ("".join("\n" + p for p in people) if people else " []"),
        "departments:" + ("".join("\n" + d for d in departments) if departments else ""),
    ]
    sections = draw(st.permutations(sections))
    if not clean and draw(st.integers(0, 9)) == 0:
        sections = sections[1:]
    text = "\n".join(sections) + "\n"
    if draw(st.integers(0, 5)) == 0:
        text = "# 名册\n---\n" + text
    if draw(st.integers(0, 5)) == 0:
        text = text.replace("\n", "\r\n")
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(roster_texts())
def test_generated_rosters_read_the_same_both_ways(text: str) -> None:
    old = reference_text(text, "roster.yaml")
    assert_same_check(inspect_roster_text(text, "roster.yaml"), old)
    tree_roster, tree_problems, tree_locator = tree_reader.parse_tree(text, "roster.yaml")
    fast = stream_reader.parse_streaming(text, "roster.yaml")
    if fast is not None:
        assert tree_problems == []
        assert fast == (tree_roster, tree_locator)
    elif tree_roster is not None and not tree_problems:
        pytest.fail("the streaming reader left a roster without problems to the tree reader")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=roster_texts(), bom=st.booleans())
def test_generated_roster_files_load_the_same_both_ways(
    tmp_path_factory: pytest.TempPathFactory, text: str, bom: bool
) -> None:
    path = write(tmp_path_factory.mktemp("roster"), ("\ufeff" if bom else "") + text)
    assert_same_check(inspect_roster(path), reference_file(path))
    assert_same_load(path)


# ---------------------------------------------------------------------------------------
# The line table, the collector, and memory
# ---------------------------------------------------------------------------------------


def test_line_table_behaves_like_the_dict() -> None:
    text = VALID["nulls and empty lists"]
    fast = stream_reader.parse_streaming(text, None)
    assert fast is not None
    _, _, locator = tree_reader.parse_tree(text, None)
    for table, reference in (
        (fast[1].people, locator.people),
        (fast[1].departments, locator.departments),
    ):
        assert len(table) == len(reference)
        assert sorted(table) == sorted(reference)
        odd: list[Any] = [(-1, "name"), (99, "name"), (0, ""), (0, "nope"), ("0", "x"), "x"]
        for key in [*reference, *odd]:
            assert table.get(key) == reference.get(key)
            assert (key in table) == (key in reference)
        with pytest.raises(KeyError):
            table[(-1, "name")]
    assert (3, "head") not in fast[1].departments  # 丁部 has no head field,
    assert (4, "head") in fast[1].departments  # 己部 has one, empty
    assert (3, "members") not in fast[1].departments


@pytest.mark.parametrize("enabled", [True, False])
def test_collector_state_is_restored(tmp_path: Path, enabled: bool) -> None:
    path = write(tmp_path, VALID["plain"])
    broken = write(tmp_path, BROKEN["person bad role"], "broken.yaml")
    was = gc.isenabled()
    try:
        if enabled:
            gc.enable()
        else:
            gc.disable()
        load_roster(path)
        assert gc.isenabled() is enabled
        with pytest.raises(ProblemsError):
            load_roster(broken)
        assert gc.isenabled() is enabled
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()


def test_loading_keeps_no_node_tree(tmp_path: Path) -> None:
    """What a load allocates beyond the roster it returns stays small: the node tree of this
    roster alone would be ≈ 18 MiB (36 MiB per 10⁴ people)."""
    path = write(tmp_path, _make_roster_yaml(5000))
    tracemalloc.start()
    try:
        roster = load_roster(path)
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(roster.people) == 5000
    assert peak - current < 4 * 1024 * 1024


def test_models_are_slotted() -> None:
    person = Person("P001", "张三", "科员", load_roster_text(VALID["plain"]).people[0].role)
    assert not hasattr(person, "__dict__")
    assert not hasattr(Roster("某院", (), ()), "__dict__")
    assert not hasattr(Department("办公室", None, None), "__dict__")


@pytest.mark.parametrize(
    "name", ["block style, comments, odd key order", "awkward names and values"]
)
def test_pure_python_loader_reads_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """Without libyaml (PyYAML's pure-Python loader) both readers still agree."""
    # Each reader holds its own reference to the loader class: patch both, as one patch did
    # when they shared a module.
    monkeypatch.setattr(tree_reader, "YAML_LOADER", yaml.SafeLoader)
    monkeypatch.setattr(stream_reader, "YAML_LOADER", yaml.SafeLoader)
    assert_fast_equals_tree(VALID[name])
    path = write(tmp_path, "\ufeff" + VALID[name])
    assert roster_load._stream_roster_file(path) is not None
    assert_same_check(inspect_roster(path), reference_file(path))
    for broken in ("person bad role", "yaml syntax", "anchor and alias"):
        assert_same_check(
            inspect_roster_text(BROKEN[broken], "r.yaml"), reference_text(BROKEN[broken], "r.yaml")
        )
