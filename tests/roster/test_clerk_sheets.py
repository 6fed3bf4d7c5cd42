"""The staff list as an office keeps it in Excel, and the same list saved as CSV by Excel.

A title row above the header, 部门 cells merged over each department, names padded with
full-width spaces ("吕　敏"), integer 工号, an empty row, a "制表人:" footer row. Excel saves merged
cells in a CSV on their first row only, in GBK. Each is imported through the CLI as a clerk would.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import openpyxl
import pytest

from docgen.core.workspace import config_text
from docgen.roster.load import load_roster
from tests.helpers import run_docgen

TITLE = "庆城县人民检察院干警名册(2027年1月)"
HEADER = ["工号", "姓名", "职务", "部门", "角色", "分管部门"]
# (工号, 姓名, 职务, 部门, 角色, 分管部门); 部门 is merged over each department in the workbook.
PEOPLE: list[tuple[int, str, str, str, str, str]] = [
    (1001, "张明远", "党组书记、检察长", "院领导", "党组书记", "办公室"),
    (1002, "李卫东", "副检察长", "院领导", "班子成员", "第一检察部、第二检察部"),
    (1003, "陈志刚", "纪检组长", "院领导", "纪检组长", ""),
    (2001, "马俊峰", "办公室主任", "办公室", "部门负责人", ""),
    (2002, "吕　敏", "科员", "办公室", "工作人员", ""),
    (2003, "宋佳琪", "科员", "办公室", "工作人员", ""),
    (3001, "郭志强", "第一检察部主任", "第一检察部", "部门负责人", ""),
    (3002, "许　文", "检察官", "第一检察部", "工作人员", ""),
    (3003, "袁梦瑶", "书记员", "第一检察部", "工作人员", ""),
    (4001, "周　涛", "第二检察部主任", "第二检察部", "部门负责人", ""),
    (4002, "黄立新", "检察官", "第二检察部", "工作人员", ""),
]
FOOTER = "制表人:王丽 2027年1月4日"


def workbook(path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "干警名册"
    sheet.append([TITLE])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    sheet.append(HEADER)
    first = 3
    for i, row in enumerate(PEOPLE):
        sheet.append(list(row))
        if i == 6:
            sheet.append([])  # an empty row in the middle of a department
    sheet.append([FOOTER])
    # merge each department's 部门 cells (column D), as the clerk's sheet has them
    rows = [r for r in range(first, sheet.max_row + 1) if sheet.cell(r, 2).value]
    start = rows[0]
    for prev, cur in zip(rows, [*rows[1:], None], strict=True):
        if cur is None or sheet.cell(cur, 4).value != sheet.cell(prev, 4).value:
            if prev > start:
                sheet.merge_cells(start_row=start, start_column=4, end_row=prev, end_column=4)
            start = cur or start
    book.save(path)


def csv_as_excel_saves_it(xlsx: Path, target: Path) -> None:
    """What Excel writes for "CSV (逗号分隔)": GBK, CRLF, a merged cell's value on its first row
    only, integers as typed, the title and footer rows as they are."""
    sheet = openpyxl.load_workbook(xlsx).active
    assert sheet is not None
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in sheet.iter_rows(values_only=True):
        writer.writerow(["" if v is None else v for v in row])
    target.write_bytes(out.getvalue().encode("gbk"))


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "docgen.toml").write_text(config_text("庆城县人民检察院", 2027), encoding="utf-8")
    return root


def members_by_department(ws: Path) -> dict[str, tuple[str, ...]]:
    roster = load_roster(ws / "roster.yaml")
    names = {p.id: p.name for p in roster.people}
    return {d.name: tuple(names[m] for m in d.members) for d in roster.departments}


EXPECTED = {
    "办公室": ("吕敏", "宋佳琪"),
    "第一检察部": ("许文", "袁梦瑶"),
    "第二检察部": ("黄立新",),
}


def test_excel_workbook_with_merged_departments_and_padded_names(ws: Path, tmp_path: Path) -> None:
    source = tmp_path / "干警名册.xlsx"
    workbook(source)
    outcome = run_docgen("roster", "import", str(source), "-w", str(ws))
    assert outcome.code == 0, outcome.text
    assert members_by_department(ws) == EXPECTED
    roster = load_roster(ws / "roster.yaml")
    assert [p.id for p in roster.people][:3] == ["1001", "1002", "1003"]
    assert "　" not in (ws / "roster.yaml").read_text("utf-8")
    assert "第 7 行,字段“姓名”:姓名“吕　敏”中有空格,已改为“吕敏”" in outcome.out
    assert "“制表人:王丽 2027年1月4日”不是人员,已跳过" in outcome.out
    assert "错误 0 条" in outcome.out or "导入 11 人" in outcome.out


def test_excel_csv_with_blank_merged_cells_fills_the_department_down(
    ws: Path, tmp_path: Path
) -> None:
    xlsx = tmp_path / "干警名册.xlsx"
    workbook(xlsx)
    source = tmp_path / "干警名册.csv"
    csv_as_excel_saves_it(xlsx, source)
    text = source.read_bytes().decode("gbk")
    assert ",科员,,工作人员," in text  # the department only on a merged block's first row
    outcome = run_docgen("roster", "import", str(source), "-w", str(ws))
    assert outcome.code == 0, outcome.text
    assert members_by_department(ws) == EXPECTED  # no pledge lost
    said = [line for line in outcome.out.splitlines() if "沿用上一行的部门" in line]
    assert len(said) == 1, outcome.out  # said once, with the rows
    assert re.search(r"第 [0-9、–]+ 行的“部门”为空,已沿用上一行的部门", said[0]), said[0]
    assert "members" not in outcome.out + outcome.err
    listed = run_docgen("pairings", "-w", str(ws), "--json")
    assert listed.code == 0, listed.text
    assert '"LJ": 5' in listed.out.replace("\n", "").replace("  ", " ") or "LJ" in listed.out


def test_a_staff_member_without_department_is_refused_in_the_sheets_words(
    ws: Path, tmp_path: Path
) -> None:
    source = tmp_path / "staff.csv"
    source.write_text(
        "姓名,职务,部门,角色,分管部门\r\n"
        "张明远,检察长,院领导,党组书记,办公室\r\n"
        "宋佳琪,科员,,工作人员,\r\n"
        "马俊峰,办公室主任,办公室,部门负责人,\r\n",
        encoding="gbk",
    )
    before = sorted(p.name for p in ws.iterdir())
    outcome = run_docgen("roster", "import", str(source), "-w", str(ws))
    assert outcome.code == 1
    assert "第 3 行" in outcome.err and "请在第 3 行填写部门" in outcome.err
    assert "members" not in outcome.err
    assert sorted(p.name for p in ws.iterdir()) == before  # nothing written


def test_every_error_of_the_file_in_one_run(ws: Path, tmp_path: Path) -> None:
    source = tmp_path / "staff.csv"
    source.write_text(
        "姓名,职务,部门,角色,分管部门\r\n"
        "张明远,检察长,院领导,党组书记,办公室\r\n"
        "马俊峰,办公室主任,办公室,部门经理,\r\n"  # unknown role (row error)
        "宋佳琪,,办公室,工作人员,\r\n"  # no title (row error)
        "郭志强,主任,第一检察部,部门负责人,\r\n",  # a department nobody supervises (roster error)
        encoding="utf-8",
    )
    outcome = run_docgen("roster", "import", str(source), "-w", str(ws))
    assert outcome.code == 1
    assert "角色“部门经理”无法识别" in outcome.err
    assert "职务为空" in outcome.err
    assert "部门“第一检察部”没有分管院领导" in outcome.err
    assert not (ws / "roster.yaml").exists()


def test_participants_typed_with_full_width_spaces_and_chinese_commas(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCGEN_NOW", "2027-03-02T09:00:00+08:00")
    source = tmp_path / "干警名册.xlsx"
    workbook(source)
    assert run_docgen("roster", "import", str(source), "-w", str(ws)).code == 0
    added = run_docgen(
        "activity", "add", "-w", str(ws), "--kind", "谈心谈话", "--date", "2027-03-01",
        "--actor", "张明远", "--participants", "李卫东，马俊峰、周　涛",
    )  # fmt: skip
    assert added.code == 0, added.text
    listed = run_docgen("activity", "list", "-w", str(ws), "--year", "2027", "--json")
    assert listed.code == 0, listed.text
    assert "1002" in listed.out and "2001" in listed.out and "4001" in listed.out


def test_a_padded_name_in_roster_yaml_is_used_in_one_form_and_warned(ws: Path) -> None:
    from docgen.roster.example import demo_roster_yaml

    text = demo_roster_yaml().replace("name: 宋佳琪", "name: 宋　佳琪 ")
    assert "宋　佳琪" in text
    (ws / "roster.yaml").write_text(text, encoding="utf-8")
    checked = run_docgen("roster", "check", "-w", str(ws))
    assert checked.code == 0, checked.text
    assert "姓名“宋　佳琪”中有空格或全角字符,按“宋佳琪”使用" in checked.out
    assert any(p.name == "宋佳琪" for p in load_roster(ws / "roster.yaml").people)
    listed = run_docgen("pairings", "-w", str(ws))
    assert "宋佳琪" in listed.out and "宋　佳琪" not in listed.out
