"""The yearly report drafts: 公文 structure, and every number traced back to registry and ledger."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from docgen.core.workspace import find_workspace
from docgen.demo.ledger import demo_activities
from docgen.duties.engine import expand_duties, signing_summary_from_registry
from docgen.duties.ledger import department_staff, read_activities, supervised_departments
from docgen.letters.soffice import Converter, find_soffice
from docgen.letters.workspace_init import init_workspace
from docgen.registry import open_registry
from docgen.roster.example import demo_roster_yaml
from docgen.roster.hierarchy import build_pairings
from docgen.roster.load import load_roster
from tests.helpers import run_docgen
from tests.ledger_fixtures import RECORDED, YEAR

ISSUED = "2028-01-10"
MAIN = "2027年度党组落实主体责任情况报告"
SUPERVISION = "2027年度纪检组履行监督责任情况报告"
UNSIGNED = {"2027-ZR-P001-P004": "P004", "2027-LJ-P009-P012": "P012"}  # party who has not signed


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo roster, its demo ledger, and letters: all registered, two awaiting a signature,
    one voided."""
    root = tmp_path_factory.mktemp("report") / "ws"
    init_workspace(root, institution="庆城县人民检察院", year=YEAR, roster_yaml=demo_roster_yaml())
    ws = find_workspace(root)
    roster = load_roster(ws.roster_path)
    records: list[dict[str, Any]] = []
    for pairing in build_pairings(roster, YEAR, ws.config.pairing).pairings:
        parties = [("superior", pairing.superior), ("subordinate", pairing.subordinate)]
        records.append(
            {
                "type": "document", "doc_id": pairing.doc_id, "kind": pairing.kind.value,
                "year": YEAR, "title": pairing.kind.title,
                "parties": [{"party": party, "id": p.id, "name": p.name, "title": p.title}
                            for party, p in parties],
                "sha256": "ab" * 32, "path": f"{pairing.doc_id}.docx",
            }
        )  # fmt: skip
        for party, person in parties:
            if UNSIGNED.get(pairing.doc_id) == person.id:
                continue
            records.append(
                {
                    "type": "signature", "doc_id": pairing.doc_id, "signer": person.id,
                    "party": party, "cert_fingerprint": "cd" * 32, "cert_serial": "01",
                    "p7s_sha256": "ef" * 32, "doc_sha256": "ab" * 32,
                    "signing_time": "2027-01-12T01:30:00Z" if party == "superior"
                    else "2027-01-14T03:00:00Z",
                }
            )  # fmt: skip
    records.append(
        {"type": "void", "doc_id": "2027-LJ-P014-P017", "reason": "调离", "replaced_by": None}
    )
    with open_registry(ws) as registry:
        registry.append(records, now=RECORDED)
        registry.append(demo_activities(roster, YEAR), now=RECORDED)
    outcome = run_docgen("report", "-w", str(root), "--year", "2027", "--date", ISSUED)
    assert outcome.code == 0, outcome.text
    return root


def report_path(root: Path, stem: str, to: str) -> Path:
    return root / "output" / "2027" / "reports" / f"{stem}_{to}.docx"


# The drafts write full-width ，：；（） (GB/T 15834); the checks of numbers below match the
# sentences with the ASCII the code writes them in, so the text is read back that way.
_TO_ASCII = str.maketrans(
    {"\uff0c": ",", "\uff1b": ";", "\uff1a": ":", "\uff08": "(", "\uff09": ")"}
)


def texts(path: Path) -> list[str]:
    return [p.text.translate(_TO_ASCII) for p in Document(str(path)).paragraphs]


def body_text(path: Path) -> str:
    return "\n".join(texts(path))


def cell_rows(table: Any) -> list[list[str]]:
    return [[c.text.translate(_TO_ASCII) for c in row.cells] for row in table.rows]


def east_asia(element: Any) -> str | None:
    fonts = element.find(qn("w:rPr") + "/" + qn("w:rFonts"))
    return None if fonts is None else fonts.get(qn("w:eastAsia"))


