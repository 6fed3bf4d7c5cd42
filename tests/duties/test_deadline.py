"""年初 means 年初: the signing deadline, late (逾期补签) and overdue (逾期未签) letters, by CLI.

The year of tests/signed_year.py (8 people, 11 letters, generated 5 January) is signed in three
steps: everyone but 许文博 (P007) and 袁梦瑶 (P008) on 20 January, 许文博 on 10 February (after the
default deadline of 31 January), 袁梦瑶 never. So 2027-LJ-P006-P007 is late and 2027-LJ-P006-P008
overdue once the deadline has passed.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from docgen.core.errors import ValidationError
from docgen.core.workspace import find_workspace, load_config
from docgen.duties.engine import duties_in_workspace
from docgen.duties.signing import signing_summary_from_registry
from docgen.registry import open_registry
from docgen.roster.load import load_roster
from docgen.signing.sign import sign_as
from tests.helpers import run_docgen
from tests.seed import quote
from tests.signed_year import PERSON_PASSPHRASE, YEAR, build_workspace

SEED_WORDS = (
    quote("年初与班子成员面对面签订《党风廉政建设责任书》和《公开承诺书》"),
    quote("年初与分管部门负责人签订《党风廉政建设责任书》"),
    quote("及时组织签订"),
    quote("及时督促部门负责人与本部门工作人员签订"),
)
LATE = "2027-LJ-P006-P007"
OVERDUE = "2027-LJ-P006-P008"


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("deadline") / "ws"
    ws = build_workspace(root, sign=False)
    roster = load_roster(ws.roster_path)
    on_time = datetime(2027, 1, 20, 2, 0, tzinfo=UTC)
    for person in roster.people:
        if person.id not in ("P007", "P008"):
            sign_as(ws, person.id, PERSON_PASSPHRASE, year=YEAR, now=on_time)
    # 1 February 00:30 in Beijing is still 31 January in UTC: Beijing days decide.
    sign_as(ws, "P007", PERSON_PASSPHRASE, year=YEAR, now=datetime(2027, 2, 9, 16, 30, tzinfo=UTC))
    return root


@pytest.fixture
def ws_copy(staged: Path, tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(staged, root, symlinks=True)
    return root


def status_json(root: Path, as_of: str) -> dict[str, object]:
    outcome = run_docgen("status", "-w", str(root), "--json", "--as-of", as_of)
    assert outcome.code == 1, outcome.text  # one letter is still unsigned
    data: dict[str, object] = json.loads(outcome.out)
    return data


def timings(data: dict[str, object]) -> dict[str, str]:
    letters = data["letters"]
    assert isinstance(letters, list)
    return {str(s["doc_id"]): str(s["timing"]) for s in letters}


def test_status_marks_late_and_overdue_letters_after_the_deadline(staged: Path) -> None:
    outcome = run_docgen("status", "-w", str(staged), "--as-of", "2027-03-01")
    assert outcome.code == 1
    text = outcome.out
    assert "签订截止日:2027年1月31日" in text
    assert "逾期补签(截止日后才签完)1 份" in text
    assert "逾期未签(截至 2027-03-01 仍未签完)1 份" in text
    assert f"{LATE} 廉洁从检承诺书,2月10日签完" in text
    assert f"{OVERDUE} 廉洁从检承诺书" in text and "待 袁梦瑶(P008) 签" in text
    assert "逾期补签(2月10日)" in text  # the letter's own row in the table
    data = status_json(staged, "2027-03-01")
    seen = timings(data)
    assert seen[LATE] == "late" and seen[OVERDUE] == "overdue"
    assert {t for d, t in seen.items() if d not in (LATE, OVERDUE)} == {"on_time"}
    assert (data["late"], data["overdue"], data["deadline"]) == (1, 1, "2027-01-31")


def test_before_the_deadline_nothing_is_overdue(staged: Path) -> None:
    """No false alarm: on 31 January the unsigned letter is waiting, not overdue."""
    data = status_json(staged, "2027-01-31")
    assert timings(data)[OVERDUE] == "pending"
    assert data["overdue"] == 0
    outcome = run_docgen("status", "-w", str(staged), "--as-of", "2027-01-31")
    assert "尚未到截止日,未签完的文书不算逾期" in outcome.out


def test_a_later_deadline_in_docgen_toml_makes_february_in_time(ws_copy: Path) -> None:
    config = ws_copy / "docgen.toml"
    text = config.read_text(encoding="utf-8")
    assert 'deadline = "01-31"' in text  # docgen init writes the setting, with its articles
    assert "年初与班子成员面对面签订" in text and "第十一条第2项" in text
    config.write_text(text.replace('deadline = "01-31"', 'deadline = "03-31"'), encoding="utf-8")
    data = status_json(ws_copy, "2027-03-01")
    assert timings(data)[LATE] == "on_time" and timings(data)[OVERDUE] == "pending"
    assert (data["late"], data["overdue"]) == (0, 0)
    outcome = run_docgen("status", "-w", str(ws_copy), "--as-of", "2027-04-01")
    assert 'docgen.toml [signing] deadline = "03-31"' in outcome.out
    assert "逾期未签(截至 2027-04-01 仍未签完)1 份" in outcome.out


def test_an_old_docgen_toml_gets_the_default_and_status_says_so(ws_copy: Path) -> None:
    config = ws_copy / "docgen.toml"
    text = config.read_text(encoding="utf-8")
    head, _, rest = text.partition("[signing]")
    config.write_text(head + "[fonts]" + rest.partition("[fonts]")[2], encoding="utf-8")
    assert "[signing]" not in config.read_text(encoding="utf-8")
    outcome = run_docgen("status", "-w", str(ws_copy), "--as-of", "2027-03-01")
    assert '未设置 [signing] deadline,按默认 "01-31"' in outcome.out
    assert "逾期补签(截止日后才签完)1 份" in outcome.out


@pytest.mark.parametrize("bad", ["02-29", "1-31", "13-01", "0131"])
def test_a_bad_deadline_is_refused_naming_the_field(ws_copy: Path, bad: str) -> None:
    config = ws_copy / "docgen.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('deadline = "01-31"', f'deadline = "{bad}"'), encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        load_config(config)
    assert caught.value.location is not None
    assert caught.value.location.field == "[signing] deadline"
    outcome = run_docgen("status", "-w", str(ws_copy))
    assert outcome.code == 1 and "签订截止日" in outcome.err and bad in outcome.err


def test_duties_count_only_letters_signed_by_the_deadline(staged: Path) -> None:
    outcome = run_docgen("duties", "-w", str(staged), "--year", "2027", "--as-of", "2027-03-01",
                         "--json")  # fmt: skip
    data = json.loads(outcome.out)
    letters = {o["article"]: o for o in data["obligations"]
               if o["person_id"] is None and o["article"] in ("9.5", "9.6", "9.7")}  # fmt: skip
    pledge = letters["9.7"]  # 3 廉洁从检承诺书: 1 on time, 1 late, 1 overdue
    assert (pledge["required"], pledge["done"], pledge["late"]) == (3, 1, 1)
    assert pledge["status"] == "overdue"
    assert "逾期完成1份,于2月10日补签" in pledge["detail"]
    assert pledge["period"] == "2027年初(截至1月31日)"
    assert letters["9.5"]["status"] == "done"
    p007 = [o for o in data["obligations"] if o["person_id"] == "P007" and o["article"] == "9.7"]
    assert [(o["status"], o["done"], o["late"]) for o in p007] == [("late", 0, 1)]
    assert "截止日后签署:2027-LJ-P006-P007" in p007[0]["detail"]
    assert data["counts"]["late"] >= 1
    table = run_docgen("duties", "-w", str(staged), "--year", "2027", "--as-of", "2027-03-01",
                       "--person", "P007")  # fmt: skip
    assert "逾期完成" in table.out and "签订截止日:每年1月31日" in table.out


def test_summary_dates_are_the_registrys_in_beijing_time(staged: Path) -> None:
    ws = find_workspace(staged)
    with open_registry(ws) as registry:
        summary = signing_summary_from_registry(registry, YEAR, date(2027, 2, 9))
    from docgen.core.glossary import LetterKind

    pledge = summary.letter(LetterKind.INTEGRITY_PLEDGE)
    # 16:30 UTC on 9 February is 10 February in Beijing: after a 9 February deadline
    assert (pledge.late, pledge.late_first, pledge.late_last) == (
        1, date(2027, 2, 10), date(2027, 2, 10),
    )  # fmt: skip
    _roster, report = duties_in_workspace(ws, YEAR, date(2027, 3, 1))
    assert any("以1月31日为签订截止日" in note for note in report.notes)


def test_the_report_states_the_late_letters_with_their_dates(ws_copy: Path) -> None:
    """The report no longer says 年初 of a letter signed in February without saying so."""
    from docx import Document

    outcome = run_docgen("report", "-w", str(ws_copy), "--year", "2027", "--kind", "main",
                         "--to", "县委", "--date", "2028-01-10")  # fmt: skip
    assert outcome.code == 0, outcome.text
    (path,) = (ws_copy / "output" / "2027" / "reports").glob("*_县委.docx")
    # 公文 punctuation may be full-width (GB/T 15834) or not: compared as half-width
    plain = str.maketrans("（），：；", "(),:;")
    text = "\n".join(p.text for p in Document(str(path)).paragraphs).translate(plain)
    assert "年初(以1月31日为签订截止日)组织层级签订" in text
    assert "《廉洁从检承诺书》3份,双方均已签署2份" in text
    assert "其中1份于1月31日后补签(2月10日)" in text
    assert "《党风廉政建设责任书》" in text and text.count("后补签") == 1


def test_a_signing_time_claimed_in_january_but_registered_in_february_is_late(
    tmp_path: Path,
) -> None:
    """The attack: a signer's software writes a January signing_time on a signature it registers
    in February. Lateness is judged by the registry's own recorded_at, so the letter is late."""
    from docgen.core.glossary import LetterKind
    from docgen.letters.workspace_init import init_workspace
    from tests.ledger_fixtures import small_roster_yaml

    root = tmp_path / "ws"
    init_workspace(root, institution="庆城县人民检察院", year=YEAR, roster_yaml=small_roster_yaml())
    document = {
        "type": "document", "doc_id": "2027-LJ-H1-S1", "kind": "integrity_pledge", "year": YEAR,
        "title": "t", "sha256": "ab" * 32, "path": "2027-LJ-H1-S1.docx",
        "parties": [{"party": "superior", "id": "H1", "name": "马一", "title": ""},
                    {"party": "subordinate", "id": "S1", "name": "许甲", "title": ""}],
    }  # fmt: skip

    def signature(signer: str, party: str) -> dict[str, object]:
        return {
            "type": "signature", "doc_id": "2027-LJ-H1-S1", "signer": signer, "party": party,
            "cert_fingerprint": "cd" * 32, "cert_serial": "01", "p7s_sha256": "ef" * 32,
            "doc_sha256": "ab" * 32, "signing_time": "2027-01-20T02:00:00Z",
        }  # fmt: skip

    ws = find_workspace(root)
    with open_registry(ws) as registry:
        registry.append([document, signature("H1", "superior")],
                        now=datetime(2027, 1, 20, 2, 0, tzinfo=UTC))  # fmt: skip
        registry.append([signature("S1", "subordinate")],
                        now=datetime(2027, 2, 12, 2, 0, tzinfo=UTC))  # fmt: skip
        summary = signing_summary_from_registry(registry, YEAR, date(2027, 1, 31))
    pledge = summary.letter(LetterKind.INTEGRITY_PLEDGE)
    assert (pledge.complete, pledge.late, pledge.late_first) == (1, 1, date(2027, 2, 12))
    assert pledge.last_signed == date(2027, 1, 20)  # what the signers claimed, shown as such
    s1 = next(p for p in summary.people if p.person_id == "S1")
    assert s1.late == ("2027-LJ-H1-S1",)
    data = status_json_any(root, "2027-03-01")
    (letter,) = data["letters"]
    assert (letter["timing"], letter["signed_on"]) == ("late", "2027-02-12")


def status_json_any(root: Path, as_of: str) -> dict[str, list[dict[str, str]]]:
    outcome = run_docgen("status", "-w", str(root), "--json", "--as-of", as_of)
    data: dict[str, list[dict[str, str]]] = json.loads(outcome.out)
    return data
