"""The duties engine: obligations per article, person and period, and their status as of a date."""

from __future__ import annotations

import json
import zipfile
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from docgen.core.glossary import LetterKind
from docgen.core.models import Roster
from docgen.core.workspace import find_workspace
from docgen.demo.ledger import demo_activities
from docgen.duties.engine import (
    DutiesReport,
    LetterCount,
    PersonSigning,
    SigningSummary,
    expand_duties,
    signing_summary_from_registry,
    status_of,
)
from docgen.duties.ledger import Activity, ActivityInput, build_activity
from docgen.letters.workspace_init import init_workspace
from docgen.registry import open_registry
from docgen.roster.example import demo_roster_yaml
from docgen.roster.load import load_roster
from tests.helpers import run_docgen
from tests.ledger_fixtures import RECORDED, YEAR, small_roster, small_roster_yaml
from tests.seed import quote

NO_LETTERS = SigningSummary(year=YEAR)
YEAR_END = date(2028, 1, 10)


def act(kind: str, day: str, actor: str, participants: str = "", note: str = "") -> Activity:
    raw = ActivityInput(kind=kind, date=day, actor=actor, participants=participants, note=note)
    return build_activity(small_roster(), raw, today=date(2028, 12, 31))


def duties(activities: list[Activity], as_of: date = YEAR_END, **kw: object) -> DutiesReport:
    roster = kw.get("roster", small_roster())
    assert isinstance(roster, Roster)
    return expand_duties(roster, YEAR, activities, NO_LETTERS, as_of)


def by_article(report: DutiesReport) -> Counter[str]:
    return Counter(o.article for o in report.obligations)


def test_expansion_counts_per_article_for_the_small_roster() -> None:
    report = duties([])
    assert by_article(report) == {
        "9.1": 1,
        "9.3": 3,  # one per body: 县委, 县纪委, 市院 (市检院党组)
        "9.4": 1,
        "9.14": 3,  # 专项督察 each half-year + 专项治理 once
        "9.5": 1,
        "9.6": 1,
        "9.7": 1,
        "10.3": 5,  # 4 班子成员 + 1 检委会专职委员
        "10.6": 1,
        "10.7": 4,  # each 班子成员
        "10.8": 7,  # 4 班子成员 + 3 部门负责人
        "11.2": 3,  # one per supervised department with a head (第四部 has none: no 责任书)
        # 汇报 4 depts × 4 quarters + 廉政谈话 3 heads × 4 + 谈心谈话 5+2+2 staff + 3 党课
        "11.6": 16 + 12 + 9 + 3,
        "13.2": 8,  # the 书记 and 3 other 班子成员 × 2 half-years
        "13.10": 2,  # 县纪委, 市检院纪检组
        "12.2.6": 1,  # 政工科 drafts the 党组's yearly report with the 纪检组
    }
    assert all(o.status == "overdue" for o in report.obligations)
    assert report.by_article("9.1")[0].required == 2
    lectures = [o for o in report.obligations if o.duty == "每年至少为分管部门讲1次廉政党课"]
    assert [o.person_id for o in lectures] == ["P02", "P03", "P04"]
    assert any("P06" in n and "没有分管部门" in n for n in report.notes)
    assert any("检委会专职委员" in n and "不单列" in n for n in report.notes)


def test_expansion_counts_for_the_demo_roster(tmp_path: Path) -> None:
    path = tmp_path / "roster.yaml"
    path.write_text(demo_roster_yaml(), encoding="utf-8")
    roster = load_roster(path)
    report = expand_duties(roster, YEAR, [], NO_LETTERS, YEAR_END)
    counts = by_article(report)
    # 9 departments, each with a 分管院领导 (the 书记 supervises 案件管理部; 王建华 heads the
    # 第四检察部 he supervises, so there is no 廉政谈话 there); 37 people in them besides
    # their supervisors; 5 people supervise departments.
    assert counts["11.6"] == 9 * 4 + 8 * 4 + 37 + 5
    assert counts["11.2"] == 8  # not the 第四检察部, headed by its own 分管院领导
    assert counts["10.7"] == 5
    assert counts["10.8"] == 5 + 8
    assert counts["10.3"] == 5 + 2
    assert counts["13.2"] == 5 * 2  # the 书记 and 4 班子成员, each half-year