def test_one_file_per_report_and_recipient(workspace: Path) -> None:
    folder = workspace / "output" / "2027" / "reports"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{MAIN}_{to}.docx" for to in ("县委", "县纪委", "市检院党组")]
        + [f"{SUPERVISION}_{to}.docx" for to in ("县纪委", "市检院纪检组")]
    )


@pytest.mark.parametrize(
    ("stem", "to", "addressee", "title", "issuer"),
    [
        (MAIN, "县委", "中共庆城县委\uff1a",
         "中共庆城县人民检察院党组关于2027年度落实党风廉政建设主体责任情况的报告",
         "中共庆城县人民检察院党组"),
        (MAIN, "市检院党组", "庆阳市人民检察院党组\uff1a",
         "中共庆城县人民检察院党组关于2027年度落实党风廉政建设主体责任情况的报告",
         "中共庆城县人民检察院党组"),
        (SUPERVISION, "市检院纪检组", "庆阳市人民检察院纪检组\uff1a",
         "庆城县人民检察院纪检组关于2027年度履行党风廉政建设监督责任情况的报告",
         "庆城县人民检察院纪检组"),
    ],
)  # fmt: skip
def test_official_document_structure(
    workspace: Path, stem: str, to: str, addressee: str, title: str, issuer: str
) -> None:
    doc = Document(str(report_path(workspace, stem, to)))
    paragraphs = doc.paragraphs
    # A 上行文: 发文字号 and 签发人 on the first line, over a red rule (GB/T 9704 7.2.3, 7.2.4).
    issue = paragraphs[0]
    assert issue.text == "【待填写】〔2028〕【待填写】号\t签发人\uff1a【待填写】"
    bottom = issue._p.pPr.find(qn("w:pBdr") + "/" + qn("w:bottom"))
    assert bottom is not None and bottom.get(qn("w:color")) == "FF0000"
    assert east_asia(issue.runs[-1]._element) == "楷体_GB2312"  # the 签发人's name
    head = paragraphs[1]
    assert head.text == title
    assert head.style.name == "公文标题"
    assert head.style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert head.runs[0].font.size == Pt(22)
    assert east_asia(head.runs[0]._element) == "方正小标宋简体"
    assert paragraphs[2].text == addressee
    assert paragraphs[2].style.name == "主送机关"

    h1 = [p for p in paragraphs if p.style.name == "公文一级标题"]
    assert [p.text for p in h1] == [
        "一、基本情况",
        "二、主要做法和成效",
        "三、存在问题",
        "四、下一步打算",
    ]
    assert all(east_asia(p.runs[0]._element) == "黑体" for p in h1)
    h2 = [p.text for p in paragraphs if p.style.name == "公文二级标题"]
    assert h2 and [t[:3] for t in h2] == [f"\uff08{n}\uff09" for n in "一二三四五六"][: len(h2)]
    assert all(east_asia(p.runs[0]._element) == "楷体_GB2312" for p in paragraphs
               if p.style.name == "公文二级标题")  # fmt: skip
    body = [p for p in paragraphs if p.style.name == "Normal" and p.text]
    assert all(east_asia(p.runs[0]._element) == "仿宋_GB2312" for p in body)
    assert all(p.runs[0].font.size == Pt(16) for p in body)
    assert any("【待填写】" in p.text for p in body)

    texts_ = [p.text for p in paragraphs]
    note = texts_.index("附件\uff1a党风廉政建设责任制落实情况统计表")
    assert note > texts_.index("四、下一步打算")
    signature = [p for p in paragraphs if p.style.name == "公文落款"]
    assert [p.text for p in signature] == [issuer, "2028年1月10日"]
    assert texts_.index(issuer) == note + 1
    assert all(p.style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.RIGHT for p in signature)
    attachment = texts_.index("附件")
    assert paragraphs[attachment].paragraph_format.page_break_before
    assert texts_[attachment + 1] == "党风廉政建设责任制落实情况统计表"
    # The 落款 stays with the body's last paragraph: keep-with-next from it to the 署名.
    last_body = max(i for i, p in enumerate(paragraphs[:note]) if p.text)
    for index in (last_body, note, texts_.index(issuer)):
        assert paragraphs[index].paragraph_format.keep_with_next, texts_[index]

    table = doc.tables[-1]
    assert [c.text for c in table.rows[0].cells] == [
        "序号", "条款", "职责", "责任人", "应完成", "已完成", "逾期", "状态",
    ]  # fmt: skip

    section = doc.sections[0]
    sizes = (section.page_width, section.page_height, section.top_margin,
             section.bottom_margin, section.left_margin, section.right_margin)  # fmt: skip
    assert [round(s.mm, 1) for s in sizes if s is not None] == [210, 297, 37, 35, 28, 26]
    for footer in (section.footer, section.even_page_footer):
        xml = footer._element.xml
        assert "PAGE" in xml and "— " in footer.paragraphs[0].text
    assert doc.settings.odd_and_even_pages_header_footer
    styles = {s.name: s for s in doc.styles}
    assert east_asia(styles["Normal"].element) == "仿宋_GB2312"
    assert east_asia(styles["公文标题"].element) == "方正小标宋简体"


