"""Importing the office's staff list (.xlsx / .csv in UTF-8, UTF-8 with BOM or GBK)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docgen.core.errors import ProblemsError, UsageError, ValidationError
from docgen.core.glossary import Role
from docgen.core.models import Department, Roster
from docgen.roster.example import demo_roster_yaml
from docgen.roster.load import inspect_roster_text, load_roster, parse_roster_text
from docgen.roster.spreadsheet import (
    convert_staff_list,
    decode_csv_bytes,
    import_roster,
    roster_to_yaml,
)

INSTITUTION = "庆城县人民检察院"

HEADER = ["姓名", "职务", "部门", "角色", "分管部门"]
ROWS = [
    ["张明远", "党组书记、检察长", "院领导", "党组书记", "办公室"],
    ["李卫东", "副检察长", "", "班子成员", "第一检察部"],
    ["陈志刚", "纪检组长", "", "纪检组长", ""],
    ["马俊峰", "办公室主任", "办公室", "部门负责人", ""],
    ["宋佳琪", "科员", "办公室", "工作人员", ""],
    ["郭志强", "第一检察部主任", "第一检察部", "部门负责人", ""],
    ["阿依古丽·买买提", "检察官", "第一检察部", "干警", ""],
    ["唐浩然", "书记员", "第一检察部", "工作人员", ""],
]
EXPECTED_DEPARTMENTS = (
    Department("办公室", head="P004", supervisor="P001", members=("P005",)),
    Department("第一检察部", head="P006", supervisor="P002", members=("P007", "P008")),
)


def csv_text(rows: list[list[str]], header: list[str] = HEADER) -> str:
    return "\r\n".join(",".join(r) for r in [header, *rows]) + "\r\n"


def without_lines(roster: Roster) -> tuple[object, ...]:
    return (
        roster.institution,
        tuple((p.id, p.name, p.title, p.role) for p in roster.people),
        tuple((d.name, d.head, d.supervisor, d.members) for d in roster.departments),
    )


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "docgen.toml").write_text("# placeholder\n", encoding="utf-8")
    return root


def test_gbk_csv(workspace: Path) -> None:
    source = workspace / "人员表.csv"
    source.write_text(csv_text(ROWS), encoding="gbk")
    out = workspace / "roster.yaml"
    imported = import_roster(source, out, institution=INSTITUTION)
    assert imported.encoding == "gb18030"
    assert imported.ids_generated == 8
    assert imported.warnings == ()
    assert imported.written_to == out
    roster = load_roster(out)
    assert [p.name for p in roster.people] == [r[0] for r in ROWS]
    assert [p.id for p in roster.people] == [f"P{i:03d}" for i in range(1, 9)]
    assert roster.person("P007").role is Role.STAFF
    assert roster.person("P003").role is Role.DISCIPLINE_HEAD
    assert tuple(replace_line(d) for d in roster.departments) == EXPECTED_DEPARTMENTS
    assert roster.institution == INSTITUTION
    text = out.read_text("utf-8")
    assert "由 docgen roster import 从 人员表.csv 生成" in text
    assert "- {id: P007, name: 阿依古丽·买买提, title: 检察官, role: 工作人员}" in text


def replace_line(d: Department) -> Department:
    return Department(d.name, d.head, d.supervisor, d.members)


def test_utf8_bom_csv_with_names_outside_gbk(workspace: Path) -> None:
    rows = [list(r) for r in ROWS]
    rows[4][0] = "𠮷田"
    rows[7][0] = "{{ x }} & <y>"
    source = workspace / "staff.csv"
    source.write_bytes(csv_text(rows).encode("utf-8-sig"))
    imported = import_roster(source, workspace / "roster.yaml", institution=INSTITUTION)
    assert imported.encoding == "utf-8-sig"
    roster = load_roster(workspace / "roster.yaml")
    assert roster.person("P005").name == "𠮷田"
    assert roster.person("P008").name == "{{ x }} & <y>"
    assert without_lines(roster) == without_lines(imported.roster)


def test_tab_separated_utf16_from_excel_unicode_text(workspace: Path) -> None:
    source = workspace / "staff.txt"
    text = "\r\n".join("\t".join(r) for r in [HEADER, *ROWS]) + "\r\n"
    source.write_bytes(text.encode("utf-16"))
    imported = convert_staff_list(source, institution=INSTITUTION)
    assert imported.encoding == "utf-16"
    assert [p.name for p in imported.roster.people] == [r[0] for r in ROWS]


def build_workbook(path: Path, rows: list[list[object]], *, sheet: str = "名册") -> None:
    """A staff list as an office would make it: a title row, a 工号 column with numbers,
    是否负责人, and the 部门 cells of a department merged."""
    book = openpyxl.Workbook()
    cover = book.active
    assert cover is not None
    cover.title = "说明"
    cover["A1"] = "本工作簿第二页为人员表"
    ws = book.create_sheet(sheet)
    ws.append(["庆城县人民检察院干警名册"])
    ws.merge_cells("A1:G1")
    ws.append(["工号", "姓名", "职务", "部门", "角色", "是否负责人", "分管部门"])
    for row in rows:
        ws.append(row)
    book.save(path)


XLSX_ROWS: list[list[object]] = [
    [1001, "张明远", "党组书记、检察长", "院领导", "党组书记", "", "办公室、第一检察部"],
    [1002, "陈志刚", "纪检组长", "", "纪检组长", "", ""],
    [1003, "马俊峰", "办公室主任", "办公室", "工作人员", "是", ""],
    [1004, "宋佳琪", "科员", "办公室", "工作人员", "否", ""],
    [1005, "郭志强", "第一检察部主任", "第一检察部", "部门负责人", "", ""],
    [1006, "𠮷田·阿", "检察官", None, "工作人员", "", ""],
    [1007, "林晓", "副主任", None, "部门负责人", "否", ""],
]


def merged_workbook(path: Path, rows: list[list[object]]) -> None:
    build_workbook(path, rows)
    book = openpyxl.load_workbook(path)
    book["名册"].merge_cells("D7:D9")  # 第一检察部 for rows 7–9
    book.save(path)


def test_xlsx_with_title_row_merged_cells_and_ids(workspace: Path) -> None:
    source = workspace / "干警名册.xlsx"
    merged_workbook(source, XLSX_ROWS)
    out = workspace / "roster.yaml"
    imported = import_roster(source, out, institution=INSTITUTION, sheet="名册")
    assert imported.sheet == "名册"
    assert imported.ids_generated == 0
    roster = load_roster(out)
    assert [p.id for p in roster.people] == [str(1001 + i) for i in range(7)]
    assert roster.person("1006").name == "𠮷田·阿"
    # 是否负责人 = 是 makes 马俊峰 the head although his 角色 column says 工作人员.
    assert roster.person("1003").role is Role.DEPARTMENT_HEAD
    assert tuple(replace_line(d) for d in roster.departments) == (
        Department("办公室", head="1003", supervisor="1001", members=("1004",)),
        Department("第一检察部", head="1005", supervisor="1001", members=("1006", "1007")),
    )
    # 林晓 is a 部门负责人 by role but 是否负责人 = 否 (a deputy): reported, not blocking.
    assert [w.describe() for w in imported.warnings] == [
        f"[警告] 文件 {source},工作表 名册,第 9 行,字段“角色”:"
        "部门负责人“林晓”(1007)没有负责任何部门:请在其“部门”列填写所负责的部门"
    ]


def test_xlsx_default_sheet_is_the_first(workspace: Path) -> None:
    source = workspace / "干警名册.xlsx"
    merged_workbook(source, XLSX_ROWS)
    with pytest.raises(ProblemsError) as raised:
        convert_staff_list(source, institution=INSTITUTION)
    assert "工作表 说明" in raised.value.diagnostics()
    assert "找不到表头" in raised.value.diagnostics()
    with pytest.raises(UsageError) as missing:
        convert_staff_list(source, institution=INSTITUTION, sheet="花名册")
    assert "现有:说明、名册" in missing.value.diagnostics()


def test_bad_xlsx_row_names_row_and_column_and_writes_nothing(workspace: Path) -> None:
    rows = [list(r) for r in XLSX_ROWS]
    rows[2][4] = "局长"  # spreadsheet row 5, column E
    source = workspace / "干警名册.xlsx"
    merged_workbook(source, rows)
    (workspace / "roster.yaml").write_text("institution: 旧名册\n", encoding="utf-8")
    out = workspace / "new-roster.yaml"
    before = snapshot(workspace)
    with pytest.raises(ProblemsError) as raised:
        import_roster(source, out, institution=INSTITUTION, sheet="名册")
    assert snapshot(workspace) == before
    assert not out.exists()
    [problem] = raised.value.problems
    assert problem.describe() == (
        f"[错误] 文件 {source},工作表 名册,第 5 行,字段“角色”:角色“局长”无法识别;"
        "可用:党组书记、班子成员、纪检组长、检委会专职委员、部门负责人、工作人员(第 E 列)"
    )


def test_every_bad_row_is_reported_at_once(workspace: Path) -> None:
    rows = [list(r) for r in ROWS]
    rows[1][3] = ""  # row 3: no role
    rows[4][0] = ""  # row 6: no name
    rows[6][3] = "部门负责人"  # row 8: second head of 第一检察部
    source = workspace / "staff.csv"
    source.write_text(csv_text(rows), encoding="utf-8")
    before = snapshot(workspace)
    with pytest.raises(ProblemsError) as raised:
        import_roster(source, workspace / "roster.yaml", institution=INSTITUTION)
    assert snapshot(workspace) == before
    described = [p.describe() for p in raised.value.problems]
    assert described == [
        f"[错误] 文件 {source},第 3 行,字段“角色”:角色为空;"
        "可用:党组书记、班子成员、纪检组长、检委会专职委员、部门负责人、工作人员(第 4 列)",
        f"[错误] 文件 {source},第 6 行,字段“姓名”:姓名为空(第 1 列)",
        f"[错误] 文件 {source},第 8 行,字段“是否负责人”:部门“第一检察部”已有负责人(第 7 行);"
        "每个部门只能有一名负责人,副职请把角色填为“工作人员”或在“是否负责人”填“否”",
    ]
    assert (
        raised.value.diagnostics()
        .splitlines()[0]
        .startswith(f"人员表 {source} 有 3 处问题,未生成名册")
    )


def test_roster_level_errors_point_at_spreadsheet_rows(workspace: Path) -> None:
    rows = [list(r) for r in ROWS]
    rows[1][3] = "党组书记"  # row 3: a second 党组书记
    rows[1][4] = ""  # so 第一检察部 has no 分管院领导
    source = workspace / "staff.csv"
    source.write_text(csv_text(rows), encoding="utf-8")
    with pytest.raises(ProblemsError) as raised:
        convert_staff_list(source, institution=INSTITUTION)
    described = [p.describe() for p in raised.value.problems]
    assert described == [
        f"[错误] 文件 {source},第 3 行,字段“角色”:名册中有 2 名党组书记"
        "(“张明远”(P001)、“李卫东”(P002)),只能有一名;请把其他人的“角色”改为“班子成员”等",
        f"[错误] 文件 {source},第 7 行,字段“分管部门”:部门“第一检察部”没有分管院领导:"
        "请在分管院领导那一行的“分管部门”列填写该部门",
    ]


def test_existing_roster_is_not_overwritten_without_force(workspace: Path) -> None:
    source = workspace / "staff.csv"
    source.write_text(csv_text(ROWS), encoding="utf-8")
    out = workspace / "roster.yaml"
    out.write_text("institution: 旧名册\n", encoding="utf-8")
    before = snapshot(workspace)
    with pytest.raises(UsageError) as raised:
        import_roster(source, out, institution=INSTITUTION)
    assert "--force" in raised.value.diagnostics()
    assert snapshot(workspace) == before
    import_roster(source, out, institution=INSTITUTION, force=True)
    assert load_roster(out).people[0].name == "张明远"
    assert sorted(p.name for p in workspace.iterdir()) == [
        "docgen.toml",
        "roster.yaml",
        "staff.csv",
    ]


def test_given_and_generated_ids_do_not_clash(tmp_path: Path) -> None:
    header = ["编号", *HEADER]
    rows = [["", *r] for r in ROWS]
    rows[0][0] = "P002"
    rows[3][0] = "X-9"
    source = tmp_path / "staff.csv"
    source.write_text(csv_text(rows, header), encoding="utf-8")
    imported = convert_staff_list(source, institution=INSTITUTION)
    ids = [p.id for p in imported.roster.people]
    assert ids == ["P002", "P001", "P003", "X-9", "P004", "P005", "P006", "P007"]
    assert imported.ids_generated == 6


@pytest.mark.parametrize(
    ("header", "rows", "needle"),
    [
        (["姓名", "职务", "角色"], [["张明远", "检察长", "党组书记"]], "表头缺少列:部门"),
        (["名字", "职位", "科室", "类别", "名字"], [], "表示同一列"),
        (["编号", *HEADER], [["P 1", *ROWS[0]]], "编号“P 1”不合规"),
        (["编号", *HEADER], [["A1", *ROWS[0]], ["A1", *ROWS[1]]], "与第 2 行重复"),
        (["是否负责人", *HEADER], [["也许", *ROWS[0]]], "“也许”无法识别"),
        (HEADER, [["马俊峰", "主任", "", "部门负责人", ""]], "部门负责人须填写所负责的部门"),
        (
            HEADER,
            [["李卫东", "副检察长", "第一检察部", "班子成员", ""]],
            "不能作为部门“第一检察部”的普通成员",
        ),
        (HEADER, [["宋佳琪", "科员", "办公室", "工作人员", "办公室"]], "不能分管部门"),
        (HEADER, [], "表头下面没有人员"),
    ],
)
def test_table_problems(
    tmp_path: Path, header: list[str], rows: list[list[str]], needle: str
) -> None:
    source = tmp_path / "staff.csv"
    source.write_text(csv_text(rows, header), encoding="utf-8")
    with pytest.raises(ProblemsError) as raised:
        convert_staff_list(source, institution=INSTITUTION)
    assert needle in raised.value.diagnostics()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("名册.xls", "不支持 .xls 格式"),
        ("名册.pdf", "只能导入 .xlsx 或 .csv 人员表"),
    ],
)
def test_unsupported_files(tmp_path: Path, name: str, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(UsageError) as raised:
        convert_staff_list(path, institution=INSTITUTION)
    assert message in raised.value.diagnostics()


def test_corrupt_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "名册.xlsx"
    path.write_bytes(b"not a zip")
    with pytest.raises(ValidationError) as raised:
        convert_staff_list(path, institution=INSTITUTION)
    assert raised.value.diagnostics().startswith(f"文件 {path}:无法打开 Excel 文件")


def test_decode_prefers_strict_utf8_then_gb18030() -> None:
    assert decode_csv_bytes("姓名".encode()) == ("姓名", "utf-8-sig")
    assert decode_csv_bytes("姓名".encode("utf-8-sig")) == ("姓名", "utf-8-sig")
    assert decode_csv_bytes("姓名".encode("gbk")) == ("姓名", "gb18030")
    assert decode_csv_bytes("姓名".encode("utf-16")) == ("姓名", "utf-16")


def test_demo_roster_round_trips_through_yaml() -> None:
    check = inspect_roster_text(demo_roster_yaml(), "demo.yaml")
    assert check.roster is not None
    text = roster_to_yaml(check.roster, origin="demo")
    again, problems, _ = parse_roster_text(text, "again.yaml")
    assert problems == []
    assert again is not None
    assert without_lines(again) == without_lines(check.roster)


_CHARS = st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Cn", "Zl", "Zp", "Zs"))


@settings(max_examples=80, deadline=None)
@given(
    name=st.text(alphabet=_CHARS, min_size=1, max_size=10)
    | st.sampled_from(["yes", "007", "- x", "a: b", "{{ x }}", "&a", "*b", "!t", "#c", "'q'"]),
    dept=st.text(alphabet=_CHARS, min_size=1, max_size=8),
)
def test_any_name_round_trips_through_yaml(name: str, dept: str) -> None:
    roster = inspect_roster_text(demo_roster_yaml(), "demo.yaml").roster
    assert roster is not None
    changed = replace(
        roster,
        institution=name,
        people=(replace(roster.people[0], name=name, title=name), *roster.people[1:]),
        departments=(replace(roster.departments[0], name=dept), *roster.departments[1:]),
    )
    text = roster_to_yaml(changed)
    again, problems, _ = parse_roster_text(text, "x.yaml")
    assert [p for p in problems if p.severity == "error"] == [], json.dumps(text[:300])
    assert again is not None
    assert without_lines(again) == without_lines(changed)
