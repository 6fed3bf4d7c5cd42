"""The activity ledger: validation against the roster and the seed, recording in the registry."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook

from docgen.core.errors import ProblemsError, ValidationError
from docgen.core.glossary import ActivityKind
from docgen.core.workspace import find_workspace
from docgen.duties.ledger import (
    ActivityInput,
    activity_id_for,
    build_activity,
    read_activities,
    read_activity_file,
    record_activities,
    void_activity,
)
from docgen.letters.workspace_init import init_workspace
from docgen.registry import open_registry
from tests.helpers import run_docgen
from tests.ledger_fixtures import RECORDED, YEAR, small_roster, small_roster_yaml

TODAY = date(2027, 12, 31)


@pytest.fixture
def ws_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "ws"
    init_workspace(root, institution="庆城县人民检察院", year=YEAR, roster_yaml=small_roster_yaml())
    monkeypatch.setenv("DOCGEN_NOW", "2027-12-31T10:00:00+00:00")
    monkeypatch.delenv("DOCGEN_DATABASE_URL", raising=False)
    return root


def registry_size(root: Path) -> int:
    with open_registry(find_workspace(root)) as registry:
        return registry.size()


def build(kind: str, actor: str, participants: str = "", day: str = "2027-05-10") -> None:
    raw = ActivityInput(kind=kind, date=day, actor=actor, participants=participants)
    build_activity(small_roster(), raw, today=TODAY)


# --------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kind", "actor", "participants", "article"),
    [
        ("党组专题会议", "P01", "P02,P03,P04", "9.1"),
        ("专项督察", "P03", "", "9.14"),
        ("专项治理", "P01", "", "9.14"),
        ("专题辅导报告", "P01", "", "10.6"),
        ("约谈", "P01", "P02、P06", "10.7"),
        ("谈心谈话", "P01", "P02,H3", "10.8"),
        ("谈心谈话", "P02", "S1 S3 H2", "11.6"),
        ("听取分管部门汇报", "P02", "H1", "11.6"),
        ("听取分管部门汇报", "P04", "S5", "11.6"),  # 第四部 has no head: a member reports
        ("廉政谈话", "P03", "H3", "11.6"),
        ("廉政党课", "P06", "", "11.6"),
        ("交换意见", "P03", "P02;P04;P01", "13.2"),
        ("检查考核", "P01", "P02,P05", "10.3"),
        ("检查考核", "P02", "H1,H2", "11.2"),
        ("integrity_talk", "李副", "马一", "11.6"),  # code and names work too
    ],
)
def test_valid_activities_get_their_article(
    kind: str, actor: str, participants: str, article: str
) -> None:
    raw = ActivityInput(kind=kind, date="2027-05-10", actor=actor, participants=participants)
    activity = build_activity(small_roster(), raw, today=TODAY)
    assert activity.article == article
    assert activity.activity_id.startswith("A-2027-")


@pytest.mark.parametrize(
    ("kind", "actor", "participants", "field", "words"),
    [
        ("约谈", "P02", "P04", "主持人", "党组书记"),
        ("约谈", "P01", "S1", "参加人", "班子成员"),
        ("约谈", "P01", "", "参加人", "缺少参加人"),
        ("交换意见", "P02", "P04", "主持人", "纪检组长"),
        ("交换意见", "P03", "H1", "参加人", "班子成员"),
        ("听取分管部门汇报", "P02", "H3", "参加人", "分管部门的负责人"),
        ("廉政谈话", "P02", "S1", "参加人", "分管部门的负责人"),
        ("廉政谈话", "P06", "H1", "主持人", "没有分管部门"),
        ("廉政党课", "S1", "", "主持人", "班子成员"),
        ("专题辅导报告", "P02", "", "主持人", "党组书记"),
        ("谈心谈话", "P02", "S4", "参加人", "分管部门的人员"),
        ("谈心谈话", "H1", "S1", "主持人", "党组书记"),
        ("检查考核", "P02", "H3", "参加人", "分管部门的负责人"),
        ("年度报告", "P02", "", "主持人", "纪检组长"),
        ("约谈", "P01", "P01", "参加人", "不应同时列为参加人"),
        ("约谈", "P01", "P999", "参加人", "名册中没有人员“P999”"),
        ("约谈", "P999", "P02", "主持人", "名册中没有人员“P999”"),
        ("谈心谈话", "P04", "王芳", "参加人", "有 2 人(S5、S6)"),
        ("开会", "P01", "", "类型", "无法识别"),
    ],
)
def test_invalid_activities_name_the_field(
    kind: str, actor: str, participants: str, field: str, words: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        build(kind, actor, participants)
    message = caught.value.diagnostics()
    assert f"字段“{field}" in message
    assert words in message


@pytest.mark.parametrize(
    ("day", "words"),
    [
        ("2027/03/05", "格式不对"),
        ("2027-3-5", "格式不对"),
        ("20270305", "格式不对"),
        ("2027-02-30", "不存在"),
        ("2027-13-01", "不存在"),
        ("", "缺少日期"),
        ("2028-06-01", "晚于今天"),
    ],
)
def test_bad_dates(day: str, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        build("约谈", "P01", "P02", day=day)
    assert words in caught.value.diagnostics()
    assert "字段“日期(--date)”" in caught.value.diagnostics()


def test_activity_id_is_a_content_hash() -> None:
    a = activity_id_for(ActivityKind.ADMONITORY_TALK, date(2027, 3, 1), "P01", ["P02", "P04"], "")
    b = activity_id_for(ActivityKind.ADMONITORY_TALK, date(2027, 3, 1), "P01", ["P04", "P02"], "")
    c = activity_id_for(ActivityKind.ADMONITORY_TALK, date(2027, 3, 1), "P01", ["P02"], "")
    assert a == b != c


# ------------------------------------------------------------------------------ the registry


def test_add_records_in_registry_and_audit_passes(ws_root: Path) -> None:
    outcome = run_docgen(
        "activity", "add", "-w", str(ws_root), "--kind", "约谈", "--date", "2027-03-05",
        "--actor", "P01", "--participants", "P02,李副,P04", "--note", "年度约谈",
    )  # fmt: skip
    assert outcome.code == 0, outcome.text
    assert "已登记" in outcome.out and "第十条第7项" in outcome.out
    with open_registry(find_workspace(ws_root)) as registry:
        entries = list(registry.entries(type="activity"))
        assert len(entries) == 1
        record = entries[0].record
        assert record["kind"] == "admonitory_talk"
        assert record["participants"] == ["P02", "P04"]
        assert record["article"] == "10.7"
        assert record["date"] == "2027-03-05"
        assert record["recorded_at"] == "2027-12-31T10:00:00Z"
        assert registry.audit().ok
    listed = run_docgen("activity", "list", "-w", str(ws_root), "--year", "2027", "--json")
    assert listed.code == 0
    rows = json.loads(listed.out)
    assert [r["activity_id"] for r in rows] == [record["activity_id"]]
    assert rows[0]["kind_label"] == "约谈"
    table = run_docgen("activity", "list", "-w", str(ws_root))
    assert "约谈" in table.out and "共 1 项" in table.out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--kind", "约谈", "--date", "2027-02-30", "--actor", "P01", "--participants", "P02"],
         "日期“2027-02-30”不存在"),
        (["--kind", "约谈", "--date", "2027-02-03", "--actor", "P404", "--participants", "P02"],
         "名册中没有人员“P404”"),
        (["--kind", "约谈", "--date", "2027-02-03", "--actor", "P01", "--participants", "S1"],
         "许甲(S1,工作人员)不能参加"),
        (["--kind", "交换意见", "--date", "2027-02-03", "--actor", "P02", "--participants", "P04"],
         "不能作为“交换意见”的主持人"),
    ],
)  # fmt: skip
def test_bad_add_leaves_registry_unchanged(ws_root: Path, args: list[str], words: str) -> None:
    before = registry_size(ws_root)
    outcome = run_docgen("activity", "add", "-w", str(ws_root), *args)
    assert outcome.code == 1
    assert words in outcome.err
    assert outcome.err.startswith("错误:")
    assert registry_size(ws_root) == before


def test_duplicate_is_refused(ws_root: Path) -> None:
    args = ["activity", "add", "-w", str(ws_root), "--kind", "廉政党课", "--date", "2027-07-01",
            "--actor", "P02"]  # fmt: skip
    assert run_docgen(*args).code == 0
    before = registry_size(ws_root)
    again = run_docgen(*args)
    assert again.code == 1
    assert "重复登记" in again.err
    assert registry_size(ws_root) == before
    assert run_docgen(*args, "--note", "第二次党课").code == 0


def _write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


HEADER = ["类型", "日期", "主持人", "参加人", "备注"]
GOOD_ROWS = [
    ["党组专题会议", "2027-03-08", "P01", "P02,P03,P04,P06", "研究部署"],
    ["听取分管部门汇报", "2027-02-10", "P02", "H1", ""],
    ["廉政谈话", "2027-03-11", "P02", "马一", "季度廉政谈话"],
    ["交换意见", "2027-06-10", "陈纪", "P02、P04、P06", ""],
]


def test_import_csv_is_one_batch(ws_root: Path, tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "活动.csv", [HEADER, *GOOD_ROWS])
    outcome = run_docgen("activity", "import", "-w", str(ws_root), str(path))
    assert outcome.code == 0, outcome.text
    assert "导入 4 项活动" in outcome.out
    with open_registry(find_workspace(ws_root)) as registry:
        activities = read_activities(registry, year=2027)
        assert [a.kind for a in activities] == [
            ActivityKind.PARTY_GROUP_MEETING,
            ActivityKind.DEPARTMENT_BRIEFING,
            ActivityKind.INTEGRITY_TALK,
            ActivityKind.EXCHANGE_OF_VIEWS,
        ]
        assert [a.index for a in activities] == [0, 1, 2, 3]
        assert activities[2].participants == ("H1",)
        # one append: one checkpoint for the whole batch
        assert registry.checkpoint().decode().splitlines()[1] == "4"
        assert registry.audit().ok


def test_import_gbk_csv(ws_root: Path, tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "gbk.csv", [HEADER, *GOOD_ROWS[:2]], encoding="gb18030")
    outcome = run_docgen("activity", "import", "-w", str(ws_root), str(path))
    assert outcome.code == 0, outcome.text
    assert registry_size(ws_root) == 2


def test_import_xlsx_with_date_cells(ws_root: Path, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "活动"
    sheet.append(["日期", "类型", "主持人", "参加人"])
    sheet.append([date(2027, 4, 26), "专题辅导报告", "P01", None])
    sheet.append([None, None, None, None])
    sheet.append(["2027-05-16", "专项督察", "P03", ""])
    path = tmp_path / "活动.xlsx"
    book.save(path)
    inputs = read_activity_file(path)
    assert [i.row for i in inputs] == [2, 4]
    outcome = run_docgen("activity", "import", "-w", str(ws_root), str(path))
    assert outcome.code == 0, outcome.text
    with open_registry(find_workspace(ws_root)) as registry:
        dates = [a.date for a in read_activities(registry)]
    assert dates == [date(2027, 4, 26), date(2027, 5, 16)]


def test_import_with_bad_rows_records_nothing(ws_root: Path, tmp_path: Path) -> None:
    rows = [
        HEADER,
        GOOD_ROWS[0],
        ["约谈", "2027-02-30", "P01", "P02", ""],
        ["廉政谈话", "2027-03-11", "P02", "H3", ""],
        GOOD_ROWS[1],
        GOOD_ROWS[1],
    ]
    path = _write_csv(tmp_path / "bad.csv", rows)
    before = registry_size(ws_root)
    outcome = run_docgen("activity", "import", "-w", str(ws_root), str(path))
    assert outcome.code == 1
    assert registry_size(ws_root) == before
    lines = outcome.err.splitlines()
    assert "3 处错误,未登记任何活动" in lines[0]
    assert any("bad.csv" in line and "第 3 行" in line and "字段“日期”" in line for line in lines)
    assert any("第 4 行" in line and "字段“参加人”" in line and "郭三" in line for line in lines)
    assert any("第 6 行" in line and "与第 5 行完全相同" in line for line in lines)


def test_import_refuses_missing_columns_and_types(ws_root: Path, tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "cols.csv", [["类型", "参加人"], ["约谈", "P02"]])
    outcome = run_docgen("activity", "import", "-w", str(ws_root), str(path))
    assert outcome.code == 1
    assert "表头缺少列:日期、主持人" in outcome.err
    other = tmp_path / "活动.txt"
    other.write_text("x", encoding="utf-8")
    outcome = run_docgen("activity", "import", "-w", str(ws_root), str(other))
    assert outcome.code == 1 and "不支持的文件类型" in outcome.err
    assert registry_size(ws_root) == 0


def test_import_refuses_what_is_already_recorded(ws_root: Path, tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "a.csv", [HEADER, *GOOD_ROWS])
    assert run_docgen("activity", "import", "-w", str(ws_root), str(path)).code == 0
    again = run_docgen("activity", "import", "-w", str(ws_root), str(path))
    assert again.code == 1
    assert "4 处错误" in again.err and "已登记的活动" in again.err
    assert registry_size(ws_root) == 4


def test_void_keeps_the_record_but_stops_counting_it(ws_root: Path) -> None:
    ws = find_workspace(ws_root)
    roster = small_roster()
    with open_registry(ws) as registry:
        (recorded,) = record_activities(
            registry,
            roster,
            [ActivityInput(kind="廉政党课", date="2027-07-01", actor="P02")],
            now=RECORDED,
        )
    outcome = run_docgen(
        "activity", "void", "-w", str(ws_root), recorded.activity_id, "--reason", "日期登错"
    )
    assert outcome.code == 0, outcome.text
    with open_registry(ws) as registry:
        assert read_activities(registry) == []
        (kept,) = read_activities(registry, include_voided=True)
        assert kept.voided and kept.activity_id == recorded.activity_id
        assert registry.size() == 2 and registry.audit().ok
        with pytest.raises(ValidationError, match="已经作废"):
            void_activity(registry, recorded.activity_id, "再次", now=RECORDED)
        with pytest.raises(ValidationError, match="没有活动"):
            void_activity(registry, "A-2027-0000000000", "无", now=RECORDED)
        same = ActivityInput(kind="廉政党课", date="2027-07-01", actor="P02")
        with pytest.raises(ValidationError, match="与已作废的活动"):
            record_activities(registry, roster, [same], now=RECORDED)
        corrected = ActivityInput(kind="廉政党课", date="2027-07-01", actor="P02", note="更正登记")
        (again,) = record_activities(registry, roster, [corrected], now=RECORDED)
        assert [a.activity_id for a in read_activities(registry)] == [again.activity_id]


def test_several_bad_inputs_are_all_reported(ws_root: Path) -> None:
    inputs = [
        ActivityInput(kind="约谈", date="2027-01-05", actor="P01", participants="P02", row=2),
        ActivityInput(kind="约谈", date="2027-01-05", actor="P02", participants="P04", row=3),
        ActivityInput(kind="廉政党课", date="2027-13-05", actor="P02", row=4),
    ]
    with open_registry(find_workspace(ws_root)) as registry:
        with pytest.raises(ProblemsError) as caught:
            record_activities(registry, small_roster(), inputs, now=RECORDED)
        assert registry.size() == 0
    assert [p.location.row for p in caught.value.problems] == [3, 4]


def test_kinds_and_help(ws_root: Path) -> None:
    kinds = run_docgen("activity", "kinds")
    assert kinds.code == 0
    for label in ("党组专题会议", "交换意见", "第十三条第2项", "第十一条第6项"):
        assert label in kinds.out
    assert run_docgen("activity", "add", "--help").code == 0
    missing = run_docgen("activity", "add", "-w", str(ws_root), "--kind", "约谈")
    assert missing.code == 2