def _registry_facts(root: Path) -> tuple[Any, list[Any], dict[str, Any]]:
    ws = find_workspace(root)
    with open_registry(ws) as registry:
        activities = read_activities(registry, year=YEAR)
        docs = [e.record for e in registry.entries(type="document")]
        signers: dict[str, set[str]] = {}
        for e in registry.entries(type="signature"):
            signers.setdefault(e.record["doc_id"], set()).add(e.record["signer"])
        voided = {e.record["doc_id"] for e in registry.entries(type="void")}
    letters = {}
    for kind in ("responsibility", "public_commitment", "integrity_pledge"):
        current = [d for d in docs if d["kind"] == kind and d["doc_id"] not in voided]
        complete = [
            d for d in current if {p["id"] for p in d["parties"]} <= signers.get(d["doc_id"], set())
        ]
        letters[kind] = (len(current), len(complete))
    return load_roster(ws.roster_path), activities, letters


def test_every_number_in_the_main_report_matches(workspace: Path) -> None:
    roster, activities, letters = _registry_facts(workspace)
    text = body_text(report_path(workspace, MAIN, "县委"))

    roles = Counter(p.role.label for p in roster.people)
    assert (
        f"现有干警{len(roster.people)}人,其中党组书记、检察长{roles['党组书记']}人,"
        f"班子成员{roles['班子成员'] + roles['纪检组长']}人(含纪检组长),"
        f"检委会专职委员{roles['检委会专职委员']}人,部门负责人{roles['部门负责人']}人,"
        f"工作人员{roles['工作人员']}人;内设部门{len(roster.departments)}个。"
    ) in text
    generated = sum(g for g, _ in letters.values())
    complete = sum(c for _, c in letters.values())
    assert generated == 15 + 15 + 29 - 1 and complete == generated - 2
    assert f"签订各类责任书、承诺书{generated}份" in text
    assert f"双方均已签署{complete}份;党风廉政建设活动登记簿记载活动{len(activities)}项" in text
    titles = {"responsibility": "党风廉政建设责任书", "public_commitment": "公开承诺书",
              "integrity_pledge": "廉洁从检承诺书"}  # fmt: skip
    for kind, (g, c) in letters.items():
        assert f"《{titles[kind]}》{g}份,双方均已签署{c}份" in text
    assert "因人员变动作废1份" in text
    assert "签署时间为1月12日至1月14日" in text

    def kinds(kind: str, actor: str | None = None) -> list[Any]:
        return [a for a in activities if a.kind.value == kind and actor in (None, a.actor)]

    for label, kind in (("召开党组专题会议", "party_group_meeting"),
                        ("组织党风检纪专项重点督察", "special_inspection"),
                        ("开展检风检纪突出问题专项治理", "special_remediation")):  # fmt: skip
        found = kinds(kind)
        days = "、".join(
            f"{a.date.month}月{a.date.day}日" for a in sorted(found, key=lambda a: a.date)
        )
        assert f"{label}{len(found)}次({days})" in text

    talks = kinds("admonitory_talk", "P001")
    assert f"约谈班子成员{sum(len(a.participants) for a in talks)}人次,覆盖班子成员5/5人" in text

    pattern = re.compile(
        r"(\S+?)\((.+?)\),分管(.+?):听取分管部门党风廉政建设情况汇报(\d+)次,"
        r"与分管部门负责人廉政谈话(\d+)人次,同分管部门人员谈心谈话(\d+)人次,"
        r"讲廉政党课(\d+)次,年底检查考核(\d+)次。"
    )
    found_rows = pattern.findall(text)
    by_name = {p.name: p for p in roster.people}
    assert len(found_rows) == 5
    for name, _title, depts, briefings, integrity, hearts, lectures, checks in found_rows:
        person = by_name[name]
        supervised = supervised_departments(roster, person.id)
        assert depts == "、".join(d.name for d in supervised)
        staff = {s for d in supervised for s in department_staff(d)} - {person.id}
        assert int(briefings) == len(kinds("department_briefing", person.id))
        assert int(integrity) == sum(
            len(a.participants) for a in kinds("integrity_talk", person.id)
        )
        assert int(hearts) == sum(
            1 for a in kinds("heart_to_heart_talk", person.id) for p in a.participants if p in staff
        )
        assert int(lectures) == len(kinds("integrity_lecture", person.id))
        assert int(checks) == len(kinds("year_end_assessment", person.id))

    ws = find_workspace(workspace)
    with open_registry(ws) as registry:
        signing = signing_summary_from_registry(registry, YEAR)
    duties = expand_duties(roster, YEAR, activities, signing, date(2028, 1, 10))
    overdue = [o for o in duties.obligations if o.status == "overdue"
               and o.article not in ("9.3", "13.10")]  # fmt: skip
    assert f"有{len(overdue)}项职责未按期完成" in text
    assert not re.findall(r"^(\d+)\.第", text, flags=re.MULTILINE)  # a table, not paragraphs
    problems = cell_rows(Document(str(report_path(workspace, MAIN, "县委"))).tables[0])
    assert problems[0] == ["序号", "条款", "职责", "责任人", "未完成情况", "项数"]
    assert sum(int(row[5]) for row in problems[1:]) == len(overdue)
    assert ["1", "9.14", "每半年组织1次党风检纪专项重点督察", "党组", "2027年下半年,已完成0/1",
            "1"] in problems  # fmt: skip
    assert any("对象胡静,2027年第3季度,已完成0/1" in row[4] for row in problems)


