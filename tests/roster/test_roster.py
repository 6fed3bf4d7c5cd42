"""Roster loading and checking: every problem reported at once, in Chinese, with file, line
and field; unusual but legitimate names pass untouched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docgen.core.errors import ProblemsError, ValidationError
from docgen.core.glossary import Role
from docgen.roster.example import demo_roster_yaml, example_roster_yaml
from docgen.roster.load import inspect_roster, inspect_roster_text, load_roster, summary_line

# One entry per line, so the line of each entry is known: people start at line 3.
BASE_PEOPLE = [
    "{id: P001, name: 张明远, title: 党组书记、检察长, role: 党组书记}",
    "{id: P002, name: 李卫东, title: 副检察长, role: 班子成员}",
    "{id: P003, name: 陈志刚, title: 纪检组长, role: 纪检组长}",
    "{id: P010, name: 马俊峰, title: 办公室主任, role: 部门负责人}",
    "{id: P011, name: 宋佳琪, title: 科员, role: 工作人员}",
    "{id: P012, name: 唐浩然, title: 文秘, role: staff}",
    "{id: P020, name: 郭志强, title: 第一检察部主任, role: 部门负责人}",
    "{id: P021, name: 许文博, title: 检察官, role: 干警}",
]
BASE_DEPARTMENTS = [
    "{name: 办公室, head: P010, supervisor: P001, members: [P011, P012]}",
    "{name: 第一检察部, head: P020, supervisor: P002, members: [P021]}",
]


def roster_text(
    people: list[str] | None = None,
    departments: list[str] | None = None,
    institution: str = "庆城县人民检察院",
) -> str:
    people = BASE_PEOPLE if people is None else people
    departments = BASE_DEPARTMENTS if departments is None else departments
    lines = [f"institution: {institution}", "people:"]
    lines += [f"  - {p}" for p in people]
    lines.append("departments:")
    lines += [f"  - {d}" for d in departments]
    return "\n".join(lines) + "\n"


def person_line(index: int) -> int:
    return 3 + index


def department_line(index: int, people: int = len(BASE_PEOPLE)) -> int:
    return 3 + people + 1 + index


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roster.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def with_person(index: int, entry: str) -> list[str]:
    people = list(BASE_PEOPLE)
    people[index] = entry
    return people


def with_department(index: int, entry: str) -> list[str]:
    departments = list(BASE_DEPARTMENTS)
    departments[index] = entry
    return departments


def descriptions(path: Path) -> list[str]:
    return [p.describe() for p in inspect_roster(path).problems]


def only(path: Path, needle: str) -> str:
    found = [d for d in descriptions(path) if needle in d]
    assert len(found) == 1, descriptions(path)
    return found[0]


# -- the good cases -------------------------------------------------------------------


def test_base_roster_has_no_problem(tmp_path: Path) -> None:
    path = write(tmp_path, roster_text())
    roster = load_roster(path)
    assert inspect_roster(path).problems == ()
    assert roster.institution == "庆城县人民检察院"
    assert [p.id for p in roster.people][:3] == ["P001", "P002", "P003"]
    assert roster.person("P012").role is Role.STAFF  # code name accepted
    assert roster.person("P021").role is Role.STAFF  # Chinese alias accepted
    assert roster.person("P011").line == person_line(4)
    assert roster.departments[1].line == department_line(1)
    assert roster.departments[0].members == ("P011", "P012")
    assert roster.source == str(path)


def test_demo_and_example_rosters_pass(tmp_path: Path) -> None:
    demo = inspect_roster_text(demo_roster_yaml(), "demo.yaml")
    assert demo.errors == ()
    assert demo.roster is not None
    assert len(demo.roster.people) == 45
    assert len(demo.roster.departments) == 9
    assert [w.message for w in demo.warnings] == [
        "班子成员“王建华”(P003)兼任部门“第四检察部”负责人(允许),不与自己签订责任书;"
        "本部门成员与其签订《廉洁从检承诺书》"
    ]
    assert any("·" in p.name for p in demo.roster.people)
    example = inspect_roster_text(example_roster_yaml("某某县人民检察院"), "example.yaml")
    assert example.problems == ()
    assert example.roster is not None
    assert example.roster.institution == "某某县人民检察院"
    assert len(example.roster.people) == 8


@pytest.mark.parametrize(
    "name",
    ["阿依古丽·买买提", "𠮷田", "张&李", "<王>", "{{ x }}", "{% if a %}", "O'Brien", "Li Lei"],
)
def test_unusual_names_are_accepted_verbatim(tmp_path: Path, name: str) -> None:
    quoted = json.dumps(name, ensure_ascii=False)
    entry = f"{{id: P011, name: {quoted}, title: {quoted}, role: 工作人员}}"
    path = write(tmp_path, roster_text(with_person(4, entry)))
    roster = load_roster(path)
    assert roster.person("P011").name == name
    assert roster.person("P011").title == name


@pytest.mark.parametrize(
    ("typed", "used"),
    [
        ("李 雷", "李雷"),
        ("吕\u3000敏", "吕敏"),
        ("\u3000王芳 ", "王芳"),
        ("Ｌｉ  Ｌｅｉ", "Li Lei"),
    ],
)
def test_names_are_used_in_one_form(tmp_path: Path, typed: str, used: str) -> None:
    """Spaces between CJK characters (Excel pads two-character names with a full-width
    space) and full-width letters would make the same person two names: one form is used."""
    quoted = json.dumps(typed, ensure_ascii=False)
    entry = f"{{id: P011, name: {quoted}, title: 科员, role: 工作人员}}"
    path = write(tmp_path, roster_text(with_person(4, entry)))
    assert load_roster(path).person("P011").name == used


_NAME_CHARS = st.characters(
    blacklist_categories=("Cc", "Cf", "Cs", "Cn", "Zl", "Zp", "Zs"),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.text(alphabet=_NAME_CHARS, min_size=1, max_size=12))
def test_any_printable_name_survives(name: str) -> None:
    quoted = json.dumps(name, ensure_ascii=False)
    entry = f"{{id: P011, name: {quoted}, title: 科员, role: 工作人员}}"
    check = inspect_roster_text(roster_text(with_person(4, entry)), "r.yaml")
    assert check.errors == ()
    assert check.roster is not None
    assert check.roster.person("P011").name == name


def test_ids_keep_what_was_typed(tmp_path: Path) -> None:
    people = with_person(4, "{id: 007, name: 宋佳琪, title: 科员, role: 工作人员}")
    departments = with_department(
        0, "{name: 办公室, head: P010, supervisor: P001, members: ['007', P012]}"
    )
    roster = load_roster(write(tmp_path, roster_text(people, departments)))
    assert roster.person("007").name == "宋佳琪"
    assert roster.departments[0].members == ("007", "P012")


def test_warnings_do_not_block(tmp_path: Path) -> None:
    departments = [
        *BASE_DEPARTMENTS,
        "{name: 检务保障部, head: null, supervisor: P002, members: []}",
    ]
    path = write(tmp_path, roster_text(departments=departments))
    roster = load_roster(path)
    assert len(roster.departments) == 3
    check = inspect_roster(path)
    assert check.errors == ()
    assert len(check.warnings) == 2
    assert summary_line(check) == "共 8 人,3 个部门;错误 0 条,警告 2 条"


# -- warnings ---------------------------------------------------------------------------


def test_leader_heading_the_department_he_supervises(tmp_path: Path) -> None:
    departments = with_department(
        1, "{name: 第一检察部, head: P002, supervisor: P002, members: [P021]}"
    )
    people = with_person(6, "{id: P020, name: 郭志强, title: 检察官, role: 工作人员}")
    departments[1] = "{name: 第一检察部, head: P002, supervisor: P002, members: [P020, P021]}"
    path = write(tmp_path, roster_text(people, departments))
    check = inspect_roster(path)
    assert check.errors == ()
    assert [w.describe() for w in check.warnings] == [
        f"[警告] 文件 {path},第 {department_line(1)} 行,字段“head”:"
        "班子成员“李卫东”(P002)兼任部门“第一检察部”负责人(允许),不与自己签订责任书;"
        "本部门成员与其签订《廉洁从检承诺书》"
    ]


def test_vacant_head_is_a_warning(tmp_path: Path) -> None:
    people = BASE_PEOPLE[:6] + BASE_PEOPLE[7:]  # P020 gone
    departments = with_department(
        1, "{name: 第一检察部, head: null, supervisor: P002, members: [P021]}"
    )
    path = write(tmp_path, roster_text(people, departments))
    check = inspect_roster(path)
    assert check.errors == ()
    assert [w.describe() for w in check.warnings] == [
        f"[警告] 文件 {path},第 {department_line(1, len(people))} 行,字段“head”:"
        "部门“第一检察部”没有负责人:成员将与分管院领导签订《廉洁从检承诺书》"
    ]


def test_empty_department_is_a_warning(tmp_path: Path) -> None:
    departments = [*BASE_DEPARTMENTS, "{name: 检务保障部, head: P030, supervisor: P002}"]
    people = [*BASE_PEOPLE, "{id: P030, name: 罗春生, title: 主任, role: 部门负责人}"]
    path = write(tmp_path, roster_text(people, departments))
    check = inspect_roster(path)
    assert check.errors == ()
    line = department_line(2, len(people))
    assert [w.describe() for w in check.warnings] == [
        f"[警告] 文件 {path},第 {line} 行,字段“members”:"
        "部门“检务保障部”没有成员,将不签订《廉洁从检承诺书》"
    ]


def test_people_outside_departments(tmp_path: Path) -> None:
    people = [
        *BASE_PEOPLE,
        "{id: P030, name: 罗春生, title: 主任, role: 部门负责人}",
        "{id: P031, name: 钟国庆, title: 司法警察, role: 工作人员}",
        "{id: P032, name: 杨文斌, title: 专职委员, role: 检委会专职委员}",
    ]
    path = write(tmp_path, roster_text(people))
    check = inspect_roster(path)
    assert check.errors == ()
    messages = [w.describe() for w in check.warnings]
    assert messages == [
        f"[警告] 文件 {path},第 {person_line(8)} 行,字段“role”:"
        "部门负责人“罗春生”(P030)没有负责任何部门(没有出现在任何部门的 head)",
        f"[警告] 文件 {path},第 {person_line(9)} 行:工作人员“钟国庆”(P031)不属于任何部门,"
        "将不签订《廉洁从检承诺书》;请把其编号加入所在部门的 members",
    ]


def test_unknown_field_is_a_warning(tmp_path: Path) -> None:
    people = with_person(4, "{id: P011, name: 宋佳琪, title: 科员, role: 工作人员, phone: 123}")
    message = only(write(tmp_path, roster_text(people)), "phone")
    assert message.startswith("[警告]")
    assert f"第 {person_line(4)} 行" in message


# -- errors, one at a time --------------------------------------------------------------


def test_person_in_two_departments(tmp_path: Path) -> None:
    departments = with_department(
        1, "{name: 第一检察部, head: P020, supervisor: P002, members: [P021, P011]}"
    )
    path = write(tmp_path, roster_text(departments=departments))
    with pytest.raises(ProblemsError) as raised:
        load_roster(path)
    assert [p.describe() for p in raised.value.problems] == [
        f"[错误] 文件 {path},第 {department_line(1)} 行,字段“members”:"
        "“宋佳琪”(P011)同时在部门“办公室”和“第一检察部”中;一人只能属于一个部门"
    ]


def test_head_of_one_department_member_of_another(tmp_path: Path) -> None:
    departments = with_department(
        0, "{name: 办公室, head: P010, supervisor: P001, members: [P011, P012, P020]}"
    )
    path = write(tmp_path, roster_text(departments=departments))
    message = only(path, "一人只能属于一个部门")
    assert message == (
        f"[错误] 文件 {path},第 {department_line(1)} 行,字段“head”:"
        "“郭志强”(P020)既是部门“第一检察部”的负责人,又是部门“办公室”的成员;一人只能属于一个部门"
    )


def test_duplicate_id(tmp_path: Path) -> None:
    people = with_person(5, "{id: P011, name: 唐浩然, title: 文秘, role: 工作人员}")
    departments = with_department(
        0, "{name: 办公室, head: P010, supervisor: P001, members: [P011]}"
    )
    path = write(tmp_path, roster_text(people, departments))
    assert only(path, "重复") == (
        f"[错误] 文件 {path},第 {person_line(5)} 行,字段“id”:编号“P011”重复:"
        f"“宋佳琪”(P011)(第 {person_line(4)} 行)已使用此编号;每人的编号必须唯一"
    )


def test_unknown_reference(tmp_path: Path) -> None:
    departments = with_department(
        1, "{name: 第一检察部, head: P020, supervisor: P999, members: [P021]}"
    )
    path = write(tmp_path, roster_text(departments=departments))
    assert only(path, "P999") == (
        f"[错误] 文件 {path},第 {department_line(1)} 行,字段“supervisor”:"
        "部门“第一检察部”的分管院领导“P999”不在人员名单中;请填写 people 中已有的编号"
    )


def test_unknown_member_reference(tmp_path: Path) -> None:
    departments = with_department(
        1, "{name: 第一检察部, head: P020, supervisor: P002, members: [P021, X1]}"
    )
    path = write(tmp_path, roster_text(departments=departments))
    message = only(path, "X1")
    assert message.startswith(f"[错误] 文件 {path},第 {department_line(1)} 行,字段“members”:")
    assert "部门成员“X1”不在人员名单中" in message


def test_no_party_secretary(tmp_path: Path) -> None:
    people = with_person(0, "{id: P001, name: 张明远, title: 检察长, role: 班子成员}")
    path = write(tmp_path, roster_text(people))
    assert only(path, "党组书记") == (
        f"[错误] 文件 {path},字段“role”:"
        "名册中没有党组书记:请把检察长(党组书记)的 role 设为“党组书记”"
    )


def test_two_party_secretaries(tmp_path: Path) -> None:
    people = with_person(1, "{id: P002, name: 李卫东, title: 副检察长, role: 书记}")
    path = write(tmp_path, roster_text(people))
    assert only(path, "名党组书记") == (
        f"[错误] 文件 {path},第 {person_line(1)} 行,字段“role”:名册中有 2 名党组书记"
        "(“张明远”(P001)、“李卫东”(P002)),只能有一名;请把其他人的 role 改为“班子成员”等"
    )


def test_department_without_supervisor(tmp_path: Path) -> None:
    departments = with_department(1, "{name: 第一检察部, head: P020, members: [P021]}")
    path = write(tmp_path, roster_text(departments=departments))
    assert only(path, "分管院领导") == (
        f"[错误] 文件 {path},第 {department_line(1)} 行,字段“supervisor”:"
        "部门“第一检察部”没有分管院领导:请在 supervisor 填写分管该部门的班子成员编号"
    )


def test_supervisor_must_be_leadership(tmp_path: Path) -> None:
    departments = with_department(
        1, "{name: 第一检察部, head: P020, supervisor: P010, members: [P021]}"
    )
    path = write(tmp_path, roster_text(departments=departments))
    message = only(path, "只有党组书记、班子成员、纪检组长可以分管部门")
    assert message.startswith(f"[错误] 文件 {path},第 {department_line(1)} 行,字段“supervisor”:")
    assert "“马俊峰”(P010)的角色是“部门负责人”" in message


def test_unknown_role(tmp_path: Path) -> None:
    people = with_person(4, "{id: P011, name: 宋佳琪, title: 科员, role: 主任科员}")
    path = write(tmp_path, roster_text(people))
    assert only(path, "角色") == (
        f"[错误] 文件 {path},第 {person_line(4)} 行,字段“role”:人员“P011”的角色“主任科员”无法识别;"
        "可用:党组书记、班子成员、纪检组长、检委会专职委员、部门负责人、工作人员"
    )


def test_staff_cannot_head_a_department(tmp_path: Path) -> None:
    people = with_person(6, "{id: P020, name: 郭志强, title: 检察官, role: 工作人员}")
    path = write(tmp_path, roster_text(people))
    assert only(path, "不能担任部门负责人") == (
        f"[错误] 文件 {path},第 {department_line(1)} 行,字段“head”:部门“第一检察部”的负责人"
        "“郭志强”(P020)的角色是“工作人员”,不能担任部门负责人;请把其 role 改为“部门负责人”"
    )


def test_leader_cannot_be_a_plain_member(tmp_path: Path) -> None:
    departments = with_department(
        1, "{name: 第一检察部, head: P020, supervisor: P002, members: [P021, P003]}"
    )
    path = write(tmp_path, roster_text(departments=departments))
    message = only(path, "普通成员")
    assert message.startswith(f"[错误] 文件 {path},第 {department_line(1)} 行,字段“members”:")


@pytest.mark.parametrize(
    ("entry", "needle", "errors"),
    [
        ("{id: P011, name: 宋佳琪, role: 工作人员}", "缺少必填字段“title”(职务)", 1),
        ("{id: P011, title: 科员, role: 工作人员}", "缺少必填字段“name”(姓名)", 1),
        ("{id: P011, name: '', title: 科员, role: 工作人员}", "姓名为空", 1),
        ('{id: P011, name: "宋\\t佳琪", title: 科员, role: 工作人员}', "U+0009", 1),
        ('{id: P011, name: "宋\\u202e佳琪", title: 科员, role: 工作人员}', "U+202E", 1),
        ("{id: P011, name: [宋佳琪], title: 科员, role: 工作人员}", "应为一段文字", 1),
        ("{id: P011, id: P013, name: 宋佳琪, title: 科员, role: 工作人员}", "写了两次", 1),
        # The department still lists P011, which now no longer exists: a second error.
        ("{id: P 11, name: 宋佳琪, title: 科员, role: 工作人员}", "编号“P 11”不合规", 2),
        ("{id: ../x, name: 宋佳琪, title: 科员, role: 工作人员}", "编号“../x”不合规", 2),
        ("{id: 宋, name: 宋佳琪, title: 科员, role: 工作人员}", "编号“宋”不合规", 2),
    ],
)
def test_broken_person_fields(tmp_path: Path, entry: str, needle: str, errors: int) -> None:
    path = write(tmp_path, roster_text(with_person(4, entry)))
    message = only(path, needle)
    assert message.startswith(f"[错误] 文件 {path},第 {person_line(4)} 行,字段“")
    # A broken entry is reported once; references to its id are not reported again.
    assert len(inspect_roster(path).errors) == errors, descriptions(path)


def test_yaml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    text = roster_text().replace("{id: P012, name: 唐浩然,", "{id: P012, name: 唐浩然", 1)
    text = text.replace("role: staff}", "role: staff", 1)
    path = write(tmp_path, text)
    check = inspect_roster(path)
    assert check.roster is None
    [problem] = check.problems
    assert problem.severity == "error"
    assert problem.location.row is not None
    assert f"第 {problem.location.row} 行第" in problem.message
    assert "YAML 格式错误" in problem.message
    with pytest.raises(ProblemsError) as raised:
        load_roster(path)
    assert "YAML 格式错误" in raised.value.diagnostics()
    assert summary_line(check) == "共 0 人,0 个部门;错误 1 条,警告 0 条"


def test_top_level_shape(tmp_path: Path) -> None:
    assert "名册是空的" in only(write(tmp_path, "# nothing\n"), "名册")
    assert "最外层" in only(write(tmp_path, "- a\n- b\n"), "名册")
    path = write(tmp_path, "institution: 某院\npeople: 3\n")
    texts = descriptions(path)
    assert any("“people”应为一个列表" in t for t in texts)
    assert any("名册缺少“departments”" in t for t in texts)


def test_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "roster.yaml"
    path.write_bytes(roster_text().encode("gbk"))
    with pytest.raises(ValidationError) as raised:
        load_roster(path)
    text = raised.value.diagnostics()
    assert "UTF-8" in text
    assert str(path) in text
    assert "第 1 行" in text


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as raised:
        load_roster(tmp_path / "nope.yaml")
    assert "找不到名册文件" in raised.value.diagnostics()


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    people = [
        "{id: P001, name: 张明远, title: 党组书记、检察长, role: 班子成员}",  # no secretary
        "{id: P002, name: 李卫东, title: 副检察长, role: 班子成员}",
        "{id: P002, name: 王建华, title: 副检察长, role: 班子成员}",  # duplicate id
        "{id: P010, name: 马俊峰, title: 办公室主任, role: 处长}",  # bad role
        "{id: P011, name: 宋佳琪, title: 科员, role: 工作人员}",
        "{id: P020, name: 郭志强, title: 主任, role: 部门负责人}",
    ]
    departments = [
        "{name: 办公室, head: P010, supervisor: P999, members: [P011]}",  # unknown supervisor
        "{name: 第一检察部, head: P020, members: [P011]}",  # no supervisor, P011 twice
    ]
    path = write(tmp_path, roster_text(people, departments))
    with pytest.raises(ProblemsError) as raised:
        load_roster(path)
    text = raised.value.diagnostics()
    for needle in (
        "角色“处长”无法识别",
        "编号“P002”重复",
        "名册中没有党组书记",
        "分管院领导“P999”不在人员名单中",
        "部门“第一检察部”没有分管院领导",
        "同时在部门“办公室”和“第一检察部”中",
    ):
        assert needle in text, text
    assert len(raised.value.problems) == 6
    assert text.splitlines()[0].startswith(f"名册 {path} 有 6 处错误")