def test_quarter_boundary() -> None:
    none = duties([], as_of=date(2027, 3, 31))
    q1 = [o for o in none.obligations if o.period == "2027年第1季度"]
    assert q1 and all(o.status == "due" for o in q1)
    assert all(o.due == date(2027, 3, 31) for o in q1)
    after = duties([], as_of=date(2027, 4, 1))
    assert all(o.status == "overdue" for o in after.obligations if o.period == "2027年第1季度")
    assert all(o.status == "due" for o in after.obligations if o.period == "2027年第2季度")

    on_the_day = act("廉政谈话", "2027-03-31", "P02", "H1")
    next_day = act("廉政谈话", "2027-04-01", "P02", "H2")
    report = duties([on_the_day, next_day], as_of=date(2027, 4, 1))
    talks = {
        (o.counterpart_id, o.period): o
        for o in report.obligations
        if o.duty.startswith("每季度与分管部门负责人")
    }
    assert talks[("H1", "2027年第1季度")].status == "done"
    assert talks[("H1", "2027年第1季度")].evidence == (on_the_day.activity_id,)
    assert talks[("H2", "2027年第1季度")].status == "overdue"  # April counts for Q2
    assert talks[("H2", "2027年第2季度")].status == "done"
    # as of 31 March the April talk has not happened yet
    earlier = duties([on_the_day, next_day], as_of=date(2027, 3, 31))
    q2 = [
        o
        for o in earlier.obligations
        if o.counterpart_id == "H2"
        and o.period == "2027年第2季度"
        and o.article == "11.6"
        and o.duty.startswith("每季度与")
    ]
    assert [o.status for o in q2] == ["due"]


def test_activities_count_only_for_their_counterparts() -> None:
    talk = act("约谈", "2027-06-03", "P01", "P02,P04")
    briefing = act("听取分管部门汇报", "2027-02-10", "P04", "S6")  # headless 第四部
    heart = act("谈心谈话", "2027-10-02", "P02", "S1,H2")
    report = duties([talk, briefing, heart])
    done = {
        (o.article, o.person_id, o.counterpart_id, o.department, o.period)
        for o in report.obligations
        if o.status == "done"
    }
    assert done == {
        ("10.7", "P01", "P02", None, "2027年度"),
        ("10.7", "P01", "P04", None, "2027年度"),
        ("11.6", "P04", None, "第四部", "2027年第1季度"),
        ("11.6", "P02", "S1", "第一部", "2027年度"),
        ("11.6", "P02", "H2", "第二部", "2027年度"),
    }


def test_meetings_need_two_and_half_years_are_separate() -> None:
    one = act("党组专题会议", "2027-03-08", "P01")
    two = act("党组专题会议", "2027-08-20", "P01")
    inspection = act("专项督察", "2027-05-16", "P03")
    report = duties([one], as_of=date(2027, 12, 31))
    (meetings,) = report.by_article("9.1")
    assert (meetings.done, meetings.required, meetings.status) == (1, 2, "due")
    report = duties([one, two, inspection])
    (meetings,) = report.by_article("9.1")
    assert meetings.status == "done" and set(meetings.evidence) == {
        one.activity_id,
        two.activity_id,
    }
    halves = {o.period: o.status for o in report.by_article("9.14") if "督察" in o.duty}
    assert halves == {"2027年上半年": "done", "2027年下半年": "overdue"}


def test_voided_and_other_years_do_not_count() -> None:
    from dataclasses import replace

    lecture = act("廉政党课", "2027-07-01", "P02")
    last_year = act("廉政党课", "2026-07-01", "P03")
    report = duties([replace(lecture, voided=True), last_year])
    assert all(o.status == "overdue" for o in report.obligations if "廉政党课" in o.duty)