def test_appendix_table_matches_the_duties(workspace: Path) -> None:
    roster, activities, _ = _registry_facts(workspace)
    with open_registry(find_workspace(workspace)) as registry:
        signing = signing_summary_from_registry(registry, YEAR)
    duties = expand_duties(roster, YEAR, activities, signing, date(2028, 1, 10))
    names = {p.id: p.name for p in roster.people}
    expected: dict[tuple[str, str, str], list[int]] = {}
    for o in duties.obligations:
        if o.article in ("9.3", "13.10") or (o.person_id and o.article in ("9.5", "9.6", "9.7")):
            continue
        row = expected.setdefault(
            (o.article, o.duty, names.get(o.person_id or "", "党组")), [0, 0, 0]
        )
        row[0] += o.required
        row[1] += min(o.done, o.required)
        row[2] += o.status == "overdue"
    table = Document(str(report_path(workspace, SUPERVISION, "县纪委"))).tables[-1]
    rows = cell_rows(table)[1:]
    assert [r[0] for r in rows] == [str(i) for i in range(1, len(rows) + 1)]
    got = {(r[1], r[2], r[3]): [int(r[4]), int(r[5]), int(r[6])] for r in rows}
    assert got == expected
    statuses = {r[2]: r[7] for r in rows if r[3] == "党组"}
    assert statuses["每半年组织1次党风检纪专项重点督察"] == "逾期"
    assert statuses["每年至少组织1次检风检纪方面突出问题专项治理"] == "已完成"
    assert statuses["每年至少召开两次党组专题会议"] == "已完成"


