"""A department's 职能 (``function``): which departments are 第七条's 相关职能部门.

第七条 "相关职能部门除履行本部门党风廉政建设责任外,还应当按照职能分工,承担党组履行主体责任的
相关责任": (一) 办公室, (二) 政工科.  The roster states it (YAML ``function``, spreadsheet column
职能); a roster that does not falls back to the department's name (docgen.roster.functions).
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from docgen.core.models import Roster
from docgen.roster.functions import article7
from docgen.roster.load import inspect_roster_text, parse_streaming
from docgen.roster.tree_reader import parse_tree
from tests.helpers import run_docgen
from tests.roster.test_roster_cli import make_workspace

ROSTER = """\
institution: 测试院
people:
  - {id: P001, name: 张明远, title: 党组书记、检察长, role: 党组书记}
  - {id: P002, name: 李卫东, title: 副检察长, role: 班子成员}
  - {id: P004, name: 马俊峰, title: 办公室主任, role: 部门负责人}
  - {id: P005, name: 宋佳琪, title: 科员, role: 工作人员}
  - {id: P006, name: 郭志强, title: 未检办主任, role: 部门负责人}
  - {id: P007, name: 许文博, title: 检察官, role: 工作人员}
  - {id: P008, name: 袁梦瑶, title: 综合部主任, role: 部门负责人}
  - {id: P009, name: 钟国庆, title: 科员, role: 工作人员}
  - {id: P010, name: 汪晓燕, title: 检察部主任, role: 部门负责人}
  - {id: P011, name: 梁玉兰, title: 检察官, role: 工作人员}
departments:
  - {name: 办公室, function: 办公室, head: P004, supervisor: P001, members: [P005]}
  - {name: 未成年人检察办公室, function: 无, head: P006, supervisor: P002, members: [P007]}
  - {name: 综合部, function: 政工科, head: P008, supervisor: P002, members: [P009]}
  - {name: 检察部, head: P010, supervisor: P002, members: [P011]}