def test_signing_obligations() -> None:
    signing = SigningSummary(
        year=YEAR,
        letters=(
            LetterCount(LetterKind.RESPONSIBILITY, generated=4, complete=4),
            LetterCount(LetterKind.PUBLIC_COMMITMENT, generated=4, complete=3),
        ),
        people=(
            PersonSigning(
                "P01",
                LetterKind.PUBLIC_COMMITMENT,
                required=4,
                signed=3,
                missing=("2027-CN-P01-P06",),
            ),
            PersonSigning("P06", LetterKind.PUBLIC_COMMITMENT, required=1, signed=1),
        ),
    )
    # 年初: by the default deadline, 31 January
    report = expand_duties(small_roster(), YEAR, [], signing, date(2027, 1, 31))
    status = {(o.article, o.person_id): (o.done, o.required, o.status) for o in report.obligations
              if o.article in ("9.5", "9.6", "9.7")}  # fmt: skip
    assert status == {
        ("9.5", None): (4, 4, "done"),
        ("9.6", None): (3, 4, "due"),
        ("9.7", None): (0, 1, "due"),  # nothing generated yet: not done
        ("9.6", "P01"): (3, 4, "due"),
        ("9.6", "P06"): (1, 1, "done"),
    }
    (p01,) = report.for_person("P01").by_article("9.6")
    assert "2027-CN-P01-P06" in p01.detail
    later = expand_duties(small_roster(), YEAR, [], signing, date(2027, 2, 1))
    assert {o.status for o in later.by_article("9.6")} == {"overdue", "done"}
    # all four 责任书 signed, one of them only on 3 March: 3 done, 1 逾期完成, none missing
    late = replace(signing, letters=(
        LetterCount(LetterKind.RESPONSIBILITY, generated=4, complete=4, late=1,
                    late_first=date(2027, 3, 3), late_last=date(2027, 3, 3)),
    ))  # fmt: skip
    (zr,) = expand_duties(small_roster(), YEAR, [], late, date(2027, 6, 1)).by_article("9.5")
    assert (zr.done, zr.late, zr.status, zr.status_label) == (3, 1, "late", "逾期完成")
    assert zr.detail == "逾期完成1份,于3月3日补签"


