"""Every countable duty recordable: the activity kinds of issue #20, each with its article, who may
record it, and how `duties` counts it (a frequency where the seed gives one, none where it says
"适时"/"及时"), the three recipients of 9.3 and two years of 较差 (18.9, 22.3)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from docgen.core.errors import ValidationError
from docgen.core.glossary import ActivityKind
from docgen.core.models import Roster
from docgen.duties.activity_rules import RECORD_ONLY
from docgen.duties.engine import SigningSummary, expand_duties
from docgen.duties.ledger import Activity, ActivityInput, build_activity
from docgen.letters.workspace_init import init_workspace
from docgen.roster.example import demo_roster_yaml
from docgen.roster.load import load_roster
from tests.helpers import run_docgen
from tests.ledger_fixtures import YEAR, small_roster_yaml
from tests.seed import quote

TODAY = date(2028, 12, 31)


@pytest.fixture(scope="module")
def demo_roster(tmp_path_factory: pytest.TempPathFactory) -> Roster:
    path = tmp_path_factory.mktemp("roster") / "roster.yaml"
    path.write_text(demo_roster_yaml(), encoding="utf-8")
    return load_roster(path)


def build(roster: Roster, kind: str, actor: str, participants: str = "", **extra: str) -> Activity:
    raw = ActivityInput(
        kind=kind, date=extra.pop("day", "2027-05-10"), actor=actor, participants=participants,
        **extra,
    )  # fmt: skip
    return build_activity(roster, raw, today=TODAY)


# The seed's words for each new kind, the kind, who records it in the demo roster, and the
# article it counts for. P001 书记, P005 纪检组长, P014 政工科 head, P018 a department head.
NEW_KINDS = [
    ("每年适时组织将县委下达的党风廉政建设和反腐败工作任务细化分解到有关部门和分管领导",
     "任务细化分解", "P001", "", {}, "9.4"),
    ("认真执行民主生活会制度", "民主生活会", "P002", "", {}, "9.17"),
    ("适时听取纪检监察工作情况汇报", "听取纪检监察工作汇报", "P001", "P005", {}, "9.20"),
    ("及时主持召开相关会议,学习传达贯彻上级党风廉政建设工作的各项决策部署",
     "传达学习会议", "P001", "", {}, "10.1"),
    ("把党风廉政建设工作列入党组重要议事日程", "列入党组议事日程", "P001", "", {}, "10.2"),
    ("应当适时进行诫勉谈话", "诫勉谈话", "P001", "P018", {}, "10.9"),
    ("制定教育培训计划", "教育培训计划", "P014", "", {}, "12.2.1"),
    ("负责党组决定开展的党课教育和警示教育活动的组织实施", "党课和警示教育", "P014", "", {},
     "12.2.4"),
    ("纪律作风专项教育整顿活动的组织实施", "专项教育整顿", "P006", "", {}, "12.2.5"),
    ("配合纪检组负责撰写党组向县委、县纪委、市检院党组上报履行主体责任情况的报告",
     "撰写主体责任报告", "P014", "P005", {}, "12.2.6"),
    ("及时调查处理监督过程中发现的违纪违规问题", "调查处理违纪违规问题", "P005", "", {}, "13.3"),
    ("对决策时是否经党组集体研究", "监督党组决策", "P005", "", {}, "13.4"),
    ("对执行中是否严格按照有关规定和程序操作进行监督", "监督执行程序", "P005", "", {}, "13.5"),
    ("应及时提请党组责令纠正", "提请党组责令纠正", "P005", "", {}, "13.6"),
    ("适时开展针对转变作风、遵守纪律情况专项督察", "纪检组专项督察", "P005", "", {}, "13.7"),
    ("及时向县纪委和市检院纪检组报告院党组成员、其他领导干部以及检察干警的重大违纪违法问题线索",
     "报告问题线索", "P005", "", {"recipients": "县纪委,市检院纪检组"}, "13.8"),
    ("及时报告对反映检察人员违纪违法问题的举报、控告的调查核实情况及调查结论",
     "报告调查核实情况", "P005", "", {}, "13.9"),
    ("分别作出直办、督办、转办、阅处、留存等处理", "处理举报控告", "P005", "",
     {"disposition": "转办"}, "13.11"),
    ("移送有关组织依纪依规给予党纪检纪处理", "移送处理", "P005", "", {}, "13.12"),
    ("应及时予以警示提醒、训诫督导、责令纠错", "警示提醒", "P005", "", {}, "13.13"),
    ("实行“一案双查”", "一案双查", "P005", "", {}, "13.14"),
    ("连续两年被评定为 “较差”等次的", "考核等次", "P001", "P018", {"grade": "一般"}, "14"),
]  # fmt: skip


@pytest.mark.parametrize(("words", "kind", "actor", "who", "extra", "article"), NEW_KINDS)
def test_each_new_kind_is_recorded_with_its_article(
    demo_roster: Roster,
    words: str,
    kind: str,
    actor: str,
    who: str,
    extra: dict[str, str],
    article: str,
) -> None:
    quote(words)
    activity = build(demo_roster, kind, actor, who, **extra)
    assert activity.article == article
    record = activity.record()
    assert Activity.from_record(record) == activity  # extras survive the registry round trip
    base = {"type", "activity_id", "kind", "date", "actor", "participants", "article", "note"}
    assert set(record) - base == set(extra)  # only the kinds that have them hold them


def test_every_kind_is_in_the_list_with_its_article() -> None:
    covered = {kind for _w, kind, *_rest in NEW_KINDS}
    new = {k.label for k in ActivityKind} - {
        "党组专题会议", "专项督察", "专项治理", "专题辅导报告", "约谈", "谈心谈话",
        "听取分管部门汇报", "廉政谈话", "廉政党课", "交换意见", "检查考核", "年度报告",
    }  # fmt: skip
    assert new == covered
    outcome = run_docgen("activity", "add", "--help")
    assert outcome.code == 0
    for k in ActivityKind:
        line = next(line for line in outcome.out.splitlines() if f"({k.value})" in line)
        assert k.label in line and "第" in line
        assert ("只登记和报告" in line) == (k in RECORD_ONLY), line
    assert "诫勉谈话(admonition_talk):第十条第9项;适时,只登记和报告" in outcome.out
    assert "任务细化分解(task_breakdown):第九条第4项;每年适时,计入期限" in outcome.out


@pytest.mark.parametrize(
    ("kind", "actor", "who", "extra", "words"),
    [
        ("纪检组专项督察", "P002", "", {}, "纪检组长"),  # 13.x is the 纪检组's
        ("报告问题线索", "P001", "", {"recipients": "县纪委"}, "纪检组长"),
        ("教育培训计划", "P018", "", {}, "政工科"),  # not in 政工科
        ("撰写主体责任报告", "P014", "P015", {}, "纪检组长"),  # "配合纪检组"
        ("诫勉谈话", "P002", "P018", {}, "党组书记"),
        ("诫勉谈话", "P001", "P002", {}, "存在问题较多的部门"),  # a 班子成员 is no department
        ("传达学习会议", "P002", "", {}, "党组书记"),
        ("考核等次", "P001", "P018", {}, "缺少考核等次"),
        ("考核等次", "P001", "P018", {"grade": "合格"}, "优秀、良好、一般、较差"),
        ("处理举报控告", "P005", "", {}, "缺少处理方式"),
        ("处理举报控告", "P005", "", {"disposition": "搁置"}, "直办、督办、转办、阅处、留存"),
        ("报告问题线索", "P005", "", {}, "缺少报送机关"),
        ("报告问题线索", "P005", "", {"recipients": "县委"}, "不是第十三条第8项规定的报送对象"),
        ("年度报告", "P001", "", {}, "应报送县委、县纪委、市检院党组"),
        ("年度报告", "P001", "", {"recipients": "市检院纪检组"}, "不是第九条第3项规定的"),
        ("年度报告", "P005", "", {"recipients": "县委"}, "不是第十三条第10项规定的"),
        ("专项督察", "P005", "", {"grade": "较差"}, "不填考核等次"),
        ("民主生活会", "P001", "", {"recipients": "县委"}, "不填报送机关"),
    ],
)
def test_wrong_records_are_refused_naming_the_field(
    demo_roster: Roster, kind: str, actor: str, who: str, extra: dict[str, str], words: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        build(demo_roster, kind, actor, who, **extra)
    assert words in f"{caught.value.message}{caught.value.hint}"
    assert caught.value.location is not None and caught.value.location.field


def test_13_7_is_the_discipline_groups_own_not_9_14(demo_roster: Roster) -> None:
    """Before, every 督察 counted for both 9.14 and 13.7."""
    quote("每半年组织1次党风检纪专项重点督察")
    quote("适时开展针对转变作风、遵守纪律情况专项督察")
    own = build(demo_roster, "纪检组专项督察", "P005", day="2027-05-10")
    report = expand_duties(demo_roster, YEAR, [own], SigningSummary(year=YEAR), date(2028, 1, 10))
    inspections = [o for o in report.by_article("9.14") if "督察" in o.duty]
    assert [o.done for o in inspections] == [0, 0]  # 13.7's does not count for 9.14
    (record,) = [r for r in report.records if r.article == "13.7"]
    assert (record.count, record.dates, record.when) == (1, (date(2027, 5, 10),), "适时")
    assert all(o.article != "13.7" for o in report.obligations)  # 适时: no invented frequency


# ---------------------------------------------------------------------------------- the CLI


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "ws"
    init_workspace(root, institution="庆城县人民检察院", year=YEAR, roster_yaml=small_roster_yaml())
    monkeypatch.setenv("DOCGEN_NOW", "2028-01-10T02:00:00+00:00")
    monkeypatch.delenv("DOCGEN_DATABASE_URL", raising=False)
    return root


def add(root: Path, *args: str) -> None:
    outcome = run_docgen("activity", "add", "-w", str(root), *args)
    assert outcome.code == 0, outcome.text


def duties_json(root: Path) -> dict[str, object]:
    outcome = run_docgen("duties", "-w", str(root), "--year", "2027", "--json")
    data: dict[str, object] = json.loads(outcome.out)
    return data


def obligations(data: dict[str, object], article: str) -> list[dict[str, object]]:
    found = data["obligations"]
    assert isinstance(found, list)
    return [o for o in found if o["article"] == article]


def test_9_3_checks_each_of_the_three_recipients(ws: Path) -> None:
    quote("每年向县委、县纪委和市院报告1次党风廉政建设工作情况")
    add(ws, "--kind", "年度报告", "--date", "2027-12-28", "--actor", "P01",
        "--recipients", "县委,县纪委")  # fmt: skip
    reports = obligations(duties_json(ws), "9.3")
    assert {str(o["detail"]): o["status"] for o in reports} == {
        "报送县委": "done", "报送县纪委": "done", "报送市检院党组": "overdue",
    }  # fmt: skip
    add(ws, "--kind", "年度报告", "--date", "2028-01-05", "--actor", "P01",
        "--recipients", "市院")  # fmt: skip  # next January: counts for 2028, not 2027
    assert {o["status"] for o in obligations(duties_json(ws), "9.3")} == {"done", "overdue"}
    add(ws, "--kind", "年度报告", "--date", "2027-12-29", "--actor", "P01", "--recipients", "市院")
    assert {o["status"] for o in obligations(duties_json(ws), "9.3")} == {"done"}
    listed = run_docgen("activity", "list", "-w", str(ws), "--json")
    assert next(r.get("recipients") for r in json.loads(listed.out)) == ["县委", "县纪委"]


def test_13_10_to_both_bodies(ws: Path) -> None:
    quote("每年应及时向县纪委和市检院纪检组报告履行监督责任情况")
    add(ws, "--kind", "年度报告", "--date", "2027-12-28", "--actor", "P03",
        "--recipients", "县纪委、市检院纪检组")  # fmt: skip
    reports = obligations(duties_json(ws), "13.10")
    assert sorted((str(o["detail"]), o["status"]) for o in reports) == [
        ("报送县纪委", "done"), ("报送市检院纪检组", "done"),
    ]  # fmt: skip


def test_9_4_is_due_once_a_year(ws: Path) -> None:
    (before,) = obligations(duties_json(ws), "9.4")
    assert before["status"] == "overdue" and before["required"] == 1
    add(ws, "--kind", "任务细化分解", "--date", "2027-03-08", "--actor", "P01")
    (after,) = obligations(duties_json(ws), "9.4")
    assert after["status"] == "done"


def test_record_only_kinds_are_reported_never_overdue(ws: Path) -> None:
    add(ws, "--kind", "民主生活会", "--date", "2027-01-26", "--actor", "P01")
    add(ws, "--kind", "处理举报控告", "--date", "2027-04-14", "--actor", "P03",
        "--disposition", "直办")  # fmt: skip
    add(ws, "--kind", "报告问题线索", "--date", "2027-04-20", "--actor", "P03",
        "--recipients", "县纪委")  # fmt: skip
    outcome = run_docgen("duties", "-w", str(ws), "--year", "2027")
    text = outcome.out
    assert "只登记和报告,不计逾期" in text
    assert "第九条第17项民主生活会(未定频次):本年度登记1次(1月26日)" in text
    assert "第十三条第11项处理举报控告(受理时):本年度登记1次(4月14日);直办 1 件" in text
    assert "报送县纪委 1 次,报送市检院纪检组 0 次" in text
    assert "第十条第9项诫勉谈话(适时):本年度登记0次" in text  # nothing recorded is said
    data = duties_json(ws)
    found = data["obligations"]
    assert isinstance(found, list)
    record_only = {k.articles[0] for k in RECORD_ONLY}
    assert not [o for o in found if o["article"] in record_only]


def test_two_consecutive_years_of_poor_grades_are_flagged(ws: Path) -> None:
    quote("在党风廉政建设责任制年度考核中,连续两年被评定为 “较差”等次的")
    before = run_docgen("duties", "-w", str(ws), "--year", "2027").out
    assert "2027年度未登记考核等次" in before and "无法核对" in before
    for year in (2026, 2027):
        add(ws, "--kind", "考核等次", "--date", f"{year}-12-30", "--actor", "P01",
            "--participants", "H1,P03", "--grade", "较差")  # fmt: skip
        add(ws, "--kind", "考核等次", "--date", f"{year}-12-30", "--actor", "P01",
            "--participants", "H2", "--grade", "较差" if year == 2027 else "一般")  # fmt: skip
    text = run_docgen("duties", "-w", str(ws), "--year", "2027").out
    assert "警示:马一(H1)在2026、2027年度党风廉政建设责任制考核中连续两年被评定为“较差”等次" in text
    assert "属第十八条第9项应当追究责任的情形" in text
    assert "陈纪(P03)在2026、2027年度" in text and "第二十二条第3项" in text
    assert "胡二(H2)" not in text  # 一般 then 较差: not two years
    one_year = run_docgen("duties", "-w", str(ws), "--year", "2026").out
    assert "警示:" not in one_year and "2025年度未登记考核等次" in one_year


def test_the_supervision_report_states_13_7_apart_and_the_recorded_case_work(ws: Path) -> None:
    from docx import Document

    add(ws, "--kind", "纪检组专项督察", "--date", "2027-09-05", "--actor", "P03")
    add(ws, "--kind", "专项督察", "--date", "2027-05-16", "--actor", "P01")
    add(ws, "--kind", "处理举报控告", "--date", "2027-04-14", "--actor", "P03",
        "--disposition", "转办")  # fmt: skip
    outcome = run_docgen("report", "-w", str(ws), "--year", "2027", "--kind", "supervision",
                         "--to", "县纪委", "--date", "2028-01-10")  # fmt: skip
    assert outcome.code == 0, outcome.text
    (path,) = (ws / "output" / "2027" / "reports").glob("*_县纪委.docx")
    plain = str.maketrans("\uff08\uff09\uff0c\uff1a\uff1b", "(),:;")
    text = "\n".join(p.text for p in Document(str(path)).paragraphs).translate(plain)
    assert "专项督察1次(9月5日)(第十三条第7项)" in text
    assert "党风检纪专项重点督察1次(5月16日)(第九条第14项)" in text
    assert "据活动登记簿,处理举报控告1次(转办 1 件)(第十三条第11项)" in text


def test_import_reads_recipients_grade_and_disposition_columns(ws: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "台账.csv"
    sheet.write_text(
        "类型,日期,主持人,参加人,报送机关,考核等次,处理方式,备注\n"
        "年度报告,2027-12-28,P01,,县委、县纪委、市院,,,\n"
        "考核等次,2027-12-30,P01,H1,,良好,,\n"
        "处理举报控告,2027-04-14,P03,,,,阅处,\n"
        "年度报告,2027-12-29,P03,,县委,,,\n",
        encoding="utf-8",
    )
    refused = run_docgen("activity", "import", "-w", str(ws), str(sheet))
    assert refused.code == 1
    assert "第 5 行" in refused.err and "报送机关" in refused.err  # 13.10 does not go to 县委
    sheet.write_text(sheet.read_text(encoding="utf-8").rsplit("年度报告,2027-12-29", 1)[0],
                     encoding="utf-8")  # fmt: skip
    outcome = run_docgen("activity", "import", "-w", str(ws), str(sheet))
    assert outcome.code == 0, outcome.text
    rows = json.loads(run_docgen("activity", "list", "-w", str(ws), "--json").out)
    got = {r["kind"]: (r.get("recipients"), r.get("grade"), r.get("disposition")) for r in rows}
    assert got == {
        "annual_report": (["县委", "县纪委", "市检院党组"], None, None),
        "assessment_grade": (None, "良好", None),
        "complaint_handling": (None, None, "阅处"),
    }
    assert {o["status"] for o in obligations(duties_json(ws), "9.3")} == {"done"}