"""

OFFICE_7, PERSONNEL_7 = "办公室(第七条第(一)项)", "政工科(第七条第(二)项)"
BY_FIELD, BY_NAME = "(依据:名册“职能”字段)", "(依据:名册未填“职能”,按部门名称认定)"


def _departments(text: str) -> dict[str, str | None]:
    tree, problems, _ = parse_tree(text, "roster.yaml")
    assert tree is not None and problems == [], problems
    streamed = parse_streaming(text, "roster.yaml")
    assert streamed is not None, "the fast reader must accept a roster with the field"
    assert streamed[0].departments == tree.departments
    return {d.name: d.function for d in tree.departments}


def test_the_field_is_read_from_yaml_by_both_readers() -> None:
    assert _departments(ROSTER) == {
        "办公室": "办公室",
        "未成年人检察办公室": "无",
        "综合部": "政工科",
        "检察部": None,
    }
    check = inspect_roster_text(ROSTER, "roster.yaml")
    assert check.ok, check.problems
    assert check.roster is not None
    found = {d.name: article7(d) for d in check.roster.departments}
    assert found["办公室"].functions == ("办公室",) and found["办公室"].stated
    assert found["未成年人检察办公室"].functions == ()  # its name alone would make it one
    assert found["综合部"].functions == ("政工科",)
    assert found["检察部"].functions == () and not found["检察部"].stated


@pytest.mark.parametrize("empty", ["function: ,", 'function: "",', "function: ~,"])
def test_an_empty_value_turns_the_name_rule_off(empty: str) -> None:
    text = ROSTER.replace("function: 无,", empty)
    assert _departments(text)["未成年人检察办公室"] == ""
    check = inspect_roster_text(text, "roster.yaml")
    assert check.ok, check.problems
    assert check.roster is not None
    assert article7(check.roster.departments[1]).functions == ()


def test_a_roster_without_the_field_keeps_the_name_rule() -> None:
    text = ROSTER.replace("function: 办公室, ", "").replace("function: 无, ", "")
    text = text.replace("function: 政工科, ", "")
    assert set(_departments(text).values()) == {None}
    check = inspect_roster_text(text, "roster.yaml")
    assert check.roster is not None
    found = [article7(d).functions for d in check.roster.departments]
    assert found == [("办公室",), ("办公室",), (), ()]


def test_roster_check_refuses_an_unknown_value(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", ROSTER.replace("function: 政工科", "function: 宣传科"))
    outcome = run_docgen("roster", "check", "-w", str(ws))
    assert outcome.code == 1, outcome.text
    errors = [line for line in outcome.out.splitlines() if line.startswith("[错误]")]
    assert len(errors) == 1, outcome.out
    line = next(n for n, t in enumerate(ROSTER.splitlines(), 1) if "name: 综合部" in t)
    assert f"{ws / 'roster.yaml'}" in errors[0] and f"第 {line} 行" in errors[0]
    assert "“function”" in errors[0]
    assert "部门“综合部”的职能“宣传科”无法识别" in errors[0]
    assert "可填:办公室、政工科、无" in errors[0]


def test_pairings_explain_says_which_departments_carry_article_7_and_why(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", ROSTER.replace("function: 办公室, ", ""))
    outcome = run_docgen("pairings", "--explain", "-w", str(ws))
    assert outcome.code == 0, outcome.text
    text = outcome.out
    assert "第七条 相关职能部门" in text
    assert f"部门“办公室”为第七条相关职能部门:{OFFICE_7}{BY_NAME}" in text
    assert f"部门“综合部”为第七条相关职能部门:{PERSONNEL_7}{BY_FIELD}" in text
    assert "部门“未成年人检察办公室”不承担第七条相关职能部门责任(名册“职能”字段为“无”)" in text
    assert "部门“检察部”" not in text.split("第七条 相关职能部门")[1]


HEADER = ["姓名", "职务", "部门", "角色", "分管部门", "职能"]
ROWS = [
    ["张明远", "党组书记、检察长", "院领导", "党组书记", "办公室", ""],
    ["李卫东", "副检察长", "院领导", "班子成员", "政治处、未成年人检察办公室", ""],
    ["马俊峰", "办公室主任", "办公室", "部门负责人", "", "办公室"],
    ["宋佳琪", "科员", "办公室", "工作人员", "", ""],
    ["郭志强", "政治处主任", "政治处", "部门负责人", "", "政工科"],
    ["许文博", "科员", "政治处", "工作人员", "", "政工科"],
    ["袁梦瑶", "未检办主任", "未成年人检察办公室", "部门负责人", "", "无"],
    ["钟国庆", "检察官", "未成年人检察办公室", "工作人员", "", ""],
]


def _write_sheet(path: Path, rows: list[list[str]]) -> Path:
    if path.suffix == ".csv":
        path.write_text("\n".join(",".join(r) for r in [HEADER, *rows]) + "\n", encoding="utf-8")
        return path
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "干警"
    for row in [HEADER, *rows]:
        sheet.append(row)
    book.save(path)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_the_field_is_imported_from_a_spreadsheet(tmp_path: Path, suffix: str) -> None:
    ws = make_workspace(tmp_path / "ws")
    staff = _write_sheet(tmp_path / f"人员表{suffix}", ROWS)
    outcome = run_docgen("roster", "import", str(staff), "-w", str(ws))
    assert outcome.code == 0, outcome.text
    text = (ws / "roster.yaml").read_text(encoding="utf-8")
    expected = {"办公室": "办公室", "政治处": "政工科", "未成年人检察办公室": "无"}
    assert _departments(text) == expected
    checked = run_docgen("roster", "check", "-w", str(ws))
    assert checked.code == 0, checked.text
    explained = run_docgen("pairings", "--explain", "-w", str(ws))
    assert f"部门“政治处”为第七条相关职能部门:{PERSONNEL_7}{BY_FIELD}" in explained.out


def test_a_spreadsheet_without_the_column_writes_no_field(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    staff = tmp_path / "人员表.csv"
    staff.write_text("\n".join(",".join(r[:5]) for r in [HEADER, *ROWS]) + "\n", encoding="utf-8")
    outcome = run_docgen("roster", "import", str(staff), "-w", str(ws))
    assert outcome.code == 0, outcome.text
    assert "function" not in (ws / "roster.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_bad_value_in_a_spreadsheet_is_refused_with_row_and_column(
    tmp_path: Path, suffix: str
) -> None:
    ws = make_workspace(tmp_path / "ws")
    rows = [list(r) for r in ROWS]
    rows[4][5] = "宣传科"  # spreadsheet row 6
    staff = _write_sheet(tmp_path / f"人员表{suffix}", rows)
    outcome = run_docgen("roster", "import", str(staff), "-w", str(ws))
    assert outcome.code == 1, outcome.text
    assert not (ws / "roster.yaml").exists()
    assert f"文件 {staff}" in outcome.err and "第 6 行" in outcome.err
    assert "字段“职能”" in outcome.err
    assert "部门“政治处”的职能“宣传科”无法识别" in outcome.err
    assert "可填:办公室、政工科、无" in outcome.err


def test_rows_of_one_department_must_agree(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    rows = [list(r) for r in ROWS]
    rows[5][5] = "办公室"  # 许文博's row (7) says 办公室, 郭志强's (6) 政工科
    staff = _write_sheet(tmp_path / "人员表.csv", rows)
    outcome = run_docgen("roster", "import", str(staff), "-w", str(ws))
    assert outcome.code == 1, outcome.text
    assert "第 7 行" in outcome.err and "字段“职能”" in outcome.err
    assert "部门“政治处”的职能已在第 6 行填为“政工科”,此处为“办公室”" in outcome.err
    assert not (ws / "roster.yaml").exists()


def test_docgen_generate_follows_the_field(tmp_path: Path) -> None:
    """End to end: ``docgen generate`` (its worker path) and the .docx read back. The 办公室
    turned off (职能: 无) gets no 第七条; 综合部 with 职能: 办公室 gets 第七条第(一)项."""
    import docx

    from docgen.letters.workspace_init import init_workspace

    roster = ROSTER.replace("{name: 办公室, function: 办公室,", "{name: 办公室, function: 无,")
    roster = roster.replace("function: 政工科", "function: 办公室")
    root = tmp_path / "ws"
    init_workspace(root, institution="测试院", year=2027, roster_yaml=roster)
    outcome = run_docgen("generate", "-w", str(root), "--year", "2027", "--jobs", "2")
    assert outcome.code == 0, outcome.text

    def text(pair: str) -> str:
        (path,) = (root / "output" / "2027").rglob(f"2027-ZR-{pair}*.docx")
        return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)

    office, general, other = text("P001-P004"), text("P002-P008"), text("P002-P010")
    assert "第七条" not in office and "协调督办" not in office
    assert "第七条" in general and "负责党风廉政建设重大事项协调" in general
    assert "逢培必训" not in general
    assert "第七条" not in other


def test_the_ledger_takes_the_zhenggongke_from_the_field() -> None:
    """12(二)'s activities are the 政工科's (第七条第(二)项): whose they are follows the field —
    综合部 with 职能: 政工科 may record a 教育培训计划; without the field no department is the
    政工科 (its name says nothing), and a department named 政工科 with 职能: 无 is not one."""
    from docgen.core.errors import Location, ValidationError
    from docgen.core.glossary import ActivityKind
    from docgen.duties.activity_rules import check_for

    def at(field: str) -> Location:
        return Location(file="activities.csv", row=2, field=field)

    def roster_of(text: str) -> Roster:
        check = inspect_roster_text(text, "roster.yaml")
        assert check.ok and check.roster is not None, check.problems
        return check.roster

    stated = roster_of(ROSTER)
    clerk = stated.person("P009")  # 综合部
    assert check_for(stated, ActivityKind.TRAINING_PLAN, clerk, at).article == "12.2.1"
    unstated = roster_of(ROSTER.replace("function: 政工科, ", ""))
    with pytest.raises(ValidationError, match="名册中没有政工科"):
        check_for(unstated, ActivityKind.TRAINING_PLAN, clerk, at)
    renamed = ROSTER.replace("{name: 综合部, function: 政工科,", "{name: 政工科, function: 无,")
    with pytest.raises(ValidationError, match="名册中没有政工科"):
        check_for(roster_of(renamed), ActivityKind.TRAINING_PLAN, clerk, at)
    by_name = roster_of(renamed.replace("{name: 政工科, function: 无,", "{name: 政工科,"))
    assert check_for(by_name, ActivityKind.TRAINING_PLAN, clerk, at).article == "12.2.1"