def test_supervision_report_numbers(workspace: Path) -> None:
    _, activities, _ = _registry_facts(workspace)
    text = body_text(report_path(workspace, SUPERVISION, "县纪委"))
    exchanges = [a for a in activities if a.kind.value == "exchange_of_views"]
    first = sum(len(a.participants) for a in exchanges if a.date.month <= 6)
    second = sum(len(a.participants) for a in exchanges if a.date.month > 6)
    assert f"上半年交换意见{first}人次,覆盖班子成员4/4人" in text
    assert f"下半年交换意见{second}人次,覆盖班子成员4/4人" in text
    assert "纪检组长陈志刚。" in text
    meetings = [
        a for a in activities if a.kind.value == "party_group_meeting" and "P005" in a.participants
    ]
    assert f"参加党组专题会议{len(meetings)}次" in text
    assert "第十一条第6项“四个一”共110项,截至2028年1月10日已完成108项。" in text


def test_bytes_are_deterministic(workspace: Path, tmp_path: Path) -> None:
    path = report_path(workspace, MAIN, "县纪委")
    first = path.read_bytes()
    outcome = run_docgen("report", "-w", str(workspace), "--year", "2027", "--kind", "main",
                         "--to", "县纪委", "--date", ISSUED)  # fmt: skip
    assert outcome.code == 0, outcome.text
    assert path.read_bytes() == first
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist()[0] == "[Content_Types].xml"
        assert {i.date_time for i in archive.infolist()} == {(2028, 1, 10, 0, 0, 0)}
    props = Document(str(path)).core_properties
    assert props.created is not None and props.created.date() == date(2028, 1, 10)
    assert props.title.startswith("中共庆城县人民检察院党组关于2027年度")
    later = run_docgen("report", "-w", str(workspace), "--year", "2027", "--kind", "main",
                       "--to", "县纪委", "--date", "2028-01-11")  # fmt: skip
    assert later.code == 0
    assert path.read_bytes() != first
    assert "2028年1月11日" in body_text(path)
    run_docgen("report", "-w", str(workspace), "--year", "2027", "--kind", "main",
               "--to", "县纪委", "--date", ISSUED)  # fmt: skip
    assert path.read_bytes() == first


def test_fonts_come_from_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "ws"
    init_workspace(root, institution="示例县人民检察院", year=YEAR, roster_yaml=demo_roster_yaml())
    config = root / "docgen.toml"
    text = config.read_text(encoding="utf-8")
    text = text.replace('title = "方正小标宋简体"', 'title = "宋体"').replace(
        'body = "仿宋_GB2312"', 'body = "仿宋"'
    )
    config.write_text(text, encoding="utf-8")
    outcome = run_docgen("report", "-w", str(root), "--year", "2027", "--kind", "main",
                         "--to", "县委", "--date", ISSUED)  # fmt: skip
    assert outcome.code == 0, outcome.text
    path = report_path(root, MAIN, "县委")
    doc = Document(str(path))
    assert east_asia(doc.paragraphs[1].runs[0]._element) == "宋体"
    assert east_asia(doc.styles["Normal"].element) == "仿宋"
    assert doc.paragraphs[2].text == "中共示例县委\uff1a"
    text = body_text(path)
    assert "活动登记簿记载活动0项" in text
    assert "签订各类责任书、承诺书0份" in text


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["--kind", "supervision", "--to", "县委"], 2, "不报送县委"),
        (["--kind", "main", "--to", "市检院纪检组"], 2, "不报送市检院纪检组"),
        (["--date", "2028-02-30"], 2, "--date 的日期“2028-02-30”不存在"),
        (["--to", "省院"], 2, "省院"),
    ],
)
def test_report_cli_refuses_bad_choices(
    tmp_path: Path, args: list[str], code: int, words: str
) -> None:
    root = tmp_path / "ws"
    init_workspace(root, institution="庆城县人民检察院", year=YEAR, roster_yaml=demo_roster_yaml())
    outcome = run_docgen("report", "-w", str(root), "--year", "2027", *args)
    assert outcome.code == code
    assert words in outcome.err
    assert not (root / "output" / "2027" / "reports").exists()


