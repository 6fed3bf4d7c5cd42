"""``docgen roster check``, ``docgen roster import`` and ``docgen pairings`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from docgen.core.workspace import config_text
from docgen.roster.example import demo_roster_yaml
from tests.helpers import run_docgen


def make_workspace(root: Path, roster: str | None = None, *, year: int = 2027) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "docgen.toml").write_text(config_text("庆城县人民检察院", year), encoding="utf-8")
    if roster is not None:
        (root / "roster.yaml").write_text(roster, encoding="utf-8")
    return root


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def demo_ws(tmp_path: Path) -> Path:
    return make_workspace(tmp_path / "ws", demo_roster_yaml())


STAFF_CSV = (
    "姓名,职务,部门,角色,分管部门\n"
    "张明远,党组书记、检察长,院领导,党组书记,办公室\n"
    "李卫东,副检察长,,班子成员,第一检察部\n"
    "马俊峰,办公室主任,办公室,部门负责人,\n"
    "宋佳琪,科员,办公室,工作人员,\n"
    "郭志强,第一检察部主任,第一检察部,部门负责人,\n"
    "阿依古丽·买买提,检察官,第一检察部,干警,\n"
)


def test_commands_are_registered() -> None:
    from docgen.cli import COMMANDS, cli

    assert ("docgen.cli.roster", "roster") in COMMANDS
    assert ("docgen.cli.pairings", "pairings") in COMMANDS
    assert {"roster", "pairings"} <= set(cli.commands)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["roster", "--help"], "名册"),
        (["roster", "check", "--help"], "一次列出全部错误和警告"),
        (["roster", "import", "--help"], "表头须有 姓名、职务、部门、角色 四列"),
        (["pairings", "--help"], "列出本年度应签订的全部文书"),
    ],
)
def test_help(args: list[str], needle: str) -> None:
    outcome = run_docgen(*args)
    assert outcome.code == 0
    assert needle in outcome.out


def test_check_demo_roster(demo_ws: Path) -> None:
    outcome = run_docgen("roster", "check", "--workspace", str(demo_ws))
    assert outcome.code == 0, outcome.text
    lines = outcome.out.splitlines()
    assert lines[-1] == "共 45 人,9 个部门;错误 0 条,警告 1 条"
    assert lines[0].startswith(f"[警告] 文件 {demo_ws / 'roster.yaml'},第 ")
    assert "王建华" in lines[0]


def test_check_clean_roster_by_path(tmp_path: Path) -> None:
    path = tmp_path / "other.yaml"
    path.write_text(
        "institution: 庆城县人民检察院\npeople:\n"
        "  - {id: P001, name: 张明远, title: 检察长, role: 党组书记}\n"
        "  - {id: P002, name: 李卫东, title: 副检察长, role: 班子成员}\n"
        "departments: []\n",
        encoding="utf-8",
    )
    outcome = run_docgen("roster", "check", str(path))
    assert outcome.code == 0, outcome.text
    assert outcome.out.splitlines() == [
        f"名册 {path} 检查通过。",
        "共 2 人,0 个部门;错误 0 条,警告 0 条",
    ]


def test_check_reports_all_errors_and_exits_1(tmp_path: Path) -> None:
    roster = demo_roster_yaml()
    roster = roster.replace("role: 党组书记}", "role: 班子成员}", 1)
    roster = roster.replace("supervisor: P002, members: [P025", "supervisor: P999, members: [P025")
    roster = roster.replace("{id: P045,", "{id: P044,")
    ws = make_workspace(tmp_path / "ws", roster)
    outcome = run_docgen("roster", "check", "-w", str(ws))
    assert outcome.code == 1
    errors = [line for line in outcome.out.splitlines() if line.startswith("[错误]")]
    assert len(errors) == 4, outcome.out
    assert any("名册中没有党组书记" in e for e in errors)
    assert any("“P999”不在人员名单中" in e for e in errors)
    assert any("编号“P044”重复" in e for e in errors)
    # P045 no longer exists, but 案件管理部 still lists it.
    assert any("部门成员“P045”不在人员名单中" in e for e in errors)
    assert outcome.out.splitlines()[-1] == "共 45 人,9 个部门;错误 4 条,警告 1 条"
    assert (
        outcome.err
        == f"错误:名册 {ws / 'roster.yaml'} 有 4 处错误。请按上面所列逐条修改后重新检查\n"
    )


def test_check_outside_a_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    outcome = run_docgen("roster", "check")
    assert outcome.code == 2
    assert "不是 docgen 工作目录" in outcome.err


def test_import_csv_into_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = make_workspace(tmp_path / "ws")
    staff = ws / "人员表.csv"
    staff.write_text(STAFF_CSV, encoding="gbk")
    monkeypatch.chdir(ws)
    outcome = run_docgen("roster", "import", "人员表.csv")
    assert outcome.code == 0, outcome.text
    assert f"导入 6 人、2 个部门,写入 {ws / 'roster.yaml'}" in outcome.out
    assert "CSV 文字编码:GBK/GB18030" in outcome.out
    assert "6 人没有编号,已按行序生成" in outcome.out
    checked = run_docgen("roster", "check")
    assert checked.code == 0, checked.text
    assert checked.out.splitlines()[-1] == "共 6 人,2 个部门;错误 0 条,警告 0 条"
    listed = run_docgen("pairings", "--json")
    assert listed.code == 0, listed.text
    assert json.loads(listed.out)["counts"] == {"ZR": 3, "CN": 3, "LJ": 2}


def test_import_refuses_to_overwrite(demo_ws: Path) -> None:
    staff = demo_ws / "staff.csv"
    staff.write_text(STAFF_CSV, encoding="utf-8")
    before = snapshot(demo_ws)
    outcome = run_docgen("roster", "import", str(staff), "-w", str(demo_ws))
    assert outcome.code == 2
    assert "名册文件已存在,未覆盖" in outcome.err
    assert "--force" in outcome.err
    assert snapshot(demo_ws) == before
    forced = run_docgen("roster", "import", str(staff), "-w", str(demo_ws), "--force")
    assert forced.code == 0, forced.text
    assert "阿依古丽·买买提" in (demo_ws / "roster.yaml").read_text("utf-8")


def test_import_bad_row_writes_nothing(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "干警"
    sheet.append(["姓名", "职务", "部门", "角色", "分管部门"])
    sheet.append(["张明远", "检察长", "", "党组书记", "办公室"])
    sheet.append(["马俊峰", "办公室主任", "办公室", "部门经理", ""])
    xlsx = tmp_path / "staff.xlsx"
    book.save(xlsx)
    before = snapshot(ws)
    outcome = run_docgen("roster", "import", str(xlsx), "--workspace", str(ws))
    assert outcome.code == 1
    assert snapshot(ws) == before
    assert f"文件 {xlsx},工作表 干警,第 3 行,字段“角色”:角色“部门经理”无法识别" in outcome.err
    assert "(第 D 列)" in outcome.err


def test_import_with_explicit_output_outside_a_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff = tmp_path / "staff.csv"
    staff.write_text(STAFF_CSV, encoding="utf-8-sig")
    monkeypatch.chdir(tmp_path)
    outcome = run_docgen(
        "roster",
        "import",
        "staff.csv",
        "-o",
        "out/roster.yaml",
        "--institution",
        "某某县人民检察院",
    )
    assert outcome.code == 0, outcome.text
    text = (tmp_path / "out" / "roster.yaml").read_text("utf-8")
    assert "institution: 某某县人民检察院" in text
    missing = run_docgen("roster", "import", "staff.csv")
    assert missing.code == 2


def test_pairings_table(demo_ws: Path) -> None:
    outcome = run_docgen("pairings", "-w", str(demo_ws))
    assert outcome.code == 0, outcome.text
    out = outcome.out
    assert out.splitlines()[0].split() == ["文书编号", "文书", "甲方", "乙方", "条款"]
    assert "2027-ZR-P001-P002" in out
    assert "2027-LJ-P014-P017" in out
    assert "阿依古丽·买买提(科员)" in out
    assert (
        "2027 年度共 59 份:《党风廉政建设责任书》15 份,《公开承诺书》15 份,《廉洁从检承诺书》29 份"
    ) in out
    assert "注:王建华(P003)既是部门“第四检察部”的分管院领导又是该部门负责人" in out
    assert "第九条第7项" not in out
    rows = [line for line in out.splitlines() if line.startswith("2027-")]
    assert len(rows) == 59
    assert all(line == line.rstrip() for line in out.splitlines())


def test_pairings_explain_and_year(demo_ws: Path) -> None:
    outcome = run_docgen("pairings", "-w", str(demo_ws), "--explain", "--year", "2030")
    assert outcome.code == 0, outcome.text
    lines = outcome.out.splitlines()
    rows = [line for line in lines if line.startswith("2030-")]
    assert len(rows) == 59
    at = next(i for i, line in enumerate(lines) if line.startswith("2030-LJ-P014-P017"))
    grounds = []
    for line in lines[at + 1 :]:
        if not line.startswith("    "):
            break
        grounds.append(line.strip())
    assert grounds[0].startswith("甲方 ") and "乙方 " in grounds[0]
    assert "依据:" in "".join(grounds) and "(第九条第7项)" in "".join(grounds)
    assert "2030 年度共 59 份" in outcome.out
    # no line wider than 100 columns (a CJK character takes two)
    assert max(sum(2 if ord(c) > 0x2E80 else 1 for c in line) for line in lines) <= 100


def test_pairings_json(demo_ws: Path) -> None:
    outcome = run_docgen("pairings", "-w", str(demo_ws), "--json")
    assert outcome.code == 0, outcome.text
    data = json.loads(outcome.out)
    assert data["year"] == 2027
    assert data["counts"] == {"ZR": 15, "CN": 15, "LJ": 29}
    first = data["pairings"][0]
    assert first["doc_id"] == "2027-ZR-P001-P002"
    assert first["tier"] == "leadership"
    assert first["articles"] == ["9.5", "10.3"]
    assert first["superior"]["name"] == "张明远"
    assert len(data["notes"]) == 1
    again = run_docgen("pairings", "-w", str(demo_ws), "--json")
    assert again.out == outcome.out


def test_pairings_respect_config(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", demo_roster_yaml(), year=2029)
    config = ws / "docgen.toml"
    config.write_text(
        config.read_text("utf-8").replace(
            "public_commitment_at_department_tier = true",
            "public_commitment_at_department_tier = false",
        ),
        encoding="utf-8",
    )
    outcome = run_docgen("pairings", "-w", str(ws), "--json")
    data = json.loads(outcome.out)
    assert data["year"] == 2029
    assert data["counts"] == {"ZR": 15, "CN": 7, "LJ": 29}


def test_pairings_refuse_a_broken_roster(tmp_path: Path) -> None:
    roster = demo_roster_yaml().replace("supervisor: P002, members: [P025", "members: [P025")
    ws = make_workspace(tmp_path / "ws", roster)
    outcome = run_docgen("pairings", "-w", str(ws))
    assert outcome.code == 1
    assert outcome.out == ""
    assert "有 1 处错误" in outcome.err
    assert "部门“第二检察部”没有分管院领导" in outcome.err