def test_signing_summary_from_registry(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    init_workspace(root, institution="庆城县人民检察院", year=YEAR, roster_yaml=small_roster_yaml())

    def document(doc_id: str, kind: str, sup: str, sub: str) -> dict[str, object]:
        return {
            "type": "document", "doc_id": doc_id, "kind": kind, "year": YEAR, "title": "t",
            "parties": [{"party": "superior", "id": sup, "name": sup, "title": ""},
                        {"party": "subordinate", "id": sub, "name": sub, "title": ""}],
            "sha256": "ab" * 32, "path": f"{doc_id}.docx",
        }  # fmt: skip

    def signature(doc_id: str, signer: str, party: str, when: str) -> dict[str, object]:
        return {
            "type": "signature", "doc_id": doc_id, "signer": signer, "party": party,
            "cert_fingerprint": "cd" * 32, "cert_serial": "01", "p7s_sha256": "ef" * 32,
            "doc_sha256": "ab" * 32, "signing_time": when,
        }  # fmt: skip

    records = [
        document("2027-ZR-P01-P02", "responsibility", "P01", "P02"),
        document("2027-ZR-P01-P04", "responsibility", "P01", "P04"),
        document("2027-ZR-P01-P06", "responsibility", "P01", "P06"),
        document("2027-LJ-H1-S1", "integrity_pledge", "H1", "S1"),
        signature("2027-ZR-P01-P02", "P01", "superior", "2027-01-05T02:00:00Z"),
        signature("2027-ZR-P01-P02", "P02", "subordinate", "2027-01-06T17:00:00Z"),
        signature("2027-ZR-P01-P04", "P01", "superior", "2027-01-05T02:10:00Z"),
        signature("2027-LJ-H1-S1", "S1", "subordinate", "2027-01-08T02:00:00Z"),
        {"type": "void", "doc_id": "2027-ZR-P01-P06", "reason": "调离", "replaced_by": None},
    ]
    with open_registry(find_workspace(root)) as registry:
        registry.append(records, now=RECORDED)
        summary = signing_summary_from_registry(registry, YEAR)
    zr = summary.letter(LetterKind.RESPONSIBILITY)
    assert (zr.generated, zr.complete, zr.voided) == (2, 1, 1)
    # 17:00 UTC on 6 January is 7 January in Beijing
    assert (zr.first_signed, zr.last_signed) == (date(2027, 1, 5), date(2027, 1, 7))
    lj = summary.letter(LetterKind.INTEGRITY_PLEDGE)
    assert (lj.generated, lj.complete) == (1, 0)
    people = {(p.person_id, p.kind): (p.required, p.signed, p.missing) for p in summary.people}
    assert people[("P01", LetterKind.RESPONSIBILITY)] == (2, 2, ())
    assert people[("P04", LetterKind.RESPONSIBILITY)] == (1, 0, ("2027-ZR-P01-P04",))
    assert people[("H1", LetterKind.INTEGRITY_PLEDGE)] == (1, 0, ("2027-LJ-H1-S1",))
    assert ("P06", LetterKind.RESPONSIBILITY) not in people  # voided letter
    assert summary.generated == 3 and summary.complete == 1


def test_demo_ledger_leaves_exactly_the_planned_gaps(tmp_path: Path) -> None:
    path = tmp_path / "roster.yaml"
    path.write_text(demo_roster_yaml(), encoding="utf-8")
    roster = load_roster(path)
    records = demo_activities(roster, YEAR)
    assert len({r["activity_id"] for r in records}) == len(records)
    activities = [Activity.from_record(r) for r in records]
    report = expand_duties(roster, YEAR, activities, NO_LETTERS, YEAR_END)
    overdue = {
        (o.article, o.duty[:8], o.person_id, o.counterpart_id, o.period)
        for o in report.obligations
        if o.status == "overdue" and o.article not in ("9.5", "9.6", "9.7")
    }
    assert overdue == {
        ("9.3", "每年向县委、县纪", None, None, "2027年度"),
        ("9.14", "每半年组织1次党", None, None, "2027年下半年"),
        ("11.6", "每季度与分管部门", "P006", "P014", "2027年第3季度"),
        ("11.6", "每年至少同分管部", "P006", "P017", "2027年度"),
        ("13.10", "每年向县纪委和市", "P005", None, "2027年度"),
    }


@settings(max_examples=40, deadline=None)
@given(
    picks=st.lists(st.integers(min_value=0, max_value=7), max_size=8),
    offset=st.integers(min_value=0, max_value=400),
)
def test_status_follows_the_rule(picks: list[int], offset: int) -> None:
    pool = [
        act("党组专题会议", "2027-03-08", "P01"),
        act("党组专题会议", "2027-09-08", "P01"),
        act("廉政谈话", "2027-02-01", "P02", "H1"),
        act("廉政谈话", "2027-05-01", "P02", "H1,H2"),
        act("约谈", "2027-06-03", "P01", "P02,P03,P04,P06"),
        act("交换意见", "2027-06-30", "P03", "P02,P04,P06"),
        act("专项督察", "2027-07-01", "P03"),
        act("谈心谈话", "2027-12-31", "P01", "H1,H2,H3"),
    ]
    chosen = [pool[i] for i in dict.fromkeys(picks)]
    as_of = date(2027, 1, 1) + timedelta(days=offset)
    report = duties(chosen, as_of=as_of)
    assert len(report.obligations) == len(duties([], as_of=as_of).obligations)
    for o in report.obligations:
        assert o.status == status_of(o.required, o.done, o.due, as_of)
        assert o.done == len(o.evidence)
        for activity_id in o.evidence:
            (used,) = [a for a in chosen if a.activity_id == activity_id]
            assert used.date <= as_of


# ------------------------------------------------------------------------------------- CLI


@pytest.fixture
def demo_ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "ws"
    init_workspace(root, institution="庆城县人民检察院", year=YEAR, roster_yaml=demo_roster_yaml())
    monkeypatch.setenv("DOCGEN_NOW", "2028-01-10T02:00:00+00:00")
    ws = find_workspace(root)
    with open_registry(ws) as registry:
        registry.append(demo_activities(load_roster(ws.roster_path), YEAR), now=RECORDED)
    return root


def test_duties_cli_json_and_exit_code(demo_ws: Path) -> None:
    outcome = run_docgen("duties", "-w", str(demo_ws), "--year", "2027", "--json")
    assert outcome.code == 1  # there are overdue duties
    data = json.loads(outcome.out)
    assert data["as_of"] == "2028-01-10"
    assert data["counts"]["overdue"] == sum(
        1 for o in data["obligations"] if o["status"] == "overdue"
    )
    # 9.3 to 3 bodies + 13.10 to 2 (the demo drafts the reports, records none), 9.14 second
    # half, two 11.6, and 9.5–9.7 (no letters in this workspace)
    assert data["counts"]["overdue"] == 11
    early = run_docgen("duties", "-w", str(demo_ws), "--year", "2027", "--as-of", "2027-01-15",
                       "--json")  # fmt: skip
    assert early.code == 0
    counts = json.loads(early.out)["counts"]
    assert counts["overdue"] == 0 and counts["done"] == 0


def test_duties_cli_table_person_and_xlsx(demo_ws: Path, tmp_path: Path) -> None:
    target = tmp_path / "职责.xlsx"
    outcome = run_docgen("duties", "-w", str(demo_ws), "--year", "2027", "--person", "P006",
                         "--xlsx", str(target))  # fmt: skip
    assert outcome.code == 1
    assert "第十一条第6项" in outcome.out and "刘海燕" in outcome.out
    assert "张明远" not in outcome.out  # only P006's own duties
    assert "逾期 2。" in outcome.out
    sheet = load_workbook(target).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("条款", "职责", "责任人编号", "责任人")
    assert {r[2] for r in rows[1:]} == {"P006"}
    assert sum(1 for r in rows[1:] if r[11] == "逾期") == 2
    again = tmp_path / "again.xlsx"
    run_docgen("duties", "-w", str(demo_ws), "--year", "2027", "--person", "P006",
               "--xlsx", str(again))  # fmt: skip
    assert again.read_bytes() == target.read_bytes()


@pytest.mark.parametrize("bad", ["2027-02-30", "2027/01/01", "tomorrow"])
def test_duties_cli_bad_as_of(demo_ws: Path, bad: str) -> None:
    outcome = run_docgen("duties", "-w", str(demo_ws), "--as-of", bad)
    assert outcome.code == 2
    assert "--as-of" in outcome.err


def test_duties_cli_unknown_person(demo_ws: Path) -> None:
    outcome = run_docgen("duties", "-w", str(demo_ws), "--person", "P999")
    assert outcome.code == 2 and "P999" in outcome.err


def test_signing_summary_is_read_in_one_pass_with_the_same_answer(
    keyed_workspace: Path,
) -> None:
    """The summary read a page of letters at a time equals the one worked out from the whole
    year state, kind by kind (a half-signed demo year with a voided letter)."""
    from datetime import UTC, datetime

    from docgen.duties.engine import CHINA_TZ, PersonSigning
    from docgen.records.state import read_year_state
    from docgen.records.status import void_letter
    from docgen.signing.passphrase import Passphrase
    from docgen.signing.sign import sign_as
    from tests.conftest import PASSPHRASE

    ws = find_workspace(keyed_workspace)
    secret = Passphrase(PASSPHRASE.encode(), "测试")
    for day, pid in enumerate(("P001", "P002", "P009", "P010", "P018"), start=5):
        sign_as(ws, pid, secret, year=2027, now=datetime(2027, 1, day, 20, tzinfo=UTC))
    void_letter(ws, "2027-LJ-P018-P019", "人员调离", now=datetime(2027, 1, 11, tzinfo=UTC))
    with open_registry(ws) as registry:
        summary = signing_summary_from_registry(registry, 2027)
        state = read_year_state(registry, 2027)
    people: list[PersonSigning] = []
    for kind in LetterKind:
        of_kind = [s for s in state.letters.values() if s.record["kind"] == kind.value]
        active = [s for s in of_kind if not s.voided]
        letter = summary.letter(kind)
        assert (letter.generated, letter.complete, letter.voided) == (
            len(active), sum(s.complete for s in active), len(of_kind) - len(active),
        )  # fmt: skip
        days = [
            datetime.fromisoformat(sig.record["signing_time"].replace("Z", "+00:00"))
            .astimezone(CHINA_TZ)
            .date()
            for s in active
            for sig in s.signatures.values()
        ]
        assert (letter.first_signed, letter.last_signed) == (min(days), max(days))
        seen: dict[str, list[str]] = {}
        for s in active:
            for pid in s.party_ids().values():
                seen.setdefault(pid, [])
        for pid in seen:
            mine = [s for s in active if pid in s.party_ids().values()]
            people.append(
                PersonSigning(
                    person_id=pid, kind=kind, required=len(mine),
                    signed=sum(pid in s.signatures for s in mine),
                    missing=tuple(s.doc_id for s in mine if pid not in s.signatures),
                )
            )  # fmt: skip
    assert summary.people == tuple(people)
    assert summary.letter(LetterKind.INTEGRITY_PLEDGE).voided == 1


def test_duties_xlsx_dates_come_from_the_year_not_the_clock(demo_ws: Path, tmp_path: Path) -> None:
    """openpyxl's ``Workbook.save`` stamps ``dcterms:modified`` with the wall clock, so two runs a
    second apart gave different bytes; the workbook's dates are those of ``--as-of``."""
    target = tmp_path / "职责.xlsx"
    run_docgen("duties", "-w", str(demo_ws), "--year", "2027", "--as-of", "2027-06-30",
               "--xlsx", str(target))  # fmt: skip
    with zipfile.ZipFile(target) as package:
        core = package.read("docProps/core.xml").decode("utf-8")
    assert "<dcterms:modified" in core and "<dcterms:created" in core
    assert core.count("2027-06-30T00:00:00Z") == 2, core


# ------------------------------------------------------------------------- 13.2, 11.2, 11.6


def test_13_2_exchanges_views_with_the_secretary_too() -> None:
    """第六条 calls the others "班子其他成员": the 书记 is a 班子成员, so 13.2 includes him."""
    quote("班子其他成员应对职责范围内党风廉政建设负以下主要领导责任")
    duty = quote("每半年与班子成员就贯彻执行党风廉政建设责任制、遵守廉洁自律规定情况交换意见")
    report = duties([act("交换意见", "2027-06-10", "P03", "P01,P02,P04,P06")])
    exchanges = report.by_article("13.2")
    assert {o.duty for o in exchanges} == {duty}  # 贯彻执行, as the seed says, not 落实
    first_half = {o.counterpart_id: o.status for o in exchanges if o.period == "2027年上半年"}
    assert first_half == {"P01": "done", "P02": "done", "P04": "done", "P06": "done"}
    assert any("包括党组书记" in note and "班子其他成员" in note for note in report.notes)


def test_11_2_no_year_end_check_where_no_letter_exists() -> None:
    """11.2's 检查考核 checks the 责任书 signed 年初 with the department head: a department with
    no head (第四部) or headed by its own 分管院领导 has none, so no duty, and a note says why."""
    quote("年初与分管部门负责人签订《党风廉政建设责任书》,平时应加强督促指导,年底对落实情况进行检查考核")
    report = duties([])
    assert {o.department for o in report.by_article("11.2")} == {"第一部", "第二部", "第三部"}
    assert any("第四部 没有负责人" in n and "不计第十一条第2项" in n for n in report.notes)


def test_11_2_department_headed_by_its_supervisor(tmp_path: Path) -> None:
    path = tmp_path / "roster.yaml"
    path.write_text(demo_roster_yaml(), encoding="utf-8")
    report = expand_duties(load_roster(path), YEAR, [], NO_LETTERS, YEAR_END)
    assert "第四检察部" not in {o.department for o in report.by_article("11.2")}
    assert any("第四检察部 的负责人即分管院领导本人" in n for n in report.notes)


def test_11_6_lecture_once_a_year_per_leader_explained() -> None:
    """"每年至少为分管部门讲1次廉政党课": one lecture a year for the departments together."""
    quote("每年至少为分管部门讲1次廉政党课")
    report = duties([act("廉政党课", "2027-07-01", "P02")])
    lectures = [o for o in report.obligations if "廉政党课" in o.duty and o.person_id == "P02"]
    assert [(o.status, o.required) for o in lectures] == [("done", 1)]
    assert any("P02 分管 2 个部门" in n and "不按部门分别计" in n for n in report.notes)


def test_duties_output_explains_13_2_11_2_and_11_6(demo_ws: Path) -> None:
    outcome = run_docgen("duties", "-w", str(demo_ws), "--year", "2027")
    explained = [line for line in outcome.out.splitlines() if line.startswith("说明:")]
    assert any("包括党组书记" in line for line in explained)
    assert any("负责人即分管院领导本人" in line for line in explained)
    assert any("不按部门分别计" in line for line in explained)