def test_letters_signed_on_one_day_read_naturally() -> None:
    from docgen.core.glossary import LetterKind
    from docgen.duties.engine import LetterCount, SigningSummary
    from docgen.duties.report import letters_paragraphs

    day = date(2027, 1, 12)
    summary = SigningSummary(
        year=2027,
        letters=(
            LetterCount(LetterKind.RESPONSIBILITY, 3, 3, first_signed=day, last_signed=day),
        ),
    )
    text = letters_paragraphs(summary)[0].text
    assert text == "《党风廉政建设责任书》3份,双方均已签署3份,签署于1月12日。"


# --------------------------------------------------------------------------- 公文 form (#20 item 5)

# GB/T 15834: Chinese text takes full-width ，：；（）. ASCII ones are allowed only inside an ASCII
# token that needs them: a digit group, a time, an id, a file name. (Written apart from
# docgen.duties.report_model.official_punctuation, so the check does not repeat its logic.)
_ALLOWED_ASCII_TOKEN = re.compile(
    r"\d{1,3}(?:,\d{3})+"  # 1,000
    r"|\d{1,2}:\d{2}(?::\d{2})?"  # 8:30
    r"|[A-Za-z0-9]+(?:[-_:./][A-Za-z0-9]+)+"  # DOCGEN1:x, 2027-ZR-P001-P002
    r"|[\w.-]+\(\w+\)\.[A-Za-z0-9]{1,5}"  # 报告(1).docx
)


def ascii_punctuation(text: str) -> list[str]:
    """Each ASCII , : ; ( ) of ``text`` outside an allowed token, with a little context."""
    spans = [m.span() for m in _ALLOWED_ASCII_TOKEN.finditer(text)]
    return [
        text[max(0, i - 6) : i + 6]
        for i, ch in enumerate(text)
        if ch in ",:;()" and not any(start <= i < end for start, end in spans)
    ]


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("中共庆城县委:", 1),
        ("2次(3月8日、8月20日)", 2),
        ("覆盖5/5人(第十条第7项);", 3),
        ("共1,000人,8:30开会", 1),
        ("见报告(1).docx与2027-ZR-P001-P002", 0),
        ("中共庆城县委\uff1a2次\uff083月8日\uff09\uff1b", 0),
    ],
)
def test_the_punctuation_check_catches_ascii_in_prose(text: str, bad: int) -> None:
    assert len(ascii_punctuation(text)) == bad, ascii_punctuation(text)


def _all_texts(path: Path) -> list[str]:
    """Every paragraph and table cell of a draft, body and footers."""
    doc = Document(str(path))
    out = [p.text for p in doc.paragraphs]
    out += [c.text for t in doc.tables for row in t.rows for c in row.cells]
    section = doc.sections[0]
    out += [p.text for f in (section.footer, section.even_page_footer) for p in f.paragraphs]
    return out


REPORTS = [(MAIN, to) for to in ("县委", "县纪委", "市检院党组")] + [
    (SUPERVISION, to) for to in ("县纪委", "市检院纪检组")
]


@pytest.mark.parametrize(("stem", "to"), REPORTS)
def test_every_paragraph_and_cell_uses_chinese_punctuation(
    workspace: Path, stem: str, to: str
) -> None:
    texts_ = _all_texts(report_path(workspace, stem, to))
    assert sum(len(t) for t in texts_) > 2000
    for text in texts_:
        assert not ascii_punctuation(text), (text[:40], ascii_punctuation(text))
    props = Document(str(report_path(workspace, stem, to))).core_properties
    assert not ascii_punctuation(props.comments)


@pytest.fixture(scope="module")
def empty_year(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo roster with nothing done all year: every countable duty is overdue."""
    root = tmp_path_factory.mktemp("empty") / "ws"
    init_workspace(root, institution="庆城县人民检察院", year=YEAR, roster_yaml=demo_roster_yaml())
    outcome = run_docgen("report", "-w", str(root), "--year", "2027", "--kind", "main",
                         "--to", "县委", "--date", ISSUED)  # fmt: skip
    assert outcome.code == 0, outcome.text
    return root


def test_undone_duties_are_grouped_in_one_table(empty_year: Path) -> None:
    """Dozens of overdue duties: one table row per duty, not one paragraph per obligation."""
    path = report_path(empty_year, MAIN, "县委")
    text = body_text(path)
    found = re.search(r"有(\d+)项职责未按期完成,按职责归并为(\d+)类", text)
    assert found, text
    overdue, kinds = int(found.group(1)), int(found.group(2))
    assert overdue > 50 and kinds < overdue / 3
    problems = cell_rows(Document(str(path)).tables[0])
    assert len(problems) == kinds + 1
    assert [row[0] for row in problems[1:]] == [str(i) for i in range(1, kinds + 1)]
    assert sum(int(row[5]) for row in problems[1:]) == overdue
    assert len({(row[1], row[2]) for row in problems[1:]}) == kinds  # each duty once
    many = max(problems[1:], key=lambda row: int(row[5]))
    assert int(many[5]) > 1 and many[4].count(";") == int(many[5]) - 1
    paragraphs = [p for p in texts(path) if p.startswith(("1.", "2.", "3."))]
    assert not paragraphs
    for text in _all_texts(path):  # the cells join several entries: "…0/1；2027年下半年…"
        assert not ascii_punctuation(text), (text[:40], ascii_punctuation(text))


NEEDS_SOFFICE = pytest.mark.skipif(
    find_soffice() is None or shutil.which("pdftotext") is None,
    reason="需要 LibreOffice(soffice)和 pdftotext 才能检查报告的版面",
)


@pytest.fixture(scope="module")
def rendered(workspace: Path, empty_year: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> dict[tuple[str, str], list[str]]:  # fmt: skip
    """Each draft (the five, and the long one of the empty year) as PDF pages of text, from one
    LibreOffice run."""
    sources = [(key, report_path(workspace, *key)) for key in REPORTS]
    sources.append((("empty", "县委"), report_path(empty_year, MAIN, "县委")))
    soffice = find_soffice()
    assert soffice is not None
    converter = Converter(soffice, tmp_path_factory.mktemp("soffice"))
    pdfs = converter.convert([(str(path), path.read_bytes()) for _key, path in sources])
    out: dict[tuple[str, str], list[str]] = {}
    folder = tmp_path_factory.mktemp("pdf")
    for (key, _path), pdf in zip(sources, pdfs, strict=True):
        file = folder / f"{key[0]}_{key[1]}.pdf"
        file.write_bytes(pdf)
        whole = subprocess.run(
            ["pdftotext", "-layout", str(file), "-"], capture_output=True, text=True, check=True
        ).stdout
        out[key] = whole.split("\f")[:-1] if whole.endswith("\f") else whole.split("\f")
    return out


def _squeeze(line: str) -> str:
    return re.sub(r"\s+", "", line)


@NEEDS_SOFFICE
@pytest.mark.parametrize("key", [*REPORTS, ("empty", "县委")])
def test_the_signature_never_stands_alone_on_a_page(
    rendered: dict[tuple[str, str], list[str]], key: tuple[str, str]
) -> None:
    """GB/T 9704 7.3.5: the 落款 shares its page with the body's last lines."""
    issuer = "中共庆城县人民检察院党组" if key[0] != SUPERVISION else "庆城县人民检察院纪检组"
    pages = rendered[key]
    holding = [i for i, page in enumerate(pages)
               if any(_squeeze(line) == issuer for line in page.splitlines())]  # fmt: skip
    assert len(holding) == 1, key
    page = pages[holding[0]]
    signature = {issuer, "2028年1月10日", "附件:党风廉政建设责任制落实情况统计表"}
    others = [
        _squeeze(line).translate(_TO_ASCII)
        for line in page.splitlines()
        if _squeeze(line).translate(_TO_ASCII) not in signature
        and not re.fullmatch(r"—\d+—", _squeeze(line))
        and _squeeze(line)
    ]
    assert others, f"{key}: 第{holding[0] + 1}页只有落款"
    assert "附件" not in "".join(pages[holding[0]].splitlines()[:1])  # the appendix comes after


@NEEDS_SOFFICE
@pytest.mark.parametrize("key", [*REPORTS, ("empty", "县委")])
def test_appendix_articles_and_header_do_not_wrap(
    rendered: dict[tuple[str, str], list[str]], workspace: Path, empty_year: Path,
    key: tuple[str, str],
) -> None:  # fmt: skip
    path = (
        report_path(empty_year, MAIN, "县委") if key[0] == "empty" else report_path(workspace, *key)
    )
    appendix = cell_rows(Document(str(path)).tables[-1])[1:]
    text = "\n".join(rendered[key])
    for article in {row[1] for row in appendix}:
        rows = sum(row[1] == article for row in appendix)
        cells = re.findall(rf"(?<![\d.]){re.escape(article)}(?![\d.])", text)
        assert len(cells) >= rows, (key, article, len(cells), rows)
    assert not re.search(r"^\s*\d+\s+\d+\.\s*$", text, re.M)  # an article cut after its dot
    assert re.search(r"^\s*序号\s+条款", text, re.M)  # 序号 on one line


@pytest.fixture(scope="module")
def page_ends(tmp_path_factory: pytest.TempPathFactory) -> list[list[str]]:
    """Drafts whose body is 5 … 40 one-line paragraphs: between them, the 附件说明 and the 落款
    fall at every place of a page, the end included. Each as its PDF's pages of text."""
    from docgen.core.workspace import Fonts
    from docgen.duties.report_docx import render_report
    from docgen.duties.report_model import Block, ReportContent, ReportKind

    drafts = []
    for count in range(5, 41):
        content = ReportContent(
            kind=ReportKind.MAIN,
            recipient="县委",
            addressee="中共庆城县委",
            title="中共庆城县人民检察院党组关于2027年度落实党风廉政建设主体责任情况的报告",
            blocks=tuple(Block(f"第{i}段,一行文字。") for i in range(count)),
            table_rows=(),
            issuer="中共庆城县人民检察院党组",
            issued=date(2028, 1, 10),
            year=2027,
            institution="庆城县人民检察院",
        )
        drafts.append((f"{count}.docx", render_report(content, Fonts())))
    soffice = find_soffice()
    assert soffice is not None
    pdfs = Converter(soffice, tmp_path_factory.mktemp("soffice")).convert(drafts)
    folder = tmp_path_factory.mktemp("ends")
    out = []
    for (name, _data), pdf in zip(drafts, pdfs, strict=True):
        file = folder / f"{name}.pdf"
        file.write_bytes(pdf)
        text = subprocess.run(
            ["pdftotext", "-layout", str(file), "-"], capture_output=True, text=True, check=True
        ).stdout
        out.append(text.rstrip("\f").split("\f"))
    return out


@NEEDS_SOFFICE
def test_the_signature_keeps_with_the_body_wherever_the_page_ends(
    page_ends: list[list[str]],
) -> None:
    issuer = "中共庆城县人民检察院党组"
    signature = {issuer, "2028年1月10日", "附件:党风廉政建设责任制落实情况统计表"}
    body_pages = set()
    for count, pages in enumerate(page_ends, 5):
        (page,) = [p for p in pages if any(_squeeze(line) == issuer for line in p.splitlines())]
        lines = [_squeeze(line).translate(_TO_ASCII) for line in page.splitlines()]
        body = [line for line in lines if line.startswith("第") and line.endswith("一行文字。")]
        assert body, f"{count} 段:落款所在页没有正文"
        assert not signature - set(lines), f"{count} 段:附件说明、署名、日期不在同一页"
        body_pages.add(pages.index(page))
    assert {0, 1} <= body_pages  # the 落款 moved to the next page somewhere in between
